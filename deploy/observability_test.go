package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/prometheus/common/expfmt"
	"go.temporal.io/sdk/client"
	yaml3 "go.yaml.in/yaml/v3"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/prometheus"
)

// The Grafana dashboard (grafana/throughgate.json) and the Prometheus
// alerting rules (prometheus/alerts.yaml) name metrics in PromQL. These
// tests hold every name, and every label, to what the code registers:
//
//   - throughgate_* and the Go and process metrics: a real /metrics scraped
//     from package prometheus's handler, over a registry built as the api and
//     worker build theirs (HTTP requests observed, read model gauges read).
//   - temporal_*, the Temporal SDK's: they appear only once a worker polls a
//     server, so each is checked against the SDK's source in the module cache
//     (go.temporal.io/sdk/internal/common/metrics/constants.go: the name is
//     one of its constants, and the SDK records it as the kind the PromQL
//     name implies: _total a counter, _seconds a timer, else a gauge), and
//     is then recorded under that constant's name through the registry's
//     Temporal SDK handler (the SDK's Tally contrib over Tally's Prometheus
//     reporter) and scraped, so the rendered name — _total, _seconds, a
//     histogram's _bucket — is the one the files use. Their labels must be
//     among the SDK's tag names (constants.go's *TagName).

const (
	dashboardFile = "grafana/throughgate.json"
	alertsFile    = "prometheus/alerts.yaml"
)

// ---- the files ----

// dashboard is the part of Grafana's dashboard JSON the tests read.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *datasourceRef           `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// ruleFile is Prometheus's rule file format.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// expression is one PromQL expression and where it is.
type expression struct{ where, expr string }

func readDashboard(t *testing.T) (dashboard, []panel) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var all []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return d, all
}

func readRules(t *testing.T) ruleFile {
	t.Helper()
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	dec := yaml3.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	return rf
}

// expressions are every PromQL expression of both files.
func expressions(t *testing.T) []expression {
	t.Helper()
	var out []expression
	_, panels := readDashboard(t)
	for _, p := range panels {
		for _, tg := range p.Targets {
			out = append(out, expression{fmt.Sprintf("%s: panel %q, target %s", dashboardFile, p.Title, tg.RefID), tg.Expr})
		}
	}
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			out = append(out, expression{fmt.Sprintf("%s: %s", alertsFile, r.Alert+r.Record), r.Expr})
		}
	}
	return out
}

// ---- PromQL, as far as names go ----

// promQL is what an expression names: its vector selectors (metric and
// matcher labels) and the labels it groups or matches by.
type promQL struct {
	selectors []selector
	grouping  []string
}

type selector struct {
	metric string
	labels []string
}

var (
	aggregations = set("sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
		"bottomk", "topk", "quantile", "limitk", "limit_ratio")
	groupingWords = set("by", "without", "on", "ignoring", "group_left", "group_right")
	otherWords    = set("and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "start", "end")
)

func set(words ...string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words {
		m[w] = true
	}
	return m
}

func isIdentStart(r byte) bool { return r == '_' || r == ':' || unicode.IsLetter(rune(r)) }
func isIdent(r byte) bool      { return isIdentStart(r) || unicode.IsDigit(rune(r)) }

// parsePromQL reads the names an expression uses. It is no PromQL parser:
// it skips strings, ranges and numbers, takes an identifier followed by
// "(" for a function, and every other identifier that is not a keyword or
// an aggregation for a metric, with the label names of its matchers and of
// by/without/on/ignoring lists.
func parsePromQL(expr string) (promQL, error) {
	var q promQL
	i := 0
	next := func() byte { // the next non-space byte at or after i
		for j := i; j < len(expr); j++ {
			if expr[j] != ' ' && expr[j] != '\n' && expr[j] != '\t' {
				return expr[j]
			}
		}
		return 0
	}
	skipSpace := func() {
		for i < len(expr) && strings.ContainsRune(" \n\t", rune(expr[i])) {
			i++
		}
	}
	ident := func() string {
		start := i
		for i < len(expr) && isIdent(expr[i]) {
			i++
		}
		return expr[start:i]
	}
	skipString := func() error {
		quote := expr[i]
		for i++; i < len(expr); i++ {
			if expr[i] == '\\' && quote != '`' {
				i++
				continue
			}
			if expr[i] == quote {
				i++
				return nil
			}
		}
		return fmt.Errorf("unterminated string")
	}
	lastMetric := -1 // index in q.selectors of a selector that may take {matchers}
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t':
			i++
			continue
		case c == '"' || c == '\'' || c == '`':
			if err := skipString(); err != nil {
				return q, err
			}
		case c == '[':
			end := strings.IndexByte(expr[i:], ']')
			if end < 0 {
				return q, fmt.Errorf("unterminated range")
			}
			i += end + 1
			continue // a range keeps the selector's place: [5m] offset ...
		case c == '{':
			if lastMetric < 0 {
				return q, fmt.Errorf("a selector without a metric name at %d", i)
			}
			i++
			for {
				skipSpace()
				if i >= len(expr) {
					return q, fmt.Errorf("unterminated matchers")
				}
				if expr[i] == '}' {
					i++
					break
				}
				if expr[i] == ',' {
					i++
					continue
				}
				if !isIdentStart(expr[i]) {
					return q, fmt.Errorf("bad matcher at %d", i)
				}
				q.selectors[lastMetric].labels = append(q.selectors[lastMetric].labels, ident())
				skipSpace()
				for i < len(expr) && strings.ContainsRune("=!~", rune(expr[i])) {
					i++
				}
				skipSpace()
				if i >= len(expr) || !strings.ContainsRune("\"'`", rune(expr[i])) {
					return q, fmt.Errorf("a matcher without a quoted value at %d", i)
				}
				if err := skipString(); err != nil {
					return q, err
				}
			}
		case c == '$': // a Grafana variable such as $__rate_interval
			i++
			ident()
		case unicode.IsDigit(rune(c)) || (c == '.' && i+1 < len(expr) && unicode.IsDigit(rune(expr[i+1]))):
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdentStart(c):
			word := ident()
			switch {
			case groupingWords[word]:
				if next() != '(' {
					break // group_left with no labels
				}
				skipSpace()
				i++
				for {
					skipSpace()
					if i >= len(expr) {
						return q, fmt.Errorf("unterminated %s list", word)
					}
					if expr[i] == ')' {
						i++
						break
					}
					if expr[i] == ',' {
						i++
						continue
					}
					if !isIdentStart(expr[i]) {
						return q, fmt.Errorf("bad label in %s list at %d", word, i)
					}
					q.grouping = append(q.grouping, ident())
				}
			case otherWords[word] || aggregations[word] || next() == '(':
			default:
				q.selectors = append(q.selectors, selector{metric: word})
				lastMetric = len(q.selectors) - 1
				continue
			}
		default: // operators, parentheses, commas
			i++
		}
		lastMetric = -1
	}
	return q, nil
}

func TestParsePromQL(t *testing.T) {
	q, err := parsePromQL(`histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{code=~"5..", method!="GET"}[$__rate_interval])))
		/ on (route) group_left max without(instance) (y offset 1h) > bool 0.5 and count(z{a='b}'})`)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(q.selectors, q.grouping)
	if want := "[{x_bucket [code method]} {y []} {z [a]}] [le route route instance]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	for _, bad := range []string{`{__name__="x"}`, `x{code=5}`, `sum by (le`, `x{a="b"`} {
		if _, err := parsePromQL(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// ---- what the code registers ----

// family is one scraped metric: its type and label names.
type family struct {
	typ    string
	labels map[string]bool
}

// sdkSource is what the Temporal SDK's source says about its metrics.
type sdkSource struct {
	names map[string]string   // metric name (temporal_...) → its constant
	kinds map[string][]string // constant → the kinds it is recorded as (Counter, Timer, Gauge)
	tags  map[string]bool     // tag names: the values of the *TagName constants
}

// readSDK evaluates the SDK's metrics constants and finds how its internal
// code records each.
func readSDK(t *testing.T) sdkSource {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk").Output()
	if err != nil {
		t.Fatalf("finding go.temporal.io/sdk in the module cache (go mod download): %v", err)
	}
	dir := strings.TrimSpace(string(out))
	path := filepath.Join(dir, "internal", "common", "metrics", "constants.go")
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{}).Check("metrics", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatalf("type-checking %s: %v", path, err)
	}
	src := sdkSource{names: map[string]string{}, kinds: map[string][]string{}, tags: map[string]bool{}}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok || c.Val().Kind() != constant.String {
			continue
		}
		v := constant.StringVal(c.Val())
		switch {
		case strings.HasSuffix(name, "TagName") || name == "RequestFailureCode":
			src.tags[v] = true
		case strings.HasPrefix(v, "temporal_"):
			src.names[v] = name
		}
	}
	// Calls such as handler.Counter(metrics.X) or, in package metrics
	// itself, Counter(failureMetric) after failureMetric := X.
	call := regexp.MustCompile(`\.\s*(Counter|Timer|Gauge)\(\s*(?:metrics\.)?(\w+)\s*\)`)
	assign := regexp.MustCompile(`\b(\w+)\s*:?=\s*(?:metrics\.)?([A-Z]\w+)\b`)
	files, _ := filepath.Glob(filepath.Join(dir, "internal", "*.go"))
	more, _ := filepath.Glob(filepath.Join(dir, "internal", "common", "metrics", "*.go"))
	for _, file := range append(files, more...) {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string][]string{}
		for _, m := range assign.FindAllStringSubmatch(string(b), -1) {
			vars[m[1]] = append(vars[m[1]], m[2])
		}
		for _, m := range call.FindAllStringSubmatch(string(b), -1) {
			for _, c := range append([]string{m[2]}, vars[m[2]]...) {
				if !slices.Contains(src.kinds[c], m[1]) {
					src.kinds[c] = append(src.kinds[c], m[1])
				}
			}
		}
	}
	if len(src.names) < 20 || len(src.tags) < 5 || len(src.kinds) < 20 {
		t.Fatalf("read too little from the SDK's source (%d names, %d tags, %d recorded): has it moved?", len(src.names), len(src.tags), len(src.kinds))
	}
	return src
}

// sdkMetric is how a temporal_* name in PromQL maps onto the SDK: the
// metric the SDK records and as what.
func sdkMetric(name string) (base, kind string) {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if n, ok := strings.CutSuffix(name, s); ok && strings.HasSuffix(n, "_seconds") {
			name = n
		}
	}
	if n, ok := strings.CutSuffix(name, "_seconds"); ok {
		return n, "Timer"
	}
	if n, ok := strings.CutSuffix(name, "_total"); ok {
		return n, "Counter"
	}
	return name, "Gauge"
}

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// scrapeMetrics builds a registry as the api and worker processes build
// theirs, records one request and a read of the read model, records the
// given SDK metrics through the registry's Temporal SDK handler, and
// scrapes /metrics: every series name it serves, with its family.
func scrapeMetrics(t *testing.T, sdk map[string]string) map[string]*family {
	t.Helper()
	reg := prometheus.New("test", quietLogger)
	reg.HTTP().ObserveRequest(http.MethodGet, "/api/v1/cases/{caseID}", http.StatusOK, 20*time.Millisecond)
	reg.ReadModel(func(context.Context, time.Time) (postgres.ReadModelMetrics, error) {
		return postgres.ReadModelMetrics{OpenCases: map[string]int{"release": 1}, StalledCases: 1, OverdueSteps: 1,
			OutboxPending: 1, OutboxOldestPending: time.Minute, OutboxUndeliverable: 1}, nil
	}, time.Minute)
	h, stop := reg.Temporal()
	record := map[string]func(client.MetricsHandler, string){
		"Counter": func(h client.MetricsHandler, n string) { h.Counter(n).Inc(1) },
		"Timer":   func(h client.MetricsHandler, n string) { h.Timer(n).Record(time.Second) },
		"Gauge":   func(h client.MetricsHandler, n string) { h.Gauge(n).Update(1) },
	}
	for base, kind := range sdk {
		record[kind](h, base)
	}
	stop() // flushes to the reporter

	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]*family{}
	for name, mf := range fams {
		f := &family{typ: mf.GetType().String(), labels: map[string]bool{}}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				f.labels[l.GetName()] = true
			}
		}
		series[name] = f
		switch f.typ {
		case "HISTOGRAM":
			series[name+"_bucket"], series[name+"_sum"], series[name+"_count"] = f, f, f
		case "SUMMARY":
			series[name+"_sum"], series[name+"_count"] = f, f
		}
	}
	return series
}

// ---- the tests ----

// Every metric and label the dashboard and the alerts name is one the code
// registers: scraped for Throughgate's own, checked against the SDK's
// source and then scraped for the Temporal SDK's.
func TestObservabilityMetricsExist(t *testing.T) {
	exprs := expressions(t)
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions", len(exprs))
	}
	parsed := make([]promQL, len(exprs))
	sdkUsed := map[string]string{} // base name → kind
	src := readSDK(t)
	for i, e := range exprs {
		q, err := parsePromQL(e.expr)
		if err != nil {
			t.Fatalf("%s: %v in %s", e.where, err, e.expr)
		}
		parsed[i] = q
		for _, s := range q.selectors {
			if !strings.HasPrefix(s.metric, "temporal_") {
				continue
			}
			base, kind := sdkMetric(s.metric)
			constant, ok := src.names[base]
			if !ok {
				t.Errorf("%s: %s is not a metric of the Temporal SDK (no constant in internal/common/metrics/constants.go has the value %q)", e.where, s.metric, base)
				continue
			}
			if !slices.Contains(src.kinds[constant], kind) {
				t.Errorf("%s: %s implies the SDK records %s as a %s, but it records it as %v", e.where, s.metric, constant, kind, src.kinds[constant])
				continue
			}
			sdkUsed[base] = kind
		}
	}
	series := scrapeMetrics(t, sdkUsed)

	checked := map[string]bool{}
	for i, e := range exprs {
		q := parsed[i]
		if len(q.selectors) == 0 {
			t.Errorf("%s: names no metric: %s", e.where, e.expr)
		}
		labels := map[string]bool{"le": true}
		for _, s := range q.selectors {
			f, ok := series[s.metric]
			if !ok {
				t.Errorf("%s: %s is not served at /metrics", e.where, s.metric)
				continue
			}
			checked[s.metric] = true
			known := f.labels
			if strings.HasPrefix(s.metric, "temporal_") {
				known = src.tags // the scrape above recorded them untagged
			}
			for l := range known {
				labels[l] = true
			}
			for _, l := range s.labels {
				if !known[l] {
					t.Errorf("%s: %s has no label %q", e.where, s.metric, l)
				}
			}
		}
		for _, l := range q.grouping {
			if !labels[l] {
				t.Errorf("%s: groups by %q, a label none of its metrics has", e.where, l)
			}
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range checked {
			if !yield(n) {
				return
			}
		}
	})
	t.Logf("checked against /metrics: %s", strings.Join(names, ", "))
	for base, kind := range sdkUsed {
		t.Logf("the Temporal SDK's %s (%s %s) checked against its source", base, kind, src.names[base])
	}
}

// The dashboard shows what operators need: every Throughgate metric the
// code registers, and the worker's schedule-to-start latency and task
// failures; and it is importable: panels on the 24-column grid with unique
// ids, every query on the datasource variable.
func TestDashboard(t *testing.T) {
	d, panels := readDashboard(t)
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 30 {
		t.Errorf("title %q uid %q schemaVersion %d", d.Title, d.UID, d.SchemaVersion)
	}
	var dsVar bool
	for _, v := range d.Templating.List {
		dsVar = dsVar || (v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus")
	}
	if !dsVar {
		t.Error("no datasource variable of type prometheus named datasource")
	}
	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range panels {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d missing or not unique", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Title == "" || p.GridPos.W < 1 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H < 1 {
			t.Errorf("panel %q: title or grid position %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d targets", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q target %s: datasource %+v", p.Title, tg.RefID, tg.Datasource)
			}
			q, _ := parsePromQL(tg.Expr)
			for _, s := range q.selectors {
				used[s.metric] = true
			}
		}
	}
	series := scrapeMetrics(t, nil)
	var want []string
	for name, f := range series {
		if strings.HasPrefix(name, "throughgate_") && !strings.HasSuffix(name, "_sum") && !strings.HasSuffix(name, "_count") &&
			(f.typ != "HISTOGRAM" || strings.HasSuffix(name, "_bucket")) {
			want = append(want, name)
		}
	}
	want = append(want, "temporal_workflow_task_schedule_to_start_latency_seconds_bucket",
		"temporal_activity_schedule_to_start_latency_seconds_bucket", "temporal_workflow_task_execution_failed_total")
	sort.Strings(want)
	for _, name := range want {
		if !used[name] {
			t.Errorf("the dashboard does not show %s", name)
		}
	}
}

// The alerts are well-formed rules and cover what must wake someone: email
// stuck in the outbox, emails given up on, workers falling behind, the read
// model unreadable.
func TestAlertRules(t *testing.T) {
	rf := readRules(t)
	duration := regexp.MustCompile(`^(\d+(ms|[smhdwy]))+$`)
	seen := map[string]bool{}
	var all string
	for _, g := range rf.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: no name or no rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || r.Record != "" {
				t.Errorf("%q: every rule here is an alert", r.Alert+r.Record)
				continue
			}
			if seen[r.Alert] || !strings.HasPrefix(r.Alert, "Throughgate") {
				t.Errorf("%s: names are unique and begin Throughgate", r.Alert)
			}
			seen[r.Alert] = true
			if r.For != "" && !duration.MatchString(r.For) {
				t.Errorf("%s: for %q is not a Prometheus duration", r.Alert, r.For)
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description", r.Alert)
			}
			for _, text := range r.Annotations {
				if strings.Count(text, "{{") != strings.Count(text, "}}") {
					t.Errorf("%s: unbalanced template in %q", r.Alert, text)
				}
			}
			all += "\n" + r.Expr
		}
	}
	for _, want := range []string{"throughgate_outbox_oldest_pending_age_seconds", "throughgate_outbox_undeliverable_emails",
		"temporal_workflow_task_schedule_to_start_latency_seconds_bucket", "temporal_activity_schedule_to_start_latency_seconds_bucket",
		"throughgate_read_model_up"} {
		if !strings.Contains(all, want) {
			t.Errorf("no alert on %s", want)
		}
	}
}

// prometheus/alerts_test.yaml feeds the rules series and says which alerts
// fire, with what text; promtool runs it. Without promtool on the PATH
// (Debian: the prometheus package) the test is skipped.
func TestAlertRulesFire(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not on the PATH (Debian: apt-get install prometheus)")
	}
	out, err := exec.Command(promtool, "test", "rules", filepath.Join("prometheus", "alerts_test.yaml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
