package nodescan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitSystemdWords(t *testing.T) {
	words, err := splitSystemdWords(`"KUBELET_EXTRA_ARGS=--a=1 --b 2" 'X=y z' plain\ word W=a"b c"d`)
	require.NoError(t, err)
	var texts []string
	for _, w := range words {
		texts = append(texts, w.text)
	}
	assert.Equal(t, []string{"KUBELET_EXTRA_ARGS=--a=1 --b 2", "X=y z", "plain word", "W=ab cd"}, texts)
	_, err = splitSystemdWords(`"open`)
	require.Error(t, err)
}

func TestExpandExecStart(t *testing.T) {
	words, err := splitSystemdWords(`/usr/bin/kubelet $ARGS "$ARGS" --x=${ONE} $UNSET --y`)
	require.NoError(t, err)
	got := expandExecStart(words, map[string]string{"ARGS": "--a  --b=2", "ONE": "1"})
	assert.Equal(t, []string{"/usr/bin/kubelet", "--a", "--b=2", "$ARGS", "--x=1", "--y"}, got)
}

func TestReadKubeletUnit(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		wantArgs   []string
		wantOrigin string
	}{
		{
			name: "ExecStart reset by a drop-in, variables from Environment and EnvironmentFile",
			files: map[string]string{
				"/usr/lib/systemd/system/kubelet.service": "[Service]\nExecStart=/usr/bin/kubelet --old\n",
				"/usr/lib/systemd/system/kubelet.service.d/10-a.conf": "[Service]\nEnvironment=\"CFG=--config=/c\"\n" +
					"EnvironmentFile=-/missing.env\nEnvironmentFile=/flags.env\nExecStart=\nExecStart=/usr/bin/kubelet $CFG \\\n  $EXTRA $KUBELET_EXTRA_ARGS\n",
				"/etc/systemd/system/kubelet.service.d/20-b.conf": "# comment\n[Service]\nEnvironment='KUBELET_EXTRA_ARGS=--read-only-port 0' OTHER=1\n",
				"/flags.env": "# kubeadm\nEXTRA=\"--v=2 --anonymous-auth=false\"\n",
			},
			wantArgs:   []string{"--config=/c", "--v=2", "--anonymous-auth=false", "--read-only-port", "0"},
			wantOrigin: "systemd ExecStart in /usr/lib/systemd/system/kubelet.service.d/10-a.conf",
		},
		{
			name: "drop-in of the same name in /etc wins",
			files: map[string]string{
				"/usr/lib/systemd/system/kubelet.service.d/10.conf": "[Service]\nExecStart=/usr/bin/kubelet --a\n",
				"/etc/systemd/system/kubelet.service.d/10.conf":     "[Service]\nExecStart=/usr/bin/kubelet --b\n",
			},
			wantArgs:   []string{"--b"},
			wantOrigin: "systemd ExecStart in /etc/systemd/system/kubelet.service.d/10.conf",
		},
		{
			name: "only KUBELET_EXTRA_ARGS",
			files: map[string]string{
				"/etc/systemd/system/kubelet.service.d/30-extra.conf": "[Service]\nEnvironment=\"KUBELET_EXTRA_ARGS=--x --y=1\"\n",
			},
			wantArgs:   []string{"--x", "--y=1"},
			wantOrigin: "KUBELET_EXTRA_ARGS in /etc/systemd/system/kubelet.service.d/30-extra.conf",
		},
		{
			name: "settings outside [Service] are ignored",
			files: map[string]string{
				"/etc/systemd/system/kubelet.service": "[Unit]\nExecStart=/usr/bin/kubelet --unit\n[Service]\nExecStart=/usr/bin/kubelet --service\n",
			},
			wantArgs:   []string{"--service"},
			wantOrigin: "systemd ExecStart in /etc/systemd/system/kubelet.service",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unit, err := readKubeletUnit(hostFiles(t, tt.files))
			require.NoError(t, err)
			require.NotNil(t, unit)
			assert.Equal(t, tt.wantArgs, unit.Args)
			assert.Equal(t, tt.wantOrigin, unit.Origin)
		})
	}
	unit, err := readKubeletUnit(hostFiles(t, map[string]string{"/etc/hostname": "x"}))
	require.NoError(t, err)
	assert.Nil(t, unit)
}
