package drill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/codec"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/pgcluster"
	"github.com/throughgate/throughgate/internal/postgres"
)

// Options configure Start.
type Options struct {
	// Dir is the working directory: PostgreSQL's data, the configuration
	// files, every process's log. The PostgreSQL server must be able to
	// reach it (it runs as the postgres user when the harness runs as root).
	Dir string
	// Policy is the reminder and escalation policy (JSON) the API is given
	// through POLICY_FILE.
	Policy string
	// Workers is the number of `throughgate worker` processes (compose: 2).
	Workers int
	// HistoryShards, when not zero, replaces compose's NUM_HISTORY_SHARDS
	// (fixed at the cluster's first start).
	HistoryShards int
	// Vars are more of the variables deploy/.env gives compose.yaml (for
	// example SMTP_RATE, or TRUST_PROXY_HEADERS): they win over the
	// harness's own choices and compose's defaults.
	Vars map[string]string
	// Logf reports progress; nil: silent.
	Logf func(format string, args ...any)
}

// VarsFromEnv reads DRILL_VARS, space-separated NAME=value pairs, for
// Options.Vars: `DRILL_VARS="SMTP_RATE=120" make drill`.
func VarsFromEnv() map[string]string {
	vars := map[string]string{}
	for _, kv := range strings.Fields(os.Getenv("DRILL_VARS")) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	return vars
}

// Topology is the separated deployment, running: every part a process of
// its own, configured as deploy/compose.yaml configures it.
type Topology struct {
	Programs Programs
	Dir      string
	Compose  Compose
	// Vars stand for deploy/.env: the values compose.yaml requires, which
	// the harness chooses (passwords, addresses of this host).
	Vars map[string]string
	// Translations are the changes made to compose's values so they work
	// on one host: service names to 127.0.0.1 and the ports chosen, listen
	// addresses to free loopback ports. Nothing else differs.
	Translations []string

	PG       *pgcluster.Cluster
	PGPort   int
	Relay    *Relay
	Temporal *Process
	// TemporalAddr is the frontend's host:port.
	TemporalAddr string
	Namespace    string
	API          *Process
	APIURL       string // the public listener (HTTP_ADDR)
	APIOpsURL    string // the operations listener (METRICS_ADDR)
	Workers      []*Process
	WorkerOpsURL []string

	// The harness's own connections: a superuser pool on Throughgate's
	// database, the same through package postgres, a Temporal client
	// with the workers' PAYLOAD_KEYS (DataConverter), to read what the
	// workflows answer and record.
	Pool          *pgxpool.Pool
	DB            *postgres.DB
	Client        client.Client
	DataConverter converter.DataConverter

	// Staff the harness created, all with Password.
	Password string
	// Phases is how long each part of the start took.
	Phases []Phase

	pgOpts pgcluster.Options
	logf   func(string, ...any)
}

// Phase is one timed step of starting the topology.
type Phase struct {
	Name string
	Took time.Duration
}

// Extra settings the harness gives that compose.yaml does not: the policy
// file (a fast ladder), and the CA the harness's SMTP relay's certificate
// is signed by (a production relay's chains to the system's roots).
var extraSettings = map[string]string{
	"POLICY_FILE": "the fast reminder ladder",
	"SMTP_TLS_CA": "the drill relay's private CA",
}

// Compose service names, and the addresses compose gives them.
const (
	composePostgres = "postgres:5432"
	composeTemporal = "temporal:7233"
)

// Start builds the programs (or finds them built) and starts the whole
// topology: PostgreSQL, the roles and databases, Temporal's schema, the
// Temporal server, the namespace, the SMTP relay, `throughgate migrate`,
// the staff, the workers and the API. It returns once every part reports
// ready. On error, what had started is stopped.
func Start(ctx context.Context, opts Options) (_ *Topology, err error) {
	t := &Topology{Dir: opts.Dir, logf: opts.Logf}
	if t.logf == nil {
		t.logf = func(string, ...any) {}
	}
	if opts.Workers == 0 {
		opts.Workers = 2
	}
	defer func() {
		if err != nil {
			t.Stop()
		}
	}()
	phase := func(name string, began time.Time) {
		t.Phases = append(t.Phases, Phase{name, time.Since(began)})
		t.logf("%-28s %s", name, time.Since(began).Round(10*time.Millisecond))
	}

	began := time.Now()
	if t.Programs, err = Build(ctx, nil); err != nil {
		return nil, err
	}
	phase("build (or find built)", began)

	began = time.Now()
	ports := map[string]int{}
	for _, name := range []string{"postgres", "temporal", "frontend-m", "history", "history-m", "matching", "matching-m",
		"worker", "worker-m", "api", "api-ops"} {
		if ports[name], err = freeLowPort(); err != nil {
			return nil, err
		}
	}
	// The relay holds its port from here on; the workers' ports are free
	// now and chosen apart from it and from each other (a port just
	// released may be handed out again at once).
	if t.Relay, err = StartRelay(t.Dir); err != nil {
		return nil, err
	}
	taken := map[int]bool{t.Relay.Port: true}
	workerOps := make([]int, opts.Workers)
	for i := range workerOps {
		for workerOps[i] == 0 || taken[workerOps[i]] {
			if workerOps[i], err = freePort(); err != nil {
				return nil, err
			}
		}
		taken[workerOps[i]] = true
	}
	t.PGPort = ports["postgres"]
	t.APIURL = fmt.Sprintf("http://127.0.0.1:%d", ports["api"])
	t.APIOpsURL = fmt.Sprintf("http://127.0.0.1:%d", ports["api-ops"])
	payloadKey, err := codec.NewKey("drill")
	if err != nil {
		return nil, err
	}
	t.Vars = map[string]string{
		"THROUGHGATE_IMAGE":           "throughgate:drill", // the lean binary stands for the image
		"POSTGRES_PASSWORD":           secret(),
		"THROUGHGATE_DB_PASSWORD":     secret(),
		"THROUGHGATE_APP_DB_PASSWORD": secret(),
		"TEMPORAL_DB_PASSWORD":        secret(),
		"PAYLOAD_KEYS":                payloadKey.String(),
		"BASE_URL":                    t.APIURL,
		"SMTP_HOST":                   "127.0.0.1",
		"SMTP_PORT":                   strconv.Itoa(t.Relay.Port),
		"SMTP_USERNAME":               t.Relay.Username,
		"SMTP_PASSWORD":               t.Relay.Password,
		"SMTP_FROM":                   "Throughgate <throughgate@drill.example.org>",
	}
	for _, k := range slices.Sorted(maps.Keys(opts.Vars)) {
		t.Vars[k] = opts.Vars[k]
		t.Translations = append(t.Translations, fmt.Sprintf("deploy/.env gives %s=%s", k, opts.Vars[k]))
	}
	composeFile := filepath.Join(t.Programs.Root, "deploy", "compose.yaml")
	if t.Compose, err = ReadCompose(composeFile, t.Vars); err != nil {
		return nil, err
	}
	if t.DataConverter, err = payloadConverter(t.Compose); err != nil {
		return nil, err
	}
	hosts := map[string]string{
		composePostgres: fmt.Sprintf("127.0.0.1:%d", t.PGPort),
		composeTemporal: fmt.Sprintf("127.0.0.1:%d", ports["temporal"]),
	}
	for _, k := range slices.Sorted(maps.Keys(hosts)) {
		t.Translations = append(t.Translations, k+" -> "+hosts[k])
	}
	translate := func(env map[string]string) map[string]string {
		for k, v := range env {
			for from, to := range hosts {
				v = strings.ReplaceAll(v, "@"+from+"/", "@"+to+"/")
				if v == from {
					v = to
				}
			}
			env[k] = v
		}
		return env
	}

	// PostgreSQL, and deploy/postgres/init-roles.sh as the image runs it on
	// its first start.
	t.pgOpts = pgcluster.Options{Dir: filepath.Join(t.Dir, "postgres"), Port: t.PGPort}
	if t.PG, err = pgcluster.Start(ctx, t.pgOpts); err != nil {
		return nil, fmt.Errorf("starting PostgreSQL: %w", err)
	}
	pgEnv, err := t.Compose.Env("postgres")
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("psql"); err != nil {
		return nil, errors.New("psql is not on PATH: install PostgreSQL's client programs (Debian: postgresql-client), which deploy/postgres/init-roles.sh runs")
	}
	pgEnv["PGHOST"], pgEnv["PGPORT"] = "127.0.0.1", strconv.Itoa(t.PGPort)
	if err := run("init-roles", logPath(t.Dir, "init-roles"), pgEnv, time.Minute, "/bin/sh",
		filepath.Join(t.Programs.Root, "deploy", "postgres", "init-roles.sh")); err != nil {
		return nil, err
	}
	phase("postgres + init-roles.sh", began)

	// Temporal's databases and schemas (the temporal-schema service).
	began = time.Now()
	sqlEnv, err := t.Compose.Env("temporal-schema")
	if err != nil {
		return nil, err
	}
	sqlEnv = translate(sqlEnv)
	if sqlEnv["SQL_HOST"] == "postgres" && sqlEnv["SQL_PORT"] == "5432" {
		sqlEnv["SQL_HOST"], sqlEnv["SQL_PORT"] = "127.0.0.1", strconv.Itoa(t.PGPort)
	} else {
		return nil, fmt.Errorf("compose's temporal-schema reaches PostgreSQL at %s:%s, not postgres:5432", sqlEnv["SQL_HOST"], sqlEnv["SQL_PORT"])
	}
	tEnv, err := t.Compose.Env("temporal")
	if err != nil {
		return nil, err
	}
	if err := t.setupTemporalSchema(sqlEnv, tEnv["DBNAME"], tEnv["VISIBILITY_DBNAME"]); err != nil {
		return nil, err
	}
	phase("temporal-sql-tool", began)

	// The Temporal server (the temporal service).
	began = time.Now()
	shards, err := strconv.Atoi(tEnv["NUM_HISTORY_SHARDS"])
	if err != nil {
		return nil, fmt.Errorf("compose's NUM_HISTORY_SHARDS %q: %w", tEnv["NUM_HISTORY_SHARDS"], err)
	}
	if opts.HistoryShards != 0 {
		t.Translations = append(t.Translations, fmt.Sprintf("NUM_HISTORY_SHARDS %d -> %d", shards, opts.HistoryShards))
		shards = opts.HistoryShards
	}
	if tEnv["POSTGRES_SEEDS"] != "postgres" || tEnv["DB_PORT"] != "5432" {
		return nil, fmt.Errorf("compose's temporal reaches PostgreSQL at %s:%s, not postgres:5432", tEnv["POSTGRES_SEEDS"], tEnv["DB_PORT"])
	}
	dynamic, err := hostPath(filepath.Dir(composeFile), t.Compose.Services["temporal"].Volumes, tEnv["DYNAMIC_CONFIG_FILE_PATH"])
	if err != nil {
		return nil, err
	}
	tc := temporalConfig{Plugin: tEnv["DB"], User: tEnv["POSTGRES_USER"], Password: tEnv["POSTGRES_PWD"],
		DB: tEnv["DBNAME"], VisibilityDB: tEnv["VISIBILITY_DBNAME"], PGAddr: hosts[composePostgres], Shards: shards,
		LogLevel: tEnv["LOG_LEVEL"], IP: "127.0.0.1", Frontend: ports["temporal"], DynamicConfig: dynamic,
		Ports: map[string][2]int{
			"frontend": {ports["temporal"], ports["frontend-m"]},
			"history":  {ports["history"], ports["history-m"]},
			"matching": {ports["matching"], ports["matching-m"]},
			"worker":   {ports["worker"], ports["worker-m"]},
		}}
	if tEnv["BIND_ON_IP"] != "0.0.0.0" {
		return nil, fmt.Errorf("compose's temporal binds on %q, not 0.0.0.0", tEnv["BIND_ON_IP"])
	}
	t.Translations = append(t.Translations, "BIND_ON_IP 0.0.0.0 -> 127.0.0.1")
	tcFile := filepath.Join(t.Dir, "temporal.yaml")
	if err := writeTemporalConfig(tcFile, tc); err != nil {
		return nil, err
	}
	t.TemporalAddr = hosts[composeTemporal]
	t.Temporal = &Process{Name: "temporal", Path: t.Programs.Temporal, Log: logPath(t.Dir, "temporal"),
		Args: []string{"--config-file", tcFile, "--allow-no-auth", "start"}}
	nsEnv, err := t.Compose.Env("temporal-namespace")
	if err != nil {
		return nil, err
	}
	t.Namespace = nsEnv["TEMPORAL_NAMESPACE"]
	if t.Client, err = dialTemporal(ctx, t.TemporalAddr, t.Namespace, t.DataConverter); err != nil {
		return nil, err
	}
	if err := t.startTemporal(ctx); err != nil {
		return nil, err
	}
	phase("temporal server", began)

	// The namespace (the temporal-namespace service).
	began = time.Now()
	if translate(nsEnv)["TEMPORAL_ADDRESS"] != t.TemporalAddr {
		return nil, fmt.Errorf("compose's temporal-namespace dials %s, not %s", nsEnv["TEMPORAL_ADDRESS"], composeTemporal)
	}
	if err := t.registerNamespace(ctx, t.Namespace, nsEnv["NAMESPACE_RETENTION"]); err != nil {
		return nil, err
	}
	phase("namespace", began)

	// throughgate migrate (the migrate service).
	began = time.Now()
	envOf := func(service string, listen map[string]int) (map[string]string, error) {
		env, err := t.Compose.Env(service)
		if err != nil {
			return nil, err
		}
		env = translate(env)
		for name, port := range listen {
			if !strings.HasPrefix(env[name], "0.0.0.0:") {
				return nil, fmt.Errorf("compose's %s listens with %s=%q, not on 0.0.0.0", service, name, env[name])
			}
			t.Translations = append(t.Translations, fmt.Sprintf("%s %s %s -> 127.0.0.1:%d", service, name, env[name], port))
			env[name] = fmt.Sprintf("127.0.0.1:%d", port)
		}
		env["SMTP_TLS_CA"] = t.Relay.CAFile
		if err := checkSettings(service, env, t.Compose.Services[service].Environment); err != nil {
			return nil, err
		}
		return env, nil
	}
	if cmd := t.Compose.Services["migrate"].Command; !slices.Equal(cmd, []string{"migrate"}) {
		return nil, fmt.Errorf("compose's migrate runs %v, not [migrate]", cmd)
	}
	migrateEnv, err := envOf("migrate", nil)
	if err != nil {
		return nil, err
	}
	if err := run("migrate", logPath(t.Dir, "migrate"), migrateEnv, 2*time.Minute, t.Programs.Throughgate, "migrate"); err != nil {
		return nil, err
	}
	phase("throughgate migrate", began)

	// The harness's connection, and the staff: nothing in production
	// creates the first accounts yet (README, "Still to come").
	began = time.Now()
	if t.Pool, err = pgxpool.New(ctx, t.PG.URL("throughgate")); err != nil {
		return nil, err
	}
	if t.DB, err = postgres.Open(ctx, t.PG.URL("throughgate")); err != nil {
		return nil, err
	}
	t.Password = secret()
	if err := seed(ctx, t.DB, t.Password); err != nil {
		return nil, fmt.Errorf("creating the drill's staff: %w", err)
	}

	// The workers and the API (the worker and api services).
	policy := filepath.Join(t.Dir, "policy.json")
	if err := os.WriteFile(policy, []byte(opts.Policy), 0o644); err != nil {
		return nil, err
	}
	for i := range opts.Workers {
		if cmd := t.Compose.Services["worker"].Command; !slices.Equal(cmd, []string{"worker"}) {
			return nil, fmt.Errorf("compose's worker runs %v, not [worker]", cmd)
		}
		env, err := envOf("worker", map[string]int{"METRICS_ADDR": workerOps[i]})
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("worker-%d", i+1)
		t.Workers = append(t.Workers, &Process{Name: name, Path: t.Programs.Throughgate, Args: []string{"worker"}, Env: env, Log: logPath(t.Dir, name)})
		t.WorkerOpsURL = append(t.WorkerOpsURL, fmt.Sprintf("http://127.0.0.1:%d", workerOps[i]))
	}
	if cmd := t.Compose.Services["api"].Command; !slices.Equal(cmd, []string{"api"}) {
		return nil, fmt.Errorf("compose's api runs %v, not [api]", cmd)
	}
	apiEnv, err := envOf("api", map[string]int{"HTTP_ADDR": ports["api"], "METRICS_ADDR": ports["api-ops"]})
	if err != nil {
		return nil, err
	}
	apiEnv["POLICY_FILE"] = policy
	t.API = &Process{Name: "api", Path: t.Programs.Throughgate, Args: []string{"api"}, Env: apiEnv, Log: logPath(t.Dir, "api")}
	for _, p := range append(slices.Clone(t.Workers), t.API) {
		if err := p.Start(); err != nil {
			return nil, err
		}
	}
	for i, w := range t.Workers {
		if err := t.WaitReady(ctx, w, t.WorkerOpsURL[i], time.Minute); err != nil {
			return nil, err
		}
	}
	if err := t.WaitReady(ctx, t.API, t.APIOpsURL, time.Minute); err != nil {
		return nil, err
	}
	// compose's health check of the api: the binary itself, on /healthz.
	if err := exec.CommandContext(ctx, t.Programs.Throughgate, "healthcheck", t.APIURL+"/healthz").Run(); err != nil {
		return nil, fmt.Errorf("throughgate healthcheck %s/healthz: %w", t.APIURL, err)
	}
	phase("workers + api ready", began)
	return t, nil
}

// payloadConverter is the data converter of compose's workers: their
// PAYLOAD_KEYS, or payloads in clear when they have none.
func payloadConverter(c Compose) (converter.DataConverter, error) {
	env, err := c.Env("worker")
	if err != nil {
		return nil, err
	}
	if env["PAYLOAD_KEYS"] == "" {
		return converter.GetDefaultDataConverter(), nil
	}
	keys, err := codec.ParseKeys(env["PAYLOAD_KEYS"])
	if err != nil {
		return nil, err
	}
	cd, err := codec.New(keys)
	if err != nil {
		return nil, err
	}
	return cd.DataConverter(), nil
}

// checkSettings checks that every variable given to a Throughgate process
// is a Throughgate setting, and that those compose.yaml does not give are
// only the harness's known extras.
func checkSettings(service string, env, fromCompose map[string]string) error {
	known := map[string]bool{}
	for _, s := range config.Settings {
		known[s.Env] = true
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !known[k] {
			return fmt.Errorf("compose's %s sets %s, which is not a Throughgate setting (`throughgate help`)", service, k)
		}
		if _, ok := fromCompose[k]; !ok {
			if _, extra := extraSettings[k]; !extra {
				return fmt.Errorf("the harness gives %s %s, which compose.yaml does not", service, k)
			}
		}
	}
	return nil
}

// WaitReady waits until url/readyz answers 200, failing at once with the
// log's end if the process exits.
func (t *Topology) WaitReady(ctx context.Context, p *Process, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	hc := &http.Client{Timeout: 5 * time.Second}
	last := ""
	for {
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited before it was ready (%v):\n%s", p.Name, p.ExitErr(), p.Tail(30))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := hc.Get(url + "/readyz")
		if err == nil {
			b := make([]byte, 512)
			n, _ := resp.Body.Read(b)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b[:n])
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s: %s\n%s", p.Name, within, last, p.Tail(30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Ready reports whether the API and every running worker answer /readyz
// with 200 (a worker killed on purpose is left out until it is started
// again), with at least one worker running.
func (t *Topology) Ready() bool {
	hc := &http.Client{Timeout: 3 * time.Second}
	ok := func(u string) bool {
		resp, err := hc.Get(u + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if !t.API.Running() || !ok(t.APIOpsURL) {
		return false
	}
	running := 0
	for i, w := range t.Workers {
		if !w.Running() {
			continue
		}
		running++
		if !ok(t.WorkerOpsURL[i]) {
			return false
		}
	}
	return running > 0
}

// StopPostgres shuts PostgreSQL down (a fast shutdown, as `docker compose
// restart postgres` does).
func (t *Topology) StopPostgres(ctx context.Context) error { return t.PG.Stop(ctx) }

// StartPostgres starts PostgreSQL again on the same data and port.
func (t *Topology) StartPostgres(ctx context.Context) (err error) {
	t.PG, err = pgcluster.Start(ctx, t.pgOpts)
	return err
}

// StopTemporal stops the Temporal server (SIGTERM, as `docker compose
// stop` does), waiting for it to exit.
func (t *Topology) StopTemporal() error { return t.Temporal.Stop(30 * time.Second) }

// StartTemporal starts the Temporal server again and waits until it serves.
func (t *Topology) StartTemporal(ctx context.Context) error { return t.startTemporal(ctx) }

// Stop stops everything, newest first. Safe on a partly started topology.
func (t *Topology) Stop() {
	var procs []*Process
	if t.API != nil {
		procs = append(procs, t.API)
	}
	procs = append(procs, t.Workers...)
	for _, p := range procs {
		_ = p.Stop(15 * time.Second)
	}
	if t.Client != nil {
		t.Client.Close()
	}
	if t.Temporal != nil {
		_ = t.Temporal.Stop(30 * time.Second)
	}
	if t.Pool != nil {
		t.Pool.Close()
	}
	if t.DB != nil {
		t.DB.Close()
	}
	if t.Relay != nil {
		_ = t.Relay.Stop()
	}
	if t.PG != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = t.PG.Stop(ctx)
		cancel()
	}
}

// Logs is the end of every process's log, for a failure report.
func (t *Topology) Logs(n int) string {
	var b strings.Builder
	for _, p := range append([]*Process{t.Temporal, t.API}, t.Workers...) {
		if p != nil {
			fmt.Fprintf(&b, "--- %s (%s)\n%s\n", p.Name, p.Log, p.Tail(n))
		}
	}
	return b.String()
}

// Staff the drill creates: one team at Pentonville with its officer,
// manager and head of service.
const (
	Team    = "pvi-resettlement"
	Officer = "officer-1"
	Manager = "manager-1"
	Head    = "head-1"
)

func seed(ctx context.Context, db *postgres.DB, password string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.PutStaff(ctx, postgres.Staff{ID: Manager, Name: "Mo Manager", Email: "mo.manager@pvi.example.org", Role: "manager", Active: true}); err != nil {
			return err
		}
		if err := tx.PutStaff(ctx, postgres.Staff{ID: Head, Name: "Hana Head", Email: "hana.head@london.example.org", Role: "head", Active: true}); err != nil {
			return err
		}
		if err := tx.PutTeam(ctx, postgres.Team{ID: Team, Name: "Pentonville resettlement", Establishment: "PVI",
			Email: "resettlement@pvi.example.org", Manager: Manager, Head: Head, Active: true}); err != nil {
			return err
		}
		for _, s := range []postgres.Staff{
			{ID: Officer, Name: "Olu Officer", Email: "olu.officer@pvi.example.org", Role: "officer", Team: Team, Active: true},
			{ID: Manager, Name: "Mo Manager", Email: "mo.manager@pvi.example.org", Role: "manager", Team: Team, Active: true},
		} {
			if err := tx.PutStaff(ctx, s); err != nil {
				return err
			}
		}
		for _, id := range []string{Officer, Manager, Head} {
			if err := tx.SetPassword(ctx, id, hash); err != nil {
				return err
			}
		}
		return nil
	})
}

func secret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
