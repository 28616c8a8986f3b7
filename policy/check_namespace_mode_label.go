package policy

import "strconv"

// namespace-mode-label: a Namespace whose cisgate.io/mode label holds anything but enforce or
// audit gets a WARN finding. The value is ignored (ModeFor): "off" would otherwise let anyone
// who may label a namespace switch every check off in it. WARN never denies, so a Namespace is
// never blocked by its label; config.namespaceModeEditors restricts who may change it.

func init() {
	register(&Check{
		Slug:     "namespace-mode-label",
		Decides:  `a Namespace's cisgate.io/mode label is "enforce" or "audit"; any other value is ignored and reported`,
		Targets:  []Target{TargetNamespace},
		Evaluate: evaluateNamespaceModeLabel,
	})
}

func evaluateNamespaceModeLabel(in *Input) []Finding {
	value, set := in.Labels[NamespaceModeLabel]
	if _, ok := NamespaceLabelMode(value); !set || ok {
		return nil
	}
	return []Finding{warn("metadata.labels", "label "+NamespaceModeLabel+"="+strconv.Quote(value)+
		` is ignored: only "enforce" or "audit" are accepted, and the configured modes apply in namespace `+
		strconv.Quote(in.Name)+"; exemptions belong in the cisgate config")}
}
