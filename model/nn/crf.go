package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// CRF is a linear-chain conditional random field output layer (Lafferty et
// al. 2001) as used on top of a BiLSTM by Lample et al. 2016. For a sequence
// of n tokens with emission scores E (n×K, one row per token, usually the
// BiLSTM's projected outputs) the score of a tag path y is
//
//	s(y) = Start[y_0] + Σ_{t=0}^{n-1} E[t, y_t] + Σ_{t=1}^{n-1} Trans[y_{t-1}, y_t] + End[y_{n-1}]
//	p(y | E) = exp s(y) / Z,  Z = Σ_{y'} exp s(y')
//
// Trans is K×K with row = previous ("from") tag and column = next ("to")
// tag; Start and End are 1×K. A CRFMask removes transitions from the model:
// a disallowed transition, start or end contributes exactly -∞ to s(y), so
// such paths are excluded from Z and never decoded, and the parameters at
// masked positions receive zero gradient.
//
// NLL accumulates gradients into the Params and keeps scratch in the CRF, so
// a CRF is not safe for concurrent use: give each training goroutine its own
// GradView.
type CRF struct {
	K                 int
	Trans, Start, End *Param
	// Scratch for NLL: forward/backward tables, a K-vector, and the
	// effective (masked) transition, start and end scores.
	alpha, beta, tmp, eff []float64
}

// NewCRF returns a CRF over k tags. Trans is initialised uniformly in ±0.01
// (rng may be nil for all zeros); Start and End start at zero. All three are
// NoDecay: they are biases of the sequence score.
func NewCRF(name string, k int, rng *rand.Rand) *CRF {
	c := &CRF{
		K:     k,
		Trans: NewParam(name+".trans", k, k),
		Start: NewParam(name+".start", 1, k),
		End:   NewParam(name+".end", 1, k),
	}
	if rng != nil {
		c.Trans.InitUniform(rng, 0.01)
	}
	c.Trans.NoDecay, c.Start.NoDecay, c.End.NoDecay = true, true, true
	return c
}

// Params returns the trainable parameters: Trans, Start, End.
func (c *CRF) Params() []*Param { return []*Param{c.Trans, c.Start, c.End} }

// GradView returns a CRF sharing weights with its own gradients and scratch.
func (c *CRF) GradView() *CRF {
	return &CRF{K: c.K, Trans: c.Trans.GradView(), Start: c.Start.GradView(), End: c.End.GradView()}
}

// CRFMask holds hard constraints on tag paths for K tags. Trans is K×K
// (row-major, row = from tag, column = to tag), Start and End have K
// entries; true means allowed. A nil slice allows everything in that part,
// so the zero CRFMask (and a nil *CRFMask) constrains nothing.
//
// The mask must leave at least one path of every length; BIOMask does.
type CRFMask struct {
	Trans []bool
	Start []bool
	End   []bool
}

// BIOMask returns the constraints of the BIO (IOB2) scheme for the tag set
// tags (e.g. "O", "B-PER", "I-PER"): a tag "I-X" may only follow "B-X" or
// "I-X" of the same type X, and may not start a sentence. Any tag may end a
// sentence, and tags that are not of the form "I-X" (including "O", "B-X"
// and anything unrecognised) impose no constraint on what precedes them.
func BIOMask(tags []string) CRFMask {
	k := len(tags)
	m := CRFMask{Trans: make([]bool, k*k), Start: make([]bool, k), End: make([]bool, k)}
	typ := func(tag, prefix string) (string, bool) {
		if strings.HasPrefix(tag, prefix) {
			return tag[len(prefix):], true
		}
		return "", false
	}
	for j, to := range tags {
		m.End[j] = true
		x, inside := typ(to, "I-")
		m.Start[j] = !inside
		for i, from := range tags {
			ok := !inside
			if inside {
				if y, isB := typ(from, "B-"); isB && y == x {
					ok = true
				} else if y, isI := typ(from, "I-"); isI && y == x {
					ok = true
				}
			}
			m.Trans[i*k+j] = ok
		}
	}
	return m
}

func (m *CRFMask) transOK(k, i, j int) bool {
	return m == nil || m.Trans == nil || m.Trans[i*k+j]
}

func (m *CRFMask) startOK(j int) bool { return m == nil || m.Start == nil || m.Start[j] }

func (m *CRFMask) endOK(j int) bool { return m == nil || m.End == nil || m.End[j] }

// CheckPath reports whether the tag path (one sequence, tags in 0..k-1 in
// order) is allowed by m: it returns an error naming the first offending
// step and tags, or nil. Use it to validate gold data before training, since
// CRF.NLL panics on a gold path the mask forbids.
func (m *CRFMask) CheckPath(k int, path []int32) error {
	for t, y := range path {
		if y < 0 || int(y) >= k {
			return fmt.Errorf("crf path step %d: tag %d out of range [0,%d)", t, y, k)
		}
		if t == 0 && !m.startOK(int(y)) {
			return fmt.Errorf("crf path step 0: tag %d may not start a sequence", y)
		}
		if t > 0 && !m.transOK(k, int(path[t-1]), int(y)) {
			return fmt.Errorf("crf path step %d: transition %d→%d is not allowed", t, path[t-1], y)
		}
	}
	if n := len(path); n > 0 && !m.endOK(int(path[n-1])) {
		return fmt.Errorf("crf path step %d: tag %d may not end a sequence", n-1, path[n-1])
	}
	return nil
}

// NLL returns the mean negative log-likelihood of the gold paths under the
// CRF, L = (1/batch) Σ_b (log Z_b - s_b(gold_b)), over batch sequences of
// emission scores emis (steps·batch × K, time-major: row t·batch+b is step t
// of sequence b). lens gives each sequence's length (at most steps); a
// sequence of length 0 contributes 0 but still counts in the mean. gold is
// time-major like emis (steps·batch entries; padding entries are ignored).
//
// log Z is computed with the forward algorithm in log space (stable
// log-sum-exp) and the marginals with the backward algorithm:
//
//	α_0(j) = Start_j + E_0j,  α_t(j) = E_tj + logΣ_i exp(α_{t-1}(i) + Trans_ij)
//	β_{n-1}(i) = End_i,  β_t(i) = logΣ_j exp(Trans_ij + E_{t+1,j} + β_{t+1}(j))
//	log Z = logΣ_j exp(α_{n-1}(j) + End_j)
//	∂L/∂E_tj = (p(y_t=j) - [gold_t=j])/batch,  p(y_t=j) = exp(α_t(j) + β_t(j) - log Z)
//	∂L/∂Trans_ij = Σ_t (p(y_t=i, y_{t+1}=j) - [gold_t=i, gold_{t+1}=j])/batch
//
// and likewise for Start (t = 0) and End (t = n-1). The emission gradient is
// written into dEmis (same layout as emis, padding rows zeroed); the Trans,
// Start and End gradients are added to their Params.
//
// mask may be nil. Masked transitions are excluded from every sum (score -∞
// exactly, no large-negative stand-in), so their Params get zero gradient.
//
// NLL panics if a buffer is shorter than the shapes imply, if a gold tag is
// out of range, or if a gold path violates the mask (validate training data
// with CRFMask.CheckPath first; such a path has probability 0 and infinite
// loss, which would poison the optimizer).
func (c *CRF) NLL(emis []float64, steps, batch int, lens []int32, gold []int32, mask *CRFMask, dEmis []float64) float64 {
	return c.NLLPartial(emis, steps, batch, lens, gold, nil, mask, dEmis)
}

// NLLPartial is NLL for partially annotated sequences (Tsuboi et al. 2008;
// the "fuzzy CRF" of Shang et al. 2018): where the data only narrows a
// position down to a set of tags, allowed[r] (time-major like gold) is the
// bitmask of the tags row r may take, and the loss of a sequence is
//
//	L_b = log Z - log Σ_{y consistent with allowed} exp s(y)
//
// whose emission gradient is p(y_t=j) - p(y_t=j | consistent), and likewise
// for Trans, Start and End. allowed[r] == 0 means "exactly gold[r]"; a nil
// allowed is NLL. A sequence whose every row is 0 costs what NLL costs; one
// with a set costs a second forward-backward pass. K must be at most 64.
//
// NLLPartial panics as NLL does, and if a sequence has no consistent path
// under the mask (a set that excludes every BIO-valid continuation).
func (c *CRF) NLLPartial(emis []float64, steps, batch int, lens []int32, gold []int32, allowed []uint64, mask *CRFMask, dEmis []float64) float64 {
	k := c.K
	n := steps * batch
	if len(emis) < n*k || len(dEmis) < n*k || len(gold) < n || len(lens) < batch || allowed != nil && len(allowed) < n {
		panic(fmt.Sprintf("nn: CRF.NLL: buffers too short for steps=%d batch=%d K=%d", steps, batch, k))
	}
	if allowed != nil && k > 64 {
		panic(fmt.Sprintf("nn: CRF.NLLPartial: K = %d > 64", k))
	}
	clear(dEmis[:n*k])
	if batch == 0 {
		return 0
	}
	c.alpha = Grow(c.alpha, steps*k)
	c.beta = Grow(c.beta, steps*k)
	c.tmp = Grow(c.tmp, k)
	// Effective scores with -∞ at masked entries.
	c.eff = Grow(c.eff, k*k+2*k)
	trans, st, en := c.eff[:k*k], c.eff[k*k:k*k+k], c.eff[k*k+k:]
	ninf := math.Inf(-1)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			trans[i*k+j] = c.Trans.W[i*k+j]
			if !mask.transOK(k, i, j) {
				trans[i*k+j] = ninf
			}
		}
		st[i], en[i] = c.Start.W[i], c.End.W[i]
		if !mask.startOK(i) {
			st[i] = ninf
		}
		if !mask.endOK(i) {
			en[i] = ninf
		}
	}
	inv := 1 / float64(batch)
	var total float64
	for b := 0; b < batch; b++ {
		nb := int(lens[b])
		if nb <= 0 {
			continue
		}
		if nb > steps {
			panic(fmt.Sprintf("nn: CRF.NLL: lens[%d] = %d exceeds steps %d", b, nb, steps))
		}
		l := crfLattice{emis: emis, batch: batch, b: b, n: nb, trans: trans, st: st, en: en}
		if partial(allowed, batch, b, nb) {
			logZ := c.marginals(l, inv, dEmis)
			l.allowed, l.gold = allowed, gold
			logZc := c.marginals(l, -inv, dEmis)
			if math.IsInf(logZc, -1) {
				panic(fmt.Sprintf("nn: CRF.NLLPartial: sequence %d has no path consistent with its allowed tags under the mask", b))
			}
			total += logZ - logZc
			continue
		}
		total += c.seqNLL(l, gold, inv, dEmis)
	}
	return total * inv
}

// partial reports whether sequence b of length n has a row with a tag set.
func partial(allowed []uint64, batch, b, n int) bool {
	if allowed == nil {
		return false
	}
	for t := 0; t < n; t++ {
		if allowed[t*batch+b] != 0 {
			return true
		}
	}
	return false
}

// crfLattice is one sequence's view of a batch: sequence b (of batch) with
// n steps, the effective (masked) scores and, for a constrained pass, the
// per-row tag sets (nil: every tag).
type crfLattice struct {
	emis          []float64
	batch, b, n   int
	trans, st, en []float64
	allowed       []uint64
	gold          []int32 // the tag of a row whose set is 0
}

func (l *crfLattice) row(t int) []float64 {
	r := (t*l.batch + l.b) * len(l.st)
	return l.emis[r : r+len(l.st)]
}

// ok reports whether step t may take tag j.
func (l *crfLattice) ok(t, j int) bool {
	if l.allowed == nil {
		return true
	}
	r := t*l.batch + l.b
	if set := l.allowed[r]; set != 0 {
		return set&(1<<uint(j)) != 0
	}
	return int(l.gold[r]) == j
}

// seqNLL handles sequence l.b with a fully known gold path: it returns
// log Z - s(gold) and writes/accumulates the gradients scaled by inv.
func (c *CRF) seqNLL(l crfLattice, gold []int32, inv float64, dEmis []float64) float64 {
	k := c.K
	b, n, batch, trans, st, en := l.b, l.n, l.batch, l.trans, l.st, l.en
	// Gold score, checking the path against the mask and range.
	var sGold float64
	for t := 0; t < n; t++ {
		y := gold[t*batch+b]
		if y < 0 || int(y) >= k {
			panic(fmt.Sprintf("nn: CRF.NLL: gold tag %d of sequence %d step %d out of range [0,%d)", y, b, t, k))
		}
		sGold += l.row(t)[y]
		var s float64
		switch {
		case t == 0:
			s = st[y]
		default:
			s = trans[int(gold[(t-1)*batch+b])*k+int(y)]
		}
		if t == n-1 {
			s += en[y]
		}
		if math.IsInf(s, -1) {
			panic(fmt.Sprintf("nn: CRF.NLL: gold path of sequence %d violates the mask at step %d (tag %d); validate with CRFMask.CheckPath", b, t, y))
		}
		sGold += s
	}
	logZ := c.marginals(l, inv, dEmis)
	// Minus the gold path's indicators.
	for t := 0; t < n; t++ {
		r := t*batch + b
		y := gold[r]
		dEmis[r*k+int(y)] -= inv
		if t == 0 {
			c.Start.G[y] -= inv
		}
		if t == n-1 {
			c.End.G[y] -= inv
		}
		if t+1 < n {
			c.Trans.G[int(y)*k+int(gold[(t+1)*batch+b])] -= inv
		}
	}
	return logZ - sGold
}

// marginals runs the forward-backward algorithm over lattice l (restricted
// to l.allowed when set), returns its log partition function and adds w
// times the unary and pairwise marginals to dEmis and the Params' gradients.
// It returns -∞ when no path survives.
func (c *CRF) marginals(l crfLattice, w float64, dEmis []float64) float64 {
	k := c.K
	n, trans, st, en := l.n, l.trans, l.st, l.en
	ninf := math.Inf(-1)
	// Forward.
	alpha, beta := c.alpha[:n*k], c.beta[:n*k]
	e0 := l.row(0)
	for j := 0; j < k; j++ {
		alpha[j] = st[j] + e0[j]
		if !l.ok(0, j) {
			alpha[j] = ninf
		}
	}
	for t := 1; t < n; t++ {
		prev, cur, e := alpha[(t-1)*k:t*k], alpha[t*k:(t+1)*k], l.row(t)
		for j := 0; j < k; j++ {
			if !l.ok(t, j) {
				cur[j] = ninf
				continue
			}
			m := math.Inf(-1)
			for i := 0; i < k; i++ {
				m = max(m, prev[i]+trans[i*k+j])
			}
			var s float64
			if !math.IsInf(m, -1) {
				for i := 0; i < k; i++ {
					s += math.Exp(prev[i] + trans[i*k+j] - m)
				}
			}
			cur[j] = e[j] + m + math.Log(s)
		}
	}
	last := alpha[(n-1)*k : n*k]
	m := math.Inf(-1)
	for j := 0; j < k; j++ {
		m = max(m, last[j]+en[j])
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	for j := 0; j < k; j++ {
		s += math.Exp(last[j] + en[j] - m)
	}
	logZ := m + math.Log(s)
	// Backward: β_t(i) = logΣ_j exp(Trans_ij + E_{t+1,j} + β_{t+1}(j)).
	copy(beta[(n-1)*k:n*k], en)
	tmp := c.tmp
	for t := n - 2; t >= 0; t-- {
		next, cur, e := beta[(t+1)*k:(t+2)*k], beta[t*k:(t+1)*k], l.row(t+1)
		for j := 0; j < k; j++ {
			tmp[j] = e[j] + next[j]
			if !l.ok(t+1, j) {
				tmp[j] = ninf
			}
		}
		for i := 0; i < k; i++ {
			tr := trans[i*k : (i+1)*k]
			m := math.Inf(-1)
			for j := 0; j < k; j++ {
				m = max(m, tr[j]+tmp[j])
			}
			var s float64
			if !math.IsInf(m, -1) {
				for j := 0; j < k; j++ {
					s += math.Exp(tr[j] + tmp[j] - m)
				}
			}
			cur[i] = m + math.Log(s)
		}
	}
	// Unary marginals → emission, Start and End gradients.
	for t := 0; t < n; t++ {
		r := t*l.batch + l.b
		d := dEmis[r*k : (r+1)*k]
		a, be := alpha[t*k:(t+1)*k], beta[t*k:(t+1)*k]
		for j := 0; j < k; j++ {
			p := math.Exp(a[j] + be[j] - logZ)
			d[j] += p * w
			if t == 0 {
				c.Start.G[j] += p * w
			}
			if t == n-1 {
				c.End.G[j] += p * w
			}
		}
	}
	// Pairwise marginals → Trans gradient.
	for t := 0; t+1 < n; t++ {
		a, e, be := alpha[t*k:(t+1)*k], l.row(t+1), beta[(t+1)*k:(t+2)*k]
		for j := 0; j < k; j++ {
			tmp[j] = e[j] + be[j] - logZ
			if !l.ok(t+1, j) {
				tmp[j] = ninf
			}
		}
		for i := 0; i < k; i++ {
			if math.IsInf(a[i], -1) {
				continue
			}
			tr, g := trans[i*k:(i+1)*k], c.Trans.G[i*k:(i+1)*k]
			for j := 0; j < k; j++ {
				if math.IsInf(tr[j], -1) || math.IsInf(tmp[j], -1) {
					continue
				}
				g[j] += math.Exp(a[i]+tr[j]+tmp[j]) * w
			}
		}
	}
	return logZ
}

// ViterbiWorkspace is a decoding goroutine's scratch for Viterbi. The zero
// value is ready to use; its buffers grow to the largest K and sequence
// length seen and are then reused, so steady-state decoding allocates
// nothing. It is not safe for concurrent use.
type ViterbiWorkspace struct {
	trT, st, en []float64 // effective scores, -∞ where masked; trT is transposed (to×from)
	first       []int32   // first allowed predecessor of each tag
	prev, cur   []float64
	bp          []int32 // steps×K back-pointers of the current sequence
}

// Viterbi writes the highest-scoring tag path of each sequence (Viterbi
// 1967) into out (steps·batch entries, time-major like emis; padding
// entries receive -1):
//
//	δ_0(j) = Start_j + E_0j,  δ_t(j) = E_tj + max_i (δ_{t-1}(i) + Trans_ij)
//	y_{n-1} = argmax_j δ_{n-1}(j) + End_j,  y_{t-1} = argmax_i (δ_{t-1}(i) + Trans_{i,y_t})
//
// emis is steps·batch × k (time-major), trans k×k (row = from), start and
// end have k entries. Scores are accumulated in float64 whatever T is, so
// the float32 path picks the same argmax as float64 on the same values.
// Masked transitions, starts and ends are excluded (score -∞) and never
// appear in out, however strongly the emissions favour them; if the mask
// allows no path for a sequence the result is unspecified but in range.
// Ties go to the lowest tag index. mask may be nil.
//
// It allocates only when ws grows. It panics if a buffer is shorter than the
// shapes imply or a length exceeds steps.
func Viterbi[T Float](emis []T, steps, batch, k int, lens []int32, trans, start, end []T, mask *CRFMask, ws *ViterbiWorkspace, out []int32) {
	n := steps * batch
	if len(emis) < n*k || len(out) < n || len(lens) < batch || len(trans) < k*k || len(start) < k || len(end) < k {
		panic(fmt.Sprintf("nn: Viterbi: buffers too short for steps=%d batch=%d K=%d", steps, batch, k))
	}
	for i := range out[:n] {
		out[i] = -1
	}
	if k == 0 {
		return
	}
	ws.trT = Grow(ws.trT, k*k)
	ws.st = Grow(ws.st, k)
	ws.en = Grow(ws.en, k)
	ws.first = Grow(ws.first, k)
	ws.prev = Grow(ws.prev, k)
	ws.cur = Grow(ws.cur, k)
	ws.bp = Grow(ws.bp, steps*k)
	ninf := math.Inf(-1)
	for j := 0; j < k; j++ {
		ws.first[j] = -1
		for i := 0; i < k; i++ {
			v := float64(trans[i*k+j])
			if !mask.transOK(k, i, j) {
				v = ninf
			} else if ws.first[j] < 0 {
				ws.first[j] = int32(i)
			}
			ws.trT[j*k+i] = v
		}
		if ws.first[j] < 0 {
			ws.first[j] = 0
		}
		ws.st[j], ws.en[j] = float64(start[j]), float64(end[j])
		if !mask.startOK(j) {
			ws.st[j] = ninf
		}
		if !mask.endOK(j) {
			ws.en[j] = ninf
		}
	}
	for b := 0; b < batch; b++ {
		nb := int(lens[b])
		if nb <= 0 {
			continue
		}
		if nb > steps {
			panic(fmt.Sprintf("nn: Viterbi: lens[%d] = %d exceeds steps %d", b, nb, steps))
		}
		viterbiSeq(emis, batch, k, b, nb, mask, ws, out)
	}
}

func viterbiSeq[T Float](emis []T, batch, k, b, n int, mask *CRFMask, ws *ViterbiWorkspace, out []int32) {
	prev, cur := ws.prev[:k], ws.cur[:k]
	e := emis[b*k : (b+1)*k]
	for j := range prev {
		prev[j] = ws.st[j] + float64(e[j])
	}
	for t := 1; t < n; t++ {
		r := t*batch + b
		e := emis[r*k : (r+1)*k]
		bp := ws.bp[t*k : (t+1)*k]
		for j := range cur {
			col := ws.trT[j*k : (j+1)*k]
			// Start from an allowed predecessor so that even with
			// unreachable (-∞) scores the back-pointer is an allowed move.
			bi := int(ws.first[j])
			best := prev[bi] + col[bi]
			for i, tr := range col {
				if v := prev[i] + tr; v > best {
					best, bi = v, i
				}
			}
			cur[j] = best + float64(e[j])
			bp[j] = int32(bi)
		}
		prev, cur = cur, prev
	}
	bj := -1
	best := math.Inf(-1)
	for j := range prev {
		if !mask.endOK(j) {
			continue
		}
		if v := prev[j] + ws.en[j]; bj < 0 || v > best {
			best, bj = v, j
		}
	}
	if bj < 0 {
		bj = 0
	}
	for t := n - 1; t >= 0; t-- {
		out[t*batch+b] = int32(bj)
		if t > 0 {
			bj = int(ws.bp[t*k+bj])
		}
	}
}
