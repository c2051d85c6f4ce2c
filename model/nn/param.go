package nn

import (
	"math"
	"math/rand/v2"
)

// Param is one trainable tensor: row-major weights W with shape Rows×Cols
// (a vector has Rows == 1), its gradient G, and the Adam moments.
//
// Sparse parameters (embedding tables) track which rows received gradient in
// Touched, so zeroing, reduction and the optimizer step only visit those rows.
type Param struct {
	Name       string
	Rows, Cols int
	W, G       []float64
	// NoDecay excludes the parameter from weight decay (biases, embeddings).
	NoDecay bool
	// Sparse marks a row-sparse gradient (embedding tables).
	Sparse bool
	// LRScale multiplies the optimizer's learning rate for this parameter
	// (discriminative fine-tuning, Howard & Ruder 2018); 0 means 1.
	LRScale float64
	// Frozen keeps the weights fixed (gradual unfreezing): the optimizer
	// neither applies nor counts the parameter's gradient.
	Frozen  bool
	touched []int32
	mark    []bool
	m, v    []float64
}

// NewParam returns a zero Param of shape rows×cols.
func NewParam(name string, rows, cols int) *Param {
	return &Param{Name: name, Rows: rows, Cols: cols, W: make([]float64, rows*cols), G: make([]float64, rows*cols)}
}

// GradView returns a new Param that shares p's weights but owns its own
// gradient buffer: one per training goroutine, reduced with AddGrad.
func (p *Param) GradView() *Param {
	q := *p
	q.G = make([]float64, len(p.W))
	q.touched, q.mark, q.m, q.v = nil, nil, nil, nil
	if p.Sparse {
		q.mark = make([]bool, p.Rows)
	}
	return &q
}

// Touch records that row r of a sparse parameter received gradient.
func (p *Param) Touch(r int32) {
	if p.mark == nil {
		p.mark = make([]bool, p.Rows)
	}
	if !p.mark[r] {
		p.mark[r] = true
		p.touched = append(p.touched, r)
	}
}

// ZeroGrad clears the gradient (only the touched rows of a sparse parameter).
func (p *Param) ZeroGrad() {
	if !p.Sparse {
		clear(p.G)
		return
	}
	for _, r := range p.touched {
		clear(p.G[int(r)*p.Cols : int(r+1)*p.Cols])
		p.mark[r] = false
	}
	p.touched = p.touched[:0]
}

// AddGrad adds q's gradient into p's. Both must have the same shape.
func (p *Param) AddGrad(q *Param) {
	if !p.Sparse {
		for i, g := range q.G {
			p.G[i] += g
		}
		return
	}
	for _, r := range q.touched {
		p.Touch(r)
		dst := p.G[int(r)*p.Cols : int(r+1)*p.Cols]
		for i, g := range q.G[int(r)*p.Cols : int(r+1)*p.Cols] {
			dst[i] += g
		}
	}
}

// sqNorm returns the squared L2 norm of the gradient.
func (p *Param) sqNorm() float64 {
	var s float64
	if !p.Sparse {
		for _, g := range p.G {
			s += g * g
		}
		return s
	}
	for _, r := range p.touched {
		for _, g := range p.G[int(r)*p.Cols : int(r+1)*p.Cols] {
			s += g * g
		}
	}
	return s
}

// InitUniform fills W with values uniform in [-a, a] drawn from rng.
func (p *Param) InitUniform(rng *rand.Rand, a float64) {
	for i := range p.W {
		p.W[i] = (rng.Float64()*2 - 1) * a
	}
}

// InitXavier fills W with Glorot-uniform values for a fanIn→fanOut layer.
func (p *Param) InitXavier(rng *rand.Rand, fanIn, fanOut int) {
	p.InitUniform(rng, math.Sqrt(6/float64(fanIn+fanOut)))
}

// Adam is the Adam optimizer (Kingma & Ba 2015) with decoupled weight decay
// (AdamW, Loshchilov & Hutter 2019) and clipping of the global gradient norm:
//
//	g ← g · min(1, Clip/‖g‖)
//	m ← β1·m + (1-β1)·g,  v ← β2·v + (1-β2)·g²
//	w ← w - LR·( m̂/(√v̂+ε) + WeightDecay·w )
//
// Sparse parameters use lazy updates: only rows with gradient in this step
// move, and their moments decay only when touched (as TensorFlow's LazyAdam).
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay, Clip float64
	t                                        int
}

// NewAdam returns Adam with the usual defaults β1=0.9, β2=0.999, ε=1e-8.
func NewAdam(lr, weightDecay, clip float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay, Clip: clip}
}

// Step applies one update to params from their gradients and returns the
// gradient norm before clipping. It does not zero the gradients.
func (a *Adam) Step(params []*Param) float64 {
	var sq float64
	for _, p := range params {
		if !p.Frozen {
			sq += p.sqNorm()
		}
	}
	norm := math.Sqrt(sq)
	scale := 1.0
	if a.Clip > 0 && norm > a.Clip {
		scale = a.Clip / norm
	}
	a.t++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.t))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.t))
	for _, p := range params {
		if p.Frozen {
			continue
		}
		if p.m == nil {
			p.m = make([]float64, len(p.W))
			p.v = make([]float64, len(p.W))
		}
		wd := a.WeightDecay
		if p.NoDecay {
			wd = 0
		}
		lr := a.LR
		if p.LRScale > 0 {
			lr *= p.LRScale
		}
		if !p.Sparse {
			a.update(p.W, p.G, p.m, p.v, lr, scale, bc1, bc2, wd)
			continue
		}
		for _, r := range p.touched {
			lo, hi := int(r)*p.Cols, int(r+1)*p.Cols
			a.update(p.W[lo:hi], p.G[lo:hi], p.m[lo:hi], p.v[lo:hi], lr, scale, bc1, bc2, wd)
		}
	}
	return norm
}

func (a *Adam) update(w, g, m, v []float64, lr, scale, bc1, bc2, wd float64) {
	b1, b2 := a.Beta1, a.Beta2
	for i := range w {
		gi := g[i] * scale
		m[i] = b1*m[i] + (1-b1)*gi
		v[i] = b2*v[i] + (1-b2)*gi*gi
		w[i] -= lr * ((m[i]/bc1)/(math.Sqrt(v[i]/bc2)+a.Eps) + wd*w[i])
	}
}

// TouchedRows returns the rows of a sparse parameter that hold gradient.
// The caller must not modify the slice.
func (p *Param) TouchedRows() []int32 { return p.touched }
