package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// dgemmPath is one way Gemm can compute a float64 product.
type dgemmPath struct {
	name string
	run  func(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
}

// dgemmPaths returns the fallback (gonum's kernels, what Gemm runs without
// AVX2/FMA or with the purego tag), Gemm itself (whatever it dispatches to
// here) and, where the CPU has it, dgemm.
func dgemmPaths() []dgemmPath {
	p := []dgemmPath{
		{"gonum", gemmGonum[float64]},
		{"Gemm", Gemm[float64]},
	}
	if hasAVX2FMA {
		p = append(p, dgemmPath{"avx2", dgemm})
	}
	return p
}

// dgemmCase is one product with its transpositions and strides; ld* = 0
// means the tight stride (the row width of A, B or C as stored).
type dgemmCase struct {
	transA, transB bool
	m, n, k        int
	lda, ldb, ldc  int
	alpha, beta    float64
	nanC           bool // fill C with NaN (used with beta = 0)
}

func (tc dgemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s m=%d n=%d k=%d ld=%d,%d,%d alpha=%g beta=%g nanC=%v",
		t(tc.transA), t(tc.transB), tc.m, tc.n, tc.k, tc.lda, tc.ldb, tc.ldc, tc.alpha, tc.beta, tc.nanC)
}

// sentinel64 marks the stride gaps and the tail of C: no path may write
// them. It is a NaN with a payload no arithmetic produces.
var sentinel64 = math.Float64frombits(0x7ff8_0000_dead_beef)

// checkDgemm runs one case on the given paths and compares every element of
// C with a plain triple loop in float64 over the same inputs, which also
// sums the magnitudes g = |alpha|·Σ_p |op(A)[i,p]·op(B)[p,j]| + |beta·C[i,j]|.
// Tolerance: a k-term dot product is within γ_k·Σ|a||b|, γ_k ≈ k·2⁻⁵³, of
// the exact value for any summation order, with or without FMA (Higham,
// Accuracy and Stability of Numerical Algorithms, §3.1); the reference and
// the path under test may err in opposite directions, and alpha, beta and
// the final add round a few more times, so we allow (k+4)·2⁻⁵²·g (about
// 1.2e-14·g at k = 257). Gaps between rows (ld > width) and the slice tail
// must keep the sentinel bit for bit, and A and B must not change
// (checkGemmOutput).
func checkDgemm(t *testing.T, rng *rand.Rand, paths []dgemmPath, tc dgemmCase) {
	t.Helper()
	m, n, k := tc.m, tc.n, tc.k
	ar, ac := m, k
	if tc.transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tc.transB {
		br, bc = n, k
	}
	if tc.lda == 0 {
		tc.lda = max(1, ac)
	}
	if tc.ldb == 0 {
		tc.ldb = max(1, bc)
	}
	if tc.ldc == 0 {
		tc.ldc = max(1, n)
	}
	lda, ldb, ldc := tc.lda, tc.ldb, tc.ldc
	a := fillGemm(rng, ar, ac, lda, sentinel64, false)
	b := fillGemm(rng, br, bc, ldb, sentinel64, false)
	c0 := fillGemm(rng, m, n, ldc, sentinel64, tc.nanC)
	a0, b0 := append([]float64(nil), a...), append([]float64(nil), b...)
	opA := func(i, p int) float64 {
		if tc.transA {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	opB := func(p, j int) float64 {
		if tc.transB {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	want := make([]float64, m*n)
	tol := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, g float64
			for p := 0; p < k; p++ {
				x := opA(i, p) * opB(p, j)
				s += x
				g += math.Abs(x)
			}
			w, gw := tc.alpha*s, math.Abs(tc.alpha)*g
			if tc.beta != 0 {
				bc := tc.beta * c0[i*ldc+j]
				w += bc
				gw += math.Abs(bc)
			}
			want[i*n+j], tol[i*n+j] = w, float64(k+4)*0x1p-52*gw
		}
	}

	c := make([]float64, len(c0))
	for _, p := range paths {
		copy(c, c0)
		p.run(tc.transA, tc.transB, m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		checkGemmOutput(t, fmt.Sprintf("%v %s", tc, p.name), m, n, ldc, a, a0, b, b0, c, c0, want, tol)
	}
}

// fillGemm returns a rows×cols matrix with row stride ld for a checked
// product: values uniform in [-1, 1) from rng (then all NaN if nan is set),
// sentinel in the stride gaps and in a tail of 5 elements.
func fillGemm[T Float](rng *rand.Rand, rows, cols, ld int, sentinel T, nan bool) []T {
	const tail = 5
	s := make([]T, rows*ld+tail)
	for i := range s {
		s[i] = sentinel
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			s[i*ld+j] = T(rng.Float64()*2 - 1)
		}
	}
	if nan {
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				s[i*ld+j] = T(math.NaN())
			}
		}
	}
	return s
}

// sameBits reports whether x and y have the same bits (NaN payloads
// included).
func sameBits[T Float](x, y T) bool {
	if unsafe.Sizeof(x) == 4 {
		return math.Float32bits(float32(x)) == math.Float32bits(float32(y))
	}
	return math.Float64bits(float64(x)) == math.Float64bits(float64(y))
}

// checkGemmOutput checks what one path (named with its case by what) left
// after computing the m×n product C (row stride ldc): every element within
// tol of want (both m×n with stride n), A and B unchanged from a0 and b0,
// and the gaps between the rows of C and its tail unchanged from c0, bit
// for bit.
func checkGemmOutput[T Float](t *testing.T, what string, m, n, ldc int, a, a0, b, b0, c, c0 []T, want, tol []float64) {
	t.Helper()
	same := func(name string, got, want []T) {
		t.Helper()
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%s: %s[%d] changed from %v to %v", what, name, i, want[i], got[i])
			}
		}
	}
	same("A", a, a0)
	same("B", b, b0)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			got, w, e := float64(c[i*ldc+j]), want[i*n+j], tol[i*n+j]
			if !(math.Abs(got-w) <= e) {
				t.Fatalf("%s: C[%d,%d] = %v, want %v ± %.3g", what, i, j, got, w, e)
			}
		}
		// The gap after row i; after the last row, the slice tail.
		end := min((i+1)*ldc, len(c))
		if i == m-1 {
			end = len(c)
		}
		same(fmt.Sprintf("C gap after row %d", i), c[i*ldc+n:end], c0[i*ldc+n:end])
	}
	if m == 0 || n == 0 {
		same("C", c, c0)
	}
}

var dgemmTrans = []struct {
	name           string
	transA, transB bool
}{{"NN", false, false}, {"NT", false, true}, {"TN", true, false}, {"TT", true, true}}

// TestDgemmSizes runs m, n, k over {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17,
// 31, 33, 64, 65, 100, 257} for each transposition pattern, with tight
// strides on even cases and wider ones on odd: tile heights 1–6 and their
// even splits, panel widths 1–8 with the masked edge, depths across the
// unrolled loop, its tail, the 4-column transposed pack and the 256-deep
// blocking. Every triple with at most one size above 33 runs (4,225 per
// pattern), and 40 random triples with two or three; with -short or -race
// the large sizes are sampled too.
func TestDgemmSizes(t *testing.T) {
	t.Parallel()
	small := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33}
	large := []int{64, 65, 100, 257}
	all := append(append([]int(nil), small...), large...)
	isLarge := func(x int) bool { return x > 33 }
	for _, tr := range dgemmTrans {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(7, uint64(len(tr.name))+boolBits(tr.transA, tr.transB)))
			paths := dgemmPaths()
			run := func(m, n, k int, i int) {
				tc := dgemmCase{transA: tr.transA, transB: tr.transB, m: m, n: n, k: k, alpha: 1, beta: 1}
				if i%2 == 1 {
					ac, bc := k, n // row widths of A and B as stored
					if tr.transA {
						ac = m
					}
					if tr.transB {
						bc = k
					}
					tc.lda = max(1, ac) + 1 + rng.IntN(5)
					tc.ldb = max(1, bc) + 1 + rng.IntN(5)
					tc.ldc = max(1, n) + 1 + rng.IntN(5)
				}
				checkDgemm(t, rng, paths, tc)
			}
			i := 0
			for _, m := range all {
				for _, n := range all {
					for _, k := range all {
						nl := 0
						for _, x := range []int{m, n, k} {
							if isLarge(x) {
								nl++
							}
						}
						if nl > 1 || nl == 1 && (testing.Short() || raceEnabled) && rng.IntN(8) != 0 {
							continue
						}
						run(m, n, k, i)
						i++
					}
				}
			}
			samples := 40
			if testing.Short() || raceEnabled {
				samples = 4
			}
			for s := 0; s < samples; s++ {
				pick := func() int { return all[rng.IntN(len(all))] }
				m, n, k := large[rng.IntN(len(large))], large[rng.IntN(len(large))], pick()
				switch s % 3 {
				case 1:
					m, k = k, m
				case 2:
					n, k = k, n
				}
				run(m, n, k, s)
			}
		})
	}
}

func boolBits(a, b bool) uint64 {
	var x uint64
	if a {
		x |= 1
	}
	if b {
		x |= 2
	}
	return x
}

// TestDgemmStridesAndScalars draws random shapes of every transposition
// pattern with strides wider than the rows (sentinels in the gaps must
// survive) and every alpha in {1, -0.5, 0}, beta in {0, 1, 0.3}; beta = 0
// also runs on a C full of NaN, which BLAS semantics say must not leak into
// the result. Some shapes are the training ones (a batch of rows, 4·hidden
// columns, depth past the 256-deep block).
func TestDgemmStridesAndScalars(t *testing.T) {
	t.Parallel()
	alphas := []float64{1, -0.5, 0}
	betas := []float64{0, 1, 0.3}
	for _, tr := range dgemmTrans {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(11, 12+boolBits(tr.transA, tr.transB)))
			paths := dgemmPaths()
			iters := 90
			if testing.Short() || raceEnabled {
				iters = 18
			}
			for it := 0; it < iters; it++ {
				m, n, k := 1+rng.IntN(40), 1+rng.IntN(40), 1+rng.IntN(120)
				if it%9 == 0 { // training-like: a batch, many panels, deep
					m, n, k = 1+rng.IntN(200), 8*(1+rng.IntN(40))+rng.IntN(2), 200+rng.IntN(200)
				}
				extra := func() int { return rng.IntN(3) * (1 + rng.IntN(17)) }
				ac, bc := k, n
				if tr.transA {
					ac = m
				}
				if tr.transB {
					bc = k
				}
				tc := dgemmCase{
					transA: tr.transA, transB: tr.transB,
					m: m, n: n, k: k,
					lda: ac + extra(), ldb: bc + extra(), ldc: n + extra(),
					alpha: alphas[it%3], beta: betas[it/3%3],
				}
				checkDgemm(t, rng, paths, tc)
				if tc.beta == 0 {
					tc.nanC = true
					checkDgemm(t, rng, paths, tc)
				}
			}
		})
	}
}

// gemmFunc is a product with transpositions as Gemm computes it; the paths
// of sgemm_test.go (no transposes) are wrapped to this form by nnOnly.
type gemmFunc[T Float] func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// checkGemmDegenerate runs the products that need no kernel on run with
// the given transpositions: empty products (m or n zero: nothing is
// touched, even with empty slices), k = 0 (C = beta·C, with NaN cleared
// when beta is 0) and alpha = 0 with NaN in A and B (BLAS does not read
// them); k = 1 and a NaN C with beta = 0 check the kernels' edges. C is
// 7×19: one and a bit float32 panels, two and a bit float64 ones.
func checkGemmDegenerate[T Float](t *testing.T, run gemmFunc[T], transA, transB bool) {
	t.Helper()
	run(transA, transB, 0, 5, 3, 1, nil, 5, make([]T, 15), 5, 1, nil, 5)
	run(transA, transB, 4, 0, 3, 1, make([]T, 12), 4, nil, 3, 1, nil, 1)
	nan := T(math.NaN())
	tests := []struct {
		name        string
		k           int
		alpha, beta T
		a, b        T // value of every element of A and B
		c           T // value of every element of C before
		want        T
	}{
		{name: "k0_beta0_nan", k: 0, alpha: 1, beta: 0, c: nan, want: 0},
		{name: "k0_beta2", k: 0, alpha: 1, beta: 2, c: 3, want: 6},
		{name: "k0_beta1", k: 0, alpha: 1, beta: 1, c: 3, want: 3},
		{name: "alpha0_nanAB", k: 5, alpha: 0, beta: -0.5, a: nan, b: nan, c: 4, want: -2},
		{name: "alpha0_beta0", k: 5, alpha: 0, beta: 0, a: nan, b: nan, c: nan, want: 0},
		{name: "beta0_nanC", k: 5, alpha: 2, beta: 0, a: 1, b: 0.5, c: nan, want: 5},
		{name: "k1", k: 1, alpha: 1, beta: 1, a: 3, b: 2, c: 1, want: 7},
	}
	for _, tt := range tests {
		const m, n = 7, 19
		kk := max(1, tt.k)
		a := make([]T, m*kk)
		b := make([]T, kk*n)
		c := make([]T, m*n)
		for i := range a {
			a[i] = tt.a
		}
		for i := range b {
			b[i] = tt.b
		}
		for i := range c {
			c[i] = tt.c
		}
		lda, ldb := kk, n
		if transA {
			lda = m
		}
		if transB {
			ldb = kk
		}
		run(transA, transB, m, n, tt.k, tt.alpha, a, lda, b, ldb, tt.beta, c, n)
		for i, v := range c {
			if v != tt.want {
				t.Fatalf("%s: C[%d] = %v, want %v", tt.name, i, v, tt.want)
			}
		}
	}
}

// TestDgemmDegenerate runs checkGemmDegenerate on every float64 path and
// transposition pattern.
func TestDgemmDegenerate(t *testing.T) {
	t.Parallel()
	for _, p := range dgemmPaths() {
		for _, tr := range dgemmTrans {
			t.Run(p.name+"/"+tr.name, func(t *testing.T) {
				t.Parallel()
				checkGemmDegenerate(t, p.run, tr.transA, tr.transB)
			})
		}
	}
}

// checkGemmPanics checks, in one subtest each, that shapes which do not fit
// the slices panic on run before a kernel could touch memory out of bounds
// (m = 4, n = 16, k = 8, with the given transpositions); a negative
// dimension only if negative is set (gonum's chunking does nothing then).
func checkGemmPanics[T Float](t *testing.T, run gemmFunc[T], transA, transB, negative bool) {
	t.Helper()
	s := func(n int) []T { return make([]T, n) }
	// Tight strides and lengths: A is 4×8 or 8×4, B is 8×16 or 16×8, C is
	// 4×16.
	lda, la := 8, 32
	if transA {
		lda = 4
	}
	ldb, lb := 16, 128
	if transB {
		ldb = 8
	}
	tests := []struct {
		name          string
		m, k          int
		la, lb, lc    int // lengths of A, B and C
		lda, ldb, ldc int
	}{
		{name: "short_a", m: 4, k: 8, la: la - 1, lb: lb, lc: 64, lda: lda, ldb: ldb, ldc: 16},
		{name: "short_b", m: 4, k: 8, la: la, lb: lb - 1, lc: 64, lda: lda, ldb: ldb, ldc: 16},
		{name: "short_c", m: 4, k: 8, la: la, lb: lb, lc: 63, lda: lda, ldb: ldb, ldc: 16},
		{name: "short_c_k0", m: 4, k: 0, la: 0, lb: 0, lc: 63, lda: 1, ldb: 16, ldc: 16},
		{name: "lda", m: 4, k: 8, la: 200, lb: lb, lc: 64, lda: lda - 1, ldb: ldb, ldc: 16},
		{name: "ldb", m: 4, k: 8, la: la, lb: 200, lc: 64, lda: lda, ldb: ldb - 1, ldc: 16},
		{name: "ldc", m: 4, k: 8, la: la, lb: lb, lc: 100, lda: lda, ldb: ldb, ldc: 15},
		{name: "negative", m: -1, k: 8, la: la, lb: lb, lc: 64, lda: lda, ldb: ldb, ldc: 16},
	}
	for _, tt := range tests {
		if tt.name == "negative" && !negative {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			run(transA, transB, tt.m, 16, tt.k, 1, s(tt.la), tt.lda, s(tt.lb), tt.ldb, 0, s(tt.lc), tt.ldc)
		})
	}
}

// TestDgemmPanics runs checkGemmPanics on every float64 path and
// transposition pattern.
func TestDgemmPanics(t *testing.T) {
	t.Parallel()
	for _, tr := range dgemmTrans {
		for _, p := range dgemmPaths() {
			t.Run(p.name+"/"+tr.name, func(t *testing.T) {
				t.Parallel()
				checkGemmPanics(t, p.run, tr.transA, tr.transB, p.name == "avx2")
			})
		}
	}
}

// dgemmBenchShapes are the float64 products of training (model/train_lm.go,
// the classifier and the tagger) at hidden 100, batch 64 or 32 texts × 60
// tokens = 1920 rows, 257 sampled classes: forward NN (recurrent step,
// input projection, sampled output layer), backward NT (gradient of the
// layer input, dX = dY·Wᵀ) and TN (weight gradient, dW = Xᵀ·dY).
var dgemmBenchShapes = []struct {
	trans   string
	m, n, k int
}{
	{"NN", 64, 400, 100}, {"NN", 1920, 400, 100}, {"NN", 1920, 257, 100},
	{"NT", 64, 100, 400}, {"NT", 1920, 100, 400}, {"NT", 1920, 100, 257},
	{"TN", 100, 400, 64}, {"TN", 100, 400, 1920}, {"TN", 100, 257, 1920},
}

// TestDgemmNoAllocs checks that the training shapes allocate nothing, on
// every path and through Gemm.
func TestDgemmNoAllocs(t *testing.T) {
	for _, sh := range dgemmBenchShapes {
		m, n, k := sh.m, sh.n, sh.k
		ta, tb := sh.trans[0] == 'T', sh.trans[1] == 'T'
		a, b, c := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
		lda, ldb := k, n
		if ta {
			lda = m
		}
		if tb {
			ldb = k
		}
		for _, p := range dgemmPaths() {
			if got := testing.AllocsPerRun(5, func() { p.run(ta, tb, m, n, k, 1, a, lda, b, ldb, 1, c, n) }); got != 0 {
				t.Errorf("%s %s %dx%dx%d: %v allocations per call, want 0", p.name, sh.trans, m, n, k, got)
			}
		}
	}
}

// BenchmarkDgemm measures C = op(A)·op(B) + C at the training shapes
// (dgemmBenchShapes) on gonum's kernels (what Gemm ran before, and still
// runs without AVX2) and on dgemm, in GFLOP/s. Run single-threaded (-cpu
// 1): peak is 59 GFLOP/s per core.
func BenchmarkDgemm(b *testing.B) {
	paths := []dgemmPath{{"gonum", gemmGonum[float64]}}
	if hasAVX2FMA {
		paths = append(paths, dgemmPath{"avx2", dgemm})
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for _, sh := range dgemmBenchShapes {
		m, n, k := sh.m, sh.n, sh.k
		ta, tb := sh.trans[0] == 'T', sh.trans[1] == 'T'
		a, bm, c := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
		for _, s := range [][]float64{a, bm} {
			for i := range s {
				s[i] = rng.Float64()*0.2 - 0.1
			}
		}
		lda, ldb := k, n
		if ta {
			lda = m
		}
		if tb {
			ldb = k
		}
		for _, p := range paths {
			b.Run(fmt.Sprintf("%s/mnk=%dx%dx%d/impl=%s", sh.trans, m, n, k, p.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					p.run(ta, tb, m, n, k, 1, a, lda, bm, ldb, 1, c, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
