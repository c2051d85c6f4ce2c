package nn

import "math/rand/v2"

// Dense is an affine layer y = x·W + b with W In×Out.
type Dense struct {
	In, Out int
	W, B    *Param
}

// NewDense returns a Dense layer with Glorot-uniform weights and zero bias.
func NewDense(name string, in, out int, rng *rand.Rand) *Dense {
	d := &Dense{In: in, Out: out, W: NewParam(name+".w", in, out), B: NewParam(name+".b", 1, out)}
	d.W.InitXavier(rng, in, out)
	d.B.NoDecay = true
	return d
}

// Params returns the trainable parameters.
func (d *Dense) Params() []*Param { return []*Param{d.W, d.B} }

// GradView returns a Dense sharing weights with its own gradients.
func (d *Dense) GradView() *Dense {
	return &Dense{In: d.In, Out: d.Out, W: d.W.GradView(), B: d.B.GradView()}
}

// Affine writes y = x·w + b for n rows (x n×in, w in×out, y n×out).
func Affine[T Float](x []T, n, in int, w, b []T, out int, y []T) {
	for r := 0; r < n; r++ {
		copy(y[r*out:(r+1)*out], b)
	}
	Gemm(false, false, n, out, in, 1, x, in, w, out, 1, y, out)
}

// Forward computes y = x·W + b for n rows.
func (d *Dense) Forward(x []float64, n int, y []float64) {
	Affine(x, n, d.In, d.W.W, d.B.W, d.Out, y)
}

// Backward accumulates ∂L/∂W = xᵀ·δy and ∂L/∂b = Σ δy, and writes
// δx = δy·Wᵀ into dx when dx is not nil.
func (d *Dense) Backward(x []float64, n int, dy, dx []float64) {
	Gemm(true, false, d.In, d.Out, n, 1, x, d.In, dy, d.Out, 1, d.W.G, d.Out)
	for r := 0; r < n; r++ {
		for j, v := range dy[r*d.Out : (r+1)*d.Out] {
			d.B.G[j] += v
		}
	}
	if dx != nil {
		Gemm(false, true, n, d.In, d.Out, 1, dy, d.Out, d.W.W, d.Out, 0, dx, d.In)
	}
}
