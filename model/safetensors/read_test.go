package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// build assembles a file from a raw header and byte buffer.
func build(header string, buf []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, buf...)
}

func validFile(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	err := Write(&b, []Tensor{
		NewF32("a", []int{2}, []float32{1, 2}),
		NewI8("b", []int{3}, []int8{1, 2, 3}),
	}, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadInvalid(t *testing.T) {
	t.Parallel()
	valid := validFile(t)
	flipped := bytes.Clone(valid)
	flipped[len(flipped)-1] ^= 1
	eight := make([]byte, 8)
	tests := []struct {
		name    string
		file    []byte
		max     int64
		wantErr error
	}{
		{"empty", nil, 0, ErrTruncated},
		{"short length", []byte{1, 0, 0}, 0, ErrTruncated},
		{"truncated header", valid[:20], 0, ErrTruncated},
		{"truncated buffer", valid[:len(valid)-1], 0, ErrTruncated},
		{"trailing byte", append(bytes.Clone(valid), 0), 0, ErrHeader},
		{"huge header length", binary.LittleEndian.AppendUint64(nil, 1<<63), 0, ErrTooLarge},
		{"header just over 100 MB", binary.LittleEndian.AppendUint64(nil, MaxHeaderBytes+1), 0, ErrTooLarge},
		{"header length over max bytes", build("{}", nil), 9, ErrTooLarge},
		{"file over max bytes", valid, int64(len(valid) - 1), ErrTooLarge},
		{"header length beyond data", binary.LittleEndian.AppendUint64(nil, 1000), 0, ErrTruncated},
		{"zero header", eight, 0, ErrHeader},
		{"leading space", build(` {}`, nil), 0, ErrHeader},
		{"not an object", build(`[]`, nil), 0, ErrHeader},
		{"bad json", build(`{"a":`, nil), 0, ErrHeader},
		{"bad json padding", build(`{}  x`, nil), 0, ErrHeader},
		{"two objects", build(`{}{}`, nil), 0, ErrHeader},
		{"invalid utf-8", build("{\"\xff\":{}}", nil), 0, ErrHeader},
		{"duplicate key", build(`{"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, []byte{1}), 0, ErrHeader},
		{"empty name", build(`{"":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, []byte{1}), 0, ErrHeader},
		{"entry not object", build(`{"a":3}`, nil), 0, ErrHeader},
		{"missing dtype", build(`{"a":{"shape":[],"data_offsets":[0,1]}}`, []byte{1}), 0, ErrHeader},
		{"null shape", build(`{"a":{"dtype":"U8","shape":null,"data_offsets":[0,1]}}`, []byte{1}), 0, ErrHeader},
		{"unknown dtype", build(`{"a":{"dtype":"Q7","shape":[],"data_offsets":[0,1]}}`, []byte{1}), 0, ErrHeader},
		{"negative dim", build(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, nil), 0, ErrHeader},
		{"fractional dim", build(`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,0]}}`, nil), 0, ErrHeader},
		{"overflow dims", build(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), 0, ErrHeader},
		{"overflow bytes", build(`{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}}`, nil), 0, ErrHeader},
		{"dim beyond int64", build(`{"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}}`, nil), 0, ErrHeader},
		{"three offsets", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,1]}}`, []byte{1}), 0, ErrHeader},
		{"reversed offsets", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}`, []byte{1}), 0, ErrHeader},
		{"wrong length", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), 0, ErrHeader},
		{"offsets out of bounds", build(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, make([]byte, 2)), 0, ErrTruncated},
		{"overlap", build(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, make([]byte, 3)), 0, ErrHeader},
		{"same offsets", build(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, make([]byte, 2)), 0, ErrHeader},
		{"gap", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}`, make([]byte, 3)), 0, ErrHeader},
		{"gap at start", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), 0, ErrHeader},
		{"unindexed buffer", build(`{}`, []byte{0}), 0, ErrHeader},
		{"metadata not strings", build(`{"__metadata__":{"a":1}}`, nil), 0, ErrHeader},
		{"metadata not object", build(`{"__metadata__":"x"}`, nil), 0, ErrHeader},
		{"checksum mismatch", flipped, 0, ErrChecksum},
		{"checksum wrong case", build(`{"__metadata__":{"sha256":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}}`, nil), 0, ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Read(bytes.NewReader(tt.file), tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if f != nil {
				t.Errorf("got a file with an error")
			}
			if err != nil && (strings.HasPrefix(err.Error(), "failed") || strings.ContainsAny(err.Error()[:1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
				t.Errorf("error message style: %q", err)
			}
		})
	}
}

func TestReadAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file []byte
		n    int
	}{
		// sha256 of the empty buffer.
		{"empty file", build(`{"__metadata__":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}`, nil), 0},
		{"no metadata", build(`{}`, nil), 0},
		{"null metadata", build(`{"__metadata__":null}`, nil), 0},
		{"padding", build(`{}      `, nil), 0},
		{"unordered offsets", build(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1, 2}), 2},
		{"empty tensors anywhere", build(`{"z":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"m":{"dtype":"F64","shape":[2,0],"data_offsets":[1,1]}}`, []byte{1}), 3},
		{"unknown entry fields", build(`{"a":{"dtype":"U8","shape":[],"data_offsets":[0,1],"extra":true}}`, []byte{7}), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Read(iotest.OneByteReader(bytes.NewReader(tt.file)), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) != tt.n || f.Meta == nil {
				t.Errorf("got %d tensors, meta %v; want %d tensors", len(f.Tensors), f.Meta, tt.n)
			}
		})
	}
}

func TestReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	valid := validFile(t)
	r := io.MultiReader(bytes.NewReader(valid[:30]), iotest.ErrReader(boom))
	if _, err := Read(r, 0); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the reader's error", err)
	}
}

func TestDataIsCapped(t *testing.T) {
	t.Parallel()
	f, err := Read(bytes.NewReader(validFile(t)), 0)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Lookup("a")
	_ = append(a.Data, 9, 9, 9)
	b, _ := f.Lookup("b")
	if got, _ := b.Int8s(); got[0] != 1 {
		t.Errorf("appending to a's data overwrote b: %v", got)
	}
}
