package temporalserver

import (
	"context"
	"errors"
	"fmt"
	"github.com/throughgate/throughgate/internal/pgcluster"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	temporalschema "go.temporal.io/server/schema"
	sqltool "go.temporal.io/server/tools/sql"

	"github.com/jackc/pgx/v5"
)

var testSearchAttributes = map[string]enumspb.IndexedValueType{
	"TgEstablishment": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"TgNextDue":       enumspb.INDEXED_VALUE_TYPE_DATETIME,
	"TgEscalation":    enumspb.INDEXED_VALUE_TYPE_INT,
}

// testLogger writes to stderr rather than t.Log: the server's goroutines can
// log after a test has returned, and t.Log then panics.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func testPort(t *testing.T) int {
	t.Helper()
	p, err := freePort("127.0.0.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	began := time.Now()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start (%s, %d shards) took %s", opts.Store, opts.NumHistoryShards, time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

func dial(t *testing.T, s *Server, namespace string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.HostPort(),
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(testLogger()),
	})
	if err != nil {
		t.Fatalf("dial %s: %v", s.HostPort(), err)
	}
	t.Cleanup(c.Close)
	return c
}

// checkServer checks what Start promises: a healthy frontend, the namespace,
// and the search attributes with their types.
func checkServer(t *testing.T, s *Server, opts Options) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := dial(t, s, opts.Namespace)
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		t.Fatalf("CheckHealth: %v", err)
	}
	ns, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: opts.Namespace})
	if err != nil {
		t.Fatalf("DescribeNamespace: %v", err)
	}
	if got := ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != namespaceRetention {
		t.Errorf("namespace retention = %s, want %s", got, namespaceRetention)
	}
	sas, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: opts.Namespace})
	if err != nil {
		t.Fatalf("ListSearchAttributes: %v", err)
	}
	for name, want := range opts.SearchAttributes {
		if got, ok := sas.GetCustomAttributes()[name]; !ok || got != want {
			t.Errorf("search attribute %s = %v (registered %v), want %v", name, got, ok, want)
		}
	}
}

// upsertWorkflow sets a search attribute registered by Start.
func upsertWorkflow(ctx workflow.Context) (string, error) {
	key := temporal.NewSearchAttributeKeyKeyword("TgEstablishment")
	return "done", workflow.UpsertTypedSearchAttributes(ctx, key.ValueSet("HMP Example"))
}

// runWorkflow runs a workflow the moment Start has returned, started with one
// new search attribute and setting another: Start must not return before every
// service can serve it. (Without the wait for the namespace caches, starting
// failed with "no mapping defined for search attribute".)
func runWorkflow(t *testing.T, s *Server, namespace string) {
	t.Helper()
	c := dial(t, s, namespace)
	w := worker.New(c, "temporalserver-test", worker.Options{})
	w.RegisterWorkflow(upsertWorkflow)
	if err := w.Start(); err != nil {
		t.Fatalf("worker: %v", err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "temporalserver-test",
		TaskQueue: "temporalserver-test",
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyInt64("TgEscalation").ValueSet(2)),
	}, upsertWorkflow)
	if err != nil {
		t.Fatalf("starting a workflow: %v", err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "done" {
		t.Fatalf("workflow = %q, %v", out, err)
	}
}

func TestSQLite(t *testing.T) {
	dir := t.TempDir()
	opts := Options{
		Store:            StoreSQLite,
		SQLitePath:       filepath.Join(dir, "sub", "temporal.db"),
		Port:             testPort(t),
		UIPort:           testPort(t),
		Namespace:        "throughgate-test",
		SearchAttributes: testSearchAttributes,
		NumHistoryShards: 4,
		Logger:           testLogger(),
	}

	s := startServer(t, opts)
	if want := "127.0.0.1:" + strconv.Itoa(opts.Port); s.HostPort() != want {
		t.Errorf("HostPort() = %q, want %q", s.HostPort(), want)
	}
	checkServer(t, s, opts)
	runWorkflow(t, s, opts.Namespace)
	checkUI(t, s, opts)

	t.Run("port in use", func(t *testing.T) {
		other := opts
		other.SQLitePath = filepath.Join(dir, "other.db")
		other.UIPort = 0
		_, err := Start(context.Background(), other)
		want := fmt.Sprintf("temporal port 127.0.0.1:%d is already in use: stop the other process or choose another port with --temporal-port / TEMPORAL_PORT", opts.Port)
		if err == nil || err.Error() != want {
			t.Fatalf("Start on a busy port: err = %v, want %q", err, want)
		}
		if _, err := os.Stat(other.SQLitePath); err == nil {
			t.Errorf("Start on a busy port created %s", other.SQLitePath)
		}
	})

	t.Run("UI port in use", func(t *testing.T) {
		other := opts
		other.Port = testPort(t)
		other.SQLitePath = filepath.Join(dir, "other.db")
		_, err := Start(context.Background(), other)
		want := fmt.Sprintf("temporal UI port 127.0.0.1:%d is already in use", opts.UIPort)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("Start on a busy UI port: err = %v, want %q...", err, want)
		}
	})

	t.Run("store in use", func(t *testing.T) {
		other := opts
		other.Port = testPort(t)
		other.UIPort = 0
		_, err := Start(context.Background(), other)
		if err == nil || !strings.Contains(err.Error(), "is in use by another running Temporal server") {
			t.Fatalf("Start on a store in use: err = %v", err)
		}
	})

	stopBegan := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %s", time.Since(stopBegan).Round(time.Millisecond))
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	t.Run("shard count is fixed", func(t *testing.T) {
		other := opts
		other.NumHistoryShards = 8
		other.UIPort = 0
		_, err := Start(context.Background(), other)
		if err == nil || !strings.Contains(err.Error(), "set up with 4 history shards, but 8 were asked for") {
			t.Fatalf("Start with another shard count: err = %v", err)
		}
	})

	// The same file again: the namespace and search attributes must still be
	// there, registered by the first run rather than this one.
	again := opts
	again.UIPort = 0
	s2 := startServer(t, again)
	checkServer(t, s2, again)
	if s2.UIAddress() != "" {
		t.Errorf("UIAddress() = %q with UIPort 0", s2.UIAddress())
	}
	stopBegan = time.Now()
	if err := s2.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %s", time.Since(stopBegan).Round(time.Millisecond))
}

func checkUI(t *testing.T, s *Server, opts Options) {
	t.Helper()
	want := "http://127.0.0.1:" + strconv.Itoa(opts.UIPort)
	if s.UIAddress() != want {
		t.Fatalf("UIAddress() = %q, want %q", s.UIAddress(), want)
	}
	for _, path := range []string{"/healthz", "/", "/api/v1/namespaces/" + opts.Namespace} {
		resp, err := http.Get(s.UIAddress() + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Store: "mysql"}, `unknown store "mysql"`},
		{Options{Store: StoreSQLite}, "SQLitePath is required"},
		{Options{}, "PostgresUser is required"},
		{Options{PostgresUser: "u", DatabaseName: `x"; drop`}, "letters, digits and underscores"},
		{Options{Store: StoreSQLite, SQLitePath: "x", NumHistoryShards: -1}, "at least 1"},
		{Options{Store: StoreSQLite, SQLitePath: "x", IP: "localhost"}, "not an IP address"},
	} {
		_, err := Start(context.Background(), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%+v) = %v, want error containing %q", tc.opts, err, tc.want)
		}
	}
}

func TestPostgresUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close() // nothing listens there now
	_, err = Start(context.Background(), Options{
		PostgresPort: port, PostgresUser: "u", Port: testPort(t), Logger: testLogger(),
	})
	want := fmt.Sprintf("cannot reach PostgreSQL at 127.0.0.1:%d", port)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
}

// TestPostgres runs against the server named by THROUGHGATE_TEST_PG_URL, e.g.
// postgres://postgres@127.0.0.1:5432/postgres, or else a private cluster it
// starts itself. It needs a role that may create databases; it makes two with
// a random suffix and drops them afterwards.
func TestPostgres(t *testing.T) {
	raw := os.Getenv("THROUGHGATE_TEST_PG_URL")
	if raw == "" {
		raw = privateCluster(t)
	}
	// Parsed as the driver does, so a URL naming a Unix socket (the
	// private cluster's) gives its directory as the host.
	pc, err := pgx.ParseConfig(raw)
	if err != nil {
		t.Fatalf("THROUGHGATE_TEST_PG_URL: %v", err)
	}
	u, err := url.Parse(raw) // the visibility database's URL is this one's with its path changed
	if err != nil {
		t.Fatal(err)
	}
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	opts := Options{
		Store:                  StorePostgres,
		PostgresHost:           pc.Host,
		PostgresPort:           int(pc.Port),
		PostgresUser:           pc.User,
		PostgresPassword:       pc.Password,
		DatabaseName:           "tg_test_temporal_" + suffix,
		VisibilityDatabaseName: "tg_test_temporal_vis_" + suffix,
		Port:                   testPort(t),
		Namespace:              "throughgate-test",
		SearchAttributes:       testSearchAttributes,
		NumHistoryShards:       4,
		Logger:                 testLogger(),
	}
	t.Cleanup(func() { dropDatabases(t, opts) })

	s := startServer(t, opts)
	checkServer(t, s, opts)
	runWorkflow(t, s, opts.Namespace)
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	checkVisibilityIndexes(t, u, opts)

	other := opts
	other.NumHistoryShards = 8
	if _, err := Start(context.Background(), other); err == nil ||
		!strings.Contains(err.Error(), "set up with 4 history shards, but 8 were asked for") {
		t.Fatalf("Start with another shard count: err = %v", err)
	}

	// A search attribute added later gets its column's index back.
	more := opts
	more.SearchAttributes = maps.Clone(opts.SearchAttributes)
	more.SearchAttributes["TgStage"] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	s2 := startServer(t, more)
	checkServer(t, s2, more)
	if err := s2.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	checkVisibilityIndexes(t, u, more)
}

// checkVisibilityIndexes checks that the visibility table keeps the indexes
// listed in keptVisibilityIndexes and one on a custom column for each search
// attribute, of its type, and no other.
func checkVisibilityIndexes(t *testing.T, u *url.URL, opts Options) {
	t.Helper()
	vis := *u
	vis.Path = "/" + opts.VisibilityDatabaseName
	conn, err := pgx.Connect(context.Background(), vis.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `select indexname from pg_indexes
		where tablename = 'executions_visibility' and indexname <> 'executions_visibility_pkey'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	var own []string
	for _, n := range names {
		if customIndexRe.MatchString(n) {
			types[strings.ReplaceAll(strings.TrimRight(strings.TrimPrefix(n, "by_"), "_0123456789"), "_", "")]++
		} else {
			own = append(own, n)
		}
	}
	want := map[string]int{}
	for _, typ := range opts.SearchAttributes {
		want[strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(typ.String(), "INDEXED_VALUE_TYPE_")), "_", "")]++
	}
	if !maps.Equal(types, want) {
		t.Errorf("custom columns indexed by type %v, want one for each search attribute: %v", types, want)
	}
	if slices.Sort(own); !slices.Equal(own, slices.Sorted(slices.Values(keptVisibilityIndexes))) {
		t.Errorf("own columns indexed %v, want %v", own, keptVisibilityIndexes)
	}
}

func dropDatabases(t *testing.T, opts Options) {
	conn, err := sqltool.NewConnection(opts.pgSQL(pgMaintenanceDB, 1), log.NewNoopLogger())
	if err != nil {
		t.Logf("dropping test databases: %v", err)
		return
	}
	defer conn.Close()
	for _, name := range []string{opts.DatabaseName, opts.VisibilityDatabaseName} {
		if err := conn.DropDatabase(name); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
	}
}

func TestLogger(t *testing.T) {
	var recs []slog.Record
	capture := func(level slog.Level) *slog.Logger {
		recs = nil
		return slog.New(recordHandler{level: level, recs: &recs})
	}

	l := newServerLogger(capture(slog.LevelInfo))
	l.Info("dropped: server info is noise unless debugging")
	l.Warn("kept", tag.Error(errors.New("boom")), tag.NewInt("shard", 3), tag.NewDurationTag("wait", time.Second))
	l.With(tag.NewStringTag("service", "history")).Error("kept too")
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2: %v", len(recs), recs)
	}
	got := map[string]any{}
	recs[0].Attrs(func(a slog.Attr) bool { got[a.Key] = a.Value.Any(); return true })
	if got["error"] != "boom" || got["shard"] != int64(3) || got["wait"] != time.Second {
		t.Errorf("attrs = %v", got)
	}
	with := map[string]any{}
	recs[1].Attrs(func(a slog.Attr) bool { with[a.Key] = a.Value.Any(); return true })
	if with["service"] != "history" {
		t.Errorf("With's tags = %v, want service=history", with)
	}
	// Two loggers derived from one keep their own tags.
	base := l.With(tag.NewStringTag("service", "history")).(*slogLogger)
	a, b := base.With(tag.NewInt("shard", 1)), base.With(tag.NewInt("shard", 2))
	a.Error("shard one")
	b.Error("shard two")
	for i, want := range []int64{1, 2} {
		shards := 0
		recs[2+i].Attrs(func(at slog.Attr) bool {
			if at.Key == "shard" {
				shards++
				if at.Value.Any() != want {
					t.Errorf("%q: shard = %v, want %d", recs[2+i].Message, at.Value.Any(), want)
				}
			}
			return true
		})
		if shards != 1 {
			t.Errorf("%q has %d shard attributes, want 1", recs[2+i].Message, shards)
		}
	}

	l = newServerLogger(capture(slog.LevelDebug))
	l.Debug("dropped: server debug is never passed on")
	l.Info("kept at debug")
	if len(recs) != 1 || recs[0].Message != "kept at debug" {
		t.Errorf("records at debug: %v", recs)
	}

	l.silence()
	l.With(tag.NewStringTag("k", "v")).Error("dropped after silence")
	if len(recs) != 1 {
		t.Errorf("logged after silence: %v", recs[1:])
	}

	defer func() {
		p, ok := recover().(serverPanic)
		if !ok || p.Error() != "cannot go on reason=bad config" {
			t.Errorf("Fatal panicked with %#v", p)
		}
	}()
	newServerLogger(capture(slog.LevelInfo)).Fatal("cannot go on", tag.NewStringTag("reason", "bad config"))
	t.Error("Fatal returned")
}

type recordHandler struct {
	level slog.Level
	recs  *[]slog.Record
	attrs []slog.Attr
}

func (h recordHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	*h.recs = append(*h.recs, r)
	return nil
}
func (h recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], as...)
	return h
}
func (h recordHandler) WithGroup(string) slog.Handler { return h }

// privateCluster starts a throwaway PostgreSQL for the test and returns its URL.
func privateCluster(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // the cluster runs as the postgres user when tests run as root
	}
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: filepath.Join(dir, "pg"), Port: testPort(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })
	return c.URL("postgres")
}

// TestTrimmedIndexesAreOnlyCreated guards trimVisibilityIndexes, which
// drops indexes from the visibility table: a store without them must still
// take every schema update Temporal ships after the version the store was
// trimmed at, so no such update may name one of them except to create it.
// A server upgrade that fails here needs trimVisibilityIndexes to restore
// the index before the update runs.
func TestTrimmedIndexesAreOnlyCreated(t *testing.T) {
	indexes, err := visibilityIndexes()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	custom := 0
	for _, ix := range indexes {
		if ix.custom() {
			custom++
		}
		if !slices.Contains(keptVisibilityIndexes, ix.name) {
			names = append(names, regexp.QuoteMeta(ix.name))
		}
	}
	if len(indexes) != 73 || custom != 28 || len(names) != 73-len(keptVisibilityIndexes) {
		t.Errorf("%d indexes in %s (%d on custom columns, %d that may be dropped), want 73 (28, %d): is every kept one there?",
			len(indexes), pgVisibilitySchemaFile, custom, len(names), 73-len(keptVisibilityIndexes))
	}
	mention := regexp.MustCompile(`(?i)\b(` + strings.Join(names, "|") + `)\b`)
	sqlComment := regexp.MustCompile(`--[^\n]*`)
	created := regexp.MustCompile(`(?i)^\s*CREATE INDEX (CONCURRENTLY )?(IF NOT EXISTS )?\w+\s+ON executions_visibility\b`)
	// The updates up to 1.14, the version go.temporal.io/server v1.32.1
	// brings the store to, ran before any trim (some drop indexes to
	// remake them); the later ones are what a store that was trimmed meets.
	version := regexp.MustCompile(`/versioned/v(\d+)\.(\d+)/`)
	checked := 0
	err = fs.WalkDir(temporalschema.Assets(), pgVisibilitySchemaDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		v := version.FindStringSubmatch(path)
		if v == nil {
			return nil // schema.sql: no update runs it
		}
		if major, minor := atoi(t, v[1]), atoi(t, v[2]); major < 1 || major == 1 && minor <= 14 {
			return nil
		}
		checked++
		b, err := fs.ReadFile(temporalschema.Assets(), path)
		if err != nil {
			return err
		}
		for _, stmt := range strings.Split(sqlComment.ReplaceAllString(string(b), ""), ";") {
			if mention.MatchString(stmt) && !created.MatchString(stmt) {
				t.Errorf("%s names a dropped index other than to create it: %s", path, strings.TrimSpace(stmt))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d schema updates after 1.14 checked", checked)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
