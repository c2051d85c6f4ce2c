package safetensors

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestWriteLayout checks Write's output byte for byte against a
// hand-assembled file.
func TestWriteLayout(t *testing.T) {
	t.Parallel()
	tensors := []Tensor{
		NewI8("b", nil, []int8{5}),              // scalar: 1 byte 05
		NewF32("a", []int{2}, []float32{1, -2}), // 1.0 = 0x3f800000, -2.0 = 0xc0000000
	}
	// Payload in name order: a (8 bytes) then b (1 byte). Its SHA-256 was
	// computed with: printf '\x00\x00\x80\x3f\x00\x00\x00\xc0\x05' | sha256sum
	payload := []byte{0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x05}
	const sum = "935d0b0afcc85b2cea0bc73fa2a5c4d606e6a507caa7889d70d4729d75c1f83c"
	// The header JSON is 212 bytes; padding to a multiple of 8 adds 4
	// spaces: N = 216 = 0xd8.
	header := `{"__metadata__":{"format":"pt","sha256":"` + sum + `"},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"I8","shape":[],"data_offsets":[8,9]}}` + "    "
	want := append([]byte{0xd8, 0, 0, 0, 0, 0, 0, 0}, header...)
	want = append(want, payload...)

	var got bytes.Buffer
	meta := map[string]string{"format": "pt"}
	if err := Write(&got, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("Write output:\n%q\nwant:\n%q", got.Bytes(), want)
	}
	if _, ok := meta[ChecksumKey]; ok {
		t.Error("Write modified the caller's metadata map")
	}
	if (8+len(header))%8 != 0 {
		t.Errorf("byte buffer starts at %d, not 8-aligned", 8+len(header))
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	f16 := Tensor{Name: "half", DType: F16, Shape: []int{4}, Data: []byte{
		0x00, 0x3c, // 1.0
		0x00, 0xc0, // -2.0
		0x01, 0x00, // smallest subnormal 2^-24
		0x00, 0x7c, // +Inf
	}}
	bf16 := Tensor{Name: "brain", DType: BF16, Shape: []int{2}, Data: []byte{0x80, 0x3f, 0x40, 0xc0}} // 1.0, -3.0
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
	}{
		{"no tensors", nil, nil},
		{"all constructors", []Tensor{
			NewF64("f64", []int{2, 3}, []float64{0, 1, -1, math.Pi, math.Inf(-1), math.MaxFloat64}),
			NewF32("f32", []int{3}, []float32{1.5, -0, math.SmallestNonzeroFloat32}),
			NewI8("i8", []int{2, 2}, []int8{-128, -1, 0, 127}),
			NewU8("u8", []int{3}, []uint8{0, 1, 255}),
			NewI32("i32", []int{2}, []int32{math.MinInt32, math.MaxInt32}),
			NewI64("i64", []int{1, 1, 2}, []int64{math.MinInt64, 42}),
		}, map[string]string{"format": "pt", "model": "lstm", "<&>": "\"quoted\"\n"}},
		{"scalars", []Tensor{
			NewF64("s", []int{}, []float64{2.5}),
			NewI32("t", nil, []int32{-7}),
		}, nil},
		{"empty tensors", []Tensor{
			NewF32("e0", []int{0}, nil),
			NewF64("e1", []int{3, 0, 2}, nil),
			NewI8("x", []int{1}, []int8{1}),
			NewI32("e2", []int{0, 5}, []int32{}),
		}, nil},
		{"raw dtypes", []Tensor{
			f16, bf16,
			{Name: "bool", DType: BOOL, Shape: []int{2}, Data: []byte{0, 1}},
			{Name: "u64", DType: U64, Shape: []int{1}, Data: make([]byte, 8)},
			{Name: "unicode 名字", DType: U16, Shape: []int{1}, Data: []byte{1, 2}},
		}, map[string]string{"": "empty key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := Write(&b, tt.tensors, tt.meta); err != nil {
				t.Fatal(err)
			}
			f, err := Read(bytes.NewReader(b.Bytes()), int64(b.Len()))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.meta {
				if f.Meta[k] != v {
					t.Errorf("meta[%q] = %q, want %q", k, f.Meta[k], v)
				}
			}
			if len(f.Meta) != len(tt.meta)+1 || len(f.Meta[ChecksumKey]) != 64 {
				t.Errorf("meta = %v, want the input plus a sha256", f.Meta)
			}
			want := slices.Clone(tt.tensors)
			slices.SortFunc(want, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
			if len(f.Tensors) != len(want) {
				t.Fatalf("read %d tensors, want %d", len(f.Tensors), len(want))
			}
			for i, w := range want {
				g := f.Tensors[i]
				if g.Name != w.Name || g.DType != w.DType || !slices.Equal(g.Shape, cloneInts(w.Shape)) || !bytes.Equal(g.Data, w.Data) {
					t.Errorf("tensor %d = %+v, want %+v", i, g, w)
				}
				if _, err := f.Tensor(w.Name, w.DType, w.Shape...); err != nil {
					t.Errorf("Tensor(%q): %v", w.Name, err)
				}
			}
		})
	}
}

func TestConversions(t *testing.T) {
	t.Parallel()
	f16 := Tensor{Name: "h", DType: F16, Shape: []int{5}, Data: []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c, 0x00, 0x80}}
	bf16 := Tensor{Name: "b", DType: BF16, Shape: []int{2}, Data: []byte{0x80, 0x3f, 0x40, 0xc0}}
	got, err := f16.Float64s()
	// F16 bits: 0x3c00 = 1, 0xc000 = -2, 0x0001 = 2^-24, 0x7c00 = +Inf, 0x8000 = -0.
	if want := []float64{1, -2, math.Ldexp(1, -24), math.Inf(1), 0}; err != nil || !slices.Equal(got, want) {
		t.Errorf("F16 Float64s = %v, %v; want %v", got, err, want)
	}
	if got[4] != 0 || !math.Signbit(got[4]) {
		t.Errorf("F16 0x8000 = %v, want -0", got[4])
	}
	// BF16 is the top half of a float32: 0x3f80 = 1, 0xc040 = -3.
	if got, err := bf16.Float32s(); err != nil || !slices.Equal(got, []float32{1, -3}) {
		t.Errorf("BF16 Float32s = %v, %v", got, err)
	}
	f32 := NewF32("f", []int{2}, []float32{0.1, -4})
	if got, err := f32.Float64s(); err != nil || !slices.Equal(got, []float64{float64(float32(0.1)), -4}) {
		t.Errorf("F32 Float64s = %v, %v", got, err)
	}
	i32 := NewI32("i", []int{1}, []int32{-3})
	tests := []struct {
		name string
		call func() error
	}{
		{"I32 Float64s", func() error { _, err := i32.Float64s(); return err }},
		{"F64 Float32s", func() error { _, err := NewF64("d", []int{1}, []float64{1}).Float32s(); return err }},
		{"F32 Int32s", func() error { _, err := f32.Int32s(); return err }},
		{"I32 Int8s", func() error { _, err := i32.Int8s(); return err }},
		{"F32 Int64s", func() error { _, err := f32.Int64s(); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.call(); !errors.Is(err, ErrDType) {
				t.Errorf("err = %v, want ErrDType", err)
			}
		})
	}
	bad := Tensor{Name: "odd", DType: F32, Data: []byte{1, 2, 3}}
	if _, err := bad.Float32s(); !errors.Is(err, ErrInvalid) {
		t.Errorf("3-byte F32: err = %v, want ErrInvalid", err)
	}
}

func TestWriteInvalid(t *testing.T) {
	t.Parallel()
	ok := NewF32("ok", []int{1}, []float32{1})
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
	}{
		{"empty name", []Tensor{NewF32("", []int{1}, []float32{1})}, nil},
		{"reserved name", []Tensor{NewF32(MetadataKey, []int{1}, []float32{1})}, nil},
		{"duplicate name", []Tensor{ok, ok}, nil},
		{"invalid utf-8 name", []Tensor{NewU8("\xff", []int{1}, []uint8{1})}, nil},
		{"invalid utf-8 metadata", []Tensor{ok}, map[string]string{"k": "\xfe"}},
		{"short data", []Tensor{NewF32("x", []int{2}, []float32{1})}, nil},
		{"long data", []Tensor{NewF64("x", []int{}, []float64{1, 2})}, nil},
		{"negative dimension", []Tensor{NewI8("x", []int{-1}, nil)}, nil},
		{"overflowing shape", []Tensor{NewI8("x", []int{math.MaxInt, 3}, nil)}, nil},
		{"unknown dtype", []Tensor{{Name: "x", DType: "F128", Shape: []int{}, Data: make([]byte, 16)}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := Write(&b, tt.tensors, tt.meta); !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", b.Len())
			}
		})
	}
}

func TestFileTensor(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Write(&b, []Tensor{NewF64("w", []int{2, 3}, make([]float64, 6)), NewF64("s", nil, []float64{1})}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Read(&b, 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tensor  string
		dtype   DType
		shape   []int
		wantErr error
		wantMsg string
	}{
		{"match", "w", F64, []int{2, 3}, nil, ""},
		{"any dtype", "w", "", []int{2, 3}, nil, ""},
		{"scalar", "s", F64, nil, nil, ""},
		{"missing", "v", F64, nil, ErrNotFound, `tensor "v"`},
		{"dtype", "w", F32, []int{2, 3}, ErrMismatch, `tensor "w": dtype F64, want F32`},
		{"shape", "w", F64, []int{3, 2}, ErrMismatch, `tensor "w": shape [2 3], want [3 2]`},
		{"rank", "s", F64, []int{1}, ErrMismatch, `tensor "s": shape [], want [1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.Tensor(tt.tensor, tt.dtype, tt.shape...)
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Errorf("err = %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}
