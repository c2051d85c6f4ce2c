//go:build amd64 && !purego

package nn

import "unsafe"

// The micro-kernels of dgemm_amd64.s (see dgemm_gen.go): C[0:mr, 0:8] =
// alpha·op(A)[0:mr, 0:k]·B[0:k, 0:8] + beta·C for mr = 1…6, strides in
// elements; the N kernels read op(A)[i, p] at a[i·lda+p], the T kernels at
// a[p·lda+i]. flags: 1 = beta is zero (C not read), 2 = store only the
// lanes selected by mask[0:8].

//go:noescape
func dgemmKernel1N(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel2N(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel3N(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel4N(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel5N(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel6N(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel1T(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel2T(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel3T(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel4T(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel5T(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmKernel6T(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)

//go:noescape
func dgemmPack8(k int, b *float64, ldb int, dst *float64)

//go:noescape
func dgemmPack8Mask(k int, b *float64, ldb int, dst *float64, mask *int64)

//go:noescape
func dgemmPack8T(k4 int, b *float64, ldb int, dst *float64)

// dgemmTile runs the kernel for an mr×nb tile (1 <= mr <= 6, 1 <= nb <= 8,
// k >= 1). The caller (dgemm) has checked that every element the kernel
// touches lies inside the slices: rows of b are 8 wide when nb < 8 only if
// b is a packed panel.
func dgemmTile(transA bool, mr, nb, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	var flags int
	if beta == 0 {
		flags |= 1
	}
	if nb < dgemmNR {
		flags |= 2
	}
	pa, pb, pc := unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c)
	mask := &dgemmMask[dgemmNR-nb]
	if transA {
		switch mr {
		case 6:
			dgemmKernel6T(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
		case 5:
			dgemmKernel5T(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
		case 4:
			dgemmKernel4T(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
		case 3:
			dgemmKernel3T(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
		case 2:
			dgemmKernel2T(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
		case 1:
			dgemmKernel1T(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
		default:
			panic("nn: dgemm tile height out of range")
		}
		return
	}
	switch mr {
	case 6:
		dgemmKernel6N(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 5:
		dgemmKernel5N(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 4:
		dgemmKernel4N(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 3:
		dgemmKernel3N(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 2:
		dgemmKernel2N(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 1:
		dgemmKernel1N(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	default:
		panic("nn: dgemm tile height out of range")
	}
}

// dgemmPack copies k rows of nb <= 8 columns of b (stride ldb) into dst
// (k·8 doubles) with stride 8, zero-padding columns nb…7.
func dgemmPack(k, nb int, b []float64, ldb int, dst []float64) {
	_ = dst[k*dgemmNR-1]
	if nb == dgemmNR {
		dgemmPack8(k, unsafe.SliceData(b), ldb, unsafe.SliceData(dst))
		return
	}
	dgemmPack8Mask(k, unsafe.SliceData(b), ldb, unsafe.SliceData(dst), &dgemmMask[dgemmNR-nb])
}

// dgemmPackTFull packs the first 4·k4 columns of 8 rows of b (stride ldb)
// transposed into dst; the caller has checked the bounds.
func dgemmPackTFull(k4 int, b []float64, ldb int, dst []float64) {
	_ = dst[4*k4*dgemmNR-1]
	dgemmPack8T(k4, unsafe.SliceData(b), ldb, unsafe.SliceData(dst))
}
