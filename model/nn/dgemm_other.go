//go:build !amd64 || purego

package nn

// Without the amd64 assembly (other architectures, or the purego build
// tag) hasAVX2FMA is false and Gemm keeps float64 on gonum's kernels; dgemm
// panics before it could reach these.

func dgemmTile(transA bool, mr, nb, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	panic("nn: dgemm without AVX2/FMA")
}

func dgemmPack(k, nb int, b []float64, ldb int, dst []float64) {
	panic("nn: dgemm without AVX2/FMA")
}

func dgemmPackTFull(k4 int, b []float64, ldb int, dst []float64) {
	panic("nn: dgemm without AVX2/FMA")
}
