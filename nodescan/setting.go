package nodescan

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// kubeletSetting is one entry of the kubelet settings table (kubelet_settings.go): a setting
// section 3 reads, where the kubelet takes it from and what it is when nothing sets it.
//
// Precedence is the kubelet's, the same for every entry (cmd/kubelet/app/server.go,
// NewKubeletCommand): the mode's default, then the --config file, then each --config-dir drop-in
// in order (a JSON merge patch, so a drop-in overrides only the keys it sets), then the command
// line, which the kubelet parses again over the merged file (kubeletConfigFlagPrecedence). The
// one rule that differs between settings is fileZeroIsUnset.
type kubeletSetting[T comparable] struct {
	// flag is the command-line flag without dashes; empty when the kubelet has none.
	flag string
	// key is the field's path in a KubeletConfiguration v1beta1 file, its JSON names joined by
	// dots (authentication.anonymous.enabled); empty when the setting is a flag only.
	key string
	// valueType reads the flag and the key as the kubelet does.
	valueType valueType[T]
	// configFileDefault is the value with --config when no file sets it.
	configFileDefault T
	// flagsOnlyDefault is the value without --config when no drop-in sets it.
	flagsOnlyDefault T
	// fileZeroIsUnset is set for fields the kubelet's defaulting tests for zero after merging
	// (`== ""`, `== zeroDuration`) rather than for absence: a zero from a file or drop-in is then
	// replaced by configFileDefault. A flag's zero stays, as the kubelet applies flags after
	// defaulting.
	fileZeroIsUnset bool
}

// anySetting is a table entry whatever its value type, as flag parsing, file parsing and
// resolution walk the whole table. Values cross it as `any`; each entry's typed accessors
// (flagIn, fileValue, effective) read back only what the entry itself stored.
type anySetting interface {
	// bindFlag registers the setting's flag on fs. The returned function, called once fs has
	// parsed, stores the flag's value in setFlags when the command line sets it; it is nil when
	// the setting has no flag.
	bindFlag(fs *pflag.FlagSet) (record func(setFlags map[anySetting]any))
	// decodeFile reads the setting from a config file and says whether the file sets it, to a
	// value or to null.
	decodeFile(doc configDocument) (value any, presence keyPresence, err error)
	// resolve returns the setting's effective Setting[T].
	resolve(mode ConfigMode, flags KubeletFlags, layers []configLayer) any
}

// kubeletSettings is the table: defineSetting adds each entry of kubelet_settings.go.
var kubeletSettings []anySetting

// defineSetting adds an entry to the table and returns it, for its check to read.
func defineSetting[T comparable](s kubeletSetting[T]) *kubeletSetting[T] {
	kubeletSettings = append(kubeletSettings, &s)
	return &s
}

func (s *kubeletSetting[T]) bindFlag(fs *pflag.FlagSet) func(map[anySetting]any) {
	if s.flag == "" {
		return nil
	}
	value := new(T)
	s.valueType.bindFlag(fs, value, s.flag)
	return func(setFlags map[anySetting]any) {
		if fs.Changed(s.flag) {
			setFlags[s] = *value
		}
	}
}

func (s *kubeletSetting[T]) decodeFile(doc configDocument) (any, keyPresence, error) {
	if s.key == "" {
		return nil, keyAbsent, nil
	}
	raw, presence, err := doc.lookup(s.key)
	if err != nil || presence != keySet {
		return nil, presence, err
	}
	value, err := s.valueType.decodeJSON(raw)
	if err != nil {
		return nil, keyAbsent, fmt.Errorf("%s: %w", s.key, err)
	}
	return value, keySet, nil
}

func (s *kubeletSetting[T]) resolve(mode ConfigMode, flags KubeletFlags, layers []configLayer) any {
	value := s.configFileDefault
	if mode == ModeFlagsOnly {
		value = s.flagsOnlyDefault
	}
	r := Setting[T]{Value: value, Source: Source{Kind: SourceDefault}}
	for _, l := range layers {
		if v, ok := s.fileValue(l.file); ok {
			r = Setting[T]{Value: v, Source: Source{Kind: l.kind, Path: l.path, Key: s.key}}
		}
		if l.file.nulled[s] && (r.Source.Kind != SourceDefault || r.Value != s.configFileDefault) {
			// The merge patch removes the key; the kubelet's defaulting then gives the
			// config-file default, whatever the mode the layers before started from (without
			// --config they start from flagsOnlyDefault).
			r = removedByNull(s.configFileDefault, Source{Kind: l.kind, Path: l.path, Key: s.key})
		}
	}
	var zero T
	if s.fileZeroIsUnset && r.Source.Kind != SourceDefault && r.Value == zero {
		r = Setting[T]{Value: s.configFileDefault, Source: Source{Kind: SourceDefault},
			Note: r.Source.String() + " is zero, which the kubelet treats as unset and replaces with its default"}
	}
	if f := s.flagIn(flags); f.Set {
		r = Setting[T]{Value: f.Value, Source: Source{Kind: SourceFlag, Key: s.flag, Via: flags.Origin}}
	}
	return r
}

// removedByNull is a setting whose value a null at removedBy removed (a drop-in's JSON merge
// patch): the kubelet's default, value, applies.
func removedByNull[T comparable](value T, removedBy Source) Setting[T] {
	return Setting[T]{Value: value, Source: Source{Kind: SourceDefault},
		Note: removedBy.String() + " is null, which removes the value set before it; the kubelet applies its default"}
}

// flagIn is the setting's flag on a parsed command line.
func (s *kubeletSetting[T]) flagIn(flags KubeletFlags) Flag[T] {
	value, set := flags.settings[s].(T)
	return Flag[T]{Value: value, Set: set}
}

// fileValue is the value a config file gives the setting; ok is false when it gives none.
func (s *kubeletSetting[T]) fileValue(f *kubeletConfigFile) (value T, ok bool) {
	value, ok = f.values[s].(T)
	return value, ok
}

// effective is the setting's effective value and its source: what checks decide on.
func (s *kubeletSetting[T]) effective(c Config) Setting[T] {
	setting, _ := c.settings[s].(Setting[T])
	return setting
}

// valueType is how the kubelet reads one type of value: from the command line with the pflag
// type it registers the flag with (cmd/kubelet/app/options), so a command line parses here
// exactly as it did there, and from a config file as the JSON of the KubeletConfiguration
// field's type.
type valueType[T comparable] struct {
	bindFlag   func(fs *pflag.FlagSet, value *T, name string)
	decodeJSON func(raw json.RawMessage) (T, error)
}

var (
	boolType = valueType[bool]{
		bindFlag:   func(fs *pflag.FlagSet, value *bool, name string) { fs.BoolVar(value, name, false, "") },
		decodeJSON: decodeJSONAs[bool],
	}
	int32Type = valueType[int32]{
		bindFlag:   func(fs *pflag.FlagSet, value *int32, name string) { fs.Int32Var(value, name, 0, "") },
		decodeJSON: decodeJSONAs[int32],
	}
	stringType = valueType[string]{
		bindFlag:   func(fs *pflag.FlagSet, value *string, name string) { fs.StringVar(value, name, "", "") },
		decodeJSON: decodeJSONAs[string],
	}
	// durationType is a metav1.Duration: a Go duration string such as "4h0m0s" in a file.
	durationType = valueType[time.Duration]{
		bindFlag: func(fs *pflag.FlagSet, value *time.Duration, name string) {
			fs.DurationVar(value, name, 0, "")
		},
		decodeJSON: decodeDuration,
	}
	// authorizationModeType is a string flag, as the kubelet registers --authorization-mode.
	authorizationModeType = valueType[AuthorizationMode]{
		bindFlag: func(fs *pflag.FlagSet, value *AuthorizationMode, name string) {
			fs.StringVar((*string)(value), name, "", "")
		},
		decodeJSON: decodeJSONAs[AuthorizationMode],
	}
)

func decodeJSONAs[T any](raw json.RawMessage) (T, error) {
	var value T
	err := json.Unmarshal(raw, &value)
	return value, err
}

func decodeDuration(raw json.RawMessage) (time.Duration, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("duration must be a string such as \"4h0m0s\": %w", err)
	}
	return time.ParseDuration(s)
}
