package model

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math"
	"strings"

	"github.com/tagstream/tagstream/model/safetensors"
)

// int8 quantization of model files ("tagstream quantize"): every weight
// matrix with at least quantizeMinElems elements is stored as int8 with one
// float32 scale per row (symmetric: w ≈ q·scale, scale = max|w_row|/127), in
// the tensor "<name>" (I8) and "<name>.scale" (BF16, rounded up so no
// value clips). Biases, CRF transitions
// and other small tensors stay float32. Loading dequantizes into the usual
// parameters, so inference runs unchanged in float32 on the dequantized
// weights; the file (and its download) is about 4× smaller.

// quantizeMinElems is the smallest matrix stored as int8.
const quantizeMinElems = 1024

// scaleSuffix names the per-row scale tensor of a quantized matrix.
const scaleSuffix = ".scale"

// quantizeRows quantizes the rows×cols matrix w row by row. The error of
// every element is at most half its row's scale.
func quantizeRows(w []float64, rows, cols int) ([]int8, []float32) {
	q := make([]int8, rows*cols)
	scale := make([]float32, rows)
	for r := range rows {
		row := w[r*cols : (r+1)*cols]
		var m float64
		for _, x := range row {
			m = max(m, math.Abs(x))
		}
		s := ceilBF16(float32(m / 127))
		if s == 0 { // all zero, or too small for a float32 scale: stored as 0
			continue
		}
		scale[r] = s
		inv := 1 / float64(s)
		for c, x := range row {
			q[r*cols+c] = int8(max(-127, min(127, math.Round(x*inv))))
		}
	}
	return q, scale
}

// ceilBF16 rounds x >= 0 up to the nearest bfloat16 value (the top 16 bits
// of a float32).
func ceilBF16(x float32) float32 {
	b := math.Float32bits(x)
	if b&0xffff != 0 {
		b += 0x10000
	}
	return math.Float32frombits(b &^ 0xffff)
}

// newBF16 is a BF16 tensor of values that are exact bfloat16 (ceilBF16).
func newBF16(name string, shape []int, v []float32) safetensors.Tensor {
	data := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(math.Float32bits(x)>>16))
	}
	return safetensors.Tensor{Name: name, DType: safetensors.BF16, Shape: shape, Data: data}
}

// dequantizeRows writes q·scale into dst (rows×cols).
func dequantizeRows(dst []float64, q []int8, scale []float32, rows, cols int) error {
	if len(q) != rows*cols || len(scale) != rows || len(dst) != rows*cols {
		return fmt.Errorf("%w: int8 matrix %d×%d with %d values and %d scales", ErrFormat, rows, cols, len(q), len(scale))
	}
	for r := range rows {
		s := float64(scale[r])
		if math.IsNaN(s) || s < 0 || 127*s > math.MaxFloat32 {
			return fmt.Errorf("%w: row %d scale %v, want 0..MaxFloat32/127", ErrFormat, r, s)
		}
		for c := range cols {
			dst[r*cols+c] = float64(q[r*cols+c]) * s
		}
	}
	return nil
}

// QuantizeReport says what Quantize did.
type QuantizeReport struct {
	Kind              string
	Matrices, Kept    int     // tensors stored as int8, tensors kept as they were
	InBytes, OutBytes int64   // tensor payload before and after
	MaxAbsErr         float64 // largest |w - dequantized w|
}

// Quantize reads a model file (classifier or tagger, checked like a load
// does up to the tensors) and writes it with int8 weight matrices (see the
// top of this file). The metadata is kept, with dtype "I8"; the writer
// computes a new checksum, so the model version changes.
func Quantize(r io.Reader, w io.Writer) (QuantizeReport, error) {
	var rep QuantizeReport
	h, err := readHeader(r)
	if err != nil {
		return rep, err
	}
	if h.kind != KindClassifier && h.kind != KindTagger {
		return rep, fmt.Errorf("%w: kind %q, want %q or %q", ErrFormat, h.kind, KindClassifier, KindTagger)
	}
	if h.meta[metaDType] == string(safetensors.I8) {
		return rep, fmt.Errorf("%w: already quantized (dtype I8)", ErrConfig)
	}
	rep.Kind = h.kind
	var ts []safetensors.Tensor
	for _, t := range h.file.Tensors {
		rep.InBytes += int64(len(t.Data))
		n, err := safetensors.Elements(t.Shape)
		if err != nil {
			return rep, fmt.Errorf("%w: tensor %q: %v", ErrFormat, t.Name, err)
		}
		if len(t.Shape) != 2 || n < quantizeMinElems || strings.HasSuffix(t.Name, scaleSuffix) {
			ts = append(ts, t)
			rep.OutBytes += int64(len(t.Data))
			rep.Kept++
			continue
		}
		v, err := t.Float64s()
		if err != nil {
			return rep, fmt.Errorf("%w: tensor %q: %v", ErrFormat, t.Name, err)
		}
		rows, cols := t.Shape[0], t.Shape[1]
		q, scale := quantizeRows(v, rows, cols)
		back := make([]float64, len(v))
		if err := dequantizeRows(back, q, scale, rows, cols); err != nil {
			return rep, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		for i := range v {
			rep.MaxAbsErr = max(rep.MaxAbsErr, math.Abs(back[i]-v[i]))
		}
		qt, st := safetensors.NewI8(t.Name, t.Shape, q), newBF16(t.Name+scaleSuffix, []int{rows}, scale)
		ts = append(ts, qt, st)
		rep.OutBytes += int64(len(qt.Data) + len(st.Data))
		rep.Matrices++
	}
	meta := maps.Clone(h.meta)
	delete(meta, safetensors.ChecksumKey)
	meta[metaDType] = string(safetensors.I8)
	return rep, safetensors.Write(w, ts, meta)
}

// isScale reports whether t is the scale tensor of an int8 matrix.
func (h *header) isScale(t safetensors.Tensor) bool {
	base, ok := strings.CutSuffix(t.Name, scaleSuffix)
	if !ok {
		return false
	}
	b, ok := h.file.Lookup(base)
	return ok && b.DType == safetensors.I8
}

// int8Weights dequantizes the int8 matrix name (rows×cols) into dst.
func (h *header) int8Weights(dst []float64, name string, rows, cols int) error {
	t, err := h.file.Tensor(name, safetensors.I8, rows, cols)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	q, err := t.Int8s()
	if err != nil {
		return fmt.Errorf("%w: tensor %q: %v", ErrFormat, name, err)
	}
	st, err := h.file.Tensor(name+scaleSuffix, safetensors.BF16, rows)
	if err != nil {
		return fmt.Errorf("%w: int8 tensor %q: %v", ErrFormat, name, err)
	}
	scale, err := st.Float32s()
	if err != nil {
		return fmt.Errorf("%w: tensor %q: %v", ErrFormat, st.Name, err)
	}
	if err := dequantizeRows(dst, q, scale, rows, cols); err != nil {
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	return nil
}
