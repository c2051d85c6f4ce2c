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
// beta and the final add. Gaps between rows (ld > width) and the slice
// tail must keep the sentinel bit for bit, and A and B must not change
// (checkGemmOutput, dgemm_test.go).
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
	a := fillGemm(rng, m, k, lda, sentinel, false)
	b := fillGemm(rng, k, n, ldb, sentinel, false)
	c0 := fillGemm(rng, m, n, ldc, sentinel, tc.nanC)
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
	want, tol := make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			w := alpha * ab[i*n+j]
			g := math.Abs(alpha) * mag[i*n+j]
			if beta != 0 {
				bc := beta * float64(c0[i*ldc+j])
				w += bc
				g += math.Abs(bc)
			}
			want[i*n+j], tol[i*n+j] = w, float64(k+4)*0x1p-23*g
		}
	}

	c := make([]float32, len(c0))
	for _, p := range paths {
		copy(c, c0)
		p.run(m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		checkGemmOutput(t, fmt.Sprintf("%+v %s", tc, p.name), m, n, ldc, a, a0, b, b0, c, c0, want, tol)
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

// nnOnly wraps an sgemm path, which has no transposes, as a gemmFunc for
// the shared checks; they call it with transA = transB = false only.
func nnOnly(p sgemmPath) gemmFunc[float32] {
	return func(_, _ bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		p.run(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// TestSgemmDegenerate runs checkGemmDegenerate (dgemm_test.go) on every
// float32 path.
func TestSgemmDegenerate(t *testing.T) {
	t.Parallel()
	for _, p := range sgemmPaths() {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			checkGemmDegenerate(t, nnOnly(p), false, false)
		})
	}
}

// TestSgemmPanics runs checkGemmPanics (dgemm_test.go) on every float32
// path; the negative dimension only on sgemm.
func TestSgemmPanics(t *testing.T) {
	t.Parallel()
	for _, p := range sgemmPaths() {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			checkGemmPanics(t, nnOnly(p), false, false, p.name == "avx2")
		})
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
