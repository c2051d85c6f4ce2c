package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// partialSets draws, for every row, a tag set that contains the gold tag:
// with probability pSet a random superset of {gold}, else 0 (exactly gold).
func partialSets(rng *rand.Rand, k int, gold []int32, pSet float64) []uint64 {
	allowed := make([]uint64, len(gold))
	for r, y := range gold {
		if rng.Float64() >= pSet {
			continue
		}
		set := uint64(1) << uint(y)
		for j := 0; j < k; j++ {
			if rng.IntN(2) == 0 {
				set |= 1 << uint(j)
			}
		}
		allowed[r] = set
	}
	return allowed
}

// TestCRFNLLPartialBruteForce checks NLLPartial against the definition:
// log Σ_y exp s(y) - log Σ_{y consistent} exp s(y) over all K^n paths,
// summed naively (tolerance 1e-9 relative, as TestCRFNLLBruteForce).
func TestCRFNLLPartialBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 60; trial++ {
		k, steps, batch, lens, mask, ok := randCRFCase(rng, trial)
		if !ok {
			continue
		}
		scale := []float64{1, 30}[trial%2]
		t.Run(fmt.Sprintf("k%d_steps%d_lens%v_mask%v", k, steps, lens, mask != nil), func(t *testing.T) {
			c := NewCRF("crf", k, nil)
			c.Trans.InitUniform(rng, scale)
			c.Start.InitUniform(rng, scale)
			c.End.InitUniform(rng, scale)
			emis, gold := crfBatch(rng, k, steps, lens, mask, scale)
			allowed := partialSets(rng, k, gold, 0.6)
			got := c.NLLPartial(emis, steps, batch, lens, gold, allowed, mask, make([]float64, len(emis)))
			var want float64
			for b, n := range lens {
				if n == 0 {
					continue
				}
				row := func(t int) []float64 { r := t*batch + b; return emis[r*k : (r+1)*k] }
				consistent := func(p []int32) bool {
					for t, y := range p {
						set := allowed[t*batch+b]
						if set == 0 && y != gold[t*batch+b] || set != 0 && set&(1<<uint(y)) == 0 {
							return false
						}
					}
					return true
				}
				lse := func(keep func([]int32) bool) float64 {
					var scores []float64
					mx := math.Inf(-1)
					allPaths(k, int(n), func(p []int32) {
						if !keep(p) {
							return
						}
						s := pathScore(k, row, p, c.Trans.W, c.Start.W, c.End.W, mask)
						scores = append(scores, s)
						mx = max(mx, s)
					})
					var z float64
					for _, s := range scores {
						z += math.Exp(s - mx)
					}
					return mx + math.Log(z)
				}
				want += lse(func([]int32) bool { return true }) - lse(consistent)
			}
			want /= float64(batch)
			if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Fatalf("NLLPartial = %.15g, brute force %.15g", got, want)
			}
		})
	}
}

func TestCRFNLLPartialGradient(t *testing.T) {
	t.Parallel()
	bio := BIOMask(bioTags)
	tests := []struct {
		name  string
		k     int
		steps int
		lens  []int32
		mask  *CRFMask
	}{
		{"nomask", 4, 5, []int32{5, 1, 0, 3}, nil},
		{"bio", 5, 5, []int32{5, 1, 0, 3}, &bio},
		{"bio_len1", 5, 1, []int32{1, 1}, &bio},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(7, uint64(len(tc.name))))
			k, steps, batch := tc.k, tc.steps, len(tc.lens)
			c := NewCRF("crf", k, rng)
			c.Start.InitUniform(rng, 0.5)
			c.End.InitUniform(rng, 0.5)
			c.Trans.InitUniform(rng, 0.5)
			emis, gold := crfBatch(rng, k, steps, tc.lens, tc.mask, 2)
			allowed := partialSets(rng, k, gold, 0.5)
			dEmis := make([]float64, len(emis))
			c.NLLPartial(emis, steps, batch, tc.lens, gold, allowed, tc.mask, dEmis)
			probe := c.GradView()
			scratch := make([]float64, len(emis))
			loss := func() float64 {
				return probe.NLLPartial(emis, steps, batch, tc.lens, gold, allowed, tc.mask, scratch)
			}
			gradCheck(t, "emis", emis, dEmis, loss)
			gradCheck(t, "trans", c.Trans.W, c.Trans.G, loss)
			gradCheck(t, "start", c.Start.W, c.Start.G, loss)
			gradCheck(t, "end", c.End.W, c.End.G, loss)
		})
	}
}

// With every row exactly known, NLLPartial is NLL, bit for bit.
func TestCRFNLLPartialFullIsNLL(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	bio := BIOMask(bioTags)
	k, steps, lens := 5, 6, []int32{6, 2, 4}
	c := NewCRF("crf", k, rng)
	c.Trans.InitUniform(rng, 0.5)
	emis, gold := crfBatch(rng, k, steps, lens, &bio, 2)
	d1, d2 := make([]float64, len(emis)), make([]float64, len(emis))
	a := c.NLL(emis, steps, len(lens), lens, gold, &bio, d1)
	b := c.GradView().NLLPartial(emis, steps, len(lens), lens, gold, make([]uint64, len(gold)), &bio, d2)
	if a != b {
		t.Fatalf("NLL %v, NLLPartial with no sets %v", a, b)
	}
	for i := range d1 {
		if d1[i] != d2[i] {
			t.Fatalf("dEmis[%d]: %v vs %v", i, d1[i], d2[i])
		}
	}
}

// A set that leaves no BIO-valid path is a programmer error: it panics
// instead of returning an infinite loss.
func TestCRFNLLPartialPanicsWithoutPath(t *testing.T) {
	t.Parallel()
	bio := BIOMask([]string{"O", "B-X", "I-X"})
	c := NewCRF("crf", 3, nil)
	emis := make([]float64, 2*3)
	gold := []int32{0, 0}
	allowed := []uint64{1 << 0, 1 << 2} // O then I-X: forbidden
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	c.NLLPartial(emis, 2, 1, []int32{2}, gold, allowed, &bio, make([]float64, len(emis)))
}
