package nn

import "unsafe"

//go:generate go run sgemm_gen.go dgemm_gen.go -elem float64

// Blocking of dgemm, the float64 twin of sgemm. The micro-kernel computes an
// mr×8 tile of C (mr <= 6) from a k-deep strip of op(A), read in place with
// either stride, and a k×8 panel of op(B), which every tile of the column
// block reads again. Without transB the panel's rows are read in place
// unless it is narrower than 8 columns, its rows crowd into too few L1 sets
// (gemmCrowded) or ldb is not a multiple of 4 (3 in 8 of the
// 32-byte loads would straddle two cache lines: packing measured 33 → 41
// GFLOP/s at 1920×257×100); then it is copied into a stack buffer aligned
// to a cache line. With transB the panel is always gathered from 8 rows of
// B into that buffer (dgemmPackT). The kernels prefetch their tile of C
// before the k loop: without it, a C with ldc = 257 ran at 24 GFLOP/s
// instead of 35 (the epilogue waited on cache misses).
const (
	dgemmMR = 6   // max rows of a C tile
	dgemmNR = 8   // columns of a C tile: two 4-lane vectors
	dgemmKC = 256 // max depth of a packed panel: 256·8 doubles = 16 KiB of stack
	dgemmMC = 192 // rows of op(A) swept per packed panel (≤ 192·256·8 B = 384 KiB, in L2)
)

// dgemmMask holds the column masks of a panel narrower than 8: the 8 int64s
// from &dgemmMask[8-nb] select the first nb lanes.
var dgemmMask = [2 * dgemmNR]int64{-1, -1, -1, -1, -1, -1, -1, -1}

// dgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float64
// matrices, op(X) = Xᵀ if transX: C is m×n (row stride ldc), op(A) is m×k
// (A is m×k with stride lda >= k, or k×m with lda >= m if transA), op(B) is
// k×n (B is k×n with ldb >= n, or n×k with ldb >= k if transB). It follows
// BLAS dgemm: if alpha is zero or k is zero A and B are not read; if beta is
// zero C is not read, so NaNs in it do not propagate. Elements of C outside
// the m×n window (in the stride gaps) are never written.
//
// It runs the AVX2/FMA micro-kernels and must only be called where
// hasAVX2FMA is true. It neither allocates nor spawns goroutines: the
// packing buffer is a local array. It panics if a dimension is negative, a
// stride is smaller than its row width or a slice is too short for its
// shape: the kernels do no bounds checks of their own.
func dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !gemmCheck("dgemm", transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	// The packed panel starts on a 64-byte line, so that no row of it
	// straddles two lines.
	var buf [dgemmKC*dgemmNR + 7]float64
	off := int(-uintptr(unsafe.Pointer(&buf[0])) % 64 / 8)
	pack := buf[off : off+dgemmKC*dgemmNR]
	packB := !transB && (gemmCrowded(8*ldb, min(k, dgemmKC)) || ldb%4 != 0)
	for p0 := 0; p0 < k; p0 += dgemmKC {
		kb := min(dgemmKC, k-p0)
		bet := beta
		if p0 > 0 {
			bet = 1 // later depth blocks accumulate onto the first
		}
		for i0 := 0; i0 < m; i0 += dgemmMC {
			mb := min(dgemmMC, m-i0)
			// Tiles of as equal height as possible: 64 rows are 9×6 + 2×5
			// rather than 10×6 + 1×4.
			tiles := (mb + dgemmMR - 1) / dgemmMR
			base, extra := mb/tiles, mb%tiles
			for j0 := 0; j0 < n; j0 += dgemmNR {
				nb := min(dgemmNR, n-j0)
				var bp []float64
				bs := dgemmNR
				switch {
				case transB:
					dgemmPackT(kb, nb, b[j0*ldb+p0:], ldb, pack[:])
					bp = pack[:]
				case nb < dgemmNR || mb > dgemmMR && packB:
					dgemmPack(kb, nb, b[p0*ldb+j0:], ldb, pack[:])
					bp = pack[:]
				default:
					bp, bs = b[p0*ldb+j0:], ldb
				}
				i := i0
				for t := range tiles {
					mr := base
					if t < extra {
						mr++
					}
					var ap []float64
					if transA {
						ap = a[p0*lda+i:]
					} else {
						ap = a[i*lda+p0:]
					}
					dgemmTile(transA, mr, nb, kb, ap, lda, bp, bs, c[i*ldc+j0:], ldc, alpha, bet)
					i += mr
				}
			}
		}
	}
}

// dgemmPackT writes the k×8 panel of Bᵀ whose columns are the first nb <= 8
// rows of b (stride ldb) into dst (k·8 doubles): dst[p·8+j] = b[j·ldb+p],
// zero for j >= nb. Full panels go through the assembly transpose four
// columns at a time.
func dgemmPackT(k, nb int, b []float64, ldb int, dst []float64) {
	dst = dst[:k*dgemmNR]
	p := 0
	if nb == dgemmNR && k >= 4 {
		_ = b[(dgemmNR-1)*ldb+k-1]
		k4 := k / 4
		dgemmPackTFull(k4, b, ldb, dst)
		p = 4 * k4
	}
	for j := 0; j < dgemmNR; j++ {
		if j >= nb {
			for q := p; q < k; q++ {
				dst[q*dgemmNR+j] = 0
			}
			continue
		}
		row := b[j*ldb : j*ldb+k]
		for q := p; q < k; q++ {
			dst[q*dgemmNR+j] = row[q]
		}
	}
}
