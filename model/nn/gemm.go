package nn

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Float is the element type of the numeric kernels: float64 for training and
// float32 for the inference path.
type Float interface{ ~float32 | ~float64 }

var impl gonum.Implementation

// Chunk sizes that keep gonum's GEMM on its serial path: it goes parallel
// (spawning goroutines and allocating) when a call spans four or more 64×64
// blocks of C. Each worker owns one core, so serial calls are what we want.
const (
	gemmRows = 64
	gemmCols = 192
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major A, B, C, where
// op(X) is X or Xᵀ. C is m×n, op(A) is m×k, op(B) is k×n. As in BLAS, beta =
// 0 overwrites C without reading it. It never spawns goroutines and never
// allocates. Where the CPU has AVX2/FMA (amd64 builds without the purego
// tag), float64 products of every transposition (the training path) run
// dgemm's micro-kernels and the float32 product without transposes (the
// inference path) runs sgemm's. Everything else goes to gonum, cut into
// chunks that it computes serially. It panics if the dimensions do not fit
// the slices.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if hasAVX2FMA && unsafe.Sizeof(alpha) == 8 {
		dgemm(transA, transB, m, n, k, float64(alpha), as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
		return
	}
	if hasAVX2FMA && unsafe.Sizeof(alpha) == 4 && !transA && !transB {
		sgemm(m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
		return
	}
	gemmGonum(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmGonum is Gemm on gonum's serial kernels, for any element type and
// transposition.
func gemmGonum[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		// BLAS reads neither A nor B then (gonum's Sgemm/Dgemm multiply
		// them by zero, turning a NaN in them into NaN in C).
		gemmScale(m, n, beta, c, ldc)
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	for i0 := 0; i0 < m; i0 += gemmRows {
		mi := min(gemmRows, m-i0)
		for j0 := 0; j0 < n; j0 += gemmCols {
			nj := min(gemmCols, n-j0)
			// Sub-matrix views: rows i0.. of op(A), columns j0.. of op(B) and C.
			var aoff, boff int
			if transA {
				aoff = i0 // A is k×m: column offset i0
			} else {
				aoff = i0 * lda
			}
			if transB {
				boff = j0 * ldb // B is n×k: row offset j0
			} else {
				boff = j0
			}
			coff := i0*ldc + j0
			gemmRaw(ta, tb, mi, nj, k, alpha, a[aoff:], lda, b[boff:], ldb, beta, c[coff:], ldc)
		}
	}
}

func gemmRaw[T Float](ta, tb blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if unsafe.Sizeof(alpha) == 4 {
		impl.Sgemm(ta, tb, m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
		return
	}
	impl.Dgemm(ta, tb, m, n, k, float64(alpha), as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
}

func as32[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func as64[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// gemmCheck checks the arguments of sgemm and dgemm (name) and does the
// products that need no kernel; it reports whether the kernels have work
// left, that is m, n, k > 0 and alpha != 0. An empty C (m or n is zero) is
// not touched; alpha = 0 or k = 0 scales C by beta without reading A or B.
// Each slice and stride is checked where it will be read, as gemmGonum
// (the fallback of Gemm) does, so an empty product passes whatever its
// strides. It panics if a dimension is negative, a stride is smaller than
// the row width of its matrix as stored, a slice is too short for its
// shape, or the kernels would run on a CPU without AVX2/FMA: the kernels do
// no bounds checks of their own.
func gemmCheck[T Float](name string, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) bool {
	if m < 0 || n < 0 || k < 0 {
		panic("nn: " + name + " negative dimension")
	}
	if m == 0 || n == 0 {
		return false
	}
	// Shapes of A and B as stored.
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	switch {
	case ldc < n:
		panic("nn: " + name + " ldc smaller than n")
	case len(c) < ldc*(m-1)+n:
		panic("nn: " + name + " C too short")
	}
	if alpha == 0 || k == 0 {
		gemmScale(m, n, beta, c, ldc)
		return false
	}
	switch {
	case lda < ac:
		panic("nn: " + name + " lda smaller than the row width of A")
	case ldb < bc:
		panic("nn: " + name + " ldb smaller than the row width of B")
	case len(a) < lda*(ar-1)+ac:
		panic("nn: " + name + " A too short")
	case len(b) < ldb*(br-1)+bc:
		panic("nn: " + name + " B too short")
	}
	if !hasAVX2FMA {
		panic("nn: " + name + " without AVX2/FMA")
	}
	return true
}

// gemmScale sets the m×n matrix C (row stride ldc) to beta·C; beta = 0
// clears C (NaNs included, as BLAS requires) and beta = 1 leaves it as it is.
func gemmScale[T Float](m, n int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemmCrowded reports whether k rows of 64 bytes (a panel of 16 float32s or
// 8 float64s) at a stride of ldbBytes would take more than half of the 32
// KiB, 8-way L1 data cache of the target (AMD Zen 4; Intel since Skylake has
// the same geometry): row p starts at byte p·ldbBytes, so modulo the 4 KiB
// that map onto the 64 sets the rows fall on 4096/gcd(ldbBytes, 4096)
// offsets, and on no more sets than that. Each row spans up to two lines.
func gemmCrowded(ldbBytes, k int) bool {
	const way = 4096 // bytes of one way: 64 sets × 64-byte lines
	g, s := way, ldbBytes%way
	for s != 0 {
		g, s = s, g%s
	}
	sets := min(64, way/g)
	return 8*sets < 4*k
}
