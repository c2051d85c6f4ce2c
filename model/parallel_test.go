package model

import (
	"math"
	"testing"

	"github.com/tagstream/tagstream/model/nn"
)

func TestEMAWarmup(t *testing.T) {
	t.Parallel()
	p := nn.NewParam("w", 1, 1)
	e := newEMA([]*nn.Param{p}, 0.999)
	// Reference: a_n = d_n·a_{n-1} + (1-d_n)·w with d_n = min(0.999, (1+n)/(10+n)).
	a := 0.0
	for n := 1; n <= 50; n++ {
		p.W[0] = 1
		e.update([]*nn.Param{p})
		d := math.Min(0.999, float64(1+n)/float64(10+n))
		a = d*a + (1-d)*1
	}
	if math.Abs(e.avg[0][0]-a) > 1e-12 || a < 0.9 {
		t.Fatalf("average %v, reference %v (want close to 1 after warm-up)", e.avg[0][0], a)
	}
	e.swap([]*nn.Param{p})
	if math.Abs(p.W[0]-a) > 1e-12 {
		t.Fatalf("swap did not install the average: %v", p.W[0])
	}
	e.swap([]*nn.Param{p})
	if p.W[0] != 1 {
		t.Fatalf("second swap did not restore the weights: %v", p.W[0])
	}
}
