package nn

import (
	"math/rand/v2"
	"testing"
)

// TestEmbedBags32 compares EmbedBags32 with the generic EmbedBags on random
// tables of every width 1…150 and bags of 0…20 rows: the vector path adds
// the same values in the same order, so the results must be identical.
func TestEmbedBags32(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for dim := 1; dim <= 150; dim++ {
		const rows = 37
		table := make([]float32, rows*dim)
		for i := range table {
			table[i] = float32(rng.NormFloat64())
		}
		var ids []int32
		offs := []int32{0}
		for bag := 0; bag <= 20; bag++ {
			for range bag {
				ids = append(ids, int32(rng.IntN(rows)))
			}
			offs = append(offs, int32(len(ids)))
		}
		n := len(offs) - 1
		want := make([]float32, n*dim)
		got := make([]float32, n*dim)
		for i := range got {
			got[i] = float32(i) // stale values must be overwritten
		}
		EmbedBags(table, dim, ids, offs, want)
		EmbedBags32(table, dim, ids, offs, got)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("dim %d: out[%d] = %v, want %v", dim, i, got[i], want[i])
			}
		}
	}
}

func TestEmbedBags32Panics(t *testing.T) {
	t.Parallel()
	table := make([]float32, 4*16)
	out := make([]float32, 16)
	for _, id := range []int32{-1, 4} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("id %d: no panic", id)
				}
			}()
			EmbedBags32(table, 16, []int32{0, id}, []int32{0, 2}, out)
		}()
	}
}

func TestEmbedBags32NoAlloc(t *testing.T) {
	table := make([]float32, 100*64)
	ids := []int32{1, 5, 9, 99, 3}
	offs := []int32{0, 2, 5}
	out := make([]float32, 2*64)
	if a := testing.AllocsPerRun(100, func() { EmbedBags32(table, 64, ids, offs, out) }); a != 0 {
		t.Errorf("EmbedBags32 allocates %v times per call", a)
	}
}

// BenchmarkEmbedBags compares the generic float32 loop with EmbedBags32 on
// the classifier's shape: 64 columns, bags of 10 rows of a 28,000-row
// table (the default English model: 9.6 ids per token on tweets).
func BenchmarkEmbedBags(b *testing.B) {
	const dim, rows, toks, bag = 64, 28000, 1500, 10
	rng := rand.New(rand.NewPCG(1, 2))
	table := make([]float32, rows*dim)
	ids := make([]int32, toks*bag)
	for i := range ids {
		ids[i] = int32(rng.IntN(rows))
	}
	offs := make([]int32, toks+1)
	for i := range offs {
		offs[i] = int32(i * bag)
	}
	out := make([]float32, toks*dim)
	for _, c := range []struct {
		name string
		fn   func([]float32, int, []int32, []int32, []float32)
	}{{"generic", EmbedBags[float32]}, {"vec", EmbedBags32}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.fn(table, dim, ids, offs, out)
			}
			b.ReportMetric(float64(b.N*toks)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
