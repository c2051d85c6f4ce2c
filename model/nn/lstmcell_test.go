package nn

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// cellRef is the float64 reference of one unit's cell update from float32
// inputs: math.Exp and math.Tanh.
func cellRef(ai, af, ag, ao, cp float32) (i, f, g, o, c, h float64) {
	sig := func(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }
	i, f, g, o = sig(ai), sig(af), math.Tanh(float64(ag)), sig(ao)
	c = f*float64(cp) + i*g
	return i, f, g, o, c, o * math.Tanh(c)
}

// runCell runs what lstmRecur runs on one float32 row: the vector cell on
// the leading multiple of 8 units (where the CPU has AVX2/FMA), then
// lstmCell on the rest.
func runCell(t *testing.T, row []float32, hid int, c, h, out []float32) {
	t.Helper()
	j0 := lstmCellVec(row, hid, c, h, out)
	if want := hid &^ 7; hasAVX2FMA && j0 != want {
		t.Fatalf("lstmCellVec did %d units of %d, want %d", j0, hid, want)
	}
	lstmCell(row, hid, c, h, out, j0)
}

// TestLSTMCellVectorActivations sweeps pre-activations over [-30, 30] in
// steps of 0.001 through every gate and checks the gate activations
// against math to 4e-7 absolute, the bound TestFastActivations sets for
// the scalar Sigmoid and Tanh (same FastExp polynomial; FMA only changes
// the rounding), and tanh to 4e-7 relative where |x| < 1/16.
func TestLSTMCellVectorActivations(t *testing.T) {
	t.Parallel()
	const hid = 60008 // a multiple of 8, then 8 units more for ±Inf
	row := make([]float32, 4*hid)
	for j := 0; j < hid; j++ {
		x := float32(-30 + 0.001*float64(j))
		switch j {
		case hid - 2:
			x = float32(math.Inf(1))
		case hid - 1:
			x = float32(math.Inf(-1))
		}
		row[j], row[hid+j], row[2*hid+j], row[3*hid+j] = x, -x, x, x/2
	}
	in := append([]float32(nil), row...)
	c, h, out := make([]float32, hid), make([]float32, hid), make([]float32, hid)
	runCell(t, row, hid, c, h, out)
	var worst [6]float64
	var worstRel float64
	for j := 0; j < hid; j++ {
		i, f, g, o, cc, hh := cellRef(in[j], in[hid+j], in[2*hid+j], in[3*hid+j], 0)
		got := [6]float32{row[j], row[hid+j], row[2*hid+j], row[3*hid+j], c[j], h[j]}
		for k, w := range [6]float64{i, f, g, o, cc, hh} {
			if e := math.Abs(float64(got[k]) - w); !(e <= worst[k]) {
				worst[k] = e
			}
		}
		if out[j] != h[j] {
			t.Fatalf("out[%d] = %v, h = %v", j, out[j], h[j])
		}
		// Near 0, tanh keeps its relative accuracy (the odd series).
		if x := in[2*hid+j]; x != 0 && math.Abs(float64(x)) < 1.0/16 {
			if e := math.Abs(float64(row[2*hid+j])-g) / math.Abs(g); !(e <= worstRel) {
				worstRel = e
			}
		}
	}
	if worstRel > 4e-7 {
		t.Errorf("g: worst relative error %.3g for |x| < 1/16, want <= 4e-7", worstRel)
	}
	// c = i·g and h = o·tanh(c): products of two values within 4e-7 of
	// numbers of magnitude <= 1, plus the second tanh and roundings.
	for k, bound := range [6]float64{4e-7, 4e-7, 4e-7, 4e-7, 1e-6, 2e-6} {
		if worst[k] > bound {
			t.Errorf("%s: worst error %.3g, want <= %.3g", [6]string{"i", "f", "g", "o", "c", "h"}[k], worst[k], bound)
		}
	}
}

// TestLSTMCellVectorMatchesReference runs the cell at every width 1…40 and
// at the model widths 64 and 100 (vector lanes plus a scalar tail) with
// random pre-activations in [-8, 8] and cell states in [-5, 5], against
// the float64 reference. Bounds: the gates within 4e-7 as above; c = f·c'
// + i·g within 4e-7·(|c'| + 2) from the gates plus three roundings of
// 2⁻²⁴·(|c'| + 1); h = o·tanh(c) within 4e-7 (o) + 4e-7 (tanh) + the
// error of c. NaN pre-activations must give NaN.
func TestLSTMCellVectorMatchesReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 22))
	widths := []int{64, 100}
	for w := 1; w <= 40; w++ {
		widths = append(widths, w)
	}
	for _, hid := range widths {
		t.Run(strconv.Itoa(hid), func(t *testing.T) {
			for rep := 0; rep < 20; rep++ {
				row := make([]float32, 4*hid)
				for j := range row {
					row[j] = float32(rng.Float64()*16 - 8)
				}
				c := make([]float32, hid)
				for j := range c {
					c[j] = float32(rng.Float64()*10 - 5)
				}
				in, cp := append([]float32(nil), row...), append([]float32(nil), c...)
				h, out := make([]float32, hid), make([]float32, hid)
				runCell(t, row, hid, c, h, out)
				for j := 0; j < hid; j++ {
					i, f, g, o, cc, hh := cellRef(in[j], in[hid+j], in[2*hid+j], in[3*hid+j], cp[j])
					tolC := 4e-7*(math.Abs(float64(cp[j]))+2) + 3*0x1p-24*(math.Abs(float64(cp[j]))+1)
					tolH := 8e-7 + tolC
					got := [6]float32{row[j], row[hid+j], row[2*hid+j], row[3*hid+j], c[j], h[j]}
					for k, w := range [6]float64{i, f, g, o, cc, hh} {
						tol := [6]float64{4e-7, 4e-7, 4e-7, 4e-7, tolC, tolH}[k]
						if e := math.Abs(float64(got[k]) - w); !(e <= tol) {
							t.Fatalf("unit %d %s = %v, want %v ± %.3g", j, [6]string{"i", "f", "g", "o", "c", "h"}[k], got[k], w, tol)
						}
					}
					if out[j] != h[j] {
						t.Fatalf("out[%d] = %v, h = %v", j, out[j], h[j])
					}
				}
			}
			row := make([]float32, 4*hid)
			for j := range row {
				row[j] = float32(math.NaN())
			}
			c, h, out := make([]float32, hid), make([]float32, hid), make([]float32, hid)
			runCell(t, row, hid, c, h, out)
			for j := 0; j < hid; j++ {
				if !math.IsNaN(float64(h[j])) || !math.IsNaN(float64(c[j])) || !math.IsNaN(float64(row[j])) {
					t.Fatalf("unit %d: NaN pre-activations gave i %v, c %v, h %v", j, row[j], c[j], h[j])
				}
			}
		})
	}
}

// BenchmarkLSTMCell measures the cell update per hidden unit (3 sigmoids,
// 2 tanh, c and h) at width 64: the scalar float32 loop and, where the CPU
// has AVX2/FMA, the vector one.
func BenchmarkLSTMCell(b *testing.B) {
	const hid = 64
	rng := rand.New(rand.NewPCG(5, 6))
	src := make([]float32, 4*hid)
	for j := range src {
		src[j] = float32(rng.Float64()*8 - 4)
	}
	row := make([]float32, 4*hid)
	c, h, out := make([]float32, hid), make([]float32, hid), make([]float32, hid)
	paths := []struct {
		name string
		run  func()
	}{{"impl=scalar", func() { lstmCell(row, hid, c, h, out, 0) }}}
	if hasAVX2FMA {
		paths = append(paths, struct {
			name string
			run  func()
		}{"impl=avx2", func() { lstmCell(row, hid, c, h, out, lstmCellVec(row, hid, c, h, out)) }})
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				copy(row, src) // the cell overwrites its pre-activations
				clear(c)
				p.run()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*hid), "ns/unit")
		})
	}
}

// TestTanhVec sweeps x over [-30, 30] in steps of 0.001 (plus ±Inf) through
// tanhVec and checks it against math.Tanh to 4e-7 absolute, and 4e-7
// relative where |x| < 1/16: the bounds of the cell's tanh, which it shares.
// Lengths 0…40 check that it covers exactly the leading multiple of 8.
func TestTanhVec(t *testing.T) {
	t.Parallel()
	const n = 60008
	x := make([]float32, n)
	for j := range x {
		x[j] = float32(-30 + 0.001*float64(j))
	}
	x[n-2], x[n-1] = float32(math.Inf(1)), float32(math.Inf(-1))
	in := append([]float32(nil), x...)
	j0 := tanhVec(x)
	if want := n &^ 7; hasAVX2FMA && j0 != want {
		t.Fatalf("tanhVec did %d of %d, want %d", j0, n, want)
	}
	for j := j0; j < n; j++ {
		x[j] = Tanh(x[j])
	}
	var worst, worstRel float64
	for j, v := range in {
		w := math.Tanh(float64(v))
		e := math.Abs(float64(x[j]) - w)
		worst = max(worst, e)
		if v != 0 && math.Abs(float64(v)) < 1.0/16 {
			worstRel = max(worstRel, e/math.Abs(w))
		}
	}
	if worst > 4e-7 || worstRel > 4e-7 {
		t.Errorf("worst error %.3g absolute, %.3g relative near 0; want <= 4e-7", worst, worstRel)
	}
	for l := 0; l <= 40; l++ {
		s := make([]float32, l+1)
		for i := range s {
			s[i] = 0.5
		}
		if got, want := tanhVec(s[:l]), l&^7; hasAVX2FMA && got != want {
			t.Fatalf("len %d: tanhVec did %d, want %d", l, got, want)
		}
		if s[l] != 0.5 {
			t.Fatalf("len %d: tanhVec wrote past the end", l)
		}
	}
}
