package nn

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestMulPackedMatchesGemm compares MulPacked with Gemm (float32, no
// transposes) for every size 1…300 along each of m, n and k with the other
// two in {1, 7, 17, 64}, beta 0 (on a C of NaN) and 1, and a C row stride
// wider than n (the gap must survive). Both run the same kernels on the
// same tiles in the same order, so results must be identical bit for bit;
// Gemm itself is tested against gonum in sgemm_test.go.
func TestMulPackedMatchesGemm(t *testing.T) {
	t.Parallel()
	others := []int{1, 7, 17, 64}
	if testing.Short() || raceEnabled {
		others = []int{1, 17}
	}
	for _, dim := range []string{"m", "n", "k"} {
		t.Run(dim, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(9, uint64(len(dim))))
			for s := 1; s <= 300; s++ {
				for _, x := range others {
					for _, y := range others {
						m, n, k := s, x, y
						switch dim {
						case "n":
							m, n, k = x, s, y
						case "k":
							m, n, k = x, y, s
						}
						checkMulPacked(t, rng, m, n, k)
					}
				}
			}
		})
	}
}

func checkMulPacked(t *testing.T, rng *rand.Rand, m, n, k int) {
	t.Helper()
	lda, ldc := k+3, n+5
	a := randF32(rng, m*lda)
	b := randF32(rng, k*n)
	pb := PackB(b, k, n)
	for _, beta := range []float32{0, 1} {
		want := randF32(rng, m*ldc)
		got := append([]float32(nil), want...)
		if beta == 0 {
			for i := range got {
				if i%ldc < n {
					got[i] = float32(math.NaN())
				}
			}
		}
		Gemm(false, false, m, n, k, 1, a, lda, b, n, beta, want, ldc)
		MulPacked(m, a, lda, pb, beta, got, ldc)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("m=%d n=%d k=%d beta=%v: c[%d] = %v, want %v", m, n, k, beta, i, got[i], want[i])
			}
		}
	}
}

func randF32(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// TestLSTMRecurPackedMatchesLSTMRecur runs both inference recurrences on the
// same random gates, forward and reversed, with sorted and unsorted lengths
// (zero included) and hidden sizes with and without a vector tail: the
// same kernels in the same order must give identical states and outputs.
func TestLSTMRecurPackedMatchesLSTMRecur(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	for _, hid := range []int{1, 8, 13, 64} {
		for _, lens := range [][]int32{{5, 5, 3, 1, 0}, {2, 7, 0, 7, 4}, {1}} {
			for _, rev := range []bool{false, true} {
				batch, steps, g4 := len(lens), 7, 4*hid
				wh := randF32(rng, hid*g4)
				gates := randF32(rng, steps*batch*g4)
				ldo, off := 2*hid+1, hid
				want := make([]float32, steps*batch*ldo)
				got := make([]float32, steps*batch*ldo)
				h1, c1 := make([]float32, batch*hid), make([]float32, batch*hid)
				h2, c2 := make([]float32, batch*hid), make([]float32, batch*hid)
				g2 := append([]float32(nil), gates...)
				LSTMRecur(gates, wh, steps, batch, hid, lens, rev, want, ldo, off, h1, c1)
				LSTMRecurPacked(g2, PackB(wh, hid, g4), steps, batch, lens, rev, got, ldo, off, h2, c2)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("hid=%d lens=%v reverse=%v: out[%d] = %v, want %v", hid, lens, rev, i, got[i], want[i])
					}
				}
				for i := range c1 {
					if c1[i] != c2[i] || h1[i] != h2[i] {
						t.Fatalf("hid=%d lens=%v reverse=%v: state %d differs", hid, lens, rev, i)
					}
				}
			}
		}
	}
}

func TestMulPackedNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, b, c := randF32(rng, 64*64), randF32(rng, 64*256), make([]float32, 64*256)
	pb := PackB(b, 64, 256)
	if n := testing.AllocsPerRun(20, func() { MulPacked(64, a, 64, pb, 1, c, 256) }); n != 0 {
		t.Errorf("MulPacked allocates %v times per call", n)
	}
}

// BenchmarkRecurrentGemm compares Gemm and MulPacked on the recurrent
// product of the default models (hidden 64: 64 rows × 64 × 256) and the
// tagger's input projection (104 deep).
func BenchmarkRecurrentGemm(b *testing.B) {
	for _, k := range []int{64, 104} {
		rng := rand.New(rand.NewPCG(1, 1))
		m, n := 64, 256
		a, w, c := randF32(rng, m*k), randF32(rng, k*n), make([]float32, m*n)
		pb := PackB(w, k, n)
		flops := float64(2 * m * n * k)
		b.Run("gemm/k="+strconv.Itoa(k), func(b *testing.B) {
			for b.Loop() {
				Gemm(false, false, m, n, k, 1, a, k, w, n, 1, c, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run("packed/k="+strconv.Itoa(k), func(b *testing.B) {
			for b.Loop() {
				MulPacked(m, a, k, pb, 1, c, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
