package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveGemm is the reference triple loop for Gemm.
func naiveGemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				var av, bv float64
				if tA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if tB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s += av * bv
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.Float64()*2 - 1
	}
	return s
}

func TestGemmMatchesNaive(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	// Sizes sweep 0..N with odd values and sizes past the chunk limits.
	sizes := [][3]int{{0, 3, 2}, {1, 1, 1}, {3, 5, 7}, {65, 193, 3}, {130, 400, 17}, {7, 0, 5}, {64, 192, 64}, {2, 3, 0}}
	for _, sz := range sizes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			m, n, k := sz[0], sz[1], sz[2]
			name := fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v", m, n, k, tr[0], tr[1])
			t.Run(name, func(t *testing.T) {
				lda, ldb := k, n
				if tr[0] {
					lda = m
				}
				if tr[1] {
					ldb = k
				}
				a := randSlice(rng, max(1, m*k))
				b := randSlice(rng, max(1, k*n))
				c := randSlice(rng, max(1, m*n))
				want := append([]float64(nil), c...)
				naiveGemm(tr[0], tr[1], m, n, k, 0.5, a, max(1, lda), b, max(1, ldb), 0.25, want, max(1, n))
				Gemm(tr[0], tr[1], m, n, k, 0.5, a, max(1, lda), b, max(1, ldb), 0.25, c, max(1, n))
				for i := range c {
					if math.Abs(c[i]-want[i]) > 1e-12 {
						t.Fatalf("c[%d] = %v, want %v", i, c[i], want[i])
					}
				}
				// float32 path agrees within single precision.
				a32, b32, c32 := to32(a), to32(b), to32(randSlice(rng, 0))
				c32 = to32(append([]float64(nil), c...))
				Gemm(tr[0], tr[1], m, n, k, 1, a32, max(1, lda), b32, max(1, ldb), 0, c32, max(1, n))
				want2 := append([]float64(nil), c...)
				naiveGemm(tr[0], tr[1], m, n, k, 1, a, max(1, lda), b, max(1, ldb), 0, want2, max(1, n))
				for i := range c32 {
					if math.Abs(float64(c32[i])-want2[i]) > 1e-4*float64(k+1) {
						t.Fatalf("f32 c[%d] = %v, want %v", i, c32[i], want2[i])
					}
				}
			})
		}
	}
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

func TestFastActivations(t *testing.T) {
	t.Parallel()
	// Reference: math.Exp / math.Tanh in float64. Tolerances: FastExp is a
	// cephes-style degree-6 polynomial, relative error ~1e-7; after the
	// float32 rounding of the input we allow 4e-7 relative.
	worst := [3]float64{}
	for x := -30.0; x <= 30; x += 0.001 {
		x32 := float32(x)
		xe := float64(x32)
		if e := math.Abs(float64(FastExp(x32))-math.Exp(xe)) / math.Exp(xe); e > worst[0] {
			worst[0] = e
		}
		if e := math.Abs(float64(Tanh(x32)) - math.Tanh(xe)); e > worst[1] {
			worst[1] = e
		}
		if e := math.Abs(float64(Sigmoid(x32)) - 1/(1+math.Exp(-xe))); e > worst[2] {
			worst[2] = e
		}
	}
	if worst[0] > 4e-7 || worst[1] > 4e-7 || worst[2] > 4e-7 {
		t.Fatalf("worst errors exp(rel) %.3g tanh %.3g sigmoid %.3g, want <= 4e-7", worst[0], worst[1], worst[2])
	}
	for _, x := range []float32{-1000, -87, 88, 1000, float32(math.Inf(1)), float32(math.Inf(-1))} {
		if y := Sigmoid(x); y < 0 || y > 1 {
			t.Fatalf("Sigmoid(%v) = %v", x, y)
		}
		if y := Tanh(x); y < -1 || y > 1 {
			t.Fatalf("Tanh(%v) = %v", x, y)
		}
	}
}

// gradCheck compares the analytic gradient g of f at x against central
// differences, |num - ana| <= tol·max(1, |num|+|ana|).
func gradCheck(t *testing.T, name string, x, g []float64, f func() float64) {
	t.Helper()
	const h, tol = 1e-5, 1e-6
	for i := range x {
		old := x[i]
		x[i] = old + h
		fp := f()
		x[i] = old - h
		fm := f()
		x[i] = old
		num := (fp - fm) / (2 * h)
		if d := math.Abs(num - g[i]); d > tol*math.Max(1, math.Abs(num)+math.Abs(g[i])) {
			t.Fatalf("%s[%d]: analytic %.10g, numeric %.10g", name, i, g[i], num)
		}
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestLSTMGradient(t *testing.T) {
	t.Parallel()
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			const in, hid, steps, batch = 3, 4, 5, 3
			lens := []int32{5, 2, 0}
			l := NewLSTM("l", in, hid, reverse, rng)
			x := randSlice(rng, steps*batch*in)
			// Output into a wider matrix at an offset, as BiLSTM does.
			const ldo, off = 2*hid + 1, 1
			out := make([]float64, steps*batch*ldo)
			proj := randSlice(rng, len(out))
			var cache LSTMCache
			loss := func() float64 {
				l.Forward(x, steps, batch, lens, out, ldo, off, &cache)
				var s float64
				for r := 0; r < steps*batch; r++ {
					if int32(r/batch) >= lens[r%batch] {
						continue // padded outputs are not consumed
					}
					s += dot(out[r*ldo+off:r*ldo+off+hid], proj[r*ldo+off:r*ldo+off+hid])
				}
				return s
			}
			loss()
			dOut := make([]float64, len(out))
			for r := 0; r < steps*batch; r++ {
				if int32(r/batch) < lens[r%batch] {
					copy(dOut[r*ldo+off:r*ldo+off+hid], proj[r*ldo+off:r*ldo+off+hid])
				}
			}
			dx := make([]float64, len(x))
			l.Backward(x, lens, dOut, ldo, off, dx, &cache)
			gradCheck(t, "x", x, dx, loss)
			gradCheck(t, "wx", l.Wx.W, l.Wx.G, loss)
			gradCheck(t, "wh", l.Wh.W, l.Wh.G, loss)
			gradCheck(t, "b", l.B.W, l.B.G, loss)
		})
	}
}

func TestEmbeddingGradient(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	e := NewEmbedding("e", 6, 3, rng, 0.5)
	ids := []int32{0, 1, 1, 4, 5, 2}
	offs := []int32{0, 3, 3, 4, 6} // bags {0,1,1}, {}, {4}, {5,2}
	out := make([]float64, 4*3)
	proj := randSlice(rng, len(out))
	loss := func() float64 { e.Forward(ids, offs, out); return dot(out, proj) }
	loss()
	e.Backward(ids, offs, proj)
	gradCheck(t, "table", e.Table.W, e.Table.G, loss)
	if len(e.Table.touched) != 5 {
		t.Fatalf("touched rows %v, want 5 distinct", e.Table.touched)
	}
	e.Table.ZeroGrad()
	for _, g := range e.Table.G {
		if g != 0 {
			t.Fatal("ZeroGrad left gradient")
		}
	}
}

func TestDensePoolSoftmaxGradient(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	const steps, batch, width, classes = 4, 3, 2, 3
	lens := []int32{4, 1, 3}
	seq := randSlice(rng, steps*batch*width)
	d := NewDense("d", 2*width, classes, rng)
	y := []int{2, 0, 1}
	cw := []float64{0.5, 2, 1}
	pooled := make([]float64, batch*2*width)
	argmax := make([]int32, batch*width)
	logits := make([]float64, batch*classes)
	dLogits := make([]float64, batch*classes)
	loss := func() float64 {
		MaxMeanPool(seq, steps, batch, width, lens, pooled, argmax)
		d.Forward(pooled, batch, logits)
		return SoftmaxCrossEntropy(logits, batch, classes, y, cw, nil, dLogits)
	}
	loss()
	dPooled := make([]float64, len(pooled))
	d.Backward(pooled, batch, dLogits, dPooled)
	dSeq := make([]float64, len(seq))
	MaxMeanPoolBackward(dPooled, steps, batch, width, lens, argmax, dSeq)
	gradCheck(t, "seq", seq, dSeq, loss)
	gradCheck(t, "w", d.W.W, d.W.G, loss)
	gradCheck(t, "b", d.B.W, d.B.G, loss)
}

// TestSoftmaxSetCrossEntropy checks the partial-label loss: its gradient
// numerically, singleton sets against SoftmaxCrossEntropy, and a set of
// every class as no loss at all.
func TestSoftmaxSetCrossEntropy(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	const n, k = 4, 3
	logits := randSlice(rng, n*k)
	allowed := []bool{
		true, false, true, // {0, 2}
		false, true, false, // {1}
		true, true, true, // every class
		false, false, true, // {2}
	}
	w := []float64{0.5, 2, 1, 1.5}
	d := make([]float64, n*k)
	loss := func() float64 { return SoftmaxSetCrossEntropy(logits, n, k, allowed, w, d) }
	loss()
	g := slices.Clone(d)
	gradCheck(t, "logits", logits, g, loss)

	y := []int{0, 1, 2, 2}
	single := make([]bool, n*k)
	rw := make([]float64, n)
	cw := []float64{0.5, 2, 1.5}
	for r, c := range y {
		single[r*k+c] = true
		rw[r] = cw[c]
	}
	d2 := make([]float64, n*k)
	want := SoftmaxCrossEntropy(logits, n, k, y, cw, nil, d2)
	if got := SoftmaxSetCrossEntropy(logits, n, k, single, rw, d); math.Abs(got-want) > 1e-12 {
		t.Errorf("singleton sets: loss %v, SoftmaxCrossEntropy %v", got, want)
	}
	for i := range d {
		if math.Abs(d[i]-d2[i]) > 1e-12 {
			t.Fatalf("singleton sets: dLogits[%d] = %v, SoftmaxCrossEntropy %v", i, d[i], d2[i])
		}
	}
	all := make([]bool, n*k)
	for i := range all {
		all[i] = true
	}
	if got := SoftmaxSetCrossEntropy(logits, n, k, all, nil, d); math.Abs(got) > 1e-12 || slices.ContainsFunc(d, func(v float64) bool { return math.Abs(v) > 1e-12 }) {
		t.Errorf("every class allowed: loss %v, gradient %v, want 0", got, d)
	}
}

func TestDropoutGradient(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	x0 := randSlice(rng, 50)
	mask := make([]float64, 50)
	x := append([]float64(nil), x0...)
	Dropout(x, mask, 0.3, rand.New(rand.NewPCG(1, 1)))
	zeros := 0
	for i := range x {
		if mask[i] == 0 {
			zeros++
		}
		if math.Abs(x[i]-x0[i]*mask[i]) > 1e-15 {
			t.Fatalf("x[%d] = %v, want %v", i, x[i], x0[i]*mask[i])
		}
	}
	if zeros == 0 || zeros == 50 {
		t.Fatalf("dropout zeroed %d of 50", zeros)
	}
	// Dropout with a fixed mask is linear: y = x⊙mask, so ∂(y·p)/∂x = p⊙mask.
	proj := randSlice(rng, 50)
	g := append([]float64(nil), proj...)
	DropoutBackward(g, mask)
	xin := append([]float64(nil), x0...)
	loss := func() float64 {
		var s float64
		for i := range xin {
			s += xin[i] * mask[i] * proj[i]
		}
		return s
	}
	gradCheck(t, "x", xin, g, loss)
}

func TestAdamLearnsQuadratic(t *testing.T) {
	t.Parallel()
	// Minimise ½‖w - target‖² from zero; Adam with clipping reaches it.
	p := NewParam("w", 1, 4)
	target := []float64{1, -2, 0.5, 3}
	opt := NewAdam(0.05, 0, 1)
	for i := 0; i < 2000; i++ {
		for j := range p.W {
			p.G[j] = p.W[j] - target[j]
		}
		opt.Step([]*Param{p})
	}
	for j := range p.W {
		if math.Abs(p.W[j]-target[j]) > 1e-3 {
			t.Fatalf("w = %v, want %v", p.W, target)
		}
	}
}

func TestSigmoidBCEGradient(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 18))
	const n, k = 4, 5
	logits := randSlice(rng, n*k)
	for i := range logits {
		logits[i] *= 3
	}
	y := make([]float64, n*k)
	for i := range y {
		if rng.IntN(3) == 0 {
			y[i] = 1
		}
	}
	for _, pw := range [][]float64{nil, {1, 2, 0.5, 4, 1}} {
		d := make([]float64, n*k)
		loss := func() float64 { return SigmoidBCE(logits, n, k, y, pw, nil, d) }
		loss()
		g := append([]float64(nil), d...)
		gradCheck(t, fmt.Sprintf("logits pos=%v", pw), logits, g, loss)
	}
}

// TestSigmoidBCEValues checks the loss against the textbook formula, the
// probabilities against Sigmoid, and that extreme logits stay finite.
func TestSigmoidBCEValues(t *testing.T) {
	t.Parallel()
	logits := []float64{0, 2, -3, 800, -800, 40}
	y := []float64{1, 0, 0, 1, 1, 0}
	probs := make([]float64, 6)
	d := make([]float64, 6)
	got := SigmoidBCE(logits, 1, 6, y, nil, probs, d)
	var want float64
	for i, z := range logits[:3] {
		p := 1 / (1 + math.Exp(-z))
		want -= y[i]*math.Log(p) + (1-y[i])*math.Log(1-p)
	}
	want += 0 + 800 + 40 // z=800, y=1: ~0; z=-800, y=1: 800; z=40, y=0: 40
	if math.Abs(got-want) > 1e-9 || math.IsInf(got, 0) || math.IsNaN(got) {
		t.Fatalf("loss %v, want %v", got, want)
	}
	s := append([]float64(nil), logits...)
	SigmoidInPlace(s)
	for i := range s {
		if math.Abs(s[i]-probs[i]) > 1e-12 || s[i] < 0 || s[i] > 1 {
			t.Fatalf("probs[%d] %v, Sigmoid %v", i, probs[i], s[i])
		}
	}
}
