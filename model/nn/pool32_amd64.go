//go:build amd64 && !purego

package nn

// poolAVX2 writes into mx and mean (cols floats, a multiple of 8) the
// maximum and scale × the sum of n >= 1 rows of x, row t starting at
// x[t·stride] (pool32_amd64.s). It does no bounds checks.
//
//go:noescape
func poolAVX2(x *float32, stride, n, cols int, mx, mean *float32, scale float32)

// poolVec runs poolAVX2 after the caller has checked the shapes.
func poolVec(x []float32, stride, n, cols int, mx, mean []float32, scale float32) {
	_, _ = mx[cols-1], mean[cols-1]
	poolAVX2(&x[0], stride, n, cols, &mx[0], &mean[0], scale)
}
