package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// testFlags mirrors how the CLI declares flags: named by the dotted key, with
// defaults that must never win over env or file when the flag is not set.
func testFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("tagstream", pflag.ContinueOnError)
	fs.String("config", "", "unrelated flag, ignored by Load")
	fs.Int("batch.max_size", 999, "")
	fs.Duration("batch.max_delay", 9*time.Second, "")
	fs.StringSlice("kafka.brokers", []string{"flagdefault:1"}, "")
	fs.String("kafka.topics", "", "plain string flag for a list key")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

// Not parallel: uses t.Setenv.
func TestLoadPrecedence(t *testing.T) {
	const file = `
batch:
  max_size: 100
  max_delay: 10ms
kafka:
  brokers: ["file:1"]
  topics: [file.topic]
`
	type want struct {
		size    int
		delay   time.Duration
		brokers []string
		topics  []string
	}
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want want
	}{
		{
			name: "defaults",
			want: want{64, 5 * time.Millisecond, []string{"127.0.0.1:9092"}, []string{"tagstream.events"}},
		},
		{
			name: "file overrides defaults",
			file: file,
			want: want{100, 10 * time.Millisecond, []string{"file:1"}, []string{"file.topic"}},
		},
		{
			name: "env overrides file",
			file: file,
			env: map[string]string{
				"TAGSTREAM_BATCH_MAX_SIZE":  "200",
				"TAGSTREAM_BATCH_MAX_DELAY": "20ms",
				"TAGSTREAM_KAFKA_BROKERS":   "env:1, env:2",
				"TAGSTREAM_KAFKA_TOPICS":    "env.a,env.b",
			},
			want: want{200, 20 * time.Millisecond, []string{"env:1", "env:2"}, []string{"env.a", "env.b"}},
		},
		{
			name: "empty env is ignored",
			file: file,
			env:  map[string]string{"TAGSTREAM_BATCH_MAX_SIZE": "", "TAGSTREAM_KAFKA_BROKERS": ""},
			want: want{100, 10 * time.Millisecond, []string{"file:1"}, []string{"file.topic"}},
		},
		{
			name: "flag overrides env",
			file: file,
			env: map[string]string{
				"TAGSTREAM_BATCH_MAX_SIZE":  "200",
				"TAGSTREAM_BATCH_MAX_DELAY": "20ms",
				"TAGSTREAM_KAFKA_BROKERS":   "env:1,env:2",
				"TAGSTREAM_KAFKA_TOPICS":    "env.a",
			},
			args: []string{"--batch.max_size=300", "--batch.max_delay=30ms", "--kafka.brokers=flag:1,flag:2", "--kafka.topics=flag.a, flag.b"},
			want: want{300, 30 * time.Millisecond, []string{"flag:1", "flag:2"}, []string{"flag.a", "flag.b"}},
		},
		{
			name: "unset flag defaults do not override env",
			file: file,
			env:  map[string]string{"TAGSTREAM_BATCH_MAX_SIZE": "200"},
			args: []string{"--config=x.yaml"},
			want: want{200, 10 * time.Millisecond, []string{"file:1"}, []string{"file.topic"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
			}
			c, err := Load(path, testFlags(t, tt.args...))
			if err != nil {
				t.Fatal(err)
			}
			got := want{c.Batch.MaxSize, c.Batch.MaxDelay, c.Kafka.Brokers, c.Kafka.Topics}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Not parallel: uses t.Setenv.
func TestLoadEnvEveryKind(t *testing.T) {
	clearEnv(t)
	t.Setenv("TAGSTREAM_KAFKA_TLS_ENABLED", "true")
	t.Setenv("TAGSTREAM_KAFKA_TLS_CA_FILE", "/etc/ca.pem")
	t.Setenv("TAGSTREAM_KAFKA_FETCH_MAX_BYTES", "2048")
	t.Setenv("TAGSTREAM_NATS_MODE", "core")
	t.Setenv("TAGSTREAM_SHUTDOWN_TIMEOUT", "1m")
	t.Setenv("TAGSTREAM_FINETUNE_MAX_REGRESSION", "0.5")
	t.Setenv("TAGSTREAM_MODELS_NER_ZH", "/m/ner_zh.bin")
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Kafka.TLS.Enabled = true
	want.Kafka.TLS.CAFile = "/etc/ca.pem"
	want.Kafka.FetchMaxBytes = 2048
	want.NATS.Mode = "core"
	want.ShutdownTimeout = time.Minute
	want.Finetune.MaxRegression = 0.5
	want.Models.NERZH = "/m/ner_zh.bin"
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", c, want)
	}
}

// Not parallel: uses t.Setenv.
func TestLoadWorkersZeroIsGOMAXPROCS(t *testing.T) {
	clearEnv(t)
	c, err := Load(writeConfig(t, "workers: 0\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != defaultWorkers() {
		t.Fatalf("workers = %d, want %d", c.Workers, defaultWorkers())
	}
	c, err = Load(writeConfig(t, "workers: 3\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != 3 {
		t.Fatalf("workers = %d, want 3", c.Workers)
	}
}

// Not parallel: uses t.Setenv.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // file content; "" for no file
		env  map[string]string
		args []string
		want []string // substrings of the error
	}{
		{
			name: "unknown top-level key",
			file: "wrokers: 4\n",
			want: []string{"tagstream.yaml", "unknown key wrokers"},
		},
		{
			name: "unknown nested key",
			file: "kafka:\n  brokerz: [a:1]\n  tls:\n    enable: true\n",
			want: []string{"unknown key kafka.brokerz", "unknown key kafka.tls.enable"},
		},
		{
			name: "yaml syntax",
			file: "kafka: [\n",
			want: []string{"tagstream.yaml", "parse yaml"},
		},
		{
			name: "not a mapping",
			file: "- a\n- b\n",
			want: []string{"tagstream.yaml", "parse yaml"},
		},
		{
			name: "wrong type",
			file: "batch:\n  max_size: lots\n",
			want: []string{"batch.max_size", "lots"},
		},
		{
			name: "section is a scalar",
			file: "kafka: 5\n",
			want: []string{"kafka"},
		},
		{
			name: "duration without unit",
			file: "batch:\n  max_delay: 5\n",
			want: []string{"batch.max_delay", "5 has no unit"},
		},
		{
			name: "bad duration",
			file: "shutdown_timeout: soon\n",
			want: []string{"shutdown_timeout", `"soon"`},
		},
		{
			name: "file value out of range",
			file: "batch:\n  max_size: 0\n",
			want: []string{"tagstream.yaml", "batch.max_size = 0, want 1..4096"},
		},
		{
			name: "env value out of range",
			env:  map[string]string{"TAGSTREAM_BATCH_MAX_DELAY": "11s"},
			want: []string{"batch.max_delay = 11s, want 0s..10s"},
		},
		{
			name: "env value wrong type",
			env:  map[string]string{"TAGSTREAM_QUEUE_SIZE": "big"},
			want: []string{"queue_size", "big"},
		},
		{
			name: "flag value out of range",
			args: []string{"--batch.max_size=5000"},
			want: []string{"batch.max_size = 5000, want 1..4096"},
		},
		{
			name: "all problems reported",
			file: "batch:\n  max_size: 0\nlog:\n  level: loud\n",
			want: []string{"batch.max_size = 0", `log.level = "loud", want one of "debug", "info", "warn", "error"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
			}
			_, err := Load(path, testFlags(t, tt.args...))
			if err == nil {
				t.Fatal("Load succeeded, want error")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope", "tagstream.yaml")
	_, err := Load(path, nil)
	if err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %q does not wrap fs.ErrNotExist", err)
	}
	if errors.Is(err, ErrInvalid) {
		t.Errorf("error %q wraps ErrInvalid, want only the os error", err)
	}
}
