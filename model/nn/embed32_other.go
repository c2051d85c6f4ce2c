//go:build !amd64 || purego

package nn

// embedBagVec is never called here (hasAVX2FMA is false).
func embedBagVec(table []float32, dim int, bag []int32, dst []float32, cols int, scale float32) {
	panic("nn: embedBagVec without AVX2")
}
