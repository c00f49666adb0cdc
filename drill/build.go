package drill

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Programs are the binaries the topology runs, and where the Temporal
// server's schema directories are.
type Programs struct {
	Root          string // the repository: where go.mod and deploy/ are
	Cache         string // .cache/drill under Root
	Throughgate   string // the lean production binary: api, worker, migrate
	Temporal      string // go.temporal.io/server/cmd/server
	SQLTool       string // temporal-sql-tool (go.temporal.io/server/cmd/tools/sql)
	ServerModule  string // the go.temporal.io/server module's directory
	ServerVersion string // its version, as go.mod requires it
}

// SchemaDir is a versioned schema directory shipped in the server module:
// db is "temporal" or "visibility".
func (p Programs) SchemaDir(db string) string {
	return filepath.Join(p.ServerModule, "schema", "postgresql", "v12", db, "versioned")
}

// goTool finds the go command: the one on PATH, else the one that built
// this test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func goCmd(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// Build builds (or finds up to date) the programs into .cache/drill. The
// Temporal server and temporal-sql-tool are built at the go.temporal.io/server
// version go.mod requires, with every other module at go.mod's versions too
// (so the Go build cache the integration tests filled serves them): from a
// copy of go.mod (.cache/drill/tools.mod, used with -modfile) that adds the
// one module the server's command needs and Throughgate does not,
// github.com/urfave/cli/v2. Its checksum is fetched through the Go module
// proxy the first time.
func Build(ctx context.Context, logf func(string, ...any)) (Programs, error) {
	var p Programs
	gomod, err := goCmd(ctx, ".", nil, "env", "GOMOD")
	if err != nil {
		return p, err
	}
	if gomod == "" || gomod == os.DevNull {
		return p, errors.New("drill: not inside the throughgate module (go env GOMOD is empty)")
	}
	p.Root = filepath.Dir(gomod)
	p.Cache = filepath.Join(p.Root, ".cache", "drill")
	if err := os.MkdirAll(p.Cache, 0o755); err != nil {
		return p, err
	}
	// One build at a time: `make test` and `make drill` may run together.
	unlock, err := lockFile(filepath.Join(p.Cache, "build.lock"))
	if err != nil {
		return p, err
	}
	defer unlock()

	began := time.Now()
	p.Throughgate = filepath.Join(p.Cache, "throughgate")
	if _, err := goCmd(ctx, p.Root, nil, "build", "-o", p.Throughgate, "./cmd/throughgate"); err != nil {
		return p, fmt.Errorf("building throughgate: %w", err)
	}
	// The lean binary is what production runs: prove it links no Temporal server.
	info, err := buildinfo.ReadFile(p.Throughgate)
	if err != nil {
		return p, err
	}
	for _, d := range info.Deps {
		if d.Path == "go.temporal.io/server" {
			return p, errors.New("drill: the throughgate binary links go.temporal.io/server; the production build must not")
		}
	}

	loc, err := goCmd(ctx, p.Root, nil, "list", "-m", "-f", "{{.Version}} {{.Dir}}", "go.temporal.io/server")
	if err != nil {
		return p, err
	}
	p.ServerVersion, p.ServerModule, _ = strings.Cut(loc, " ")
	if p.ServerModule == "" {
		if _, err := goCmd(ctx, p.Root, nil, "mod", "download", "go.temporal.io/server"); err != nil {
			return p, err
		}
		loc, _ = goCmd(ctx, p.Root, nil, "list", "-m", "-f", "{{.Version}} {{.Dir}}", "go.temporal.io/server")
		p.ServerVersion, p.ServerModule, _ = strings.Cut(loc, " ")
	}
	cliVersion, err := requiredVersion(filepath.Join(p.ServerModule, "go.mod"), "github.com/urfave/cli/v2")
	if err != nil {
		return p, err
	}
	modfile := filepath.Join(p.Cache, "tools.mod")
	if err := toolsModfile(p.Root, modfile); err != nil {
		return p, err
	}
	if _, err := goCmd(ctx, p.Root, nil, "mod", "edit", "-modfile="+modfile, "-require=github.com/urfave/cli/v2@"+cliVersion); err != nil {
		return p, err
	}
	env := []string{"GOFLAGS=-mod=mod"}
	p.Temporal = filepath.Join(p.Cache, "temporal-server")
	p.SQLTool = filepath.Join(p.Cache, "temporal-sql-tool")
	for _, b := range []struct{ out, pkg string }{
		{p.SQLTool, "go.temporal.io/server/cmd/tools/sql"},
		{p.Temporal, "go.temporal.io/server/cmd/server"},
	} {
		if _, err := goCmd(ctx, p.Root, env, "build", "-modfile="+modfile, "-o", b.out, b.pkg); err != nil {
			return p, fmt.Errorf("building %s %s: %w", b.pkg, p.ServerVersion, err)
		}
	}
	if logf != nil {
		logf("programs built or up to date in %s (Temporal server %s)", time.Since(began).Round(100*time.Millisecond), p.ServerVersion)
	}
	return p, nil
}

// toolsModfile writes go.mod's copy for building the Temporal programs, and
// its go.sum: go.sum's lines plus any the earlier builds added.
func toolsModfile(root, modfile string) error {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(modfile, mod, 0o644); err != nil {
		return err
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return err
	}
	sumfile := strings.TrimSuffix(modfile, ".mod") + ".sum"
	have := map[string]bool{}
	var out bytes.Buffer
	for _, l := range strings.Split(string(sum), "\n") {
		if l != "" && !have[l] {
			have[l] = true
			out.WriteString(l + "\n")
		}
	}
	if old, err := os.ReadFile(sumfile); err == nil {
		for _, l := range strings.Split(string(old), "\n") {
			if l != "" && !have[l] {
				have[l] = true
				out.WriteString(l + "\n")
			}
		}
	}
	return os.WriteFile(sumfile, out.Bytes(), 0o644)
}

// requiredVersion reads the version a go.mod requires of a module.
func requiredVersion(gomod, module string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(s.Text()), "require "))
		if len(fields) >= 2 && fields[0] == module {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", gomod, module)
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
