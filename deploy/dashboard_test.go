package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/internal/testutil"
	"github.com/tagstream/tagstream/server"
)

// The docker-compose stack's monitoring: deploy/prometheus/prometheus.yml
// scrapes the serving instances and the trainer, and Grafana provisions the
// Prometheus datasource and the dashboard deploy/grafana/tagstream.json. No
// Docker runs here, so the files are checked against the binary: the
// dashboard queries only metrics the service registers, and ports, paths,
// uids and intervals agree.

// Where the compose file mounts the files (the provider loads the dashboard
// from grafanaDashboardsDir).
const (
	grafanaDashboardsDir   = "/var/lib/grafana/dashboards"
	grafanaProvisioningDir = "/etc/grafana/provisioning"
	prometheusConfigFile   = "/etc/prometheus/prometheus.yml"
)

// checkedPrefixes are the metric name prefixes of the binary's own
// collectors; other names (up, recording rules) are not checked.
var checkedPrefixes = []string{"tagstream_", "process_", "go_"}

func deployFile(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeYAML(t *testing.T, b []byte, v any, name string) {
	t.Helper()
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// grafanaDatasourceRef is how the dashboard names a datasource.
type grafanaDatasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// grafanaPanel is the part of a Grafana panel the tests read. Rows carry
// their panels in Panels when collapsed.
type grafanaPanel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *grafanaDatasourceRef    `json:"datasource"`
	GridPos    struct{ X, Y, W, H int } `json:"gridPos"`
	Targets    []struct {
		RefID      string                `json:"refId"`
		Expr       string                `json:"expr"`
		Datasource *grafanaDatasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

type grafanaDashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string                `json:"name"`
			Type       string                `json:"type"`
			Datasource *grafanaDatasourceRef `json:"datasource"`
			Query      json.RawMessage       `json:"query"` // a string, or {"query": "..."}
		} `json:"list"`
	} `json:"templating"`
}

// dashQuery is one PromQL query of the dashboard and where it is.
type dashQuery struct {
	where string // panel "Throughput" (id 7) target A
	expr  string
	ds    *grafanaDatasourceRef
}

func loadDashboard(t *testing.T) grafanaDashboard {
	t.Helper()
	var d grafanaDashboard
	if err := json.Unmarshal(deployFile(t, "grafana", "tagstream.json"), &d); err != nil {
		t.Fatalf("deploy/grafana/tagstream.json: %v", err)
	}
	return d
}

// walkPanels calls fn for every panel, rows' nested panels included.
func walkPanels(ps []grafanaPanel, fn func(p grafanaPanel)) {
	for _, p := range ps {
		fn(p)
		walkPanels(p.Panels, fn)
	}
}

// queries returns every PromQL query: panel targets, then query variables
// (label_values(metric, label) reduced to metric).
func (d grafanaDashboard) queries() ([]dashQuery, error) {
	var qs []dashQuery
	walkPanels(d.Panels, func(p grafanaPanel) {
		for _, tg := range p.Targets {
			ds := tg.Datasource
			if ds == nil {
				ds = p.Datasource
			}
			qs = append(qs, dashQuery{fmt.Sprintf("panel %q (id %d) target %s", p.Title, p.ID, tg.RefID), tg.Expr, ds})
		}
	})
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var obj struct{ Query string }
			if err := json.Unmarshal(v.Query, &obj); err != nil {
				return nil, fmt.Errorf("variable %s: query %s: %w", v.Name, v.Query, err)
			}
			q = obj.Query
		}
		qs = append(qs, dashQuery{fmt.Sprintf("variable %q", v.Name), variableQueryExpr(q), v.Datasource})
	}
	return qs, nil
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// variableQueryExpr returns the PromQL inside one of Grafana's Prometheus
// variable queries: label_values(expr, label), label_values(label),
// query_result(expr); metrics(regex) and label_names() have none.
func variableQueryExpr(q string) string {
	q = strings.TrimSpace(q)
	fn, args, ok := strings.Cut(q, "(")
	if !ok || !strings.HasSuffix(args, ")") {
		return q
	}
	args = strings.TrimSuffix(args, ")")
	switch strings.TrimSpace(fn) {
	case "label_values":
		i := strings.LastIndex(args, ",")
		if i < 0 {
			return "" // label_values(label)
		}
		if labelNameRE.MatchString(strings.TrimSpace(args[i+1:])) {
			return args[:i]
		}
	case "query_result":
		return args
	case "metrics", "label_names":
		return ""
	}
	return q
}

// grafanaVariable matches Grafana's template variables: $name, ${name},
// ${name:format} and [[name]].
var grafanaVariable = regexp.MustCompile(`\$\{[^}]*\}|\$\w+|\[\[\w+\]\]`)

// grafanaInterpolate replaces the template variables of a dashboard query
// as Grafana does before it sends the query, with values that keep it
// valid PromQL: the range and interval variables become a duration (in a
// range "[...]"), every other variable "x" (in a matcher's value).
func grafanaInterpolate(expr string) string {
	return grafanaVariable.ReplaceAllStringFunc(expr, func(v string) string {
		name := strings.Trim(v, "${}[]")
		if name, _, _ = strings.Cut(name, ":"); strings.HasPrefix(name, "__") && (strings.HasSuffix(name, "interval") || name == "__range") {
			return "5m"
		}
		return "x"
	})
}

// promqlMetricNames returns the metric names of a dashboard query in order
// of appearance, parsed by Prometheus' own PromQL parser after Grafana's
// variable interpolation. A selector without a name (only matchers) adds
// none.
func promqlMetricNames(expr string) ([]string, error) {
	e, err := parser.ParseExpr(grafanaInterpolate(expr))
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && vs.Name != "" {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names, nil
}

func TestDashboardPromQLNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr string
		want       []string
		wantErr    bool
	}{
		{"plain", "tagstream_in_flight_events", []string{"tagstream_in_flight_events"}, false},
		{"matchers and range", `rate(tagstream_events_consumed_total{instance=~"$instance", job!="x"}[$__rate_interval])`, []string{"tagstream_events_consumed_total"}, false},
		{"by before", `histogram_quantile(0.99, sum by (lang, le) (rate(tagstream_inference_seconds_bucket[5m])))`, []string{"tagstream_inference_seconds_bucket"}, false},
		{"without after", `sum(go_goroutines) without(instance, job)`, []string{"go_goroutines"}, false},
		{"vector matching", `a_total / on (instance) group_left (version) tagstream_model_info`, []string{"a_total", "tagstream_model_info"}, false},
		{"group_left without list", `a * on(x) group_left b`, []string{"a", "b"}, false},
		{"strings hide brackets", `label_replace(up, "dst", "(x) {y}", "src", '(.*)')`, []string{"up"}, false},
		{"brace in matcher value", `x{a="}", b=~"\"{"} unless y`, []string{"x", "y"}, false},
		{"numbers and offset", `x > 1e-3 and y offset 5m or z > 0x1F`, []string{"x", "y", "z"}, false},
		{"subquery and at", `max_over_time(process_resident_memory_bytes[1h:5m] @ end())`, []string{"process_resident_memory_bytes"}, false},
		{"keywords any case", `SUM BY (le) (a) AND ON(x) b`, []string{"a", "b"}, false},
		{"count_values string", `count_values("version", tagstream_model_info)`, []string{"tagstream_model_info"}, false},
		{"comment", "# tagstream_nope\ntagstream_yes", []string{"tagstream_yes"}, false},
		{"variables", `rate(x{i=~"${instance:regex}", j="$job"}[$__rate_interval]) / max_over_time(y[$__range])`, []string{"x", "y"}, false},
		{"name with colon", `job:requests:rate5m`, []string{"job:requests:rate5m"}, false},
		{"no metric", `vector(0)`, nil, false},
		{"unterminated string", `x{a="b}`, nil, true},
		{"unbalanced brace", `x{a="b"`, nil, true},
		{"unbalanced by", `sum by (le (x)`, nil, true},
		{"unknown function", `rates(x[5m])`, nil, true},
		{"range where an instant vector goes", `sum(x[5m])`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := promqlMetricNames(tc.expr)
			if (err != nil) != tc.wantErr {
				t.Fatalf("promqlMetricNames(%q) error %v, want error %v", tc.expr, err, tc.wantErr)
			}
			if !tc.wantErr && !slices.Equal(got, tc.want) {
				t.Errorf("promqlMetricNames(%q) = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestDashboardVariableQueryExpr(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, q, want string }{
		{"label_values with metric", `label_values(process_resident_memory_bytes{job=~"a,b"}, instance)`, `process_resident_memory_bytes{job=~"a,b"}`},
		{"label_values label only", `label_values(instance)`, ""},
		{"query_result", `query_result(topk(5, x))`, `topk(5, x)`},
		{"metrics", `metrics(tagstream_.*)`, ""},
		{"plain promql", `sum(x)`, `sum(x)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := variableQueryExpr(tc.q); got != tc.want {
				t.Errorf("variableQueryExpr(%q) = %q, want %q", tc.q, got, tc.want)
			}
		})
	}
}

// exportedMetrics is what the service registers on the registry /metrics
// serves.
type exportedMetrics struct {
	reg   *prometheus.Registry
	types map[string]string // scraped family name -> TYPE
	known map[string]bool   // registered() answers
}

// startExported starts the service as `tagstream run --embedded` with
// finetune.enabled does (startService: the pipeline's metrics, the Go and
// process collectors and the trainer's round counter, all on the service's
// registry; the stand-alone trainer registers a subset) and scrapes it
// through its HTTP handler at each of paths.
func startExported(t *testing.T, paths []string) *exportedMetrics {
	t.Helper()
	cfg := config.Default()
	cfg.Embedded.Enabled = true
	cfg.Embedded.KafkaAddr, cfg.Embedded.NATSAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Finetune.Enabled = true
	var logs testutil.SyncBuffer
	s, err := server.New(t.Context(), cfg, server.NewLogger(cfg.Log, &logs), server.Options{})
	if err != nil {
		t.Fatalf("start service: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close service: %v", err)
		}
	})
	if s.Handler() == nil {
		t.Fatalf("service without HTTP\n%s", logs.String())
	}
	m := &exportedMetrics{reg: s.Registry(), types: map[string]string{}, known: map[string]bool{}}
	for _, p := range paths {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", p, rec.Code, rec.Body)
		}
		sc := bufio.NewScanner(rec.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
				m.types[f[2]] = f[3]
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
	}
	for _, pre := range checkedPrefixes {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(m.types)), func(n string) bool { return strings.HasPrefix(n, pre) }) {
			t.Fatalf("the scrape of %v has no %s* metric", paths, pre)
		}
	}
	return m
}

// registered reports whether a collector on the service's registry
// describes a metric named name. A vector without series is missing from a
// scrape, so the registry is asked: Register rejects a descriptor whose
// name is registered with another help string (see prometheus.Desc), and
// the probe's help is its own, so a rejection means the name is taken. A
// probe that registers is unregistered at once.
func (m *exportedMetrics) registered(t *testing.T, name string) bool {
	t.Helper()
	if v, ok := m.known[name]; ok {
		return v
	}
	probe := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "dashboard_test probe"})
	if err := prometheus.NewRegistry().Register(probe); err != nil {
		t.Fatalf("probe %q is invalid on its own: %v", name, err)
	}
	err := m.reg.Register(probe)
	if err == nil {
		m.reg.Unregister(probe)
	}
	m.known[name] = err != nil
	return err != nil
}

var seriesSuffixes = []string{"_bucket", "_sum", "_count"}

// exports reports whether the binary exports series named name: a scraped
// family (a histogram only as _bucket/_sum/_count, a summary as itself,
// _sum, _count), else a registered vector without series yet, whose type
// is unknown, so a suffix is accepted on any registered name.
func (m *exportedMetrics) exports(t *testing.T, name string) bool {
	t.Helper()
	if typ, ok := m.types[name]; ok {
		return typ != "histogram"
	}
	for _, suf := range seriesSuffixes {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if typ, ok := m.types[base]; ok {
				return typ == "histogram" || typ == "summary" && suf != "_bucket"
			}
		}
	}
	if m.registered(t, name) {
		return true
	}
	for _, suf := range seriesSuffixes {
		if base, ok := strings.CutSuffix(name, suf); ok && m.registered(t, base) {
			return true
		}
	}
	return false
}

func TestDashboardMetricsExported(t *testing.T) {
	t.Parallel()
	qs, err := loadDashboard(t).queries()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	var paths []string
	for _, sc := range loadPrometheusConfig(t).ScrapeConfigs {
		if p := sc.path(); !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	m := startExported(t, paths)
	if m.exports(t, "tagstream_dashboard_test_absent") {
		t.Fatal("an absent metric counts as exported: the check below would pass anything")
	}
	for _, q := range qs {
		names, err := promqlMetricNames(q.expr)
		if err != nil {
			t.Errorf("%s: %v\n\texpr: %s", q.where, err, q.expr)
			continue
		}
		if len(names) == 0 && !strings.HasPrefix(q.where, "variable") {
			t.Errorf("%s: no metric in %q", q.where, q.expr)
		}
		slices.Sort(names)
		for _, n := range slices.Compact(names) {
			if slices.ContainsFunc(checkedPrefixes, func(p string) bool { return strings.HasPrefix(n, p) }) && !m.exports(t, n) {
				t.Errorf("%s: metric %s is not exported by the binary\n\texpr: %s", q.where, n, q.expr)
			}
		}
	}
}

type promScrapeConfig struct {
	JobName        string             `yaml:"job_name"`
	ScrapeInterval string             `yaml:"scrape_interval"`
	MetricsPath    string             `yaml:"metrics_path"`
	Scheme         string             `yaml:"scheme"`
	StaticConfigs  []promStaticConfig `yaml:"static_configs"`
}

type promStaticConfig struct {
	Targets []string `yaml:"targets"`
}

// path is the scrape path, Prometheus's default included.
func (c promScrapeConfig) path() string {
	if c.MetricsPath == "" {
		return "/metrics"
	}
	return c.MetricsPath
}

type promConfig struct {
	Global struct {
		ScrapeInterval string `yaml:"scrape_interval"`
	} `yaml:"global"`
	ScrapeConfigs []promScrapeConfig `yaml:"scrape_configs"`
}

// interval is the job's scrape interval, the global one or Prometheus's
// default 1m.
func (c promConfig) interval(sc promScrapeConfig) string {
	for _, v := range []string{sc.ScrapeInterval, c.Global.ScrapeInterval} {
		if v != "" {
			return v
		}
	}
	return "1m"
}

func loadPrometheusConfig(t *testing.T) promConfig {
	t.Helper()
	var c promConfig
	decodeYAML(t, deployFile(t, "prometheus", "prometheus.yml"), &c, "deploy/prometheus/prometheus.yml")
	return c
}

// containerHTTPPort is the port of TAGSTREAM_HTTP_ADDR in deploy/Dockerfile,
// after checking that the variable sets the http.addr key.
func containerHTTPPort(t *testing.T) string {
	t.Helper()
	df := string(deployFile(t, "Dockerfile"))
	m := regexp.MustCompile(`(?m)^ENV\s+(` + config.EnvPrefix + `_HTTP_ADDR)=(\S+)`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal("deploy/Dockerfile sets no TAGSTREAM_HTTP_ADDR")
	}
	if !slices.ContainsFunc(config.Keys(), func(k string) bool {
		return config.EnvPrefix+"_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_")) == m[1] && k == "http.addr"
	}) {
		t.Fatalf("%s is not the environment variable of http.addr", m[1])
	}
	_, port, err := net.SplitHostPort(m[2])
	if err != nil {
		t.Fatalf("deploy/Dockerfile: %s=%s: %v", m[1], m[2], err)
	}
	return port
}

func TestPrometheusScrapeConfig(t *testing.T) {
	t.Parallel()
	c := loadPrometheusConfig(t)
	port := containerHTTPPort(t)
	wantHosts := map[string][]string{ // the compose services
		"tagstream":         {"tagstream-1", "tagstream-2"},
		"tagstream-trainer": {"trainer"},
	}
	gotHosts := map[string][]string{}
	for _, sc := range c.ScrapeConfigs {
		if sc.path() != "/metrics" {
			t.Errorf("job %s: metrics_path %q, the service serves /metrics", sc.JobName, sc.path())
		}
		if sc.Scheme != "" && sc.Scheme != "http" {
			t.Errorf("job %s: scheme %q, the service serves plain http", sc.JobName, sc.Scheme)
		}
		if iv, err := time.ParseDuration(c.interval(sc)); err != nil || iv != 5*time.Second {
			t.Errorf("job %s: scrape interval %q, want 5s", sc.JobName, c.interval(sc))
		}
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				host, p, err := net.SplitHostPort(tg)
				if err != nil {
					t.Errorf("job %s: target %q: %v", sc.JobName, tg, err)
					continue
				}
				if p != port {
					t.Errorf("job %s: target %s: port %s, the container listens on %s (TAGSTREAM_HTTP_ADDR in deploy/Dockerfile)", sc.JobName, tg, p, port)
				}
				gotHosts[sc.JobName] = append(gotHosts[sc.JobName], host)
			}
		}
	}
	for job, want := range wantHosts {
		if got := gotHosts[job]; !slices.Equal(got, want) {
			t.Errorf("job %s: target hosts %q, want %q", job, got, want)
		}
	}
	if len(gotHosts) != len(wantHosts) {
		t.Errorf("jobs %v, want %v", slices.Sorted(maps.Keys(gotHosts)), slices.Sorted(maps.Keys(wantHosts)))
	}
}

type grafanaDatasources struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name     string         `yaml:"name"`
		UID      string         `yaml:"uid"`
		Type     string         `yaml:"type"`
		Access   string         `yaml:"access"`
		URL      string         `yaml:"url"`
		JSONData map[string]any `yaml:"jsonData"`
	} `yaml:"datasources"`
}

type grafanaProviders struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name    string `yaml:"name"`
		Type    string `yaml:"type"`
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func TestGrafanaProvisioning(t *testing.T) {
	t.Parallel()
	var dss grafanaDatasources
	decodeYAML(t, deployFile(t, "grafana", "provisioning", "datasources", "prometheus.yaml"), &dss, "datasources/prometheus.yaml")
	if dss.APIVersion != 1 || len(dss.Datasources) != 1 {
		t.Fatalf("datasources/prometheus.yaml: apiVersion %d, %d datasources; want 1 and 1", dss.APIVersion, len(dss.Datasources))
	}
	ds := dss.Datasources[0]
	if ds.UID != "prometheus" || ds.Type != "prometheus" || ds.Access != "proxy" {
		t.Errorf("datasource uid %q type %q access %q, want prometheus, prometheus, proxy", ds.UID, ds.Type, ds.Access)
	}
	if u, err := url.Parse(ds.URL); err != nil || u.Scheme != "http" || u.Host != "prometheus:9090" {
		t.Errorf("datasource url %q, want http://prometheus:9090 (the compose service)", ds.URL)
	}
	prom := loadPrometheusConfig(t)
	if ti, _ := ds.JSONData["timeInterval"].(string); ti != prom.Global.ScrapeInterval {
		t.Errorf("datasource timeInterval %q, the global scrape interval is %q", ti, prom.Global.ScrapeInterval)
	}

	var ps grafanaProviders
	decodeYAML(t, deployFile(t, "grafana", "provisioning", "dashboards", "tagstream.yaml"), &ps, "dashboards/tagstream.yaml")
	if ps.APIVersion != 1 || len(ps.Providers) != 1 {
		t.Fatalf("dashboards/tagstream.yaml: apiVersion %d, %d providers; want 1 and 1", ps.APIVersion, len(ps.Providers))
	}
	if p := ps.Providers[0]; p.Type != "file" || path.Clean(p.Options.Path) != grafanaDashboardsDir {
		t.Errorf("provider type %q path %q, want file and %s (where the dashboard is mounted)", p.Type, p.Options.Path, grafanaDashboardsDir)
	}

	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("dashboard uid %q title %q schemaVersion %d, want both set and >= 36", d.UID, d.Title, d.SchemaVersion)
	}
	ids := map[int]string{}
	walkPanels(d.Panels, func(p grafanaPanel) {
		if prev, ok := ids[p.ID]; ok || p.ID == 0 {
			t.Errorf("panel %q: id %d (also %q)", p.Title, p.ID, prev)
		}
		ids[p.ID] = p.Title
		if p.Title == "" || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %d %q: no title or gridPos %+v outside the 24 columns", p.ID, p.Title, p.GridPos)
		}
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q: no queries", p.Title)
		}
	})
	qs, err := d.queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.ds == nil || q.ds.UID != ds.UID || q.ds.Type != ds.Type {
			t.Errorf("%s: datasource %+v, want uid %q type %q", q.where, q.ds, ds.UID, ds.Type)
		}
	}
}

// composeProblems lists where the compose file b disagrees with the
// monitoring files: a file not mounted where Grafana's provider or
// Prometheus reads it, or a scrape target that is none of its services.
// It lists none for a compose file without a grafana service (the brokers
// only).
func composeProblems(b []byte, prom promConfig) ([]string, error) {
	var c struct {
		Services map[string]struct {
			Volumes []yaml.Node `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if _, ok := c.Services["grafana"]; !ok {
		return nil, nil
	}
	var problems []string
	// mounted reports whether service mounts the repository file src at
	// dst, or a directory holding it at the matching directory.
	mounted := func(service, src, dst string) (bool, error) {
		for _, n := range c.Services[service].Volumes {
			var from, to string
			switch n.Kind {
			case yaml.ScalarNode: // source:target[:mode]
				parts := strings.Split(n.Value, ":")
				if len(parts) < 2 {
					continue
				}
				from, to = parts[0], parts[1]
			case yaml.MappingNode:
				var v struct{ Source, Target string }
				if err := n.Decode(&v); err != nil {
					return false, fmt.Errorf("service %s volume: %w", service, err)
				}
				from, to = v.Source, v.Target
			}
			from, to = path.Clean(filepath.ToSlash(from)), path.Clean(to)
			if rel, ok := strings.CutPrefix(src, from); ok && (rel == "" || rel[0] == '/') && path.Join(to, rel) == dst {
				return true, nil
			}
		}
		return false, nil
	}
	for _, m := range []struct{ service, src, dst string }{
		{"grafana", "deploy/grafana/tagstream.json", grafanaDashboardsDir + "/tagstream.json"},
		{"grafana", "deploy/grafana/provisioning/datasources/prometheus.yaml", grafanaProvisioningDir + "/datasources/prometheus.yaml"},
		{"grafana", "deploy/grafana/provisioning/dashboards/tagstream.yaml", grafanaProvisioningDir + "/dashboards/tagstream.yaml"},
		{"prometheus", "deploy/prometheus/prometheus.yml", prometheusConfigFile},
	} {
		ok, err := mounted(m.service, m.src, m.dst)
		if err != nil {
			return nil, err
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("service %s does not mount %s at %s", m.service, m.src, m.dst))
		}
	}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				host, _, _ := net.SplitHostPort(tg)
				if _, ok := c.Services[host]; !ok {
					problems = append(problems, fmt.Sprintf("no service %s (target of job %s)", host, sc.JobName))
				}
			}
		}
	}
	return problems, nil
}

func TestGrafanaComposeProblems(t *testing.T) {
	t.Parallel()
	prom := promConfig{ScrapeConfigs: []promScrapeConfig{{JobName: "j", StaticConfigs: []promStaticConfig{{Targets: []string{"app:8080"}}}}}}
	const files = `
  grafana:
    volumes:
      - ./deploy/grafana/tagstream.json:/var/lib/grafana/dashboards/tagstream.json:ro
      - ./deploy/grafana/provisioning:/etc/grafana/provisioning:ro
  prometheus:
    volumes:
      - ./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro
`
	tests := []struct {
		name, compose string
		want          []string
	}{
		{"brokers only", "services:\n  kafka:\n    image: k\n", nil},
		{"file and dir mounts", "services:\n  app: {}" + files, nil},
		{"long syntax dirs", `services:
  app: {}
  grafana:
    volumes:
      - {type: bind, source: deploy/grafana, target: /var/lib/grafana/dashboards}
      - {type: bind, source: ./deploy/grafana/provisioning/, target: /etc/grafana/provisioning}
  prometheus:
    volumes:
      - {type: bind, source: ./deploy/prometheus, target: /etc/prometheus}
`, nil},
		{"prefix is not a directory", `services:
  app: {}
  grafana:
    volumes:
      - ./deploy/grafana/tagstream.json.bak:/var/lib/grafana/dashboards/tagstream.json
      - ./deploy/grafana/provisioning:/etc/grafana/provisioning
  prometheus:
    volumes:
      - ./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml
`, []string{"service grafana does not mount deploy/grafana/tagstream.json at /var/lib/grafana/dashboards/tagstream.json"}},
		{"wrong target and no app", "services:" + strings.Replace(files, "/var/lib/grafana/dashboards/", "/dashboards/", 1), []string{
			"service grafana does not mount deploy/grafana/tagstream.json at /var/lib/grafana/dashboards/tagstream.json",
			"no service app (target of job j)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := composeProblems([]byte(tc.compose), prom)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("composeProblems = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestGrafanaPrometheusCompose checks docker-compose.yml against these
// files once it runs Grafana.
func TestGrafanaPrometheusCompose(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no docker-compose.yml")
	} else if err != nil {
		t.Fatal(err)
	}
	problems, err := composeProblems(b, loadPrometheusConfig(t))
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, p := range problems {
		t.Errorf("docker-compose.yml: %s", p)
	}
}
