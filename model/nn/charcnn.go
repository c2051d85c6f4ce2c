package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"unsafe"
)

// CharCNN encodes a word from its characters with a convolutional network
// (Ma & Hovy 2016, following dos Santos & Zadrozny 2014): characters are
// embedded, a 1-D convolution of window Win and F filters slides over the
// character sequence zero-padded by P = ⌊Win/2⌋ on both sides, and each
// filter is max-pooled over positions and passed through tanh:
//
//	x_q = Emb[c_q] (q = 0…L-1),  x_q = 0 outside [0, L)
//	z_p = [x_{p-P} ‖ … ‖ x_{p-P+Win-1}]·W + B   (p = 0 … L+2P-Win)
//	y = tanh(max_p z_p)   (max and tanh per filter)
//
// Emb is chars×Dc, W is (Win·Dc)×F with rows ordered window slot by slot,
// B is 1×F. Since tanh is increasing, tanh∘max = max∘tanh: pooling first
// saves a tanh per position and gives the same features as the usual
// conv → tanh → max-pool. tanh (rather than ReLU) keeps features in (-1, 1),
// on the scale of the word embeddings they are concatenated with, and never
// leaves a filter dead. A word with no characters gives the zero vector.
//
// Training (Forward/Backward) runs the convolution as one GEMM over the
// im2col matrix of all positions of all words; inference (CharCNNForward)
// uses an equivalent factorised form that is about five times faster. Emb
// is a sparse parameter: Backward touches only the rows of characters that
// occurred.
type CharCNN struct {
	Emb *Param
	W   *Param
	B   *Param
	Win int
}

// NewCharCNN returns a CharCNN for chars character ids embedded in dim
// dimensions, with filters filters of window window. Emb is uniform in
// ±√(3/dim) (Ma & Hovy 2016), W Glorot-uniform, B zero. Emb and B are
// NoDecay. It panics if a size is not positive.
func NewCharCNN(name string, chars, dim, filters, window int, rng *rand.Rand) *CharCNN {
	if chars <= 0 || dim <= 0 || filters <= 0 || window <= 0 {
		panic(fmt.Sprintf("nn: NewCharCNN: sizes must be positive: chars=%d dim=%d filters=%d window=%d", chars, dim, filters, window))
	}
	c := &CharCNN{
		Emb: NewParam(name+".emb", chars, dim),
		W:   NewParam(name+".w", window*dim, filters),
		B:   NewParam(name+".b", 1, filters),
		Win: window,
	}
	c.Emb.Sparse, c.Emb.NoDecay = true, true
	c.B.NoDecay = true
	c.Emb.InitUniform(rng, math.Sqrt(3/float64(dim)))
	c.W.InitXavier(rng, window*dim, filters)
	return c
}

// Params returns the trainable parameters: Emb, W, B.
func (c *CharCNN) Params() []*Param { return []*Param{c.Emb, c.W, c.B} }

// GradView returns a CharCNN sharing weights with its own gradients.
func (c *CharCNN) GradView() *CharCNN {
	return &CharCNN{Emb: c.Emb.GradView(), W: c.W.GradView(), B: c.B.GradView(), Win: c.Win}
}

// Filters returns F, the number of features per word.
func (c *CharCNN) Filters() int { return c.W.Cols }

// charPositions returns the number of convolution positions of a word of
// l > 0 characters: l + 2⌊win/2⌋ - win + 1 (l for odd win, l+1 for even).
func charPositions(l, win int) int { return l + 2*(win/2) - win + 1 }

// charConv is the im2col forward pass of CharCNN.Forward (training) for
// words [w0, w1): it fills col
// (positions × win·dim, the im2col matrix) and conv (positions × F, the
// pre-activations z), writes y for each word into out row r at columns
// [off, off+F) (stride ldo), and returns the number of positions used. If
// pre is not nil it receives max_p z (n×F, indexed by r-w0) and argmax the
// position row of each maximum (relative to col's first row).
func charConv[T Float](emb []T, dim int, w, bias []T, filters, win int, ids, offs []int32, w0, w1 int,
	col, conv, out []T, ldo, off int, pre []T, argmax []int32) int {
	wd := win * dim
	pad := win / 2
	pos := 0
	for r := w0; r < w1; r++ {
		word := ids[offs[r]:offs[r+1]]
		l := len(word)
		if l == 0 {
			continue
		}
		for p := 0; p < charPositions(l, win); p++ {
			row := col[pos*wd : (pos+1)*wd]
			for k := 0; k < win; k++ {
				dst := row[k*dim : (k+1)*dim]
				if q := p - pad + k; q >= 0 && q < l {
					id := int(word[q])
					copy(dst, emb[id*dim:(id+1)*dim])
				} else {
					clear(dst)
				}
			}
			copy(conv[pos*filters:(pos+1)*filters], bias[:filters])
			pos++
		}
	}
	Gemm(false, false, pos, filters, wd, 1, col, wd, w, filters, 1, conv, filters)
	pos = 0
	for r := w0; r < w1; r++ {
		l := int(offs[r+1] - offs[r])
		y := out[r*ldo+off : r*ldo+off+filters]
		if l == 0 {
			clear(y)
			if pre != nil {
				clear(pre[(r-w0)*filters : (r-w0+1)*filters])
			}
			continue
		}
		np := charPositions(l, win)
		copy(y, conv[pos*filters:(pos+1)*filters])
		var am []int32
		if argmax != nil {
			am = argmax[(r-w0)*filters : (r-w0+1)*filters]
			for f := range am {
				am[f] = int32(pos)
			}
		}
		for p := pos + 1; p < pos+np; p++ {
			for f, v := range conv[p*filters : (p+1)*filters] {
				if v > y[f] {
					y[f] = v
					if am != nil {
						am[f] = int32(p)
					}
				}
			}
		}
		if pre != nil {
			copy(pre[(r-w0)*filters:(r-w0+1)*filters], y)
		}
		for f, v := range y {
			y[f] = Tanh(v)
		}
		pos += np
	}
	return pos
}

// CharCNNWorkspace is an inference goroutine's scratch for CharCNNForward.
// The zero value is ready; buffers grow to the largest character table and
// batch seen and are then reused. It is not safe for concurrent use.
type CharCNNWorkspace[T Float] struct {
	slot []int32 // per character id: row in proj, -1 when absent (all -1 between calls)
	uniq []int32 // distinct character ids of the batch, in order of first use
	u    []T     // their embeddings, len(uniq)×dim
	proj []T     // len(uniq)×(window·F): row s, block k holds Emb[uniq[s]]·W_k
	z    []T     // one position's pre-activations
}

// CharCNNForward is the inference forward pass of CharCNN on raw weights of
// element type T (emb chars×dim, w (window·dim)×filters, bias filters): for
// the n = len(offs)-1 words, word r having characters ids[offs[r]:offs[r+1]],
// it writes the filters features of word r into columns [off, off+filters)
// of row r of out (row stride ldo), so they can sit beside other features
// in a wider matrix. Rows of empty words are zeroed; other columns of out
// are not touched.
//
// It computes the same function as CharCNN.Forward but factorises the
// convolution: with W_k the rows [k·dim, (k+1)·dim) of W,
//
//	z_p = B + Σ_k Emb[c_{p-P+k}]·W_k
//
// so one GEMM projects each distinct character of the batch through every
// W_k, and a position costs window·F additions instead of window·dim·F
// multiply-adds (im2col). It allocates only when ws grows. It panics if an
// id is out of range or out is too small.
func CharCNNForward[T Float](emb []T, dim int, w, bias []T, filters, window int, ids, offs []int32, out []T, ldo, off int, ws *CharCNNWorkspace[T]) {
	n := len(offs) - 1
	if n <= 0 {
		return
	}
	if chars := len(emb) / dim; len(ws.slot) < chars {
		ws.slot = Grow(ws.slot, chars)
		for i := range ws.slot {
			ws.slot[i] = -1
		}
	}
	ws.uniq = ws.uniq[:0]
	for _, id := range ids[offs[0]:offs[n]] {
		if ws.slot[id] < 0 {
			ws.slot[id] = int32(len(ws.uniq))
			ws.uniq = append(ws.uniq, id)
		}
	}
	nd, wf := len(ws.uniq), window*filters
	ws.u = Grow(ws.u, nd*dim)
	ws.proj = Grow(ws.proj, nd*wf)
	ws.z = Grow(ws.z, filters)
	for s, id := range ws.uniq {
		copy(ws.u[s*dim:(s+1)*dim], emb[int(id)*dim:int(id+1)*dim])
	}
	for k := 0; k < window; k++ {
		Gemm(false, false, nd, filters, dim, 1, ws.u, dim, w[k*dim*filters:], filters, 0, ws.proj[k*filters:], wf)
	}
	pad := window / 2
	z := ws.z[:filters]
	for r := 0; r < n; r++ {
		word := ids[offs[r]:offs[r+1]]
		y := out[r*ldo+off : r*ldo+off+filters]
		l := len(word)
		if l == 0 {
			clear(y)
			continue
		}
		for p := 0; p < charPositions(l, window); p++ {
			copy(z, bias[:filters])
			for k := 0; k < window; k++ {
				q := p - pad + k
				if q < 0 || q >= l {
					continue
				}
				s := int(ws.slot[word[q]])
				for f, v := range ws.proj[s*wf+k*filters : s*wf+(k+1)*filters] {
					z[f] += v
				}
			}
			if p == 0 {
				copy(y, z)
				continue
			}
			for f, v := range z {
				y[f] = max(y[f], v)
			}
		}
		f0 := 0
		if unsafe.Sizeof(y[0]) == 4 {
			f0 = tanhVec(as32(y)) // float32: 8 lanes at a time
		}
		for f := f0; f < len(y); f++ {
			y[f] = Tanh(y[f])
		}
	}
	for _, id := range ws.uniq {
		ws.slot[id] = -1
	}
}

// CharCNNCache is a training goroutine's scratch for one CharCNN: the im2col
// matrix, pre-activations, pooled maxima and their positions that Backward
// needs. Buffers grow to the largest batch seen and are reused.
type CharCNNCache struct {
	n, npos        int
	col, conv, pre []float64
	argmax         []int32
	dconv, dcol    []float64
}

// Forward runs the layer in float64 on n = len(offs)-1 words (see
// CharCNNForward for the layout of ids, offs and out), keeping in cache what
// Backward needs.
func (c *CharCNN) Forward(ids, offs []int32, out []float64, ldo, off int, cache *CharCNNCache) {
	n, win, dim, f := len(offs)-1, c.Win, c.Emb.Cols, c.W.Cols
	npos := 0
	for r := 0; r < n; r++ {
		if l := int(offs[r+1] - offs[r]); l > 0 {
			npos += charPositions(l, win)
		}
	}
	cache.n, cache.npos = n, npos
	cache.col = Grow(cache.col, npos*win*dim)
	cache.conv = Grow(cache.conv, npos*f)
	cache.pre = Grow(cache.pre, n*f)
	cache.argmax = Grow(cache.argmax, n*f)
	charConv(c.Emb.W, dim, c.W.W, c.B.W, f, win, ids, offs, 0, n, cache.col, cache.conv, out, ldo, off, cache.pre, cache.argmax)
}

// Backward takes dOut (the loss gradient for the features Forward wrote,
// same layout) and accumulates the gradients of W, B and the touched rows
// of Emb:
//
//	δz_{p*,f} = δy_f·(1 - y_f²) at p* = argmax_p z_{p,f}, 0 elsewhere
//	∂L/∂W = colᵀ·δz,  ∂L/∂B = Σ_p δz_p,  δx_{p-P+k} += (δz_p·Wᵀ)[k·Dc : (k+1)·Dc]
//
// ids and offs must be those given to Forward.
func (c *CharCNN) Backward(ids, offs []int32, dOut []float64, ldo, off int, cache *CharCNNCache) {
	n, npos, win, dim, f := cache.n, cache.npos, c.Win, c.Emb.Cols, c.W.Cols
	wd := win * dim
	cache.dconv = GrowZero(cache.dconv, npos*f)
	cache.dcol = Grow(cache.dcol, npos*wd)
	for r := 0; r < n; r++ {
		if offs[r+1] == offs[r] {
			continue
		}
		dy := dOut[r*ldo+off : r*ldo+off+f]
		pre := cache.pre[r*f : (r+1)*f]
		am := cache.argmax[r*f : (r+1)*f]
		for j, d := range dy {
			y := math.Tanh(pre[j])
			g := d * (1 - y*y)
			cache.dconv[int(am[j])*f+j] += g
			c.B.G[j] += g
		}
	}
	Gemm(true, false, wd, f, npos, 1, cache.col, wd, cache.dconv, f, 1, c.W.G, f)
	Gemm(false, true, npos, wd, f, 1, cache.dconv, f, c.W.W, f, 0, cache.dcol, wd)
	pad := win / 2
	pos := 0
	for r := 0; r < n; r++ {
		word := ids[offs[r]:offs[r+1]]
		l := len(word)
		if l == 0 {
			continue
		}
		for p := 0; p < charPositions(l, win); p++ {
			row := cache.dcol[pos*wd : (pos+1)*wd]
			for k := 0; k < win; k++ {
				q := p - pad + k
				if q < 0 || q >= l {
					continue
				}
				id := word[q]
				c.Emb.Touch(id)
				dst := c.Emb.G[int(id)*dim : int(id+1)*dim]
				for i, v := range row[k*dim : (k+1)*dim] {
					dst[i] += v
				}
			}
			pos++
		}
	}
}
