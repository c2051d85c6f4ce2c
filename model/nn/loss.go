package nn

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Softmax replaces each row of x (n×k) by its softmax, computed stably by
// subtracting the row maximum.
func Softmax[T Float](x []T, n, k int) {
	for r := 0; r < n; r++ {
		row := x[r*k : (r+1)*k]
		mx := row[0]
		for _, v := range row[1:] {
			mx = max(mx, v)
		}
		var sum T
		for j, v := range row {
			e := T(math.Exp(float64(v - mx)))
			row[j] = e
			sum += e
		}
		inv := 1 / sum
		for j := range row {
			row[j] *= inv
		}
	}
}

// SoftmaxCrossEntropy computes the weighted mean cross-entropy of logits
// (n×k) against gold classes y and writes ∂L/∂logits into dLogits:
//
//	p = softmax(z),  L = Σ_r w_{y_r}·(-log p_{r,y_r}) / Σ_r w_{y_r}
//	∂L/∂z_r = w_{y_r}·(p_r - onehot(y_r)) / Σ_r w_{y_r}
//
// classWeight may be nil (all 1). It returns L and leaves the probabilities
// in probs (n×k) when probs is not nil. It panics if a class is out of range.
func SoftmaxCrossEntropy(logits []float64, n, k int, y []int, classWeight []float64, probs, dLogits []float64) float64 {
	var loss, wsum float64
	for r := 0; r < n; r++ {
		w := 1.0
		if classWeight != nil {
			w = classWeight[y[r]]
		}
		wsum += w
	}
	if wsum == 0 {
		clear(dLogits[:n*k])
		return 0
	}
	for r := 0; r < n; r++ {
		z := logits[r*k : (r+1)*k]
		d := dLogits[r*k : (r+1)*k]
		copy(d, z)
		Softmax(d, 1, k)
		if probs != nil {
			copy(probs[r*k:(r+1)*k], d)
		}
		w := 1.0
		if classWeight != nil {
			w = classWeight[y[r]]
		}
		loss -= w * math.Log(max(d[y[r]], 1e-300))
		d[y[r]] -= 1
		for j := range d {
			d[j] *= w / wsum
		}
	}
	return loss / wsum
}

// SoftmaxSetCrossEntropy is the cross-entropy of a partially labelled
// batch: row r's gold class is known only to lie in the set allowed[r·k :
// (r+1)·k] (true for each class it may be), and the loss is the negative log
// of the probability the model gives that set (a loss over the label sets
// a data set can express; Jin & Ghahramani 2002, Cour et al. 2011):
//
//	p = softmax(z),  P_r = Σ_{c∈S_r} p_{r,c},  L = Σ_r w_r·(-log P_r) / Σ_r w_r
//	∂L/∂z_{r,j} = w_r·(p_{r,j} - [j∈S_r]·p_{r,j}/P_r) / Σ_r w_r
//
// A singleton set is SoftmaxCrossEntropy's term; a set of every class
// contributes nothing. rowWeight may be nil (all 1). A row with an empty
// set panics.
func SoftmaxSetCrossEntropy(logits []float64, n, k int, allowed []bool, rowWeight []float64, dLogits []float64) float64 {
	var loss, wsum float64
	for r := 0; r < n; r++ {
		if rowWeight != nil {
			wsum += rowWeight[r]
		} else {
			wsum++
		}
	}
	if wsum == 0 {
		clear(dLogits[:n*k])
		return 0
	}
	for r := 0; r < n; r++ {
		d := dLogits[r*k : (r+1)*k]
		copy(d, logits[r*k:(r+1)*k])
		Softmax(d, 1, k)
		set := allowed[r*k : (r+1)*k]
		var pset float64
		for j, in := range set {
			if in {
				pset += d[j]
			}
		}
		if pset == 0 && !slices.Contains(set, true) {
			panic("nn: SoftmaxSetCrossEntropy: empty label set")
		}
		pset = max(pset, 1e-300)
		w := 1.0
		if rowWeight != nil {
			w = rowWeight[r]
		}
		loss -= w * math.Log(pset)
		for j := range d {
			if set[j] {
				d[j] -= d[j] / pset
			}
			d[j] *= w / wsum
		}
	}
	return loss / wsum
}

// Dropout zeroes each element of x with probability p and scales survivors
// by 1/(1-p) (inverted dropout, Srivastava et al. 2014). The kept scale per
// element is written to mask so DropoutBackward can apply it to gradients.
// p <= 0 leaves x unchanged and fills mask with 1.
func Dropout(x, mask []float64, p float64, rng *rand.Rand) {
	if p <= 0 {
		for i := range mask[:len(x)] {
			mask[i] = 1
		}
		return
	}
	scale := 1 / (1 - p)
	for i := range x {
		if rng.Float64() < p {
			mask[i] = 0
			x[i] = 0
		} else {
			mask[i] = scale
			x[i] *= scale
		}
	}
}

// DropoutBackward multiplies the gradient by the mask Dropout recorded.
func DropoutBackward(dx, mask []float64) {
	for i := range dx {
		dx[i] *= mask[i]
	}
}

// SigmoidInPlace replaces every element of x by Sigmoid of it.
func SigmoidInPlace[T Float](x []T) {
	for i, v := range x {
		x[i] = Sigmoid(v)
	}
}

// SigmoidBCE computes the mean binary cross-entropy of logits (n×k) against
// the 0/1 targets y (n×k), one independent sigmoid per column (multi-label
// classification), and writes ∂L/∂logits into dLogits:
//
//	p = σ(z),  L = Σ_{r,j} w_j·(-y·log p - (1-y)·log(1-p)) / n
//	∂L/∂z_{r,j} = w_j·(p - y) / n
//
// posWeight, when not nil, weighs the positive term of column j by
// posWeight[j] instead (rare labels): L_j = -w⁺_j·y·log p - (1-y)·log(1-p),
// ∂L/∂z = (w⁺_j·y·(p-1) + (1-y)·p) / n. The loss is computed from z
// directly (log σ(z) = -softplus(-z)), so it is finite for any logit. It
// returns L and leaves the probabilities in probs (n×k) when probs is not
// nil.
func SigmoidBCE(logits []float64, n, k int, y []float64, posWeight, probs, dLogits []float64) float64 {
	if n == 0 {
		return 0
	}
	var loss float64
	inv := 1 / float64(n)
	for i, z := range logits[:n*k] {
		wp := 1.0
		if posWeight != nil {
			wp = posWeight[i%k]
		}
		t := y[i]
		// -log σ(z) = softplus(-z), -log(1-σ(z)) = softplus(z).
		loss += wp*t*softplus(-z) + (1-t)*softplus(z)
		var p float64
		if z >= 0 {
			p = 1 / (1 + math.Exp(-z))
		} else {
			e := math.Exp(z)
			p = e / (1 + e)
		}
		if probs != nil {
			probs[i] = p
		}
		dLogits[i] = (wp*t*(p-1) + (1-t)*p) * inv
	}
	return loss * inv
}

// softplus is log(1+e^x), stable for large |x|.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
