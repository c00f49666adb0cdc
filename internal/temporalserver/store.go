package temporalserver

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/serialization"
	persistencesql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/resolver"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

const (
	pgSchemaDir           = "postgresql/v12/temporal"
	pgVisibilitySchemaDir = "postgresql/v12/visibility"
	// pgMaintenanceDB is where CREATE DATABASE runs. Empty lets the server's
	// driver try "postgres" and then "defaultdb" (what some hosted services
	// have instead).
	pgMaintenanceDB = ""
)

// Connection pool sizes per store. Each of the four services in the process
// opens its own pool for each store, so the worst case is 4×(main+visibility)
// connections: 60 here, which leaves room for Throughgate's own pool under
// PostgreSQL's default max_connections of 100.
const (
	pgMainConns       = 10
	pgVisibilityConns = 5
)

// databaseNameRe keeps database names to plain identifiers: the schema tool
// splices the name into CREATE DATABASE "%v" unescaped.
var databaseNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// pgSocket reports whether PostgresHost names a directory holding the
// server's Unix socket, as a host starting with a slash does in libpq.
func (o *Options) pgSocket() bool { return strings.HasPrefix(o.PostgresHost, "/") }

// pgAddr is where the server listens: host and port, or the socket's path.
func (o *Options) pgAddr() string {
	if o.pgSocket() {
		return filepath.Join(o.PostgresHost, ".s.PGSQL."+strconv.Itoa(o.PostgresPort))
	}
	return net.JoinHostPort(o.PostgresHost, strconv.Itoa(o.PostgresPort))
}

func (o *Options) pgSQL(database string, conns int) *config.SQL {
	c := &config.SQL{
		PluginName:      postgresql.PluginNamePGX,
		DatabaseName:    database,
		ConnectAddr:     o.pgAddr(),
		ConnectProtocol: "tcp",
		User:            o.PostgresUser,
		Password:        o.PostgresPassword,
		MaxConns:        conns,
		MaxIdleConns:    conns,
		MaxConnLifetime: time.Hour,
	}
	// The plugin writes ConnectAddr into a URL's host, which cannot hold a
	// socket's directory; the driver takes a host in the URL's query over
	// it, with the port still from ConnectAddr.
	if o.pgSocket() {
		c.ConnectAddr = net.JoinHostPort("localhost", strconv.Itoa(o.PostgresPort))
		c.ConnectAttributes = map[string]string{"host": o.PostgresHost}
	}
	return c
}

func (o *Options) sqliteSQL() *config.SQL {
	return &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: o.SQLitePath,
		ConnectAttributes: map[string]string{
			"mode": "rwc",
			// The plugin passes any attribute it does not know as a pragma.
			// WAL with synchronous=normal measured two to three times the
			// throughput of the default rollback journal (docs/design.md,
			// "Dev stack and production"); a crash can lose the last
			// transactions but not corrupt the file.
			"journal_mode": "wal",
			"synchronous":  "normal",
		},
	}
}

// persistenceConfig describes the stores to the server. SQLite keeps both
// execution and visibility data in one file, as Temporal's own dev server does.
func (o *Options) persistenceConfig() config.Persistence {
	if o.Store == StoreSQLite {
		return config.Persistence{
			DefaultStore:     "sqlite",
			VisibilityStore:  "sqlite",
			NumHistoryShards: o.NumHistoryShards,
			DataStores: map[string]config.DataStore{
				"sqlite": {SQL: o.sqliteSQL()},
			},
		}
	}
	return config.Persistence{
		DefaultStore:     "postgres",
		VisibilityStore:  "postgres-visibility",
		NumHistoryShards: o.NumHistoryShards,
		DataStores: map[string]config.DataStore{
			"postgres":            {SQL: o.pgSQL(o.DatabaseName, pgMainConns)},
			"postgres-visibility": {SQL: o.pgSQL(o.VisibilityDatabaseName, pgVisibilityConns)},
		},
	}
}

// prepareStore makes sure the store exists and has the schema this server
// version expects, then checks and tidies what an earlier run left in it.
func prepareStore(ctx context.Context, o *Options, logger log.Logger) error {
	switch o.Store {
	case StoreSQLite:
		if err := prepareSQLite(o); err != nil {
			return err
		}
		return checkStore(ctx, o.sqliteSQL(), o, "SQLite file "+o.SQLitePath, logger)
	default:
		if err := preparePostgres(ctx, o, logger); err != nil {
			return err
		}
		return checkStore(ctx, o.pgSQL(o.DatabaseName, 1), o,
			fmt.Sprintf("PostgreSQL database %q at %s", o.DatabaseName, o.pgAddr()), logger)
	}
}

// prepareSQLite creates the schema when the file is new, the way Temporal's
// own SQLite server does. Like it, it records no schema version and applies no
// updates: a file made by one server version may not suit a later one. That is
// acceptable for the throwaway store SQLite is here; PostgreSQL is versioned.
func prepareSQLite(o *Options) error {
	_, err := os.Stat(o.SQLitePath)
	if err == nil {
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("temporal SQLite store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.SQLitePath), 0o700); err != nil {
		return fmt.Errorf("temporal SQLite store: %w", err)
	}
	if err := sqliteschema.SetupSchema(o.sqliteSQL()); err != nil {
		// Leave no half-made file behind: its existence is what marks the
		// schema as done on the next start.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(o.SQLitePath + suffix)
		}
		return fmt.Errorf("temporal SQLite store %s: setting up schema: %w", o.SQLitePath, err)
	}
	return nil
}

// preparePostgres creates the two databases if missing and brings their
// schemas to this server version with Temporal's own schema tool, exactly as
// `temporal-sql-tool setup-schema -v 0.0` and `update-schema -d <versioned>`
// would. Both steps skip what is already done, so every start runs them.
func preparePostgres(ctx context.Context, o *Options, logger log.Logger) error {
	addr := o.pgAddr()
	// The server's own driver retries and wraps connection failures in ways
	// that bury the cause; one plain dial says clearly whether anything is
	// listening at all.
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	network := "tcp"
	if o.pgSocket() {
		network = "unix"
	}
	conn, err := (&net.Dialer{}).DialContext(dialCtx, network, addr)
	cancel()
	if err != nil {
		return fmt.Errorf("cannot reach PostgreSQL at %s for the Temporal server: %w", addr, err)
	}
	_ = conn.Close()

	for _, d := range []struct{ name, schemaDir string }{
		{o.DatabaseName, pgSchemaDir},
		{o.VisibilityDatabaseName, pgVisibilitySchemaDir},
	} {
		if err := setupPostgresDatabase(o, d.name, d.schemaDir, logger); err != nil {
			return fmt.Errorf("temporal PostgreSQL database %q at %s: %w", d.name, addr, err)
		}
	}
	return nil
}

func setupPostgresDatabase(o *Options, name, schemaDir string, logger log.Logger) error {
	rec := &errorRecorder{Logger: logger}
	admin, err := sqltool.NewConnection(o.pgSQL(pgMaintenanceDB, 1), rec)
	if err != nil {
		return rec.explain(fmt.Errorf("connecting to the maintenance database: %w", err))
	}
	// CREATE DATABASE fails on a role without CREATEDB even when the database
	// already exists; the database may have been made for us by an
	// administrator, so that error only matters if the schema step fails too.
	createErr := admin.CreateDatabase(name)
	admin.Close()
	if createErr != nil && rec.logged() {
		// Not refused but never connected (unknown role, bad password):
		// nothing further will get on better.
		return rec.explain(fmt.Errorf("connecting as %q: %w", o.PostgresUser, createErr))
	}

	err = func() error {
		conn, err := sqltool.NewConnection(o.pgSQL(name, 1), rec)
		if err != nil {
			return err
		}
		defer conn.Close()
		setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, rec)
		if err := setup.Run(); err != nil {
			return fmt.Errorf("setting up schema versioning: %w", err)
		}
		update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: name, SchemaName: schemaDir}, rec)
		if err := update.Run(); err != nil {
			return fmt.Errorf("updating schema from %s: %w", schemaDir, err)
		}
		return nil
	}()
	if err == nil {
		return nil
	}
	err = rec.explain(err)
	if createErr != nil {
		return fmt.Errorf("could not create it (%v) nor use it: %w; create it for user %q, or let that user create databases",
			createErr, err, o.PostgresUser)
	}
	return err
}

// errorRecorder keeps the last error the server's SQL layer logged. Its
// connection handle logs why a connection failed (bad password, no such
// database) and returns only "no usable database connection found".
type errorRecorder struct {
	log.Logger
	mu   sync.Mutex
	last string
}

func (r *errorRecorder) Error(msg string, tags ...tag.Tag) {
	for _, t := range tags {
		if t.Key() == "error" {
			r.mu.Lock()
			r.last = fmt.Sprint(t.Value())
			r.mu.Unlock()
		}
	}
	r.Logger.Error(msg, tags...)
}

func (r *errorRecorder) logged() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last != ""
}

// explain adds the last logged error to err when err does not already say it.
func (r *errorRecorder) explain(err error) error {
	r.mu.Lock()
	last := r.last
	r.mu.Unlock()
	if last == "" || strings.Contains(err.Error(), last) {
		return err
	}
	return fmt.Errorf("%w: %s", err, last)
}

// checkStore looks at what an earlier run left in the store: the history shard
// count it was set up with, and its membership records.
func checkStore(ctx context.Context, cfg *config.SQL, o *Options, where string, logger log.Logger) error {
	db, err := persistencesql.NewSQLDB(sqlplugin.DbKindMain, cfg, resolver.NewNoopResolver(), logger, metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("temporal store %s: %w", where, err)
	}
	defer func() { _ = db.Close() }()
	if err := checkShardCount(ctx, db, o, where); err != nil {
		return err
	}
	return clearMembership(ctx, db, where)
}

// checkShardCount fails when the store was first used with a different number
// of history shards. The server itself would log a warning and carry on with
// the stored count, leaving the configuration silently wrong; the count is
// fixed forever at first start, so it is worth stopping to say so.
func checkShardCount(ctx context.Context, db sqlplugin.DB, o *Options, where string) error {
	row, err := db.GetClusterMetadata(ctx, &sqlplugin.ClusterMetadataFilter{ClusterName: clusterName})
	if errors.Is(err, dbsql.ErrNoRows) {
		return nil // first start: the server records o.NumHistoryShards
	}
	if err != nil {
		return fmt.Errorf("temporal store %s: reading cluster metadata: %w", where, err)
	}
	md, err := serialization.NewSerializer().DeserializeClusterMetadata(persistence.NewDataBlob(row.Data, row.DataEncoding))
	if err != nil {
		return fmt.Errorf("temporal store %s: reading cluster metadata: %w", where, err)
	}
	if have := md.GetHistoryShardCount(); have != o.NumHistoryShards {
		return fmt.Errorf("temporal store %s was set up with %d history shards, but %d were asked for: "+
			"the number of history shards is fixed when a store is first used and can never change; "+
			"ask for %d, or start with an empty store", where, have, o.NumHistoryShards, have)
	}
	return nil
}

// membershipFresh is how far back the server's services look for peers to
// join when they start (healthyHostLastHeartbeatCutoff in its ringpop monitor).
const membershipFresh = 20 * time.Second

// clearMembership deletes the membership records of earlier runs. Each service
// joins its peers by the addresses recorded in the store in the last 20
// seconds; after a quick restart those are the previous run's ports, now
// closed, and the first service to start waits out its 30-second join timeout
// on them and stays out of the ring meanwhile. Measured here: matching still
// out of the ring 12 s after a restart, every task-queue call failing with
// "Not enough hosts to serve the request", and Stop taking 14 s. The embedded
// server is the store's only user, so every record is stale — unless another
// process is running a server on the same store, which would be a mistake
// worth stopping for, so first check that no recent record answers.
func clearMembership(ctx context.Context, db sqlplugin.DB, where string) error {
	rows, err := db.GetClusterMembers(ctx, &sqlplugin.ClusterMembershipFilter{
		LastHeartbeatAfter: time.Now().Add(-membershipFresh),
		MaxRecordCount:     100,
	})
	if err != nil && !errors.Is(err, dbsql.ErrNoRows) {
		return fmt.Errorf("temporal store %s: reading membership: %w", where, err)
	}
	for _, r := range rows {
		addr := net.JoinHostPort(r.RPCAddress, strconv.Itoa(int(r.RPCPort)))
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err != nil {
			continue
		}
		_ = c.Close()
		return fmt.Errorf("temporal store %s is in use by another running Temporal server "+
			"(one of its services answers at %s): stop it, or give this one a store of its own", where, addr)
	}
	// Records expire 48 hours after their last heartbeat; a cutoff far in the
	// future takes them all.
	if _, err := db.PruneClusterMembership(ctx, &sqlplugin.PruneClusterMembershipFilter{
		PruneRecordsBefore: time.Now().Add(24 * 365 * time.Hour),
	}); err != nil {
		return fmt.Errorf("temporal store %s: clearing old membership: %w", where, err)
	}
	return nil
}
