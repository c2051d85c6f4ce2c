package model

import (
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/tagstream/tagstream/model/nn"
)

// parallelStep runs one data-parallel update. idx is split into contiguous
// shards, one per worker (at least 4 examples each); shard w runs
// fn(w, shard) on its own goroutine, which computes the mean loss of its
// shard and leaves gradients in workers[w] (gradient views of master, same
// order). The gradients are weighted by shard size, summed into master and
// applied by opt. It returns the mean loss over idx. All goroutines have
// exited when it returns.
func parallelStep(master []*nn.Param, workers [][]*nn.Param, opt *nn.Adam, idx []int, fn func(w int, shard []int) float64) float64 {
	nw := min(len(workers), max(1, len(idx)/4))
	per := (len(idx) + nw - 1) / nw
	losses := make([]float64, nw)
	sizes := make([]int, nw)
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		lo, hi := w*per, min((w+1)*per, len(idx))
		if lo >= hi {
			continue
		}
		sizes[w] = hi - lo
		wg.Add(1)
		go func() {
			defer wg.Done()
			losses[w] = fn(w, idx[lo:hi])
		}()
	}
	wg.Wait()
	for _, p := range master {
		p.ZeroGrad()
	}
	var loss float64
	for w := 0; w < nw; w++ {
		if sizes[w] == 0 {
			continue
		}
		scale := float64(sizes[w]) / float64(len(idx))
		for i, p := range workers[w] {
			scaleGrad(p, scale)
			master[i].AddGrad(p)
			p.ZeroGrad()
		}
		loss += losses[w] * scale
	}
	opt.Step(master)
	return loss
}

func scaleGrad(p *nn.Param, s float64) {
	if s == 1 {
		return
	}
	if !p.Sparse {
		for i := range p.G {
			p.G[i] *= s
		}
		return
	}
	for _, r := range p.TouchedRows() {
		g := p.G[int(r)*p.Cols : int(r+1)*p.Cols]
		for i := range g {
			g[i] *= s
		}
	}
}

// makeBatches shuffles 0..n-1, sorts windows of 50 batches by length (so a
// batch holds similar lengths and little padding) and shuffles the batch
// order. length(i) is example i's length.
func makeBatches(n, size int, length func(i int) int, rng *rand.Rand) [][]int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	win := 50 * size
	for lo := 0; lo < len(order); lo += win {
		w := order[lo:min(lo+win, len(order))]
		slices.SortStableFunc(w, func(a, b int) int { return length(b) - length(a) })
	}
	var batches [][]int
	for lo := 0; lo < len(order); lo += size {
		batches = append(batches, order[lo:min(lo+size, len(order))])
	}
	rng.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	return batches
}

// sortedByLength returns a copy of idx ordered longest first (stable).
func sortedByLength(idx []int, length func(i int) int) []int {
	s := slices.Clone(idx)
	slices.SortStableFunc(s, func(a, b int) int { return length(b) - length(a) })
	return s
}

// ema keeps an exponential moving average of parameters (Polyak & Juditsky
// 1992): a ← d·a + (1-d)·w after every update, with d = min(decay,
// (1+n)/(10+n)) after n updates. A nil *ema (decay 0) is off.
type ema struct {
	decay float64
	n     int // updates so far
	avg   [][]float64
}

func newEMA(params []*nn.Param, decay float64) *ema {
	if decay <= 0 {
		return nil
	}
	e := &ema{decay: decay}
	for _, p := range params {
		e.avg = append(e.avg, slices.Clone(p.W))
	}
	return e
}

// update folds the current weights into the average. Every row of sparse
// parameters is folded too (a lazy average would leave rare words near
// their initial values): about a millisecond per step for a 2M-weight table.
func (e *ema) update(params []*nn.Param) {
	if e == nil {
		return
	}
	// Warm-up (as TensorFlow's ExponentialMovingAverage with num_updates):
	// early on the average follows the weights closely, so small data sets
	// with few updates per epoch are not evaluated on near-initial weights.
	e.n++
	d := min(e.decay, float64(1+e.n)/float64(10+e.n))
	for i, p := range params {
		a := e.avg[i]
		if p.Frozen {
			copy(a, p.W) // weights not trained: their average is them, bit for bit
			continue
		}
		for j, w := range p.W {
			a[j] = d*a[j] + (1-d)*w
		}
	}
}

// swap exchanges the live weights and the averages (call twice to undo).
func (e *ema) swap(params []*nn.Param) {
	if e == nil {
		return
	}
	for i, p := range params {
		p.W, e.avg[i] = e.avg[i], p.W
	}
}

// cloneWeights gives each of dst (gradient views of src) its own copy of
// the weights.
func cloneWeights(dst, src []*nn.Param) {
	for i, p := range dst {
		p.W = slices.Clone(src[i].W)
	}
}

// longestFirst fills ord with the batch indices ordered by lens, longest
// first (stable), and slen with their lengths in that order, reusing both
// slices. Insertion sort: a batch, not a corpus, and no allocation.
func longestFirst(ord, slen, lens []int32) ([]int32, []int32) {
	ord, slen = ord[:0], slen[:0]
	for i := range lens {
		ord = append(ord, int32(i))
	}
	for i := 1; i < len(ord); i++ {
		for j := i; j > 0 && lens[ord[j]] > lens[ord[j-1]]; j-- {
			ord[j], ord[j-1] = ord[j-1], ord[j]
		}
	}
	for _, o := range ord {
		slen = append(slen, lens[o])
	}
	return ord, slen
}

// gatherTimeMajor copies rows of src (texts in order, text o's rows starting
// at start[o]) into dst time-major: row t·B+p of width w is token t of text
// ord[p], zero past that text's length.
func gatherTimeMajor[T nn.Float](dst, src []T, w, steps int, ord, start, lens []int32) {
	B := len(ord)
	for t := 0; t < steps; t++ {
		for p, o := range ord {
			row := dst[(t*B+p)*w : (t*B+p+1)*w]
			if int32(t) < lens[o] {
				s := int(start[o]) + t
				copy(row, src[s*w:(s+1)*w])
			} else {
				clear(row)
			}
		}
	}
}
