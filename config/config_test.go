package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestDefaultValid(t *testing.T) {
	t.Parallel()
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestLoadNoSourcesIsDefault(t *testing.T) {
	clearEnv(t)
	got, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Load(\"\", nil) =\n%+v\nwant Default() =\n%+v", got, want)
	}
}

// TestTags checks that every field has a mapstructure tag and an identical
// yaml tag, and that keys are unique.
func TestTags(t *testing.T) {
	t.Parallel()
	var check func(rt reflect.Type, prefix string)
	check = func(rt reflect.Type, prefix string) {
		for i := range rt.NumField() {
			f := rt.Field(i)
			ms, y := f.Tag.Get("mapstructure"), f.Tag.Get("yaml")
			if ms == "" || ms != y {
				t.Errorf("%s%s: mapstructure tag %q, yaml tag %q, want equal and non-empty", prefix, f.Name, ms, y)
			}
			if f.Type.Kind() == reflect.Struct {
				check(f.Type, prefix+f.Name+".")
			}
		}
	}
	check(reflect.TypeFor[Config](), "Config.")
	keys := Keys()
	if len(slices.Compact(slices.Sorted(slices.Values(keys)))) != len(keys) {
		t.Errorf("Keys() has duplicates: %q", keys)
	}
}

// yamlKeys returns the dotted leaf keys of a YAML mapping.
func yamlKeys(m map[string]any, prefix string) []string {
	var keys []string
	for k, v := range m {
		if prefix != "" {
			k = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			keys = append(keys, yamlKeys(sub, k)...)
			continue
		}
		keys = append(keys, k)
	}
	return keys
}

const examplePath = "../tagstream.example.yaml"

func TestExampleFileKeyParity(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("parse %s: %v", examplePath, err)
	}
	inFile := yamlKeys(m, "")
	inStruct := Keys()
	for _, k := range inStruct {
		if !slices.Contains(inFile, k) {
			t.Errorf("key %s is in Config but missing from %s", k, examplePath)
		}
	}
	for _, k := range inFile {
		if !slices.Contains(inStruct, k) {
			t.Errorf("key %s is in %s but not in Config", k, examplePath)
		}
	}
}

func TestExampleFileIsDefault(t *testing.T) {
	clearEnv(t)
	path, err := filepath.Abs(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Load(%s) =\n%+v\nwant Default() =\n%+v", examplePath, got, want)
	}
}

func TestErrInvalidPrefix(t *testing.T) {
	t.Parallel()
	if got := ErrInvalid.Error(); got[:len("config: ")] != "config: " {
		t.Fatalf("ErrInvalid = %q, want prefix \"config: \"", got)
	}
	if !errors.Is(Config{}.Validate(), ErrInvalid) {
		t.Fatal("Config{}.Validate() does not wrap ErrInvalid")
	}
}
