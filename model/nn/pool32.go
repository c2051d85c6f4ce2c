package nn

// MaxMeanPool32 is MaxMeanPool for float32 inference (no argmax): out row
// b (batch × 2·width) holds the maximum and the mean of x's rows t·batch+b,
// t < lens[b]. Where the CPU has AVX2 it runs 32 columns at a time in
// vector registers, comparing and adding in the same order as MaxMeanPool
// (a maximum is replaced only by a strictly greater value), so the result
// is bit for bit the same. It does not allocate.
func MaxMeanPool32(x []float32, steps, batch, width int, lens []int32, out []float32) {
	cols := 0
	if hasAVX2FMA {
		cols = width &^ 7
	}
	for b := 0; b < batch; b++ {
		mx := out[b*2*width : b*2*width+width]
		mean := out[b*2*width+width : (b+1)*2*width]
		n := min(int(lens[b]), steps)
		if n <= 0 {
			clear(mx)
			clear(mean)
			continue
		}
		_ = x[((n-1)*batch+b)*width+width-1]
		inv := 1 / float32(n)
		if cols > 0 {
			poolVec(x[b*width:], batch*width, n, cols, mx, mean, inv)
		}
		if cols == width {
			continue
		}
		copy(mx[cols:], x[b*width+cols:(b+1)*width])
		copy(mean[cols:], x[b*width+cols:(b+1)*width])
		for t := 1; t < n; t++ {
			row := x[(t*batch+b)*width+cols : (t*batch+b+1)*width]
			for j, v := range row {
				mean[cols+j] += v
				if v > mx[cols+j] {
					mx[cols+j] = v
				}
			}
		}
		for j := cols; j < width; j++ {
			mean[j] *= inv
		}
	}
}
