package nn

import (
	"math"
	"unsafe"
)

// Sigmoid returns 1/(1+e^-x). In float64 it is exact (math.Exp); in float32 it
// uses FastExp (relative error below 2e-7), which is what the inference path
// runs.
func Sigmoid[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(1 / (1 + FastExp(float32(-x))))
	}
	return T(1 / (1 + math.Exp(float64(-x))))
}

// Tanh returns tanh(x), exact in float64 and via FastExp in float32.
func Tanh[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		f := float32(x)
		if f > 9 {
			return 1
		}
		if f < -9 {
			return -1
		}
		if f > -0.0625 && f < 0.0625 {
			// 1 - 2/(e^2x+1) cancels badly near 0: use the odd series instead.
			f2 := f * f
			return T(f * (1 + f2*(-1.0/3+f2*(2.0/15-f2*17.0/315))))
		}
		return T(1 - 2/(FastExp(2*f)+1))
	}
	return T(math.Tanh(float64(x)))
}

// FastExp returns e^x in float32 by range reduction x = n·ln2 + r, |r| <= ln2/2,
// and a degree-6 polynomial for e^r; n is put into the exponent bits directly.
// Inputs below -86 return 0 and above 88 return +Inf. Relative error < 2e-7.
func FastExp(x float32) float32 {
	if x < -86 {
		return 0
	}
	if x > 88 {
		return float32(math.Inf(1))
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	n := float32(math.Floor(float64(x)*log2e + 0.5))
	r := x - n*ln2hi - n*ln2lo
	// Taylor/minimax coefficients for e^r on [-ln2/2, ln2/2] (cephes expf).
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	bits := math.Float32bits(y) + uint32(int32(n))<<23
	return math.Float32frombits(bits)
}
