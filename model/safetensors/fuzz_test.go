package safetensors

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/fuzz/FuzzRead seed files")

// seeds are the named seed inputs of FuzzRead, valid and invalid.
func seeds(t testing.TB) map[string][]byte {
	t.Helper()
	write := func(tensors []Tensor, meta map[string]string) []byte {
		var b bytes.Buffer
		if err := Write(&b, tensors, meta); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	return map[string][]byte{
		"valid_empty": write(nil, nil),
		"valid_mixed": write([]Tensor{
			NewF32("w", []int{2, 2}, []float32{1, 2, 3, 4}),
			NewF64("b", []int{2}, []float64{-1, 0.5}),
			NewI8("q", []int{3}, []int8{-1, 0, 1}),
			NewI32("ids", []int{}, []int32{7}),
			NewF32("none", []int{0, 4}, nil),
		}, map[string]string{"format": "pt", "kind": "lstm"}),
		"valid_no_checksum": build(`{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[],"data_offsets":[2,4]}}`, []byte{0, 0x3c, 0x80, 0x3f}),
		"valid_unordered":   build(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}  `, []byte{1, 2}),
		"overlap":           build(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, make([]byte, 3)),
		"overflow":          build(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil),
		"bad_metadata":      build(`{"__metadata__":{"a":1}}`, nil),
		"huge_length":       []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'},
	}
}

// TestSeedCorpus keeps testdata/fuzz/FuzzRead in sync with seeds; run
// with -update to regenerate it.
func TestSeedCorpus(t *testing.T) {
	for name, data := range seeds(t) {
		path := filepath.Join("testdata", "fuzz", "FuzzRead", name)
		content := []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s is stale or missing (%v); run go test -run TestSeedCorpus -update", path, err)
		}
	}
}

// FuzzRead checks that Read never panics and that any file it accepts
// survives Write and Read unchanged (apart from the recomputed checksum),
// and that Write's output is a fixed point.
func FuzzRead(f *testing.F) {
	for _, data := range seeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		first, err := Read(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := Write(&b, first.Tensors, first.Meta); err != nil {
			t.Fatalf("re-write of an accepted file: %v", err)
		}
		second, err := Read(bytes.NewReader(b.Bytes()), 0)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		wantMeta := maps.Clone(first.Meta)
		wantMeta[ChecksumKey] = second.Meta[ChecksumKey]
		if !maps.Equal(wantMeta, second.Meta) {
			t.Fatalf("meta %v, re-read as %v", first.Meta, second.Meta)
		}
		if err := sameTensors(first.Tensors, second.Tensors); err != nil {
			t.Fatal(err)
		}
		var again bytes.Buffer
		if err := Write(&again, second.Tensors, second.Meta); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), again.Bytes()) {
			t.Fatal("Write output is not a fixed point")
		}
	})
}

func sameTensors(a, b []Tensor) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d tensors, re-read %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.DType != y.DType || !slices.Equal(x.Shape, y.Shape) || !bytes.Equal(x.Data, y.Data) {
			return fmt.Errorf("tensor %d: %+v, re-read %+v", i, x, y)
		}
	}
	return nil
}
