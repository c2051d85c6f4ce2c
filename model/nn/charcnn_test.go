package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// naiveCharCNN is the textbook order of the layer: pad the embedded word
// with ⌊win/2⌋ zero vectors per side, convolve, tanh every position, then
// max-pool. It returns n×F features.
func naiveCharCNN(c *CharCNN, ids, offs []int32) []float64 {
	dim, f, win := c.Emb.Cols, c.W.Cols, c.Win
	pad := win / 2
	n := len(offs) - 1
	out := make([]float64, n*f)
	for r := 0; r < n; r++ {
		word := ids[offs[r]:offs[r+1]]
		if len(word) == 0 {
			continue
		}
		padded := make([][]float64, len(word)+2*pad)
		for i := range padded {
			padded[i] = make([]float64, dim)
			if q := i - pad; q >= 0 && q < len(word) {
				copy(padded[i], c.Emb.W[int(word[q])*dim:int(word[q]+1)*dim])
			}
		}
		for j := 0; j < f; j++ {
			best := math.Inf(-1)
			for p := 0; p+win <= len(padded); p++ {
				z := c.B.W[j]
				for k := 0; k < win; k++ {
					for d := 0; d < dim; d++ {
						z += padded[p+k][d] * c.W.W[(k*dim+d)*f+j]
					}
				}
				best = max(best, math.Tanh(z))
			}
			out[r*f+j] = best
		}
	}
	return out
}

// randWords returns ids and offs for words of the given lengths over chars
// character ids.
func randWords(rng *rand.Rand, chars int, lens []int) (ids, offs []int32) {
	offs = []int32{0}
	for _, l := range lens {
		for i := 0; i < l; i++ {
			ids = append(ids, int32(rng.IntN(chars)))
		}
		offs = append(offs, int32(len(ids)))
	}
	return ids, offs
}

func TestCharCNNGradient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		win  int
		lens []int
	}{
		{"win3", 3, []int{0, 1, 2, 5}},
		{"win2_even", 2, []int{2, 0, 5, 1}},
		{"win1", 1, []int{1, 5, 0, 2}},
		{"win5_longer_than_words", 5, []int{1, 2, 0, 5}},
		{"all_empty", 3, []int{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(11, uint64(tc.win)))
			const chars, dim, filters = 7, 3, 4
			c := NewCharCNN("cc", chars, dim, filters, tc.win, rng)
			c.B.InitUniform(rng, 0.3)
			// Few characters, so ids repeat within and across words.
			ids, offs := randWords(rng, chars-2, tc.lens)
			n := len(tc.lens)
			// Output into a wider matrix at an offset, as the tagger does.
			const ldo, off = filters + 3, 2
			out := make([]float64, n*ldo)
			proj := randSlice(rng, len(out))
			var cache CharCNNCache
			loss := func() float64 {
				c.Forward(ids, offs, out, ldo, off, &cache)
				var s float64
				for r := 0; r < n; r++ {
					s += dot(out[r*ldo+off:r*ldo+off+filters], proj[r*ldo+off:r*ldo+off+filters])
				}
				return s
			}
			loss()
			want := naiveCharCNN(c, ids, offs)
			for r := 0; r < n; r++ {
				for j := 0; j < filters; j++ {
					if got := out[r*ldo+off+j]; math.Abs(got-want[r*filters+j]) > 1e-12 {
						t.Fatalf("out[%d][%d] = %v, naive %v", r, j, got, want[r*filters+j])
					}
				}
			}
			c.Backward(ids, offs, proj, ldo, off, &cache)
			gradCheck(t, "emb", c.Emb.W, c.Emb.G, loss)
			gradCheck(t, "w", c.W.W, c.W.G, loss)
			gradCheck(t, "b", c.B.W, c.B.G, loss)
			used := map[int32]bool{}
			for _, id := range ids {
				used[id] = true
			}
			if got := c.Emb.touched; len(got) != len(used) {
				t.Fatalf("touched rows %v, want the %d distinct ids of %v", got, len(used), ids)
			}
		})
	}
}

// charBatch is a realistic batch: n words of 0..maxLen characters, plus one
// word of 300.
func charBatch(rng *rand.Rand, chars, n, maxLen int) (ids, offs []int32) {
	lens := make([]int, n)
	for i := range lens {
		lens[i] = rng.IntN(maxLen + 1)
	}
	lens[n/2] = 300
	return randWords(rng, chars, lens)
}

// TestCharCNNFloat32 checks the float32 inference path against float64
// (Forward and CharCNNForward[float64]) within 1e-5 absolute: inputs are
// rounded to float32, so the difference comes from float32 accumulation over
// win·dim = 75 terms and FastExp's tanh (< 4e-7).
func TestCharCNNFloat32(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(12, 12))
	const chars, dim, filters, win, n = 90, 25, 30, 3, 300
	c := NewCharCNN("cc", chars, dim, filters, win, rng)
	c.B.InitUniform(rng, 0.5)
	for _, p := range c.Params() { // make float64 and float32 weights identical
		for i, v := range p.W {
			p.W[i] = float64(float32(v))
		}
	}
	ids, offs := charBatch(rng, chars, n, 15)
	const ldo, off = filters + 5, 3
	ref := make([]float64, n*ldo)
	var cache CharCNNCache
	c.Forward(ids, offs, ref, ldo, off, &cache)

	out64 := make([]float64, n*ldo)
	var ws64 CharCNNWorkspace[float64]
	CharCNNForward(c.Emb.W, dim, c.W.W, c.B.W, filters, win, ids, offs, out64, ldo, off, &ws64)
	out32 := make([]float32, n*ldo)
	var ws32 CharCNNWorkspace[float32]
	CharCNNForward(to32(c.Emb.W), dim, to32(c.W.W), to32(c.B.W), filters, win, ids, offs, out32, ldo, off, &ws32)
	worst := 0.0
	for i := range ref {
		if out64[i] != ref[i] {
			// The factorised convolution sums in another order.
			if math.Abs(out64[i]-ref[i]) > 1e-12 {
				t.Fatalf("factorised f64 out[%d] = %v, Forward %v", i, out64[i], ref[i])
			}
		}
		worst = max(worst, math.Abs(float64(out32[i])-ref[i]))
	}
	if worst > 1e-5 {
		t.Fatalf("float32 differs from float64 by %.3g, want <= 1e-5", worst)
	}
	for r := 0; r < n; r++ {
		for j := 0; j < ldo; j++ {
			if (j < off || j >= off+filters) && out32[r*ldo+j] != 0 {
				t.Fatalf("wrote outside the column range: out[%d][%d] = %v", r, j, out32[r*ldo+j])
			}
		}
	}
}

func TestCharCNNNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	const chars, dim, filters, win, n = 60, 16, 20, 3, 200
	c := NewCharCNN("cc", chars, dim, filters, win, rng)
	emb, w, b := to32(c.Emb.W), to32(c.W.W), to32(c.B.W)
	ids, offs := charBatch(rng, chars, n, 12)
	out := make([]float32, n*filters)
	var ws CharCNNWorkspace[float32]
	CharCNNForward(emb, dim, w, b, filters, win, ids, offs, out, filters, 0, &ws)
	if a := testing.AllocsPerRun(10, func() {
		CharCNNForward(emb, dim, w, b, filters, win, ids, offs, out, filters, 0, &ws)
	}); a != 0 {
		t.Fatalf("CharCNNForward allocates %v times per run, want 0", a)
	}
	// Training steps reuse the cache and the sparse row list too.
	dOut := randSlice(rng, n*filters)
	out64 := make([]float64, n*filters)
	var cache CharCNNCache
	step := func() {
		c.Forward(ids, offs, out64, filters, 0, &cache)
		c.Backward(ids, offs, dOut, filters, 0, &cache)
		for _, p := range c.Params() {
			p.ZeroGrad()
		}
	}
	step()
	if a := testing.AllocsPerRun(5, step); a != 0 {
		t.Fatalf("training step allocates %v times per run, want 0", a)
	}
}

var sinkCharOut []float32

// BenchmarkCharCNN encodes 64 sentences × 24 words (1536 words of 1–12
// characters) with Dc=25, F=30, window 3 (Ma & Hovy 2016 sizes) in float32
// and float64.
func BenchmarkCharCNN(b *testing.B) {
	const chars, dim, filters, win, n = 100, 25, 30, 3, 64 * 24
	rng := rand.New(rand.NewPCG(1, 2))
	c := NewCharCNN("cc", chars, dim, filters, win, rng)
	lens := make([]int, n)
	for i := range lens {
		lens[i] = 1 + rng.IntN(12)
	}
	ids, offs := randWords(rng, chars, lens)
	run := func(b *testing.B, f func()) {
		f() // grow the workspace outside the timed region
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			f()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "words/s")
	}
	b.Run("f32/words="+strconv.Itoa(n), func(b *testing.B) {
		emb, w, bias := to32(c.Emb.W), to32(c.W.W), to32(c.B.W)
		out := make([]float32, n*filters)
		var ws CharCNNWorkspace[float32]
		run(b, func() { CharCNNForward(emb, dim, w, bias, filters, win, ids, offs, out, filters, 0, &ws) })
		sinkCharOut = out
	})
	b.Run(fmt.Sprintf("f64-train/words=%d", n), func(b *testing.B) {
		out := make([]float64, n*filters)
		dOut := randSlice(rng, n*filters)
		var cache CharCNNCache
		run(b, func() {
			c.Forward(ids, offs, out, filters, 0, &cache)
			c.Backward(ids, offs, dOut, filters, 0, &cache)
		})
	})
}
