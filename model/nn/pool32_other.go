//go:build !amd64 || purego

package nn

// poolVec is never called here (hasAVX2FMA is false).
func poolVec(x []float32, stride, n, cols int, mx, mean []float32, scale float32) {
	panic("nn: poolVec without AVX2")
}
