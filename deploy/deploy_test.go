package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tagstream/tagstream/config"
)

// No Docker engine or cluster runs here, so the deployment files are
// checked statically: they must name commands, keys, ports and health
// paths the binary has.

func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"go build", "./cmd/tagstream", "USER nonroot", "EXPOSE 8080", "HEALTHCHECK", "/healthz", "TAGSTREAM_HTTP_ADDR=0.0.0.0:8080", `CMD ["run"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	for _, name := range []string{"healthcheck", "run"} {
		if err := runsAs(t, name); err != nil {
			t.Errorf("the Dockerfile uses command %q, which the binary lacks: %v", name, err)
		}
	}
}

// k8sDocs returns every YAML document of deploy/k8s.
func k8sDocs(t *testing.T) []map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("k8s", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var docs []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var d map[string]any
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			docs = append(docs, d)
		}
	}
	return docs
}

func get(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

func TestK8sManifests(t *testing.T) {
	t.Parallel()
	docs := k8sDocs(t)
	kinds := map[string]int{}
	var cfgYAML string
	var secretKeys []string
	for _, d := range docs {
		kind, _ := d["kind"].(string)
		kinds[kind]++
		switch kind {
		case "ConfigMap":
			cfgYAML, _ = get(d, "data", "tagstream.yaml").(string)
		case "Secret":
			for k := range get(d, "stringData").(map[string]any) {
				secretKeys = append(secretKeys, k)
			}
		}
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in deploy/k8s", k)
		}
	}
	// The ConfigMap's file must load: every key exists and is in range.
	path := filepath.Join(t.TempDir(), "tagstream.yaml")
	if err := os.WriteFile(path, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("the ConfigMap's tagstream.yaml does not load: %v", err)
	}
	_, port, _ := net.SplitHostPort(cfg.HTTP.Addr)
	// Secret keys are TAGSTREAM_ variables of existing keys.
	keys := config.Keys()
	for _, k := range secretKeys {
		key := strings.ToLower(strings.TrimPrefix(k, "TAGSTREAM_"))
		if !slices.ContainsFunc(keys, func(c string) bool { return strings.ReplaceAll(c, ".", "_") == key }) {
			t.Errorf("Secret key %s names no config key", k)
		}
	}
	for _, d := range docs {
		if d["kind"] != "Deployment" {
			continue
		}
		spec := get(d, "spec", "template", "spec")
		grace, _ := get(spec, "terminationGracePeriodSeconds").(int)
		if grace != 0 && time.Duration(grace)*time.Second <= cfg.ShutdownTimeout {
			t.Errorf("%v: terminationGracePeriodSeconds %d <= shutdown_timeout %v", get(d, "metadata", "name"), grace, cfg.ShutdownTimeout)
		}
		for _, c := range get(spec, "containers").([]any) {
			var args []string
			for _, a := range get(c, "args").([]any) {
				args = append(args, a.(string))
			}
			if err := runsAs(t, args...); err != nil {
				t.Errorf("container runs %q, not a tagstream command line: %v", args, err)
			}
			for _, pr := range get(c, "ports").([]any) {
				if p := get(pr, "containerPort"); p != mustAtoi(t, port) {
					t.Errorf("containerPort %v, http.addr port %s", p, port)
				}
			}
			for probe, want := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
				if got := get(c, probe, "httpGet", "path"); got != want {
					t.Errorf("%s path %v, want %s", probe, got, want)
				}
			}
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	if !regexp.MustCompile(`^\d+$`).MatchString(s) {
		t.Fatalf("port %q", s)
	}
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestCompose checks docker-compose.yml: the services of the stack, that
// every tagstream service runs a real command with environment variables
// of existing, valid config keys, reaches the brokers by service name and
// listener, and that the two serving replicas share one group while one
// trainer learns. Not parallel: it sets TAGSTREAM_* variables to load them.
func TestCompose(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Healthcheck map[string]any    `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, s := range []string{"kafka", "nats", "seed", "tagstream-1", "tagstream-2", "trainer", "prometheus", "grafana"} {
		if _, ok := c.Services[s]; !ok {
			t.Errorf("docker-compose.yml has no service %s", s)
		}
	}
	kafka := c.Services["kafka"].Environment
	internal := ""
	for _, l := range strings.Split(kafka["KAFKA_ADVERTISED_LISTENERS"], ",") {
		if name, addr, ok := strings.Cut(l, "://"); ok && name == kafka["KAFKA_INTER_BROKER_LISTENER_NAME"] {
			internal = addr
		}
	}
	if internal == "" {
		t.Fatalf("no advertised listener named by KAFKA_INTER_BROKER_LISTENER_NAME in %v", kafka)
	}
	if !strings.Contains(kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"], kafka["KAFKA_NODE_ID"]+"@") || kafka["KAFKA_PROCESS_ROLES"] != "broker,controller" {
		t.Errorf("kafka is not a single KRaft node: %v", kafka)
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	httpPort := regexp.MustCompile(`TAGSTREAM_HTTP_ADDR=[0-9.]*:(\d+)`).FindSubmatch(df)
	if httpPort == nil {
		t.Fatal("the Dockerfile sets no TAGSTREAM_HTTP_ADDR")
	}
	groups := map[string]string{}
	trainers := 0
	for name, s := range c.Services {
		if s.Image != "tagstream:local" {
			continue
		}
		if err := runsAs(t, s.Command...); err != nil {
			t.Errorf("service %s runs %q, not a tagstream command line: %v", name, s.Command, err)
			continue
		}
		// The environment must load as a configuration.
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.EnvPrefix+"_") {
				t.Setenv(k, "")
			}
		}
		for k, v := range s.Environment {
			t.Setenv(k, v)
		}
		cfg, err := config.Load("", nil)
		if err != nil {
			t.Errorf("service %s: its environment does not load: %v", name, err)
			continue
		}
		for k := range s.Environment {
			key := strings.ToLower(strings.TrimPrefix(k, config.EnvPrefix+"_"))
			if !slices.ContainsFunc(config.Keys(), func(c string) bool { return strings.ReplaceAll(c, ".", "_") == key }) {
				t.Errorf("service %s: %s names no config key", name, k)
			}
		}
		if s.Command[0] == "produce" {
			for _, want := range []string{"--brokers " + internal, "--topic " + cfg.Kafka.Topics[0], "--create-topic", "--partitions 4", "--demo"} {
				if !strings.Contains(strings.Join(s.Command, " "), want) {
					t.Errorf("service %s: %q lacks %q", name, s.Command, want)
				}
			}
			continue
		}
		if got := strings.Join(cfg.Kafka.Brokers, ","); got != internal {
			t.Errorf("service %s: brokers %s, want the internal listener %s", name, got, internal)
		}
		if host := strings.TrimPrefix(strings.Split(cfg.NATS.URL, ":")[1], "//"); c.Services[host].Image == "" {
			t.Errorf("service %s: NATS URL %s names no service", name, cfg.NATS.URL)
		}
		if len(s.Ports) != 1 || !strings.HasSuffix(s.Ports[0], ":"+string(httpPort[1])) {
			t.Errorf("service %s: ports %v, want one mapping to the container's HTTP port %s", name, s.Ports, httpPort[1])
		}
		switch s.Command[0] {
		case "run":
			if cfg.Finetune.Enabled {
				t.Errorf("service %s: serving replica with finetune.enabled (the trainer learns)", name)
			}
			groups[name] = cfg.Kafka.Group
		case "trainer":
			trainers++
			if cfg.Models.Bucket == "" || cfg.NATS.Mode != "jetstream" {
				t.Errorf("service %s: the trainer needs the model bucket in jetstream mode", name)
			}
		default:
			t.Errorf("service %s runs %q", name, s.Command[0])
		}
	}
	if len(groups) != 2 || groups["tagstream-1"] != groups["tagstream-2"] || trainers != 1 {
		t.Errorf("serving replicas and groups %v, %d trainers: want 2 replicas in one group and 1 trainer", groups, trainers)
	}
}

// bin is the tagstream binary TestMain builds for the checks of the
// command lines the deployment files run.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tagstream-deploy-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "tagstream")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/tagstream").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build tagstream: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runsAs reports whether the binary accepts args as a command line: the
// command exists and takes those flags (it runs with --help added, so
// nothing starts). A bare root is not a command.
func runsAs(t *testing.T, args ...string) error {
	t.Helper()
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("no command in %q", args)
	}
	cmd := exec.Command(bin, append(slices.Clone(args), "--help")...)
	cmd.Env = []string{"HOME=" + t.TempDir()} // no TAGSTREAM_* from the test's environment
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	if !strings.Contains(string(out), "tagstream "+args[0]) {
		return fmt.Errorf("help of %q does not name the command:\n%s", args[0], out)
	}
	return nil
}

// TestRunsAs: the command-line check refuses an unknown command, an
// unknown flag and a bare flag list, so the checks above can fail.
func TestRunsAs(t *testing.T) {
	t.Parallel()
	if err := runsAs(t, "run", "--config", "/etc/tagstream/tagstream.yaml"); err != nil {
		t.Fatalf("run --config: %v", err)
	}
	for _, bad := range [][]string{{"runn"}, {"run", "--no-such-flag"}, {"--config", "x"}, {"produce", "--partitions", "many"}} {
		if err := runsAs(t, bad...); err == nil {
			t.Errorf("runsAs(%q) accepted it", bad)
		}
	}
}
