package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxMeanPool32 compares MaxMeanPool32 with the generic MaxMeanPool for
// every width 1…140 on random time-major batches with lengths 0, 1, short,
// full and beyond steps, values with ties (rounded to halves), ±0 and a
// NaN: the vector path compares and adds in the same order, so results
// must be identical bit for bit.
func TestMaxMeanPool32(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	lens := []int32{0, 1, 3, 9, 12, 9}
	const steps = 9
	batch := len(lens)
	for width := 1; width <= 140; width++ {
		x := make([]float32, steps*batch*width)
		for i := range x {
			switch r := rng.IntN(50); {
			case r == 0:
				x[i] = float32(math.Copysign(0, -1))
			case r == 1:
				x[i] = 0
			case r == 2 && width == 77:
				x[i] = float32(math.NaN())
			default:
				x[i] = float32(math.Round(rng.NormFloat64()*4) / 2)
			}
		}
		want := make([]float32, batch*2*width)
		got := make([]float32, batch*2*width)
		for i := range got {
			got[i] = 42
		}
		MaxMeanPool(x, steps, batch, width, lens, want, nil)
		MaxMeanPool32(x, steps, batch, width, lens, got)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("width %d: out[%d] = %v, want %v", width, i, got[i], want[i])
			}
		}
	}
}

func TestMaxMeanPool32NoAlloc(t *testing.T) {
	x := make([]float32, 30*64*128)
	out := make([]float32, 64*256)
	lens := make([]int32, 64)
	for i := range lens {
		lens[i] = int32(30 - i%30)
	}
	if a := testing.AllocsPerRun(20, func() { MaxMeanPool32(x, 30, 64, 128, lens, out) }); a != 0 {
		t.Errorf("MaxMeanPool32 allocates %v times per call", a)
	}
}
