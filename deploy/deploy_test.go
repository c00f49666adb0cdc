package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	yaml3 "go.yaml.in/yaml/v3"

	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/postgres"
)

// imagePrograms is what each image the compose file uses has to run a
// health check with: a health check naming anything else fails at run
// time, which is how the old file's `tctl` (not in temporalio/server) and
// a curl in a distroless image would have gone unnoticed. Keys are image
// names without a tag; throughgateImage stands for THROUGHGATE_IMAGE.
var imagePrograms = map[string][]string{
	// Debian with PostgreSQL's client programs.
	"postgres": {"pg_isready", "psql", "sh", "bash"},
	// Alpine with busybox (sh, nc, wget) and the server binary; no temporal CLI, no tctl.
	"temporalio/server": {"temporal-server", "sh", "nc", "wget"},
	// Alpine with busybox and Temporal's tools.
	"temporalio/admin-tools": {"temporal", "temporal-sql-tool", "tdbg", "sh", "nc", "wget"},
	// Alpine with busybox, bash and the ui-server.
	"temporalio/ui": {"./ui-server", "sh", "bash", "wget", "nc"},
	// distroless/static: the binary and nothing else, no shell (deploy/Dockerfile).
	throughgateImage: {"/throughgate"},
}

const throughgateImage = "throughgate"

// pendingSettings are settings the deployment files pass to Throughgate that
// internal/config does not read yet: each is a dependency on the work that
// adds it (deploy/README.md, "Still to come"). Remove a name once the
// setting exists; TestPendingSettingsStillPending says when.
var pendingSettings = map[string]string{}

// pendingSubcommands are subcommands the files run that cmd/throughgate
// does not have yet, with the same rule.
var pendingSubcommands = map[string]string{}

// knownSettings is every environment variable `throughgate` reads.
func knownSettings() map[string]bool {
	known := map[string]bool{}
	for _, s := range config.Settings {
		known[s.Env] = true
	}
	return known
}

func checkSetting(t *testing.T, where, name string) {
	t.Helper()
	if knownSettings()[name] {
		return
	}
	if why, ok := pendingSettings[name]; ok {
		t.Logf("%s: %s is not a setting yet (%s)", where, name, why)
		return
	}
	t.Errorf("%s: %s is not a Throughgate setting (`throughgate help` lists them)", where, name)
}

// subcommands are the subcommands cmd/throughgate runs, read from its
// source: the command table's names and the ones main dispatches by hand.
func subcommands(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../cmd/throughgate/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("reading cmd/throughgate: %v", err)
	}
	found := map[string]bool{}
	entry := regexp.MustCompile(`\{"([a-z-]+)",\s*"`)
	dispatch := regexp.MustCompile(`args\[0\] == "([a-z-]+)"|case "([a-z-]+)":`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{entry, dispatch} {
			for _, m := range re.FindAllSubmatch(b, -1) {
				for _, name := range m[1:] {
					if len(name) > 0 {
						found[string(name)] = true
					}
				}
			}
		}
	}
	return found
}

func checkSubcommand(t *testing.T, where, name string) {
	t.Helper()
	if subcommands(t)[name] {
		return
	}
	if why, ok := pendingSubcommands[name]; ok {
		t.Logf("%s: `throughgate %s` does not exist yet (%s)", where, name, why)
		return
	}
	t.Errorf("%s: `throughgate %s` is not a subcommand of cmd/throughgate", where, name)
}

func TestPendingSettingsStillPending(t *testing.T) {
	known := knownSettings()
	for name := range pendingSettings {
		if known[name] {
			t.Errorf("%s is a setting now: remove it from pendingSettings", name)
		}
	}
	subs := subcommands(t)
	for name := range pendingSubcommands {
		if subs[name] {
			t.Errorf("`throughgate %s` exists now: remove it from pendingSubcommands", name)
		}
	}
}

// --- .env.example and interpolation -----------------------------------------

var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// readEnvFile reads a Compose .env file: KEY=VALUE lines, # comments, values
// optionally in single or double quotes.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !envName.MatchString(k) {
			t.Fatalf("%s:%d: not KEY=VALUE: %q", path, n, line)
		}
		if _, dup := env[k]; dup {
			t.Errorf("%s:%d: %s set twice", path, n, k)
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		} else if strings.ContainsAny(v, " <>#") {
			t.Errorf("%s:%d: quote the value of %s", path, n, k)
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// varRef matches Compose's interpolation: $$ (a literal $), $NAME, ${NAME}
// and ${NAME<op>WORD} with op one of :- - :? ? :+ +.
var varRef = regexp.MustCompile(`\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\{))`)

// interpolate substitutes variables in s as Compose does.
func interpolate(s string, env map[string]string) (string, error) {
	var errs []error
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		g := varRef.FindStringSubmatch(m)
		if g[1] != "" {
			return "$"
		}
		if g[6] != "" {
			errs = append(errs, fmt.Errorf("bad variable reference in %q", s))
			return m
		}
		name, op, word := g[2], g[3], g[4]
		if name == "" {
			name = g[5]
		}
		v, set := env[name]
		switch op {
		case "":
			return v
		case ":-":
			if v == "" {
				return word
			}
		case "-":
			if !set {
				return word
			}
		case ":?", "?":
			if !set || (op == ":?" && v == "") {
				errs = append(errs, fmt.Errorf("%s: %s", name, word))
			}
		case ":+":
			if v != "" {
				return word
			}
			return ""
		case "+":
			if set {
				return word
			}
			return ""
		}
		return v
	})
	return out, errors.Join(errs...)
}

// variables lists the variables a Compose file reads.
func variables(text string) []string {
	seen := map[string]bool{}
	for _, g := range varRef.FindAllStringSubmatch(text, -1) {
		if name := g[2] + g[5]; name != "" {
			seen[name] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// interpolateTree interpolates every string value (not the keys) of a
// decoded YAML document, as Compose does before validating it.
func interpolateTree(v any, env map[string]string) (any, error) {
	switch v := v.(type) {
	case string:
		return interpolate(v, env)
	case []any:
		var errs []error
		for i := range v {
			var err error
			v[i], err = interpolateTree(v[i], env)
			errs = append(errs, err)
		}
		return v, errors.Join(errs...)
	case map[string]any:
		var errs []error
		for k := range v {
			var err error
			v[k], err = interpolateTree(v[k], env)
			errs = append(errs, err)
		}
		return v, errors.Join(errs...)
	}
	return v, nil
}

func TestInterpolate(t *testing.T) {
	env := map[string]string{"A": "a", "EMPTY": ""}
	for in, want := range map[string]string{
		"${A}":           "a",
		"$A/x":           "a/x",
		"${EMPTY:-d}":    "d",
		"${EMPTY-d}":     "",
		"${UNSET-d}":     "d",
		"${A:-d}":        "a",
		"${A:+alt}":      "alt",
		"${EMPTY:+alt}":  "",
		"${UNSET+alt}":   "",
		"$$A and $${A}":  "$A and ${A}",
		"p:${A:?needed}": "p:a",
	} {
		if got, err := interpolate(in, env); err != nil || got != want {
			t.Errorf("interpolate(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"${EMPTY:?needed}", "${UNSET?needed}", "${A"} {
		if _, err := interpolate(in, env); err == nil {
			t.Errorf("interpolate(%q): no error", in)
		}
	}
}

// --- the Compose file -----------------------------------------------------------

type composeFile struct {
	Name     string                    `json:"name"`
	Services map[string]composeService `json:"services"`
	Volumes  map[string]any            `json:"volumes"`
}

type composeService struct {
	Image       string            `json:"image"`
	Build       any               `json:"build"`
	Command     []string          `json:"command"`
	Entrypoint  []string          `json:"entrypoint"`
	Environment map[string]string `json:"environment"`
	Volumes     []string          `json:"volumes"`
	Ports       []string          `json:"ports"`
	Restart     string            `json:"restart"`
	ReadOnly    bool              `json:"read_only"`
	CapDrop     []string          `json:"cap_drop"`
	Healthcheck *struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on"`
	Deploy *struct {
		Replicas *int `json:"replicas"`
	} `json:"deploy"`
}

// loadCompose reads compose.yaml as `docker compose --env-file .env.example`
// would: YAML (anchors and merge keys resolved), then interpolation. It
// returns the interpolated document and the raw text.
func loadCompose(t *testing.T) (doc map[string]any, text string, env map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// yaml.v3, like Compose's own parser, lets a key override one merged
	// in with <<: and rejects a key given twice.
	if err := yaml3.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	env = readEnvFile(t, ".env.example")
	v, err := interpolateTree(doc, env)
	if err != nil {
		t.Fatalf("compose.yaml with .env.example: %v", err)
	}
	return v.(map[string]any), string(raw), env
}

func typedCompose(t *testing.T, doc map[string]any) composeFile {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml does not have the shape these tests read (use the long forms): %v", err)
	}
	return c
}

// composeSchema compiles the Compose specification's schema as compose-go
// does (github.com/compose-spec/compose-go/v2/schema).
func composeSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/compose-spec/compose-spec.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("compose-spec.json", doc); err != nil {
		t.Fatal(err)
	}
	c.RegisterFormat(&jsonschema.Format{Name: "duration", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("expected string")
		}
		_, err := time.ParseDuration(s)
		return err
	}})
	sch, err := c.Compile("compose-spec.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// jsonRoundTrip gives the schema library plain JSON values.
func jsonRoundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestComposeMatchesSpecification(t *testing.T) {
	doc, _, _ := loadCompose(t)
	sch := composeSchema(t)
	if err := sch.Validate(jsonRoundTrip(t, doc)); err != nil {
		t.Fatalf("compose.yaml is not a valid Compose file:\n%v", err)
	}

	// The schema is strict enough to catch a misspelt key or a wrong type.
	for name, breakIt := range map[string]func(map[string]any){
		"misspelt key": func(d map[string]any) {
			d["services"].(map[string]any)["api"].(map[string]any)["helthcheck"] = map[string]any{}
		},
		"bad condition": func(d map[string]any) {
			d["services"].(map[string]any)["api"].(map[string]any)["depends_on"] = map[string]any{"migrate": map[string]any{"condition": "service_finished"}}
		},
		"health check as a number": func(d map[string]any) {
			d["services"].(map[string]any)["worker"].(map[string]any)["healthcheck"] = map[string]any{"test": 5}
		},
		"misspelt top-level key": func(d map[string]any) {
			d["volume"] = map[string]any{}
		},
	} {
		broken, _, _ := loadCompose(t)
		breakIt(broken)
		if err := sch.Validate(jsonRoundTrip(t, broken)); err == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
}

func TestComposeVariablesAreInEnvExample(t *testing.T) {
	_, text, env := loadCompose(t)
	used := variables(text)
	for _, name := range used {
		if _, ok := env[name]; !ok {
			t.Errorf("compose.yaml reads ${%s}, which .env.example does not set", name)
		}
	}
	for name := range env {
		if !slices.Contains(used, name) {
			t.Errorf(".env.example sets %s, which compose.yaml never reads", name)
		}
	}
}

// imageName is an image reference without its tag, or throughgateImage for
// the one THROUGHGATE_IMAGE names.
func imageName(ref string, env map[string]string) string {
	if ref == env["THROUGHGATE_IMAGE"] {
		return throughgateImage
	}
	name := ref
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return strings.TrimPrefix(name, "docker.io/")
}

func TestComposeServices(t *testing.T) {
	doc, text, env := loadCompose(t)
	c := typedCompose(t, doc)
	if strings.Contains(text, "auto-setup") || strings.Contains(text, "tctl") {
		t.Error("compose.yaml still mentions temporalio/auto-setup or tctl: neither is published for Temporal 1.32")
	}
	for _, want := range []string{"postgres", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui", "migrate", "api", "worker"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("no service %s", want)
		}
	}
	for name, s := range c.Services {
		t.Run(name, func(t *testing.T) {
			img := imageName(s.Image, env)
			programs, known := imagePrograms[img]
			switch {
			case s.Image == "":
				t.Fatal("no image: every service runs a published image")
			case s.Build != nil:
				t.Error("build: the image is built and published once (deploy/README.md), not by compose")
			case !known:
				t.Fatalf("image %s is not in imagePrograms: add what it can run", s.Image)
			}
			oneShot := s.Restart == "no"
			if s.Healthcheck == nil && !oneShot {
				t.Error("a long-running service needs a health check")
			}
			if s.Healthcheck != nil {
				test := s.Healthcheck.Test
				if len(test) < 2 || test[0] != "CMD" {
					t.Fatalf("health check %q: use the exec form [\"CMD\", program, args...]", test)
				}
				if !slices.Contains(programs, test[1]) {
					t.Errorf("health check runs %s, which image %s does not have (it has %v)", test[1], img, programs)
				}
				if img == throughgateImage {
					if len(test) < 4 || test[2] != "healthcheck" || !strings.HasPrefix(test[3], "http://127.0.0.1:") {
						t.Errorf("health check %q: want /throughgate healthcheck http://127.0.0.1:PORT/healthz", test)
					} else {
						checkSubcommand(t, "health check", "healthcheck")
					}
				}
			}
			if img != throughgateImage {
				return
			}
			if len(s.Command) == 0 {
				t.Fatal("no command: say which subcommand")
			}
			checkSubcommand(t, "command", s.Command[0])
			if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
				t.Error("Throughgate's containers run read-only with every capability dropped")
			}
			for k := range s.Environment {
				checkSetting(t, "environment", k)
			}
		})
	}
}

func TestComposeHealthCheckPortsMatchListenAddresses(t *testing.T) {
	doc, _, _ := loadCompose(t)
	c := typedCompose(t, doc)
	for name, addrVar := range map[string]string{"api": "HTTP_ADDR", "worker": "METRICS_ADDR"} {
		s := c.Services[name]
		addr := s.Environment[addrVar]
		_, port, ok := strings.Cut(addr, ":")
		if !ok || s.Healthcheck == nil || len(s.Healthcheck.Test) < 4 {
			t.Errorf("%s: %s=%q and health check %v", name, addrVar, addr, s.Healthcheck)
			continue
		}
		if want := "http://127.0.0.1:" + port + "/healthz"; s.Healthcheck.Test[3] != want {
			t.Errorf("%s: health check asks %s, but %s=%s", name, s.Healthcheck.Test[3], addrVar, addr)
		}
	}
}

func TestComposeStartUpOrder(t *testing.T) {
	doc, _, _ := loadCompose(t)
	c := typedCompose(t, doc)
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			switch {
			case !ok:
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			case d.Condition == "service_healthy" && target.Healthcheck == nil:
				t.Errorf("%s waits for %s to be healthy, which has no health check", name, dep)
			case d.Condition == "service_completed_successfully" && target.Restart != "no":
				t.Errorf("%s waits for %s to complete, which is restarted (restart: %q)", name, dep, target.Restart)
			case d.Condition == "service_started" || d.Condition == "":
				t.Errorf("%s depends on %s with no condition: wait for healthy or completed", name, dep)
			}
		}
	}
	// Each edge of the chain, as a condition.
	for _, e := range []struct{ from, to, cond string }{
		{"temporal-schema", "postgres", "service_healthy"},
		{"temporal", "temporal-schema", "service_completed_successfully"},
		{"temporal-namespace", "temporal", "service_healthy"},
		{"temporal-ui", "temporal", "service_healthy"},
		{"migrate", "postgres", "service_healthy"},
		{"migrate", "temporal-namespace", "service_completed_successfully"},
		{"api", "migrate", "service_completed_successfully"},
		{"worker", "migrate", "service_completed_successfully"},
	} {
		if got := c.Services[e.from].DependsOn[e.to].Condition; got != e.cond {
			t.Errorf("%s -> %s: condition %q, want %q", e.from, e.to, got, e.cond)
		}
	}
	// And no cycle.
	state := map[string]int{}
	var visit func(string, []string)
	visit = func(n string, path []string) {
		switch state[n] {
		case 1:
			t.Errorf("depends_on cycle: %s", strings.Join(append(path, n), " -> "))
			return
		case 2:
			return
		}
		state[n] = 1
		for dep := range c.Services[n].DependsOn {
			visit(dep, append(path, n))
		}
		state[n] = 2
	}
	for n := range c.Services {
		visit(n, nil)
	}
}

func TestComposeRunsTwoWorkersAndOneMigrate(t *testing.T) {
	doc, _, env := loadCompose(t)
	c := typedCompose(t, doc)
	count := map[string]int{}
	for _, s := range c.Services {
		if imageName(s.Image, env) != throughgateImage || len(s.Command) == 0 {
			continue
		}
		n := 1
		if s.Deploy != nil && s.Deploy.Replicas != nil {
			n = *s.Deploy.Replicas
		}
		count[s.Command[0]] += n
	}
	if count["worker"] != 2 || count["migrate"] != 1 || count["api"] < 1 {
		t.Errorf("Throughgate processes %v: want two workers, one migrate, an api", count)
	}
}

// The two database roles and the payload keys: migrate migrates as the
// tables' owner (MIGRATE_DATABASE_URL) and api and the workers sign in as a
// role of their own (DATABASE_URL), which init-roles.sh creates, with the
// group role migrate grants; api and every worker have the same
// PAYLOAD_KEYS, and only the api reads EVENT_SOURCES.
func TestComposeRolesAndKeys(t *testing.T) {
	doc, _, _ := loadCompose(t)
	c := typedCompose(t, doc)
	role := func(service, setting string) string {
		u, err := url.Parse(c.Services[service].Environment[setting])
		if err != nil || u.User == nil {
			t.Fatalf("%s: %s %q names no role (%v)", service, setting, c.Services[service].Environment[setting], err)
		}
		return u.User.Username()
	}
	owner := role("migrate", "MIGRATE_DATABASE_URL")
	initRoles, err := os.ReadFile("postgres/init-roles.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"migrate", "api", "worker"} {
		app := role(svc, "DATABASE_URL")
		if app == owner {
			t.Errorf("%s signs in as %s, the tables' owner: the audit log would not be protected", svc, app)
		}
		if !bytes.Contains(initRoles, []byte("CREATE ROLE "+app+" LOGIN")) {
			t.Errorf("%s signs in as %s, which postgres/init-roles.sh does not create", svc, app)
		}
	}
	if !bytes.Contains(initRoles, []byte("CREATE DATABASE throughgate OWNER "+owner+";")) {
		t.Errorf("MIGRATE_DATABASE_URL's role %s does not own the database init-roles.sh creates", owner)
	}
	if !bytes.Contains(initRoles, []byte("GRANT "+postgres.AppRole+" TO "+owner+" WITH ADMIN OPTION")) {
		t.Errorf("init-roles.sh does not let %s grant %s (migrate makes DATABASE_URL's role a member)", owner, postgres.AppRole)
	}
	for _, svc := range []string{"api", "migrate", "worker"} {
		if _, ok := c.Services[svc].Environment["MIGRATE_DATABASE_URL"]; ok && svc != "migrate" {
			t.Errorf("%s has the owner's MIGRATE_DATABASE_URL", svc)
		}
	}
	keys := c.Services["api"].Environment["PAYLOAD_KEYS"]
	if keys == "" || c.Services["worker"].Environment["PAYLOAD_KEYS"] != keys {
		t.Errorf("PAYLOAD_KEYS: api %q, worker %q; want the same, set", keys, c.Services["worker"].Environment["PAYLOAD_KEYS"])
	}
	if _, ok := c.Services["api"].Environment["EVENT_SOURCES"]; !ok {
		t.Error("the api is not given EVENT_SOURCES")
	}
}

func TestComposeFilesItMounts(t *testing.T) {
	doc, _, _ := loadCompose(t)
	c := typedCompose(t, doc)
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				} else if strings.HasSuffix(src, ".sh") {
					if out, err := exec.Command("sh", "-n", src).CombinedOutput(); err != nil {
						t.Errorf("%s: sh -n %s: %v\n%s", name, src, err, out)
					}
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s mounts volume %s, which volumes: does not declare", name, src)
			}
		}
		if len(s.Entrypoint) == 2 && s.Entrypoint[0] == "/bin/sh" {
			found := false
			for _, v := range s.Volumes {
				if src, rest, _ := strings.Cut(v, ":"); strings.HasPrefix(rest, s.Entrypoint[1]+":") {
					found = true
					if b, err := os.ReadFile(src); err == nil && !bytes.HasPrefix(b, []byte("#!/bin/sh\n")) {
						t.Errorf("%s: %s is not a POSIX sh script", name, src)
					}

				}
			}
			if !found {
				t.Errorf("%s runs %s, which no volume mounts", name, s.Entrypoint[1])
			}
		}
	}
}

// temporalServerDir is where the Go module cache holds the
// go.temporal.io/server version go.mod requires, whose configuration
// template, schema tool and schemas the Temporal images are built from.
func temporalServerDir(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/server")
	cmd.Dir = ".."
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("go.temporal.io/server is not in the module cache (go mod download): %v", err)
	}
	return dir
}

func goModTemporalVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*go\.temporal\.io/server v(\d+\.\d+)\.\d+`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod does not require go.temporal.io/server")
	}
	return string(m[1])
}

func TestComposeTemporalMatchesGoMod(t *testing.T) {
	doc, text, env := loadCompose(t)
	c := typedCompose(t, doc)
	minor := goModTemporalVersion(t)
	if !strings.HasPrefix(env["TEMPORAL_VERSION"], minor+".") {
		t.Errorf(".env.example TEMPORAL_VERSION=%s; go.mod has go.temporal.io/server %s.x", env["TEMPORAL_VERSION"], minor)
	}
	for _, m := range regexp.MustCompile(`\$\{TEMPORAL_VERSION:-([^}]*)\}`).FindAllStringSubmatch(text, -1) {
		if !strings.HasPrefix(m[1], minor+".") {
			t.Errorf("compose.yaml defaults TEMPORAL_VERSION to %s; go.mod has %s.x", m[1], minor)
		}
	}
	for _, name := range []string{"temporal-schema", "temporal", "temporal-namespace"} {
		if s := c.Services[name]; !strings.HasSuffix(s.Image, ":"+env["TEMPORAL_VERSION"]) {
			t.Errorf("%s runs %s, not version %s", name, s.Image, env["TEMPORAL_VERSION"])
		}
	}
}

// TestComposeTemporalSettingsExist checks the names the Temporal services
// are given against the source of the Temporal version in go.mod: the
// server's configuration template, temporal-sql-tool's flags and the
// embedded schemas the setup script names.
func TestComposeTemporalSettingsExist(t *testing.T) {
	doc, _, _ := loadCompose(t)
	c := typedCompose(t, doc)
	dir := temporalServerDir(t)
	tmpl, err := os.ReadFile(filepath.Join(dir, "common/config/config_template_embedded.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for k := range c.Services["temporal"].Environment {
		if !bytes.Contains(tmpl, []byte(`(env "`+k+`")`)) {
			t.Errorf("temporal: the server's configuration template does not read %s", k)
		}
	}
	if db := c.Services["temporal"].Environment["DB"]; db != "postgres12" {
		t.Errorf("temporal: DB=%s, want postgres12", db)
	}
	tool, err := os.ReadFile(filepath.Join(dir, "tools/sql/main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for k := range c.Services["temporal-schema"].Environment {
		if !bytes.Contains(tool, []byte(`EnvVar: "`+k+`"`)) {
			t.Errorf("temporal-schema: temporal-sql-tool does not read %s", k)
		}
	}
	script, err := os.ReadFile("temporal/setup-schema.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"temporal", "visibility"} {
		if _, err := os.Stat(filepath.Join(dir, "schema/postgresql/v12", sub, "versioned")); err != nil {
			t.Errorf("no embedded schema postgresql/v12/%s: %v", sub, err)
		}
	}
	for _, want := range []string{"create-database", "setup-schema -v 0.0", `update-schema --schema-name "postgresql/v12/$db"`} {
		if !bytes.Contains(script, []byte(want)) {
			t.Errorf("setup-schema.sh does not run %q", want)
		}
	}
}

// TestComposeTemporalUIMatchesGoMod checks the UI image against the
// ui-server version go.mod embeds for `throughgate dev`, and the names it
// is given against that version's configuration template.
func TestComposeTemporalUIMatchesGoMod(t *testing.T) {
	doc, _, env := loadCompose(t)
	c := typedCompose(t, doc)
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}} {{.Dir}}", "github.com/temporalio/ui-server/v2")
	cmd.Dir = ".."
	out, err := cmd.Output()
	version, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if err != nil || version == "" {
		t.Skipf("go.mod no longer requires github.com/temporalio/ui-server/v2 (%v): nothing to compare the UI image with", err)
	}
	if want := strings.TrimPrefix(version, "v"); env["TEMPORAL_UI_VERSION"] != want {
		t.Errorf(".env.example TEMPORAL_UI_VERSION=%s; go.mod has ui-server %s", env["TEMPORAL_UI_VERSION"], version)
	}
	if dir == "" {
		t.Skip("ui-server is not in the module cache (go mod download)")
	}
	tmpl, err := os.ReadFile(filepath.Join(dir, "config/docker.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for k := range c.Services["temporal-ui"].Environment {
		if !bytes.Contains(tmpl, []byte(`env "`+k+`"`)) {
			t.Errorf("temporal-ui: the UI's configuration template does not read %s", k)
		}
	}
}

// TestImageIsWhatTheFilesAssume checks deploy/Dockerfile against what the
// compose file and the manifests take for granted about the image: the
// binary at /throughgate and nothing else to run (imagePrograms), and the
// user 65532 (kubernetes_test.go's imageUser).
func TestImageIsWhatTheFilesAssume(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(string(b), -1)
	if len(froms) == 0 {
		t.Fatal("Dockerfile has no FROM")
	}
	final := froms[len(froms)-1][1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") || !strings.HasSuffix(final, ":nonroot") {
		t.Errorf("the image is now built FROM %s: revisit imagePrograms (what its health checks can run) and imageUser", final)
	}
	if !regexp.MustCompile(`(?m)^ENTRYPOINT \["/throughgate"\]`).Match(b) {
		t.Error(`the image's entrypoint is no longer ["/throughgate"]: compose's commands and health checks assume it`)
	}
	if !regexp.MustCompile(`(?m)^USER (nonroot|65532)`).Match(b) {
		t.Error("the image no longer runs as nonroot (65532), which the manifests' runAsUser assumes")
	}
}
