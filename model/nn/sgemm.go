package nn

//go:generate go run sgemm_gen.go dgemm_gen.go -elem float32

// Blocking of sgemm. The micro-kernel computes an mr×16 tile of C (mr <= 6)
// from a k-deep strip of A, read in place, and a k×16 panel of B, which
// every tile of the column block reads again. B's rows are read in place
// unless the panel is narrower than 16 columns (it is copied, zero-padded,
// into a stack buffer) or its rows would crowd into too few sets of the L1
// cache to stay there between tiles (gemmCrowded: a row stride of 256
// floats puts all rows into 4 of the 64 sets); then the panel is packed
// into consecutive lines. Packing a panel that fits in place measured ~8%
// slower at n = 400.
const (
	sgemmMR = 6   // max rows of a C tile
	sgemmNR = 16  // columns of a C tile: two 8-lane vectors
	sgemmKC = 256 // max depth of a packed panel: 256·16 floats = 16 KiB of stack
	sgemmMC = 192 // rows of A swept per packed panel (≤ 192·256·4 B = 192 KiB, in L2)
)

// sgemmMask holds the column masks of a panel narrower than 16: the 16
// int32s from &sgemmMask[16-nb] select the first nb lanes.
var sgemmMask = [2 * sgemmNR]int32{
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
}

// sgemm computes C = alpha·A·B + beta·C for row-major float32 matrices: C
// is m×n (row stride ldc), A is m×k (lda), B is k×n (ldb). It follows BLAS
// sgemm: if alpha is zero or k is zero A and B are not read; if beta is zero
// C is not read, so NaNs in it do not propagate. Elements of C outside the
// m×n window (in the stride gaps) are never written.
//
// It runs the AVX2/FMA micro-kernels and must only be called where
// hasAVX2FMA is true. It does not allocate: the packing buffer is a local
// array. It panics (gemmCheck) if a dimension is negative, a stride is
// smaller than the row width or a slice is too short for its shape: the
// kernels do no bounds checks of their own. As in dgemm and the gonum
// fallback of Gemm, the strides and slices of an empty product (m or n
// zero) and those of A and B when alpha or k is zero are not checked.
func sgemm(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !gemmCheck("sgemm", false, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	var pack [sgemmKC * sgemmNR]float32
	crowded := gemmCrowded(4*ldb, min(k, sgemmKC))
	for p0 := 0; p0 < k; p0 += sgemmKC {
		kb := min(sgemmKC, k-p0)
		bet := beta
		if p0 > 0 {
			bet = 1 // later depth blocks accumulate onto the first
		}
		for i0 := 0; i0 < m; i0 += sgemmMC {
			mb := min(sgemmMC, m-i0)
			// Tiles of as equal height as possible: 64 rows are 9×6 + 2×5
			// rather than 10×6 + 1×4.
			tiles := (mb + sgemmMR - 1) / sgemmMR
			base, extra := mb/tiles, mb%tiles
			for j0 := 0; j0 < n; j0 += sgemmNR {
				nb := min(sgemmNR, n-j0)
				bp, bs := b[p0*ldb+j0:], ldb
				if nb < sgemmNR || mb > sgemmMR && crowded {
					sgemmPack(kb, nb, bp, ldb, pack[:])
					bp, bs = pack[:], sgemmNR
				}
				i := i0
				for t := range tiles {
					mr := base
					if t < extra {
						mr++
					}
					sgemmTile(mr, nb, kb, a[i*lda+p0:], lda, bp, bs, c[i*ldc+j0:], ldc, alpha, bet)
					i += mr
				}
			}
		}
	}
}
