//go:build !amd64 || purego

package nn

// hasAVX2FMA is false without the amd64 assembly (other architectures, or
// the purego build tag): Gemm keeps float32 on gonum's kernels.
const hasAVX2FMA = false

func sgemmTile(mr, nb, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	panic("nn: sgemm without AVX2/FMA")
}

func sgemmPack(k, nb int, b []float32, ldb int, dst []float32) {
	panic("nn: sgemm without AVX2/FMA")
}
