package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// DType is the element type of a tensor, spelled as in the safetensors
// header ("F32", "I64", ...).
type DType string

// Element types. All of them can be read and written as raw bytes; the
// conversion methods on Tensor support the subset they document.
const (
	BOOL    DType = "BOOL"
	U8      DType = "U8"
	I8      DType = "I8"
	F8E5M2  DType = "F8_E5M2"
	F8E4M3  DType = "F8_E4M3"
	I16     DType = "I16"
	U16     DType = "U16"
	F16     DType = "F16"
	BF16    DType = "BF16"
	I32     DType = "I32"
	U32     DType = "U32"
	F32     DType = "F32"
	I64     DType = "I64"
	U64     DType = "U64"
	F64     DType = "F64"
	invalid DType = ""
)

// dtypeSizes is the size in bytes of one element of each known dtype.
// Sub-byte types (F4, F6_*) are not supported.
var dtypeSizes = map[DType]int{
	BOOL: 1, U8: 1, I8: 1, F8E5M2: 1, F8E4M3: 1,
	I16: 2, U16: 2, F16: 2, BF16: 2,
	I32: 4, U32: 4, F32: 4,
	I64: 8, U64: 8, F64: 8,
}

// Size returns the size in bytes of one element of d, or 0 if d is not a
// known dtype.
func (d DType) Size() int { return dtypeSizes[d] }

// Tensor is one named tensor. Data holds the raw little-endian elements in
// row-major order; len(Data) must equal Elements(Shape)*DType.Size(). A
// Shape of length 0 is a scalar (one element); a zero dimension makes an
// empty tensor.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// Elements returns the number of elements of a tensor with the given shape
// (1 for a scalar). It returns an error if a dimension is negative or the
// product overflows int.
func Elements(shape []int) (int, error) {
	n := uint64(1)
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, fmt.Errorf("shape %v overflows", shape)
		}
		n = lo
	}
	return int(n), nil
}

// byteSize returns the number of bytes of a tensor of dtype d and the given
// shape, checking for overflow.
func byteSize(d DType, shape []int) (int, error) {
	size := d.Size()
	if size == 0 {
		return 0, fmt.Errorf("unknown dtype %q", string(d))
	}
	n, err := Elements(shape)
	if err != nil {
		return 0, err
	}
	hi, lo := bits.Mul64(uint64(n), uint64(size))
	if hi != 0 || lo > math.MaxInt {
		return 0, fmt.Errorf("shape %v of %s overflows", shape, d)
	}
	return int(lo), nil
}

// NewF64 returns a tensor of dtype F64 holding a copy of v. It does not check
// len(v) against shape; Write does.
func NewF64(name string, shape []int, v []float64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return Tensor{Name: name, DType: F64, Shape: cloneInts(shape), Data: b}
}

// NewF32 returns a tensor of dtype F32 holding a copy of v. It does not check
// len(v) against shape; Write does.
func NewF32(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: F32, Shape: cloneInts(shape), Data: b}
}

// NewI8 returns a tensor of dtype I8 holding a copy of v. It does not check
// len(v) against shape; Write does.
func NewI8(name string, shape []int, v []int8) Tensor {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return Tensor{Name: name, DType: I8, Shape: cloneInts(shape), Data: b}
}

// NewU8 returns a tensor of dtype U8 holding a copy of v. It does not check
// len(v) against shape; Write does.
func NewU8(name string, shape []int, v []uint8) Tensor {
	return Tensor{Name: name, DType: U8, Shape: cloneInts(shape), Data: append([]byte{}, v...)}
}

// NewI32 returns a tensor of dtype I32 holding a copy of v. It does not check
// len(v) against shape; Write does.
func NewI32(name string, shape []int, v []int32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return Tensor{Name: name, DType: I32, Shape: cloneInts(shape), Data: b}
}

// NewI64 returns a tensor of dtype I64 holding a copy of v. It does not check
// len(v) against shape; Write does.
func NewI64(name string, shape []int, v []int64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return Tensor{Name: name, DType: I64, Shape: cloneInts(shape), Data: b}
}

// check returns an error if t's dtype is not one of want or its Data
// length is not a multiple of the element size.
func (t Tensor) check(want ...DType) error {
	for _, d := range want {
		if t.DType == d {
			if len(t.Data)%d.Size() != 0 {
				return fmt.Errorf("tensor %q: %d bytes is not a multiple of %s size %d: %w",
					t.Name, len(t.Data), d, d.Size(), ErrInvalid)
			}
			return nil
		}
	}
	return fmt.Errorf("tensor %q: dtype %q, want one of %v: %w", t.Name, string(t.DType), want, ErrDType)
}

// Float64s returns the elements of t as a new []float64. It converts
// F64, F32, F16 and BF16 exactly, and returns an error wrapping ErrDType
// for any other dtype.
func (t Tensor) Float64s() ([]float64, error) {
	if err := t.check(F64, F32, F16, BF16); err != nil {
		return nil, err
	}
	if t.DType == F64 {
		out := make([]float64, len(t.Data)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, nil
	}
	f32, err := t.Float32s()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(f32))
	for i, x := range f32 {
		out[i] = float64(x)
	}
	return out, nil
}

// Float32s returns the elements of t as a new []float32. It converts F32,
// F16 and BF16 exactly, and returns an error wrapping ErrDType for any other
// dtype (F64 is refused because the conversion would lose precision).
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.check(F32, F16, BF16); err != nil {
		return nil, err
	}
	switch t.DType {
	case F32:
		out := make([]float32, len(t.Data)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return out, nil
	case BF16:
		out := make([]float32, len(t.Data)/2)
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(t.Data[2*i:])) << 16)
		}
		return out, nil
	default: // F16
		out := make([]float32, len(t.Data)/2)
		for i := range out {
			out[i] = halfToFloat32(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
		return out, nil
	}
}

// Int8s returns the elements of a tensor of dtype I8 as a new []int8.
func (t Tensor) Int8s() ([]int8, error) {
	if err := t.check(I8); err != nil {
		return nil, err
	}
	out := make([]int8, len(t.Data))
	for i, b := range t.Data {
		out[i] = int8(b)
	}
	return out, nil
}

// Int32s returns the elements of a tensor of dtype I32 as a new []int32.
func (t Tensor) Int32s() ([]int32, error) {
	if err := t.check(I32); err != nil {
		return nil, err
	}
	out := make([]int32, len(t.Data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Int64s returns the elements of a tensor of dtype I64 as a new []int64.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.check(I64); err != nil {
		return nil, err
	}
	out := make([]int64, len(t.Data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

// halfToFloat32 converts an IEEE 754 binary16 value to float32 exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0: // signed zero
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac * 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	}
}

func cloneInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return append([]int{}, s...)
}
