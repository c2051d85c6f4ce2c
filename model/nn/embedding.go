package nn

import "math/rand/v2"

// Embedding is a table of Rows vectors of width Dim. A position's input vector
// is the mean of a bag of rows (the word row and its hashed sub-word rows, as
// in fastText, Bojanowski et al. 2017):
//
//	x_r = (1/|S_r|) Σ_{j∈S_r} E[j]
//
// An empty bag gives the zero vector (padding).
type Embedding struct {
	Table *Param
}

// NewEmbedding returns a rows×dim table initialised uniformly in ±scale.
func NewEmbedding(name string, rows, dim int, rng *rand.Rand, scale float64) *Embedding {
	p := NewParam(name, rows, dim)
	p.Sparse = true
	p.NoDecay = true
	p.InitUniform(rng, scale)
	return &Embedding{Table: p}
}

// Params returns the trainable parameters.
func (e *Embedding) Params() []*Param { return []*Param{e.Table} }

// GradView returns an Embedding sharing weights with its own gradient.
func (e *Embedding) GradView() *Embedding { return &Embedding{Table: e.Table.GradView()} }

// EmbedBags writes into out (n×dim, n = len(offs)-1) the mean of the rows
// table[ids[offs[r]:offs[r+1]]] for every position r. It panics if an id is
// out of range.
func EmbedBags[T Float](table []T, dim int, ids, offs []int32, out []T) {
	n := len(offs) - 1
	for r := 0; r < n; r++ {
		dst := out[r*dim : (r+1)*dim]
		clear(dst)
		bag := ids[offs[r]:offs[r+1]]
		if len(bag) == 0 {
			continue
		}
		for _, id := range bag {
			src := table[int(id)*dim : int(id+1)*dim]
			for i, v := range src {
				dst[i] += v
			}
		}
		if len(bag) > 1 {
			inv := 1 / T(len(bag))
			for i := range dst {
				dst[i] *= inv
			}
		}
	}
}

// Forward is EmbedBags on the float64 training weights.
func (e *Embedding) Forward(ids, offs []int32, out []float64) {
	EmbedBags(e.Table.W, e.Table.Cols, ids, offs, out)
}

// Backward scatters dOut (n×dim) into the table gradient: each row in a bag
// receives dOut_r/|S_r|.
func (e *Embedding) Backward(ids, offs []int32, dOut []float64) {
	p, dim := e.Table, e.Table.Cols
	for r := 0; r+1 < len(offs); r++ {
		bag := ids[offs[r]:offs[r+1]]
		if len(bag) == 0 {
			continue
		}
		inv := 1 / float64(len(bag))
		src := dOut[r*dim : (r+1)*dim]
		for _, id := range bag {
			p.Touch(id)
			dst := p.G[int(id)*dim : int(id+1)*dim]
			for i, v := range src {
				dst[i] += v * inv
			}
		}
	}
}
