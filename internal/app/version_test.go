package app

import (
	"runtime/debug"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, c := range []struct {
		main     string
		settings map[string]string
		want     string
	}{
		{"v1.4.0", nil, "v1.4.0"},
		{"v0.0.0-20261129180000-0123456789ab+dirty", nil, "v0.0.0-20261129180000-0123456789ab+dirty"},
		{"(devel)", map[string]string{"vcs.revision": "0123456789abcdef0123", "vcs.modified": "true"}, "devel-0123456789ab-dirty"},
		{"(devel)", map[string]string{"vcs.revision": "0123456789abcdef0123", "vcs.modified": "false"}, "devel-0123456789ab"},
		{"(devel)", nil, "devel"},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/throughgate/throughgate", Version: c.main}}
		for k, v := range c.settings {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: k, Value: v})
		}
		if got := versionOf(info); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.main, c.settings, got, c.want)
		}
	}
	old := version
	t.Cleanup(func() { version = old })
	version = "v9.9.9"
	if Version() != "v9.9.9" {
		t.Errorf("the link-time version is not used: %q", Version())
	}
}
