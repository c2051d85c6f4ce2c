package nn

// MaxMeanPool pools a time-major sequence x (steps·batch × width) over each
// sequence's valid steps into out (batch × 2·width): columns [0,width) hold
// the max and [width, 2·width) the mean. A sequence of length 0 pools to
// zeros. If argmax is not nil (batch × width) it receives the step of each
// maximum, for the backward pass.
func MaxMeanPool[T Float](x []T, steps, batch, width int, lens []int32, out []T, argmax []int32) {
	for b := 0; b < batch; b++ {
		mx := out[b*2*width : b*2*width+width]
		mean := out[b*2*width+width : (b+1)*2*width]
		n := min(int(lens[b]), steps)
		if n <= 0 {
			clear(mx)
			clear(mean)
			if argmax != nil {
				clear(argmax[b*width : (b+1)*width])
			}
			continue
		}
		first := x[b*width : (b+1)*width]
		copy(mx, first)
		copy(mean, first)
		var am []int32
		if argmax != nil {
			am = argmax[b*width : (b+1)*width]
			clear(am)
		}
		for t := 1; t < n; t++ {
			row := x[(t*batch+b)*width : (t*batch+b+1)*width]
			for j, v := range row {
				mean[j] += v
				if v > mx[j] {
					mx[j] = v
					if am != nil {
						am[j] = int32(t)
					}
				}
			}
		}
		inv := 1 / T(n)
		for j := range mean {
			mean[j] *= inv
		}
	}
}

// MaxMeanPoolBackward adds the gradient of MaxMeanPool into dx: the max
// gradient to the arg-max step, the mean gradient spread over valid steps.
func MaxMeanPoolBackward(dOut []float64, steps, batch, width int, lens []int32, argmax []int32, dx []float64) {
	for b := 0; b < batch; b++ {
		n := min(int(lens[b]), steps)
		if n <= 0 {
			continue
		}
		dmx := dOut[b*2*width : b*2*width+width]
		dmean := dOut[b*2*width+width : (b+1)*2*width]
		inv := 1 / float64(n)
		for t := 0; t < n; t++ {
			row := dx[(t*batch+b)*width : (t*batch+b+1)*width]
			for j := range row {
				row[j] += dmean[j] * inv
			}
		}
		for j, t := range argmax[b*width : (b+1)*width] {
			dx[(int(t)*batch+b)*width+j] += dmx[j]
		}
	}
}
