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
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row) // BLAS: beta = 0 ignores C, NaNs included
				continue
			}
			for j := range row {
				row[j] *= beta
			}
		}
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
