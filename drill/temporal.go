package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"
)

// temporalConfig is what the server's configuration file is made from:
// compose.yaml's temporal service environment (the variables
// temporalio/server's config template reads), translated to this host.
type temporalConfig struct {
	Plugin, User, Password, DB, VisibilityDB string
	PGAddr                                   string
	Shards                                   int
	LogLevel                                 string
	IP                                       string
	Frontend                                 int
	Ports                                    map[string][2]int // service: grpc, membership
	DynamicConfig                            string
}

// The shape of the server's config/development-postgres12.yaml and
// docker/config_template.yaml (its postgres12 branch), with every port a
// free one and no metrics or pprof listener.
var temporalConfigTemplate = template.Must(template.New("temporal").Parse(`# Written by the drill harness (package drill) from deploy/compose.yaml's
# temporal service; the shape of go.temporal.io/server's docker/config_template.yaml.
log:
  stdout: true
  level: {{.LogLevel}}
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: {{.Shards}}
  datastores:
    default:
      sql:
        pluginName: "{{.Plugin}}"
        databaseName: "{{.DB}}"
        connectAddr: "{{.PGAddr}}"
        connectProtocol: "tcp"
        user: "{{.User}}"
        password: "{{.Password}}"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: "1h"
    visibility:
      sql:
        pluginName: "{{.Plugin}}"
        databaseName: "{{.VisibilityDB}}"
        connectAddr: "{{.PGAddr}}"
        connectProtocol: "tcp"
        user: "{{.User}}"
        password: "{{.Password}}"
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: "1h"
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "{{.IP}}"
services:
{{- range $name, $p := .Ports}}
  {{$name}}:
    rpc:
      grpcPort: {{index $p 0}}
      membershipPort: {{index $p 1}}
      bindOnIP: "{{$.IP}}"
{{- end}}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "{{.IP}}:{{.Frontend}}"
dcRedirectionPolicy:
  policy: "noop"
archival:
  history:
    state: "disabled"
  visibility:
    state: "disabled"
namespaceDefaults:
  archival:
    history:
      state: "disabled"
    visibility:
      state: "disabled"
dynamicConfigClient:
  filepath: "{{.DynamicConfig}}"
  pollInterval: "60s"
publicClient:
  hostPort: "{{.IP}}:{{.Frontend}}"
`))

// writeTemporalConfig writes the server's configuration file.
func writeTemporalConfig(path string, c temporalConfig) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := temporalConfigTemplate.Execute(f, c); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// setupTemporalSchema does what deploy/temporal/setup-schema.sh does, with
// temporal-sql-tool and the schema directories of the server module:
// create each database, set up its schema's version table, and apply every
// versioned schema step. Each step is safe to repeat.
func (t *Topology) setupTemporalSchema(sqlEnv map[string]string, database, visibility string) error {
	log := logPath(t.Dir, "temporal-schema")
	for _, db := range []struct{ name, schema string }{{database, "temporal"}, {visibility, "visibility"}} {
		for _, args := range [][]string{
			{"--db", db.name, "create-database"},
			{"--db", db.name, "setup-schema", "-v", "0.0"},
			{"--db", db.name, "update-schema", "--schema-dir", t.Programs.SchemaDir(db.schema)},
		} {
			if err := run("temporal-sql-tool", log, sqlEnv, 2*time.Minute, t.Programs.SQLTool, args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// startTemporal starts the Temporal server and waits until its frontend,
// matching and history services answer.
func (t *Topology) startTemporal(ctx context.Context) error {
	if err := t.Temporal.Start(); err != nil {
		return err
	}
	return t.waitTemporal(ctx, 2*time.Minute)
}

// waitTemporal waits until the frontend answers and can reach matching and
// history (the frontend is healthy before the services behind it have joined).
func (t *Topology) waitTemporal(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-t.Temporal.Done():
			return fmt.Errorf("the Temporal server exited: %v\n%s", t.Temporal.ExitErr(), t.Temporal.Tail(40))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		last = t.temporalServes(ctx)
		if last == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("the Temporal server at %s did not serve within %s: %v\n%s", t.TemporalAddr, within, last, t.Temporal.Tail(40))
}

func (t *Topology) temporalServes(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := t.Client.CheckHealth(cctx, &client.CheckHealthRequest{}); err != nil {
		return err
	}
	wf := t.Client.WorkflowService()
	if _, err := wf.DescribeTaskQueue(cctx, &workflowservice.DescribeTaskQueueRequest{Namespace: "temporal-system",
		TaskQueue: &taskqueuepb.TaskQueue{Name: "drill-readiness", Kind: enumspb.TASK_QUEUE_KIND_NORMAL}}); err != nil {
		return err
	}
	_, err := wf.DescribeWorkflowExecution(cctx, &workflowservice.DescribeWorkflowExecutionRequest{Namespace: "temporal-system",
		Execution: &commonpb.WorkflowExecution{WorkflowId: "drill-readiness"}})
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// registerNamespace does what deploy/temporal/create-namespace.sh does with
// the temporal CLI: create the namespace unless it exists, with the
// retention given, then wait until it can be described.
func (t *Topology) registerNamespace(ctx context.Context, namespace, retention string) error {
	d, err := parseRetention(retention)
	if err != nil {
		return fmt.Errorf("NAMESPACE_RETENTION %q: %w", retention, err)
	}
	wf := t.Client.WorkflowService()
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := wf.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(d)})
		var exists *serviceerror.NamespaceAlreadyExists
		if err == nil || errors.As(err, &exists) {
			if _, err = wf.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace}); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("registering namespace %q: %w", namespace, err)
		}
		time.Sleep(time.Second)
	}
}

// parseRetention reads the temporal CLI's durations: "30d", "72h", "1h30m".
func parseRetention(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// dialTemporal is the harness's own client: queries, histories, readiness.
func dialTemporal(ctx context.Context, addr, namespace string, dc converter.DataConverter) (client.Client, error) {
	return client.NewLazyClient(client.Options{HostPort: addr, Namespace: namespace, DataConverter: dc,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
}

// hostPath maps a path inside a container to the file compose mounts there.
func hostPath(composeDir string, volumes []string, inContainer string) (string, error) {
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == inContainer {
			p := parts[0]
			if !filepath.IsAbs(p) {
				p = filepath.Join(composeDir, p)
			}
			return p, nil
		}
	}
	return "", fmt.Errorf("no volume of the temporal service mounts %s", inContainer)
}
