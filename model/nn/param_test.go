package nn

import "testing"

func TestAdamFrozenAndLRScale(t *testing.T) {
	t.Parallel()
	// Three parameters get the same gradient: a frozen one must not move,
	// one at LRScale 0.5 must move half as far as one at the full rate, and
	// a frozen parameter's gradient must not count towards clipping.
	mk := func(name string) *Param {
		p := NewParam(name, 1, 2)
		p.G[0], p.G[1] = 3, -4
		return p
	}
	full, half, frozen := mk("full"), mk("half"), mk("frozen")
	half.LRScale = 0.5
	frozen.Frozen = true
	frozen.G[0] = 1e6
	opt := NewAdam(0.1, 0, 100)
	norm := opt.Step([]*Param{full, half, frozen})
	if want := 5 * 1.4142135623730951; norm < want-1e-9 || norm > want+1e-9 {
		t.Fatalf("gradient norm %v, want %v (frozen parameters excluded)", norm, want)
	}
	if frozen.W[0] != 0 || frozen.W[1] != 0 {
		t.Fatalf("frozen parameter moved: %v", frozen.W)
	}
	for i := range full.W {
		if full.W[i] == 0 || half.W[i] != full.W[i]/2 {
			t.Fatalf("step %d: full rate %v, half rate %v", i, full.W[i], half.W[i])
		}
	}
}
