package nn

// PackedB is a read-only k×n float32 matrix laid out for the sgemm
// micro-kernels once, so products with it never pack at run time: panel j
// (columns 16j … 16j+15) is k consecutive rows of 16 floats, zero-padded
// past column n. The row-major original is kept for CPUs without AVX2/FMA.
// Packing costs one extra copy of the weights (rounded up to 16 columns).
// Safe for concurrent use.
type PackedB struct {
	K, N int
	b    []float32 // row-major k×n, the original
	p    []float32 // panels, nil without AVX2/FMA
}

// PackB returns b (row-major k×n, row stride n) packed for MulPacked. It
// keeps b (do not modify it afterwards). It panics if b is shorter than
// k·n.
func PackB(b []float32, k, n int) *PackedB {
	if len(b) < k*n {
		panic("nn: PackB: b shorter than k·n")
	}
	pb := &PackedB{K: k, N: n, b: b[:k*n]}
	if !hasAVX2FMA || k == 0 || n == 0 {
		return pb
	}
	panels := (n + sgemmNR - 1) / sgemmNR
	pb.p = make([]float32, panels*k*sgemmNR)
	for j := 0; j < panels; j++ {
		nb := min(sgemmNR, n-j*sgemmNR)
		dst := pb.p[j*k*sgemmNR : (j+1)*k*sgemmNR]
		for r := 0; r < k; r++ {
			copy(dst[r*sgemmNR:r*sgemmNR+nb], b[r*n+j*sgemmNR:r*n+j*sgemmNR+nb])
		}
	}
	return pb
}

// MulPacked computes C = A·B + beta·C for A m×K (row stride lda), B = pb
// and C m×N (row stride ldc), like Gemm without transposes and alpha 1
// (the same kernels and blocking as sgemm, minus the packing). If beta is
// zero C is not read. It does not allocate. It panics if a stride is
// smaller than its row or a slice is too short for its shape.
func MulPacked(m int, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	k, n := pb.K, pb.N
	if pb.p == nil {
		Gemm(false, false, m, n, k, 1, a, lda, pb.b, max(1, n), beta, c, ldc)
		return
	}
	switch {
	case m < 0:
		panic("nn: MulPacked negative dimension")
	case lda < max(1, k):
		panic("nn: MulPacked lda smaller than k")
	case ldc < max(1, n):
		panic("nn: MulPacked ldc smaller than n")
	}
	if m == 0 {
		return
	}
	if len(c) < ldc*(m-1)+n {
		panic("nn: MulPacked C too short")
	}
	if len(a) < lda*(m-1)+k {
		panic("nn: MulPacked A too short")
	}
	for p0 := 0; p0 < k; p0 += sgemmKC {
		kb := min(sgemmKC, k-p0)
		bet := beta
		if p0 > 0 {
			bet = 1
		}
		for i0 := 0; i0 < m; i0 += sgemmMC {
			mb := min(sgemmMC, m-i0)
			tiles := (mb + sgemmMR - 1) / sgemmMR
			base, extra := mb/tiles, mb%tiles
			for j0 := 0; j0 < n; j0 += sgemmNR {
				nb := min(sgemmNR, n-j0)
				bp := pb.p[(j0/sgemmNR)*k*sgemmNR+p0*sgemmNR:]
				i := i0
				for t := range tiles {
					mr := base
					if t < extra {
						mr++
					}
					sgemmTile(mr, nb, kb, a[i*lda+p0:], lda, bp, sgemmNR, c[i*ldc+j0:], ldc, 1, bet)
					i += mr
				}
			}
		}
	}
}

// AffinePacked writes y = x·w + b for n rows (x n×w.K, row stride w.K; y
// n×w.N, row stride w.N; b has w.N entries), like Affine.
func AffinePacked(x []float32, n int, w *PackedB, b []float32, y []float32) {
	out := w.N
	for r := 0; r < n; r++ {
		copy(y[r*out:(r+1)*out], b[:out])
	}
	MulPacked(n, x, max(1, w.K), w, 1, y, max(1, out))
}
