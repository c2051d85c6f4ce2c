package nn

//go:generate go run lstmcell_gen.go

import (
	"math"
	"math/rand/v2"
	"unsafe"
)

// LSTM is one direction of a long short-term memory layer (Hochreiter &
// Schmidhuber 1997, with forget gate, Gers et al. 2000). The four gates are
// fused: Wx is In×4H, Wh is H×4H and B is 4H, columns ordered [i | f | g | o]:
//
//	a_t = x_t·Wx + h_{t-1}·Wh + b
//	i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
//	c_t = f⊙c_{t-1} + i⊙g
//	h_t = o⊙tanh(c_t)
//
// Sequences in a batch have their own lengths; a step past a sequence's
// length leaves its state unchanged (a mask). Reverse runs t = T-1 … 0, so
// with the mask a reversed sequence starts at its own last token.
type LSTM struct {
	In, Hidden int
	Reverse    bool
	Wx, Wh, B  *Param
}

// NewLSTM returns an LSTM with uniform ±1/√H weights, zero biases and forget
// gate bias 1 (Jozefowicz et al. 2015).
func NewLSTM(name string, in, hidden int, reverse bool, rng *rand.Rand) *LSTM {
	l := &LSTM{
		In: in, Hidden: hidden, Reverse: reverse,
		Wx: NewParam(name+".wx", in, 4*hidden),
		Wh: NewParam(name+".wh", hidden, 4*hidden),
		B:  NewParam(name+".b", 1, 4*hidden),
	}
	a := 1 / math.Sqrt(float64(hidden))
	l.Wx.InitUniform(rng, a)
	l.Wh.InitUniform(rng, a)
	l.B.NoDecay = true
	for j := hidden; j < 2*hidden; j++ {
		l.B.W[j] = 1
	}
	return l
}

// Params returns the trainable parameters.
func (l *LSTM) Params() []*Param { return []*Param{l.Wx, l.Wh, l.B} }

// GradView returns an LSTM sharing weights with its own gradients.
func (l *LSTM) GradView() *LSTM {
	q := *l
	q.Wx, q.Wh, q.B = l.Wx.GradView(), l.Wh.GradView(), l.B.GradView()
	return &q
}

// lstmTape holds what backward needs, all time-major (row t·B+b): the state
// entering each step and the cell after it. Gate activations stay in gates.
type lstmTape[T Float] struct {
	hPrev, cPrev, c []T
}

// lstmRecur runs the recurrence over precomputed input projections.
// gates (steps·batch × 4H, time-major) holds x·Wx+b on entry and the gate
// activations on return. h and c (batch×H) are the running state, zeroed here.
// Each output h_t is written to out[(t·batch+b)·ldo + off : … + H]. tape may
// be nil (inference). It panics if a buffer is too small.
func lstmRecur[T Float](gates, wh []T, steps, batch, hid int, lens []int32, reverse bool,
	out []T, ldo, off int, h, c []T, tape *lstmTape[T]) {
	clear(h[:batch*hid])
	clear(c[:batch*hid])
	g4 := 4 * hid
	for s := 0; s < steps; s++ {
		t := s
		if reverse {
			t = steps - 1 - s
		}
		if tape != nil {
			copy(tape.hPrev[t*batch*hid:(t+1)*batch*hid], h[:batch*hid])
			copy(tape.cPrev[t*batch*hid:(t+1)*batch*hid], c[:batch*hid])
		}
		gt := gates[t*batch*g4 : (t+1)*batch*g4]
		if act := activeRows(lens, t); s > 0 && act > 0 {
			// Rows past the last sequence still running need no product;
			// with lengths sorted in descending order no padding is computed.
			Gemm(false, false, act, g4, hid, 1, h, hid, wh, g4, 1, gt, g4)
		}
		for b := 0; b < batch; b++ {
			hb := h[b*hid : (b+1)*hid]
			o := out[(t*batch+b)*ldo+off : (t*batch+b)*ldo+off+hid]
			if int32(t) >= lens[b] {
				copy(o, hb)
				if tape != nil {
					copy(tape.c[(t*batch+b)*hid:(t*batch+b+1)*hid], c[b*hid:(b+1)*hid])
				}
				continue
			}
			cb := c[b*hid : (b+1)*hid]
			row := gt[b*g4 : (b+1)*g4]
			j0 := 0
			if unsafe.Sizeof(row[0]) == 4 {
				j0 = lstmCellVec(as32(row), hid, as32(cb), as32(hb), as32(o))
			}
			lstmCell(row, hid, cb, hb, o, j0)
			if tape != nil {
				copy(tape.c[(t*batch+b)*hid:(t*batch+b+1)*hid], cb)
			}
		}
	}
}

// lstmCell is the cell update of units j0… of one sequence: row holds the
// pre-activations [a_i | a_f | a_g | a_o] (4·hid) and receives the gate
// activations, c is updated and h is written to h and out:
//
//	i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
//	c = f⊙c + i⊙g,  h = o⊙tanh(c)
func lstmCell[T Float](row []T, hid int, c, h, out []T, j0 int) {
	ai, af, ag, ao := row[:hid], row[hid:2*hid], row[2*hid:3*hid], row[3*hid:4*hid]
	c, h, out = c[:hid], h[:hid], out[:hid]
	for j := j0; j < hid; j++ {
		i := Sigmoid(ai[j])
		f := Sigmoid(af[j])
		g := Tanh(ag[j])
		og := Sigmoid(ao[j])
		cj := f*c[j] + i*g
		c[j] = cj
		hj := og * Tanh(cj)
		h[j] = hj
		out[j] = hj
		ai[j], af[j], ag[j], ao[j] = i, f, g, og
	}
}

// LSTMCache is a training goroutine's scratch for one LSTM direction. Its
// buffers grow to the largest batch seen and are reused.
type LSTMCache struct {
	steps, batch int
	gates, dA    []float64
	h, c, dh, dc []float64
	tape         lstmTape[float64]
}

// Forward runs the layer on x (steps·batch × In, time-major) and writes h_t
// into columns [off, off+H) of out (row stride ldo), keeping in cache what
// Backward needs.
func (l *LSTM) Forward(x []float64, steps, batch int, lens []int32, out []float64, ldo, off int, cache *LSTMCache) {
	H, n := l.Hidden, steps*batch
	cache.steps, cache.batch = steps, batch
	cache.gates = Grow(cache.gates, n*4*H)
	cache.h = Grow(cache.h, batch*H)
	cache.c = Grow(cache.c, batch*H)
	cache.tape.hPrev = Grow(cache.tape.hPrev, n*H)
	cache.tape.cPrev = Grow(cache.tape.cPrev, n*H)
	cache.tape.c = Grow(cache.tape.c, n*H)
	for r := 0; r < n; r++ {
		copy(cache.gates[r*4*H:(r+1)*4*H], l.B.W)
	}
	Gemm(false, false, n, 4*H, l.In, 1, x, l.In, l.Wx.W, 4*H, 1, cache.gates, 4*H)
	lstmRecur(cache.gates, l.Wh.W, steps, batch, H, lens, l.Reverse, out, ldo, off, cache.h, cache.c, &cache.tape)
}

// Backward takes dOut (the loss gradient for the outputs Forward wrote, same
// layout), accumulates the parameter gradients and adds the input gradient
// into dx (steps·batch × In) when dx is not nil. Backpropagation through time:
//
//	δh = ∂L/∂h_t + δh_{t+1}·Whᵀ,  δc = δc_{t+1}⊙f_{t+1} + δh⊙o⊙(1-tanh²c_t)
//	δa_i = δc⊙g⊙i(1-i), δa_f = δc⊙c_{t-1}⊙f(1-f), δa_g = δc⊙i⊙(1-g²), δa_o = δh⊙tanh(c_t)⊙o(1-o)
func (l *LSTM) Backward(x []float64, lens []int32, dOut []float64, ldo, off int, dx []float64, cache *LSTMCache) {
	H, steps, batch := l.Hidden, cache.steps, cache.batch
	n, g4 := steps*batch, 4*l.Hidden
	cache.dA = GrowZero(cache.dA, n*g4)
	cache.dh = GrowZero(cache.dh, batch*H)
	cache.dc = GrowZero(cache.dc, batch*H)
	dh, dc := cache.dh, cache.dc
	for s := steps - 1; s >= 0; s-- {
		t := s
		if l.Reverse {
			t = steps - 1 - s
		}
		for b := 0; b < batch; b++ {
			r := t*batch + b
			dhb := dh[b*H : (b+1)*H]
			do := dOut[r*ldo+off : r*ldo+off+H]
			for j := range dhb {
				dhb[j] += do[j]
			}
			if int32(t) >= lens[b] {
				continue // state passed through unchanged: δh, δc flow on
			}
			dcb := dc[b*H : (b+1)*H]
			gr := cache.gates[r*g4 : (r+1)*g4]
			da := cache.dA[r*g4 : (r+1)*g4]
			cPrev := cache.tape.cPrev[r*H : (r+1)*H]
			cT := cache.tape.c[r*H : (r+1)*H]
			for j := 0; j < H; j++ {
				i, f, g, o := gr[j], gr[H+j], gr[2*H+j], gr[3*H+j]
				tc := math.Tanh(cT[j])
				dcj := dcb[j] + dhb[j]*o*(1-tc*tc)
				da[j] = dcj * g * i * (1 - i)
				da[H+j] = dcj * cPrev[j] * f * (1 - f)
				da[2*H+j] = dcj * i * (1 - g*g)
				da[3*H+j] = dhb[j] * tc * o * (1 - o)
				dcb[j] = dcj * f
				dhb[j] = 0
			}
		}
		// δh_{prev} = δa_t·Whᵀ for the rows that stepped; rows past their
		// length kept δh (zeroed above only for stepping rows).
		if act := activeRows(lens, t); act > 0 {
			Gemm(false, true, act, H, g4, 1, cache.dA[t*batch*g4:], g4, l.Wh.W, g4, 1, dh, H)
		}
	}
	// Parameter gradients in three GEMMs over the whole sequence.
	Gemm(true, false, H, g4, n, 1, cache.tape.hPrev, H, cache.dA, g4, 1, l.Wh.G, g4)
	Gemm(true, false, l.In, g4, n, 1, x, l.In, cache.dA, g4, 1, l.Wx.G, g4)
	for r := 0; r < n; r++ {
		da := cache.dA[r*g4 : (r+1)*g4]
		for j, v := range da {
			l.B.G[j] += v
		}
	}
	if dx != nil {
		Gemm(false, true, n, l.In, g4, 1, cache.dA, g4, l.Wx.W, g4, 1, dx, l.In)
	}
}

// activeRows returns 1 + the largest b with lens[b] > t (0 if none): the rows
// of step t that a product must cover.
func activeRows(lens []int32, t int) int {
	for b := len(lens) - 1; b >= 0; b-- {
		if int(lens[b]) > t {
			return b + 1
		}
	}
	return 0
}

// LSTMRecur runs the recurrence of one direction for inference: gates
// (steps·batch × 4H, time-major) holds x·Wx+b on entry and is overwritten;
// wh is H×4H; h and c are batch×H scratch. h_t goes to columns [off, off+H)
// of out (row stride ldo). lens gives each sequence's length; sorted in
// descending order, no work is spent on padding. It does not allocate.
func LSTMRecur[T Float](gates, wh []T, steps, batch, hid int, lens []int32, reverse bool, out []T, ldo, off int, h, c []T) {
	lstmRecur(gates, wh, steps, batch, hid, lens, reverse, out, ldo, off, h, c, nil)
}
