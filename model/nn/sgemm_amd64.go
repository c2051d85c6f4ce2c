//go:build amd64 && !purego

package nn

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasAVX2FMA reports whether the CPU and OS support the AVX2/FMA kernels of
// sgemm_amd64.s and lstmcell_amd64.s (x/sys/cpu checks that the OS saves
// the YMM registers). It is set once at start-up and only read afterwards.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// The micro-kernels of sgemm_amd64.s (see sgemm_gen.go): C[0:mr, 0:16] =
// alpha·A[0:mr, 0:k]·B[0:k, 0:16] + beta·C for mr = 1…6, strides in
// elements. flags: 1 = beta is zero (C not read), 2 = store only the lanes
// selected by mask[0:16].

//go:noescape
func sgemmKernel1(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, mask *int32)

//go:noescape
func sgemmKernel2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, mask *int32)

//go:noescape
func sgemmKernel3(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, mask *int32)

//go:noescape
func sgemmKernel4(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, mask *int32)

//go:noescape
func sgemmKernel5(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, mask *int32)

//go:noescape
func sgemmKernel6(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, mask *int32)

//go:noescape
func sgemmPack16(k int, b *float32, ldb int, dst *float32)

//go:noescape
func sgemmPack16Mask(k int, b *float32, ldb int, dst *float32, mask *int32)

// sgemmTile runs the kernel for an mr×nb tile (1 <= mr <= 6, 1 <= nb
// <= 16, k >= 1). The caller (sgemm) has checked that every element the
// kernel touches lies inside the slices: rows of b are 16 wide when nb < 16
// only if b is a packed panel.
func sgemmTile(mr, nb, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	var flags int
	if beta == 0 {
		flags |= 1
	}
	if nb < sgemmNR {
		flags |= 2
	}
	pa, pb, pc := unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c)
	mask := &sgemmMask[sgemmNR-nb]
	switch mr {
	case 6:
		sgemmKernel6(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 5:
		sgemmKernel5(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 4:
		sgemmKernel4(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 3:
		sgemmKernel3(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 2:
		sgemmKernel2(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	case 1:
		sgemmKernel1(k, pa, lda, pb, ldb, pc, ldc, alpha, beta, flags, mask)
	default:
		panic("nn: sgemm tile height out of range")
	}
}

// sgemmPack copies k rows of nb <= 16 columns of b (stride ldb) into dst
// (k·16 floats) with stride 16, zero-padding columns nb…15.
func sgemmPack(k, nb int, b []float32, ldb int, dst []float32) {
	_ = dst[k*sgemmNR-1]
	if nb == sgemmNR {
		sgemmPack16(k, unsafe.SliceData(b), ldb, unsafe.SliceData(dst))
		return
	}
	sgemmPack16Mask(k, unsafe.SliceData(b), ldb, unsafe.SliceData(dst), &sgemmMask[sgemmNR-nb])
}
