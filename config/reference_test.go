package config

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the configuration reference in ../README.md")

// The README's configuration reference is generated from the Config struct:
// its keys and types by reflection, its defaults from Default() and its
// descriptions from the field comments in config.go. The test fails when a
// field has no comment or when the README differs from what the struct
// gives; `go test ./config -run TestREADMEConfigReference -update-readme`
// rewrites the README section.

const (
	refStart = "<!-- config-reference:start (generated from config/config.go by `go test ./config -run TestREADMEConfigReference -update-readme`) -->"
	refEnd   = "<!-- config-reference:end -->"
)

// machineDefaults replaces defaults that depend on the machine.
var machineDefaults = map[string]string{"workers": "GOMAXPROCS"}

func TestREADMEConfigReference(t *testing.T) {
	want, err := configReference()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, refStart), strings.Index(readme, refEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: no section between %q and %q", path, refStart, refEnd)
	}
	got := readme[i+len(refStart) : j]
	if got == want {
		return
	}
	if *updateReadme {
		readme = readme[:i+len(refStart)] + want + readme[j:]
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the configuration reference in %s", path)
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for k := range max(len(gl), len(wl)) {
		g, w := "", ""
		if k < len(gl) {
			g = gl[k]
		}
		if k < len(wl) {
			w = wl[k]
		}
		if g != w {
			t.Fatalf("%s: the configuration reference disagrees with config.Config at its line %d:\nREADME: %s\nstruct: %s\n(run `go test ./config -run TestREADMEConfigReference -update-readme`)", path, k+1, g, w)
		}
	}
}

// configReference renders the Markdown table of every key.
func configReference() (string, error) {
	docs, err := fieldDocs("config.go")
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString("\n\n| key | environment | default | meaning |\n|---|---|---|---|\n")
	var keys []string
	var missing []string
	walkFields(reflect.ValueOf(Default()), "", func(key string, owner reflect.Type, f reflect.StructField, v reflect.Value) {
		keys = append(keys, key)
		doc := docs[owner.Name()+"."+f.Name]
		if doc == "" {
			missing = append(missing, fmt.Sprintf("%s (%s.%s)", key, owner.Name(), f.Name))
		}
		def, ok := machineDefaults[key]
		if !ok {
			def = formatDefault(v)
		}
		env := "`" + EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")) + "`"
		if f.Type == reflect.TypeFor[[]Task]() {
			env = "(per field)"
		}
		fmt.Fprintf(&sb, "| `%s` | %s | %s | %s |\n", key, env, def, strings.ReplaceAll(doc, "|", `\|`))
		if f.Type != reflect.TypeFor[[]Task]() {
			return
		}
		// The fields of one task, as rows "tasks[].<field>".
		tt := reflect.TypeFor[Task]()
		for i := range tt.NumField() {
			tf := tt.Field(i)
			sub := key + "[]." + tf.Tag.Get("mapstructure")
			doc := docs["Task."+tf.Name]
			if doc == "" {
				missing = append(missing, fmt.Sprintf("%s (Task.%s)", sub, tf.Name))
			}
			env := "—"
			if tf.Type == reflect.TypeFor[map[string]string]() {
				env = "`" + EnvPrefix + "_TASKS_<NAME>_" + strings.ToUpper(tf.Tag.Get("mapstructure")) + "_<LANG>`"
			}
			fmt.Fprintf(&sb, "| `%s` | %s | — | %s |\n", sub, env, strings.ReplaceAll(doc, "|", `\|`))
		}
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("config/config.go: fields without a doc comment: %s", strings.Join(missing, ", "))
	}
	if !slices.Equal(keys, Keys()) {
		return "", fmt.Errorf("reference keys %v differ from Keys() %v", keys, Keys())
	}
	sb.WriteString("\n")
	return sb.String(), nil
}

func formatDefault(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		return "`" + x.String() + "`"
	case []string:
		return "`" + strings.Join(x, ",") + "`"
	case []Task:
		var parts []string
		for _, t := range x {
			var langs []string
			for _, l := range slices.Sorted(maps.Keys(t.Models)) {
				langs = append(langs, l+": "+t.Models[l])
			}
			parts = append(parts, "`"+t.Name+"` ("+strings.Join(langs, ", ")+")")
		}
		return strings.Join(parts, "; ")
	case string:
		if x == "" {
			return "(empty)"
		}
		return "`" + x + "`"
	default:
		return fmt.Sprintf("`%v`", x)
	}
}

// fieldDocs maps "Type.Field" to the field's doc comment, joined into one
// line, for every struct type declared in file.
func fieldDocs(file string) (map[string]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, fld := range st.Fields.List {
			if fld.Doc == nil {
				continue
			}
			text := strings.Join(strings.Fields(fld.Doc.Text()), " ")
			for _, name := range fld.Names {
				docs[ts.Name.Name+"."+name.Name] = text
			}
		}
		return false
	})
	return docs, nil
}
