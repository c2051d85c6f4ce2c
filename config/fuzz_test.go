package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoad writes arbitrary bytes to a config file and loads it. Load must
// never panic; an error must wrap ErrInvalid (the file exists and is
// readable); and a loaded Config must be valid and survive a round trip
// through its own YAML rendering.
func FuzzLoad(f *testing.F) {
	clearEnv(f)
	if b, err := os.ReadFile(examplePath); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"workers: 4\n",
		"kafka:\n  brokers: a:1,b:2\n",
		"kafka: 5\n",
		"kafka:\n  brokers: {a: 1}\n",
		"batch:\n  max_delay: 5\n",
		"batch:\n  max_delay: 1e3\n",
		"batch: {max_size: 1.5}\n",
		"nats:\n  url: [1, 2]\n",
		"? [a]\n: b\n",
		"1: 2\n",
		"kafka.brokers: [x:1]\n",
		"a: &a [*a]\n",
		"finetune:\n  max_regression: .nan\n",
		"models: {ner_en: ~}\n",
		"KAFKA:\n  Group: g\n",
	} {
		f.Add([]byte(s))
	}
	// One directory per process: a worker runs inputs one at a time, and a
	// fresh t.TempDir per input costs more than Load itself.
	dir := f.TempDir()
	in, again := filepath.Join(dir, "in.yaml"), filepath.Join(dir, "again.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(in, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(in, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Load error %q, want ErrInvalid", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load returned an invalid config: %v", err)
		}
		out, err := c.marshalYAML()
		if err != nil {
			t.Fatalf("marshalYAML: %v", err)
		}
		if err := os.WriteFile(again, out, 0o600); err != nil {
			t.Fatal(err)
		}
		c2, err := Load(again, nil)
		if err != nil {
			t.Fatalf("reload of own YAML: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed config:\n%+v\n%+v\nyaml:\n%s", c, c2, out)
		}
	})
}
