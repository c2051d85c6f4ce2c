package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// sgemmPath is one way Gemm can compute a float32 product without
// transposes.
type sgemmPath struct {
	name string
	run  func(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// sgemmPaths returns the fallback (gonum's kernels, what Gemm runs without
// AVX2/FMA or with the purego tag) and, where the CPU has it, sgemm.
func sgemmPaths() []sgemmPath {
	p := []sgemmPath{{"gonum", func(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		gemmGonum(false, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}}}
	if hasAVX2FMA {
		p = append(p, sgemmPath{"avx2", sgemm})
	}
	return p
}

// sgemmCase is one product with its strides; ld* = 0 means the tight
// stride (k for A, n for B and C).
type sgemmCase struct {
	m, n, k       int
	lda, ldb, ldc int
	alpha, beta   float32
	nanC          bool // fill C with NaN (used with beta = 0)
}

// sentinel marks the stride gaps and the tail of C: sgemm must not write
// them. It is a NaN with a payload no arithmetic produces.
var sentinel = math.Float32frombits(0x7fc0dead)

// checkSgemm runs one case on the given paths and compares every element of
// C with a float64 reference: A·B and |A|·|B| from gonum's Dgemm on the
// same float32 inputs (exact products, sums good to 1e-16 relative),
// combined with alpha, beta and C. Tolerance: a k-term float32 dot product
// is within γ_k·Σ|a||b|, γ_k ≈ k·2⁻²⁴, of the exact value for any
// summation order and with or without FMA (Higham, Accuracy and Stability
// of Numerical Algorithms, §3.1); we allow (k+4)·2⁻²³ times
// |alpha|·Σ|a||b| + |beta·c|: twice that, plus a few roundings for alpha,
// beta and the final add. Gaps
// between rows (ld > width) and the slice tail must keep the sentinel bit
// for bit, and A and B must not change.
func checkSgemm(t *testing.T, rng *rand.Rand, paths []sgemmPath, tc sgemmCase) {
	t.Helper()
	m, n, k := tc.m, tc.n, tc.k
	lda, ldb, ldc := tc.lda, tc.ldb, tc.ldc
	if lda == 0 {
		lda = max(1, k)
	}
	if ldb == 0 {
		ldb = max(1, n)
	}
	if ldc == 0 {
		ldc = max(1, n)
	}
	const tail = 5
	fill := func(rows, cols, ld int) []float32 {
		s := make([]float32, rows*ld+tail)
		for i := range s {
			s[i] = sentinel
		}
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				s[i*ld+j] = float32(rng.Float64()*2 - 1)
			}
		}
		return s
	}
	a, b, c0 := fill(m, k, lda), fill(k, n, ldb), fill(m, n, ldc)
	if tc.nanC {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				c0[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	a0, b0 := append([]float32(nil), a...), append([]float32(nil), b...)

	ab, mag := make([]float64, m*n), make([]float64, m*n)
	if k > 0 {
		wide := func(s []float32, abs bool) []float64 {
			r := make([]float64, len(s))
			for i, v := range s {
				r[i] = float64(v)
				if abs {
					r[i] = math.Abs(r[i])
				}
			}
			return r
		}
		impl.Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, wide(a, false), lda, wide(b, false), ldb, 0, ab, n)
		impl.Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, wide(a, true), lda, wide(b, true), ldb, 0, mag, n)
	}
	alpha, beta := float64(tc.alpha), float64(tc.beta)
	want := func(i, j int) (w, tol float64) {
		w = alpha * ab[i*n+j]
		g := math.Abs(alpha) * mag[i*n+j]
		if beta != 0 {
			bc := beta * float64(c0[i*ldc+j])
			w += bc
			g += math.Abs(bc)
		}
		return w, float64(k+4) * 0x1p-23 * g
	}

	same := func(path, name string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v %s: %s[%d] changed from %v to %v", tc, path, name, i, want[i], got[i])
			}
		}
	}
	c := make([]float32, len(c0))
	for _, p := range paths {
		path := p.name
		copy(c, c0)
		p.run(m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		same(path, "A", a, a0)
		same(path, "B", b, b0)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				got := float64(c[i*ldc+j])
				if w, tol := want(i, j); !(math.Abs(got-w) <= tol) {
					t.Fatalf("%+v %s: C[%d,%d] = %v, want %v ± %.3g", tc, path, i, j, got, w, tol)
				}
			}
			// The gap after row i; after the last row, the slice tail.
			end := min((i+1)*ldc, len(c))
			if i == m-1 {
				end = len(c)
			}
			same(path, fmt.Sprintf("C gap after row %d", i), c[i*ldc+n:end], c0[i*ldc+n:end])
		}
	}
}

// TestSgemmSizeSweep runs every size 1…300 along each of m, n and k with the
// other two at 1, 7, 64 and 129 (16 combinations), on both kernels: tile
// heights 1–6 and their even splits, panel widths 1–16 with the masked edge,
// depths across the unrolled loop, its tail and the 256-deep blocking. With
// -short or -race the other two are 1, 7 and 17 (the sweep itself is kept).
func TestSgemmSizeSweep(t *testing.T) {
	t.Parallel()
	others := []int{1, 7, 64, 129}
	if testing.Short() || raceEnabled {
		others = []int{1, 7, 17}
	}
	for _, dim := range []string{"m", "n", "k"} {
		t.Run(dim, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(7, uint64(len(dim))))
			for s := 1; s <= 300; s++ {
				for _, x := range others {
					for _, y := range others {
						tc := sgemmCase{alpha: 1, beta: 1}
						switch dim {
						case "m":
							tc.m, tc.n, tc.k = s, x, y
						case "n":
							tc.m, tc.n, tc.k = x, s, y
						default:
							tc.m, tc.n, tc.k = x, y, s
						}
						checkSgemm(t, rng, sgemmPaths(), tc)
					}
				}
			}
		})
	}
}

// TestSgemmStridesAndScalars draws random shapes with strides wider than
// the rows (sentinels in the gaps must survive) and every alpha, beta in
// {0, 1, -0.5, 2}; beta = 0 also runs on a C full of NaN, which BLAS
// semantics say must not leak into the result.
func TestSgemmStridesAndScalars(t *testing.T) {
	t.Parallel()
	scalars := []float32{0, 1, -0.5, 2}
	for _, p := range sgemmPaths() {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(11, 12))
			paths := []sgemmPath{p}
			for it := 0; it < 256; it++ {
				m, n, k := 1+rng.IntN(80), 1+rng.IntN(80), 1+rng.IntN(300)
				if it%5 == 0 { // LSTM-like: a whole batch, many panels
					m, n = 1+rng.IntN(200), 16*(1+rng.IntN(25))
				}
				// Each of the 16 (alpha, beta) pairs on 16 shapes.
				tc := sgemmCase{
					m: m, n: n, k: k,
					lda:   k + rng.IntN(3)*(1+rng.IntN(17)),
					ldb:   n + rng.IntN(3)*(1+rng.IntN(17)),
					ldc:   n + rng.IntN(3)*(1+rng.IntN(17)),
					alpha: scalars[it%4], beta: scalars[it/4%4],
				}
				checkSgemm(t, rng, paths, tc)
				if tc.beta == 0 {
					tc.nanC = true
					checkSgemm(t, rng, paths, tc)
				}
			}
		})
	}
}

// TestSgemmDegenerate covers empty products and k = 0 (C = beta·C, with
// NaN cleared when beta is 0) and alpha = 0 with NaN in A and B (BLAS does
// not read them).
func TestSgemmDegenerate(t *testing.T) {
	t.Parallel()
	nan := float32(math.NaN())
	for _, p := range sgemmPaths() {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			// m = 0 and n = 0 touch nothing, even with empty slices.
			p.run(0, 5, 3, 1, nil, 3, make([]float32, 15), 5, 1, nil, 5)
			p.run(4, 0, 3, 1, make([]float32, 12), 3, nil, 1, 1, nil, 1)
			tests := []struct {
				name        string
				k           int
				alpha, beta float32
				a, b        float32 // value of every element of A and B
				c           float32 // value of every element of C before
				want        float32
			}{
				{name: "k0_beta0_nan", k: 0, alpha: 1, beta: 0, c: nan, want: 0},
				{name: "k0_beta2", k: 0, alpha: 1, beta: 2, c: 3, want: 6},
				{name: "k0_beta1", k: 0, alpha: 1, beta: 1, c: 3, want: 3},
				{name: "alpha0_nanAB", k: 5, alpha: 0, beta: -0.5, a: nan, b: nan, c: 4, want: -2},
				{name: "alpha0_beta0", k: 5, alpha: 0, beta: 0, a: nan, b: nan, c: nan, want: 0},
				{name: "beta0_nanC", k: 5, alpha: 2, beta: 0, a: 1, b: 0.5, c: nan, want: 5},
			}
			for _, tt := range tests {
				const m, n = 7, 19
				a := make([]float32, m*max(1, tt.k))
				b := make([]float32, max(1, tt.k)*n)
				c := make([]float32, m*n)
				for i := range a {
					a[i] = tt.a
				}
				for i := range b {
					b[i] = tt.b
				}
				for i := range c {
					c[i] = tt.c
				}
				p.run(m, n, tt.k, tt.alpha, a, max(1, tt.k), b, n, tt.beta, c, n)
				for i, v := range c {
					if v != tt.want {
						t.Fatalf("%s: C[%d] = %v, want %v", tt.name, i, v, tt.want)
					}
				}
			}
		})
	}
}

// TestSgemmPanics checks that shapes which do not fit the slices panic
// before the kernels could touch memory out of bounds, on every path (a
// negative dimension only on sgemm: gonum's chunking does nothing then).
func TestSgemmPanics(t *testing.T) {
	t.Parallel()
	s := func(n int) []float32 { return make([]float32, n) }
	tests := []struct {
		name     string
		m, k     int
		la, lb   int // lengths of A and B
		lc       int
		lda, ldb int
		ldc      int
		sgemm    bool // sgemm only
	}{
		{name: "short_a", m: 4, k: 8, la: 31, lb: 128, lc: 64, lda: 8, ldb: 16, ldc: 16},
		{name: "short_b", m: 4, k: 8, la: 32, lb: 127, lc: 64, lda: 8, ldb: 16, ldc: 16},
		{name: "short_c", m: 4, k: 8, la: 32, lb: 128, lc: 63, lda: 8, ldb: 16, ldc: 16},
		{name: "short_c_k0", m: 4, k: 0, la: 0, lb: 0, lc: 63, lda: 1, ldb: 16, ldc: 16},
		{name: "lda", m: 4, k: 8, la: 100, lb: 128, lc: 64, lda: 7, ldb: 16, ldc: 16},
		{name: "ldb", m: 4, k: 8, la: 32, lb: 200, lc: 64, lda: 8, ldb: 15, ldc: 16},
		{name: "ldc", m: 4, k: 8, la: 32, lb: 128, lc: 100, lda: 8, ldb: 16, ldc: 15},
		{name: "negative", m: -1, k: 8, la: 32, lb: 128, lc: 64, lda: 8, ldb: 16, ldc: 16, sgemm: true},
	}
	for _, p := range sgemmPaths() {
		for _, tt := range tests {
			if tt.sgemm && p.name != "avx2" {
				continue
			}
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				defer func() {
					if recover() == nil {
						t.Fatal("no panic")
					}
				}()
				p.run(tt.m, 16, tt.k, 1, s(tt.la), tt.lda, s(tt.lb), tt.ldb, 0, s(tt.lc), tt.ldc)
			})
		}
	}
}

// TestSgemmNoAllocs checks that repeated float32 products at the LSTM's
// shapes (recurrent step, input projection, output layer, one sequence)
// allocate nothing, on every path and through Gemm.
func TestSgemmNoAllocs(t *testing.T) {
	for _, sh := range [][3]int{{64, 256, 64}, {64, 400, 100}, {1600, 256, 104}, {64, 3, 256}, {1, 400, 100}} {
		m, n, k := sh[0], sh[1], sh[2]
		a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for _, p := range sgemmPaths() {
			if got := testing.AllocsPerRun(20, func() { p.run(m, n, k, 1, a, k, b, n, 1, c, n) }); got != 0 {
				t.Errorf("%s %dx%dx%d: %v allocations per call, want 0", p.name, m, n, k, got)
			}
		}
		if got := testing.AllocsPerRun(20, func() { Gemm(false, false, m, n, k, 1, a, k, b, n, 1, c, n) }); got != 0 {
			t.Errorf("Gemm[float32] %dx%dx%d: %v allocations per call, want 0", m, n, k, got)
		}
	}
}

// BenchmarkSgemm measures C = A·B + C at the LSTM's float32 shapes: the
// recurrent step (batch 64 × 4H, depth H, for H = 64 and 100) and the input
// projection of 25 tokens × 64 sentences (depth = embedding 64, or 100),
// on gonum's kernels (what Gemm ran before, and still runs without AVX2)
// and on sgemm. C accumulates over the iterations (beta = 1, as in the LSTM).
// Run single-threaded (-cpu 1): peak is 117 GFLOP/s per core.
func BenchmarkSgemm(b *testing.B) {
	shapes := [][3]int{
		{64, 256, 64}, {64, 400, 100}, // recurrent step
		{1600, 256, 64}, {1600, 400, 100}, // input projection
	}
	paths := sgemmPaths()
	rng := rand.New(rand.NewPCG(3, 5))
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		a, bm, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for _, s := range [][]float32{a, bm} {
			for i := range s {
				s[i] = float32(rng.Float64()*0.2 - 0.1)
			}
		}
		for _, p := range paths {
			b.Run(fmt.Sprintf("mnk=%dx%dx%d/impl=%s", m, n, k, p.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					p.run(m, n, k, 1, a, k, bm, n, 1, c, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
