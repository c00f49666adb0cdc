package app

import "runtime/debug"

// version, when set at link time, is the build's version:
//
//	go build -ldflags "-X github.com/throughgate/throughgate/internal/app.version=v1.4.0" ./cmd/throughgate
//
// `make build` and deploy/Dockerfile set it from `git describe`.
var version string

// Version says which build this is: the version set at link time, or else
// what Go recorded in the binary — the module's version, or "devel" and the
// VCS revision (with "-dirty" for uncommitted changes) when built from a
// work tree. `throughgate version`, /healthz and throughgate_build_info
// report it.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionOf(info)
}

func versionOf(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v // a tagged release, or a pseudo-version that names the revision
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	v := "devel-" + rev[:min(12, len(rev))]
	if dirty {
		v += "-dirty"
	}
	return v
}
