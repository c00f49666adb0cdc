// Package temporalserver runs a Temporal server inside the Throughgate process.
//
// Throughgate's workflows need a Temporal server. In production that is a
// separate cluster; for `throughgate dev` and for small single-node installs,
// asking people to install and operate one is more than the job needs, so the
// binary can carry the server itself: the frontend, history, matching and
// worker services in one process, bound to loopback, persisting to PostgreSQL
// (databases of its own, next to Throughgate's) or, for throwaway runs, to a
// SQLite file.
//
// This is the only package in Throughgate (apart from one integration-test
// package) that imports go.temporal.io/server. The server is large — minutes
// to compile, a binary near 200 MB — so everything else talks to Temporal
// through the SDK and builds without it.
package temporalserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Store kinds for Options.Store.
const (
	StorePostgres = "postgres"
	StoreSQLite   = "sqlite"
)

const (
	clusterName        = "active"
	namespaceRetention = 30 * 24 * time.Hour
	// readyTimeout bounds the wait for the frontend and for registration
	// when the caller's context has no deadline of its own.
	readyTimeout = 2 * time.Minute
	// namespaceRefresh is the server's default namespace cache refresh
	// interval (system.namespaceCacheRefreshInterval).
	namespaceRefresh = 2 * time.Second
)

// Options configures the embedded server. The zero value, plus Postgres
// credentials, gives the development setup.
type Options struct {
	// Store is "postgres" (default) or "sqlite". Temporal calls its SQLite
	// store "for testing and development only".
	Store string

	// Postgres connection for the server's own databases. The server uses two
	// databases of its own, named by DatabaseName and VisibilityDatabaseName
	// (defaults "temporal" and "temporal_visibility"), created if missing, with
	// schemas set up and updated by the server's own schema tooling on every
	// start, so a second start reuses the data and a newer server version
	// brings its schema changes.
	PostgresHost     string // default "127.0.0.1"; a directory (starting with /) names the server's Unix socket there
	PostgresPort     int    // default 5432
	PostgresUser     string
	PostgresPassword string

	DatabaseName, VisibilityDatabaseName string

	// SQLitePath is the database file for Store "sqlite"; opened with
	// journal_mode=wal, synchronous=normal. Created, with its directory, if
	// missing.
	SQLitePath string

	// IP is where the frontend (and the Web UI) listen; default "127.0.0.1".
	// Keep it on loopback: Temporal's default authorizer allows every call
	// to anyone who can connect. The internal services always listen on
	// loopback, or on IP when IP is a specific address.
	IP string
	// Port is the frontend gRPC port, default 7233. The other services take
	// free ports.
	Port int
	// UIPort serves the Temporal Web UI on IP:UIPort; 0 disables it.
	UIPort int

	// Namespace is registered if missing (retention 30 days); default "default".
	Namespace string
	// SearchAttributes are registered on Namespace if missing. One already
	// registered with another type is an error.
	SearchAttributes map[string]enumspb.IndexedValueType

	// NumHistoryShards is fixed at a store's first start; default 128. Start
	// fails if the store already has a different count.
	NumHistoryShards int32

	// HistoryCacheSize bounds the history service's cache of workflows'
	// mutable state, in workflows (default 2048; Temporal's own is 128,000).
	// A workflow not in it is read from the store at its next task.
	HistoryCacheSize int
	// EventsCacheBytes bounds the cache of recent history events, one for
	// the whole process rather than Temporal's 512 KiB for each shard
	// (default 32 MiB). An event not in it is read from the store.
	EventsCacheBytes int

	// Logger receives the server's logs: warnings and errors, and info too when
	// Logger is enabled for debug. Default slog.Default().
	Logger *slog.Logger
}

// Server is a running embedded Temporal server.
type Server struct {
	opts      Options
	log       *slog.Logger
	hostPort  string
	uiAddress string

	srv     temporal.Server
	logger  *slogLogger
	ui      *uiServer
	uiLn    net.Listener
	client  client.Client
	started bool

	stopOnce sync.Once
	stopErr  error
}

func (o Options) withDefaults() (Options, error) {
	if o.Store == "" {
		o.Store = StorePostgres
	}
	if o.PostgresHost == "" {
		o.PostgresHost = "127.0.0.1"
	}
	if o.PostgresPort == 0 {
		o.PostgresPort = 5432
	}
	if o.DatabaseName == "" {
		o.DatabaseName = "temporal"
	}
	if o.VisibilityDatabaseName == "" {
		o.VisibilityDatabaseName = "temporal_visibility"
	}
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = 7233
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.NumHistoryShards == 0 {
		o.NumHistoryShards = 128
	}
	if o.HistoryCacheSize == 0 {
		o.HistoryCacheSize = 2048
	}
	if o.EventsCacheBytes == 0 {
		o.EventsCacheBytes = 32 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}

	switch o.Store {
	case StorePostgres:
		if o.PostgresUser == "" {
			return o, errors.New("temporal server: PostgresUser is required for the postgres store")
		}
		for _, name := range []string{o.DatabaseName, o.VisibilityDatabaseName} {
			if !databaseNameRe.MatchString(name) {
				return o, fmt.Errorf("temporal server: database name %q: use letters, digits and underscores only", name)
			}
		}
		if o.DatabaseName == o.VisibilityDatabaseName {
			return o, errors.New("temporal server: DatabaseName and VisibilityDatabaseName must differ")
		}
	case StoreSQLite:
		if o.SQLitePath == "" {
			return o, errors.New("temporal server: SQLitePath is required for the sqlite store")
		}
	default:
		return o, fmt.Errorf("temporal server: unknown store %q (want %q or %q)", o.Store, StorePostgres, StoreSQLite)
	}
	if net.ParseIP(o.IP) == nil {
		return o, fmt.Errorf("temporal server: IP %q is not an IP address", o.IP)
	}
	if o.Port < 0 || o.Port > 65535 || o.UIPort < 0 || o.UIPort > 65535 {
		return o, errors.New("temporal server: ports must be between 1 and 65535")
	}
	if o.UIPort != 0 && o.UIPort == o.Port {
		return o, fmt.Errorf("temporal server: the UI port and the frontend port are both %d", o.Port)
	}
	if o.NumHistoryShards < 1 {
		return o, fmt.Errorf("temporal server: NumHistoryShards must be at least 1, not %d", o.NumHistoryShards)
	}
	return o, nil
}

// dynamicConfig bounds the server's caches, so that memory follows the
// settings rather than the number of workflows: the mutable-state cache by
// entries (HistoryCacheSize) and the history events cache by bytes, one
// for the process (EventsCacheBytes) instead of one per shard, so the
// shard count no longer multiplies it.
//
// It turns off the accounting of external payloads (payloads the SDK
// keeps in a blob store, which Throughgate never configures): with it on,
// the history service walks every event of every task's completion for
// them, 2 % of the dev process's processor time while an import opened
// cases.
//
// It also sizes the history service's task schedulers for one small
// machine. Temporal's 512 workers each for timer, transfer and visibility
// tasks suit a cluster; here they share ten database connections, and
// when thousands of timers fire at once (every case's reminder at 09:00)
// the tasks queued for a connection ran out of time, were retried, and
// made more work than they did. Fewer workers queue the tasks in memory
// instead, where waiting costs nothing.
func (o *Options) dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():            o.HistoryCacheSize,
		dynamicconfig.EnableHostLevelEventsCache.Key():              true,
		dynamicconfig.EventsHostLevelCacheMaxSizeBytes.Key():        o.EventsCacheBytes,
		dynamicconfig.TimerProcessorSchedulerWorkerCount.Key():      schedulerWorkers,
		dynamicconfig.TransferProcessorSchedulerWorkerCount.Key():   schedulerWorkers,
		dynamicconfig.VisibilityProcessorSchedulerWorkerCount.Key(): schedulerWorkers / 2,
		dynamicconfig.ExternalPayloadsEnabled.Key():                 false,
	}
}

// schedulerWorkers is how many timer (and transfer) tasks the history
// service works on at once: a few for each of its database connections.
const schedulerWorkers = 16

// internalIP is where the internal services listen and what they advertise to
// one another. A wildcard IP is fine to listen on but not to dial.
func (o *Options) internalIP() string {
	if net.ParseIP(o.IP).IsUnspecified() {
		return "127.0.0.1"
	}
	return o.IP
}

// Start starts the server and returns once the frontend answers and the
// namespace and search attributes are registered. ctx bounds that wait (two
// minutes if it has no deadline); it does not bound the server's life: call
// Stop.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	began := time.Now()
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		hostPort: net.JoinHostPort(opts.internalIP(), strconv.Itoa(opts.Port)),
		logger:   newServerLogger(opts.Logger),
	}
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
		if err != nil {
			_ = s.Stop()
		}
	}()

	if ctx.Err() == nil {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, readyTimeout)
			defer cancel()
		}
	}

	// The server binds its ports from goroutines and reports a busy port as
	// a fatal log line deep in its start-up; checking first gives one clear
	// sentence instead.
	if err := checkPortFree(opts.IP, opts.Port, "temporal port",
		"stop the other process or choose another port with --temporal-port / TEMPORAL_PORT"); err != nil {
		return nil, err
	}
	if opts.UIPort != 0 {
		// Held from here until the UI serves on it, so nothing can take it
		// in between.
		s.uiLn, err = listen(opts.IP, opts.UIPort, "temporal UI port",
			"stop the other process or choose another port with --temporal-ui-port / TEMPORAL_UI_PORT")
		if err != nil {
			return nil, err
		}
	}

	if err := prepareStore(ctx, &s.opts, s.logger); err != nil {
		return nil, err
	}
	cfg, err := s.serverConfig()
	if err != nil {
		return nil, err
	}

	s.srv, err = temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(s.logger),
		temporal.WithDynamicConfigClient(s.opts.dynamicConfig()),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal server: %w", err)
	}
	// Set before Start so that Stop also runs when Start panics part-way,
	// with some services already serving.
	s.started = true
	if err := s.srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal server: starting: %w", err)
	}

	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}
	if err := s.registerNamespace(ctx); err != nil {
		return nil, err
	}
	if err := s.registerSearchAttributes(ctx); err != nil {
		return nil, err
	}
	if err := s.trimVisibilityIndexes(ctx); err != nil {
		return nil, fmt.Errorf("temporal server: visibility indexes: %w", err)
	}
	if err := s.waitServices(ctx); err != nil {
		return nil, err
	}
	// Only start-up needed it; callers dial their own.
	s.client.Close()
	s.client = nil

	if s.uiLn != nil {
		s.ui, err = startUI(s.uiLn, s.hostPort, opts.Namespace)
		if err != nil {
			return nil, fmt.Errorf("temporal web UI: %w", err)
		}
		s.uiLn = nil // owned by the UI server now
		s.uiAddress = "http://" + net.JoinHostPort(opts.internalIP(), strconv.Itoa(opts.UIPort))
	}

	s.log.Info("temporal server started",
		"store", opts.Store, "address", s.hostPort, "ui", s.uiAddress,
		"namespace", opts.Namespace, "history_shards", opts.NumHistoryShards,
		"took", time.Since(began).Round(time.Millisecond))
	return s, nil
}

// HostPort is the frontend's address for clients, e.g. "127.0.0.1:7233".
func (s *Server) HostPort() string { return s.hostPort }

// UIAddress is the Web UI's URL, e.g. "http://127.0.0.1:8233", or "" when the
// UI is off.
func (s *Server) UIAddress() string { return s.uiAddress }

// Stop shuts the UI and the server down and waits for them. Safe to call more
// than once; later calls return the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.ui != nil {
			errs = append(errs, s.ui.stop())
		}
		if s.uiLn != nil {
			errs = append(errs, s.uiLn.Close())
		}
		if s.client != nil {
			s.client.Close()
		}
		if s.srv != nil && s.started {
			// Stopping services complain about each other going away
			// (dial errors, "Not enough hosts", failed polls): dozens of
			// lines, every time, that say nothing is wrong.
			s.logger.silence()
			errs = append(errs, stopServer(s.srv))
		}
		if err := errors.Join(errs...); err != nil {
			s.stopErr = fmt.Errorf("temporal server: stopping: %w", err)
		}
	})
	return s.stopErr
}

func stopServer(srv temporal.Server) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return srv.Stop()
}

func (s *Server) serverConfig() (*config.Config, error) {
	o := &s.opts
	internal := o.internalIP()
	services := map[string]config.Service{}
	taken := map[int]bool{o.Port: true, o.UIPort: true}
	for _, name := range temporal.DefaultServices {
		bindIP, grpcPort := internal, 0
		if name == "frontend" {
			bindIP, grpcPort = o.IP, o.Port
		}
		var err error
		if grpcPort == 0 {
			if grpcPort, err = freePort(internal, taken); err != nil {
				return nil, err
			}
		}
		membershipPort, err := freePort(bindIP, taken)
		if err != nil {
			return nil, err
		}
		services[name] = config.Service{RPC: config.RPC{
			GRPCPort:       grpcPort,
			MembershipPort: membershipPort,
			BindOnIP:       bindIP,
		}}
	}

	cfg := &config.Config{
		Global: config.Global{
			Membership: config.Membership{
				MaxJoinDuration:  30 * time.Second,
				BroadcastAddress: internal,
			},
			// Metrics stay off (nil gives the no-op handler) and so does
			// pprof (port 0): neither has a consumer in a dev stack, and
			// every open port is one more thing listening without auth.
		},
		Persistence: o.persistenceConfig(),
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {
					Enabled:                true,
					InitialFailoverVersion: 1,
					RPCAddress:             s.hostPort,
				},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            services,
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{
			Archival: config.ArchivalNamespaceDefaults{
				History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
				Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
			},
		},
		// The worker service is a client of the frontend; without this it
		// fails to start.
		PublicClient: config.PublicClient{HostPort: s.hostPort},
	}
	return cfg, nil
}

// waitReady dials the frontend and waits for its health check to pass.
func (s *Server) waitReady(ctx context.Context) error {
	err := retry(ctx, func(ctx context.Context) error {
		if s.client == nil {
			c, err := client.DialContext(ctx, client.Options{
				HostPort:  s.hostPort,
				Namespace: s.opts.Namespace,
				Logger:    sdklog.NewStructuredLogger(quietLogger(s.log)),
			})
			if err != nil {
				return err
			}
			s.client = c
		}
		_, err := s.client.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	})
	if err != nil {
		return fmt.Errorf("temporal server started but its frontend at %s did not answer: %w", s.hostPort, err)
	}
	return nil
}

// waitServices waits until the frontend can reach matching and history. The
// frontend reports healthy as soon as it serves, while the services behind it
// may still be joining the membership ring; until they have, task-queue and
// workflow calls fail with "Not enough hosts to serve the request".
func (s *Server) waitServices(ctx context.Context) error {
	wf := s.client.WorkflowService()
	err := retry(ctx, func(ctx context.Context) error {
		// Served by matching.
		_, err := wf.DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace: s.opts.Namespace,
			TaskQueue: &taskqueuepb.TaskQueue{Name: "throughgate-readiness", Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		})
		if err != nil {
			return err
		}
		// Served by history, by the shard owning this workflow id; NotFound
		// is the answer hoped for.
		_, err = wf.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
			Namespace: s.opts.Namespace,
			Execution: &commonpb.WorkflowExecution{WorkflowId: "throughgate-readiness"},
		})
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("temporal server: frontend at %s is up but its matching and history services did not become reachable: %w", s.hostPort, err)
	}
	return nil
}

func (s *Server) registerNamespace(ctx context.Context) error {
	err := retry(ctx, func(ctx context.Context) error {
		_, err := s.client.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        s.opts.Namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(namespaceRetention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("temporal server: registering namespace %q: %w", s.opts.Namespace, err)
	}
	return nil
}

func (s *Server) registerSearchAttributes(ctx context.Context) error {
	if len(s.opts.SearchAttributes) == 0 {
		return nil
	}
	ops := s.client.OperatorService()
	missing := func(ctx context.Context) (map[string]enumspb.IndexedValueType, error) {
		resp, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s.opts.Namespace})
		if err != nil {
			return nil, err
		}
		out := map[string]enumspb.IndexedValueType{}
		for name, want := range s.opts.SearchAttributes {
			have, ok := resp.GetCustomAttributes()[name]
			if !ok {
				if _, system := resp.GetSystemAttributes()[name]; system {
					return nil, permanent(fmt.Errorf("%q is a system search attribute", name))
				}
				out[name] = want
				continue
			}
			if have != want {
				return nil, permanent(fmt.Errorf("search attribute %q is already registered as %v, not %v; "+
					"a search attribute's type cannot change", name, have, want))
			}
		}
		return out, nil
	}

	var added bool
	err := retry(ctx, func(ctx context.Context) error {
		todo, err := missing(ctx)
		if err != nil || len(todo) == 0 {
			return err
		}
		_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        s.opts.Namespace,
			SearchAttributes: todo,
		})
		if err != nil {
			return err
		}
		added = true
		// Check rather than trust: the next pass lists them again.
		return errRetry
	})
	if err != nil {
		return fmt.Errorf("temporal server: registering search attributes on namespace %q: %w", s.opts.Namespace, err)
	}
	if added {
		// Each service checks search attributes against its own namespace
		// cache, which sees new ones only at its next refresh. Without
		// this wait, starting a workflow with a new attribute right after
		// Start failed every time here: "Namespace e2e has no mapping
		// defined for search attribute TgEscalation".
		select {
		case <-time.After(namespaceRefresh + namespaceRefresh/2):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// errRetry asks retry for another pass without it being a failure.
var errRetry = errors.New("not yet")

type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func permanent(err error) error { return permanentError{err} }

// retry calls f until it returns nil, a permanent error, or an error the
// server will not change its mind about, or until ctx ends; then it returns
// the last real error.
func retry(ctx context.Context, f func(context.Context) error) error {
	var last error
	delay := 50 * time.Millisecond
	for {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := f(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		if !errors.Is(err, errRetry) {
			last = err
		}
		var (
			perm    permanentError
			invalid *serviceerror.InvalidArgument
			denied  *serviceerror.PermissionDenied
			precond *serviceerror.FailedPrecondition
		)
		switch {
		case errors.As(err, &perm):
			return perm.error
		case errors.As(err, &invalid), errors.As(err, &denied), errors.As(err, &precond):
			return err
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return last
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// quietLogger is for the SDK client used during start-up, which logs at info
// about things that concern nobody (its own connection attempts).
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(minLevelHandler{Handler: l.Handler(), min: slog.LevelWarn})
}

type minLevelHandler struct {
	slog.Handler
	min slog.Level
}

func (h minLevelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.Handler.Enabled(ctx, level)
}

func (h minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{Handler: h.Handler.WithGroup(name), min: h.min}
}

// listen opens ip:port, turning "address already in use" into advice.
func listen(ip string, port int, what, advice string) (net.Listener, error) {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s %s is already in use: %s", what, addr, advice)
	}
	return nil, fmt.Errorf("temporal server cannot listen on %s: %w", addr, err)
}

func checkPortFree(ip string, port int, what, advice string) error {
	ln, err := listen(ip, port, what, advice)
	if err != nil {
		return err
	}
	return ln.Close()
}

// freePort finds a port on ip that nothing listens on and that is not in
// taken. It picks from 20000–32767, below the ranges Linux, macOS and Windows
// hand out to outgoing connections: asking the kernel for a port (listening on
// port 0) returns one from that range, which a client socket elsewhere in the
// process — a database or gRPC connection — can take in the moment before the
// server binds it. That happened here, and the server's response to a busy
// membership port is to give up.
func freePort(ip string, taken map[int]bool) (int, error) {
	const lo, hi = 20000, 32768
	var lastErr error
	for range 200 {
		p := lo + rand.IntN(hi-lo)
		if taken[p] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			lastErr = err
			continue
		}
		_ = ln.Close()
		if taken != nil {
			taken[p] = true
		}
		return p, nil
	}
	return 0, fmt.Errorf("temporal server: no free port on %s between %d and %d: %v", ip, lo, hi-1, lastErr)
}

// panicError turns a recovered panic into an error. The server panics, or
// calls Fatal (see slogLogger), on configuration it cannot use; the panic's
// message is usually the only explanation there is.
func panicError(r any) error {
	if p, ok := r.(serverPanic); ok {
		return fmt.Errorf("temporal server gave up: %s", p.Error())
	}
	return fmt.Errorf("temporal server panicked: %v\n%s", r, debug.Stack())
}
