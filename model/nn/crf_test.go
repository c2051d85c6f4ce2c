package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

var bioTags = []string{"O", "B-PER", "I-PER", "B-LOC", "I-LOC"}

// pathScore is the naive CRF score s(y) of one sequence (emission rows e[t]
// given by row), -∞ if the mask forbids the path.
func pathScore(k int, row func(t int) []float64, path []int32, trans, start, end []float64, mask *CRFMask) float64 {
	if mask.CheckPath(k, path) != nil {
		return math.Inf(-1)
	}
	n := len(path)
	s := start[path[0]] + end[path[n-1]]
	for t, y := range path {
		s += row(t)[y]
		if t > 0 {
			s += trans[int(path[t-1])*k+int(y)]
		}
	}
	return s
}

// allPaths calls f with every tag path of length n over k tags (k^n paths).
func allPaths(k, n int, f func(path []int32)) {
	path := make([]int32, n)
	for {
		f(path)
		i := n - 1
		for ; i >= 0; i-- {
			path[i]++
			if int(path[i]) < k {
				break
			}
			path[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// randAllowedPath samples a path of length n that the mask allows, by a
// random walk over allowed moves (retrying when it gets stuck).
func randAllowedPath(rng *rand.Rand, k, n int, mask *CRFMask) []int32 {
	for {
		path := make([]int32, n)
		for t := range path {
			path[t] = int32(rng.IntN(k))
		}
		if mask.CheckPath(k, path) == nil {
			return path
		}
	}
}

func randMask(rng *rand.Rand, k int, p float64) *CRFMask {
	m := &CRFMask{Trans: make([]bool, k*k), Start: make([]bool, k), End: make([]bool, k)}
	for i := range m.Trans {
		m.Trans[i] = rng.Float64() < p
	}
	for i := 0; i < k; i++ {
		m.Start[i] = rng.Float64() < p
		m.End[i] = rng.Float64() < p
	}
	return m
}

// randPathMask is randMask retried until it allows paths of lengths 1..n.
func randPathMask(rng *rand.Rand, k, n int, p float64) *CRFMask {
	for {
		if m := randMask(rng, k, p); m.hasPath(k, n) {
			return m
		}
	}
}

// crfBatch builds random emissions and gold paths, time-major.
func crfBatch(rng *rand.Rand, k, steps int, lens []int32, mask *CRFMask, scale float64) (emis []float64, gold []int32) {
	batch := len(lens)
	emis = randSlice(rng, steps*batch*k)
	for i := range emis {
		emis[i] *= scale
	}
	gold = make([]int32, steps*batch)
	for i := range gold {
		gold[i] = 7 // padding: must be ignored
	}
	for b, n := range lens {
		if n == 0 {
			continue
		}
		for t, y := range randAllowedPath(rng, k, int(n), mask) {
			gold[t*batch+b] = y
		}
	}
	return emis, gold
}

func TestCRFNLLGradient(t *testing.T) {
	t.Parallel()
	bio := BIOMask(bioTags)
	rng0 := rand.New(rand.NewPCG(1, 1))
	tests := []struct {
		name  string
		k     int
		steps int
		lens  []int32
		mask  *CRFMask
	}{
		{"nomask", 4, 5, []int32{5, 1, 0, 3}, nil},
		{"bio", 5, 5, []int32{5, 1, 0, 3}, &bio},
		{"bio_len1_only", 5, 1, []int32{1, 1}, &bio},
		{"random_mask", 4, 4, []int32{0, 4, 2}, randPathMask(rng0, 4, 4, 0.6)},
		{"all_empty", 3, 2, []int32{0, 0}, nil},
		{"k1", 1, 3, []int32{3, 2}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(2, uint64(len(tc.name))))
			k, steps, batch := tc.k, tc.steps, len(tc.lens)
			c := NewCRF("crf", k, rng)
			c.Start.InitUniform(rng, 0.5)
			c.End.InitUniform(rng, 0.5)
			c.Trans.InitUniform(rng, 0.5)
			emis, gold := crfBatch(rng, k, steps, tc.lens, tc.mask, 2)
			dEmis := make([]float64, len(emis))
			for i := range dEmis {
				dEmis[i] = 99 // must be overwritten, including padding
			}
			c.NLL(emis, steps, batch, tc.lens, gold, tc.mask, dEmis)
			probe := c.GradView() // shares weights; its gradients are scratch
			scratch := make([]float64, len(emis))
			loss := func() float64 {
				return probe.NLL(emis, steps, batch, tc.lens, gold, tc.mask, scratch)
			}
			gradCheck(t, "emis", emis, dEmis, loss)
			gradCheck(t, "trans", c.Trans.W, c.Trans.G, loss)
			gradCheck(t, "start", c.Start.W, c.Start.G, loss)
			gradCheck(t, "end", c.End.W, c.End.G, loss)
			for r := 0; r < steps*batch; r++ {
				if int32(r/batch) < tc.lens[r%batch] {
					continue
				}
				for j := 0; j < k; j++ {
					if dEmis[r*k+j] != 0 {
						t.Fatalf("padding row %d has gradient %v", r, dEmis[r*k:(r+1)*k])
					}
				}
			}
			// Masked entries are outside the model: exactly zero gradient.
			for i := 0; i < k*k; i++ {
				if !tc.mask.transOK(k, i/k, i%k) && c.Trans.G[i] != 0 {
					t.Fatalf("masked trans[%d→%d] gradient %v", i/k, i%k, c.Trans.G[i])
				}
			}
			for j := 0; j < k; j++ {
				if (!tc.mask.startOK(j) && c.Start.G[j] != 0) || (!tc.mask.endOK(j) && c.End.G[j] != 0) {
					t.Fatalf("masked start/end %d gradient %v/%v", j, c.Start.G[j], c.End.G[j])
				}
			}
		})
	}
}

// TestCRFNLLBruteForce checks the forward algorithm against the definition:
// log Z = log Σ_y exp s(y) over all K^n allowed paths, summed naively. The
// reference sums exp(s - max) in float64, so the two agree to rounding;
// tolerance 1e-9 relative. Large emission scales exercise log-sum-exp.
func TestCRFNLLBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	for trial := 0; trial < 60; trial++ {
		k, steps, batch, lens, mask, ok := randCRFCase(rng, trial)
		if !ok {
			continue
		}
		scale := []float64{1, 30, 300}[trial%3]
		name := fmt.Sprintf("k%d_steps%d_lens%v_mask%v_scale%v", k, steps, lens, mask != nil, scale)
		t.Run(name, func(t *testing.T) {
			c := NewCRF("crf", k, nil)
			c.Trans.InitUniform(rng, scale)
			c.Start.InitUniform(rng, scale)
			c.End.InitUniform(rng, scale)
			emis, gold := crfBatch(rng, k, steps, lens, mask, scale)
			got := c.NLL(emis, steps, batch, lens, gold, mask, make([]float64, len(emis)))
			var want float64
			for b, n := range lens {
				if n == 0 {
					continue
				}
				row := func(t int) []float64 { r := t*batch + b; return emis[r*k : (r+1)*k] }
				var scores []float64
				mx := math.Inf(-1)
				allPaths(k, int(n), func(p []int32) {
					s := pathScore(k, row, p, c.Trans.W, c.Start.W, c.End.W, mask)
					scores = append(scores, s)
					mx = max(mx, s)
				})
				var z float64
				for _, s := range scores {
					z += math.Exp(s - mx)
				}
				g := make([]int32, n)
				for t := range g {
					g[t] = gold[t*batch+b]
				}
				want += mx + math.Log(z) - pathScore(k, row, g, c.Trans.W, c.Start.W, c.End.W, mask)
			}
			want /= float64(batch)
			if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Fatalf("NLL = %.15g, brute force %.15g", got, want)
			}
			if got < -1e-9 {
				t.Fatalf("NLL = %v < 0", got)
			}
		})
	}
}

// hasPath reports whether the mask allows at least one path of every length
// 1..n (forward reachability).
func (m *CRFMask) hasPath(k, n int) bool {
	reach := make([]bool, k)
	for j := range reach {
		reach[j] = m.startOK(j)
	}
	for t := 1; t <= n; t++ {
		ok := false
		for j := range reach {
			ok = ok || (reach[j] && m.endOK(j))
		}
		if !ok {
			return false
		}
		next := make([]bool, k)
		for i := range reach {
			for j := range next {
				next[j] = next[j] || (reach[i] && m.transOK(k, i, j))
			}
		}
		reach = next
	}
	return true
}

func TestCRFNLLPanicsOnMaskedGold(t *testing.T) {
	t.Parallel()
	bio := BIOMask(bioTags)
	c := NewCRF("crf", len(bioTags), nil)
	emis := make([]float64, 2*len(bioTags))
	for _, gold := range [][]int32{{2, 2}, {0, 2}, {1, 4}, {0, 9}} { // I-PER start, O→I-PER, B-PER→I-LOC, out of range
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("gold %v: no panic", gold)
				}
			}()
			c.NLL(emis, 2, 1, []int32{2}, gold, &bio, make([]float64, len(emis)))
		}()
		if err := bio.CheckPath(len(bioTags), gold); err == nil {
			t.Fatalf("CheckPath(%v) = nil", gold)
		}
	}
}

// viterbiCase runs Viterbi in element type T on random data and compares the
// decoded score with the brute-force maximum over all allowed paths,
// computed in float64 on the same (T-rounded) values. Scores, not paths, are
// compared so near-ties that rounding could flip do not fail the test;
// tolerance 1e-9 relative.
func viterbiCase[T Float](t *testing.T, rng *rand.Rand, trial int) {
	k := 1 + rng.IntN(5)
	steps := rng.IntN(6)
	batch := 1 + rng.IntN(4)
	lens := make([]int32, batch)
	for b := range lens {
		lens[b] = int32(rng.IntN(steps + 1))
	}
	var mask *CRFMask
	if trial%2 == 1 {
		mask = randMask(rng, k, 0.6)
		if !mask.hasPath(k, steps) {
			return
		}
	}
	round := func(s []float64) []float64 {
		for i := range s {
			s[i] = float64(T(s[i] * 3))
		}
		return s
	}
	emis, trans, start, end := round(randSlice(rng, steps*batch*k)), round(randSlice(rng, k*k)), round(randSlice(rng, k)), round(randSlice(rng, k))
	conv := func(s []float64) []T {
		o := make([]T, len(s))
		for i, v := range s {
			o[i] = T(v)
		}
		return o
	}
	out := make([]int32, steps*batch)
	var ws ViterbiWorkspace
	Viterbi(conv(emis), steps, batch, k, lens, conv(trans), conv(start), conv(end), mask, &ws, out)
	for b, n := range lens {
		if n == 0 {
			for s := 0; s < steps; s++ {
				if out[s*batch+b] != -1 {
					t.Fatalf("padding out[%d] = %d, want -1", s*batch+b, out[s*batch+b])
				}
			}
			continue
		}
		row := func(t int) []float64 { r := t*batch + b; return emis[r*k : (r+1)*k] }
		best := math.Inf(-1)
		allPaths(k, int(n), func(p []int32) {
			best = max(best, pathScore(k, row, p, trans, start, end, mask))
		})
		got := make([]int32, n)
		for s := range got {
			got[s] = out[s*batch+b]
		}
		for s := int(n); s < steps; s++ {
			if out[s*batch+b] != -1 {
				t.Fatalf("padding out[%d] = %d, want -1", s*batch+b, out[s*batch+b])
			}
		}
		if err := mask.CheckPath(k, got); err != nil {
			t.Fatalf("seq %d: decoded %v: %v", b, got, err)
		}
		if s := pathScore(k, row, got, trans, start, end, mask); math.Abs(s-best) > 1e-9*math.Max(1, math.Abs(best)) {
			t.Fatalf("seq %d (k=%d n=%d): decoded %v scores %.12g, best %.12g", b, k, n, got, s, best)
		}
	}
}

func TestViterbiBruteForce(t *testing.T) {
	t.Parallel()
	t.Run("f64", func(t *testing.T) {
		t.Parallel()
		rng := rand.New(rand.NewPCG(4, 4))
		for trial := 0; trial < 300; trial++ {
			viterbiCase[float64](t, rng, trial)
		}
	})
	t.Run("f32", func(t *testing.T) {
		t.Parallel()
		rng := rand.New(rand.NewPCG(5, 5))
		for trial := 0; trial < 300; trial++ {
			viterbiCase[float32](t, rng, trial)
		}
	})
}

// TestViterbiRespectsMask makes the emissions and parameters favour masked
// moves by a wide margin and checks that none is decoded.
func TestViterbiRespectsMask(t *testing.T) {
	t.Parallel()
	bio := BIOMask(bioTags)
	k := len(bioTags)
	const (
		iPER = 2
		iLOC = 4
		bPER = 1
	)
	tests := []struct {
		name  string
		setup func(emis, trans, start []float32, steps, batch int)
	}{
		{"I-PER everywhere", func(emis, trans, start []float32, steps, batch int) {
			for r := 0; r < steps*batch; r++ {
				emis[r*k+iPER] = 1e6
			}
			start[iPER] = 1e6
		}},
		{"B-PER then I-LOC", func(emis, trans, start []float32, steps, batch int) {
			for r := 0; r < steps*batch; r++ {
				if (r/batch)%2 == 0 {
					emis[r*k+bPER] = 1e4
				} else {
					emis[r*k+iLOC] = 1e4
				}
			}
			trans[bPER*k+iLOC] = 1e6
		}},
		{"O then I-LOC", func(emis, trans, start []float32, steps, batch int) {
			for r := 0; r < steps*batch; r++ {
				emis[r*k+iLOC] = 50
			}
			for i := 0; i < k; i++ {
				trans[i*k+iLOC] = 1e3
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const steps, batch = 7, 3
			lens := []int32{7, 1, 4}
			emis := make([]float32, steps*batch*k)
			trans := make([]float32, k*k)
			start, end := make([]float32, k), make([]float32, k)
			tc.setup(emis, trans, start, steps, batch)
			out := make([]int32, steps*batch)
			var ws ViterbiWorkspace
			Viterbi(emis, steps, batch, k, lens, trans, start, end, &bio, &ws, out)
			for b, n := range lens {
				path := make([]int32, n)
				for s := range path {
					path[s] = out[s*batch+b]
				}
				if err := bio.CheckPath(k, path); err != nil {
					t.Fatalf("seq %d decoded %v: %v", b, path, err)
				}
			}
			// Without the mask the favoured path wins and is invalid, so
			// the case really tests the mask.
			Viterbi(emis, steps, batch, k, lens, trans, start, end, nil, &ws, out)
			path := make([]int32, steps)
			for s := range path {
				path[s] = out[s*batch]
			}
			if bio.CheckPath(k, path) == nil {
				t.Fatalf("unmasked decode %v is valid: case does not test the mask", path)
			}
		})
	}
}

func TestViterbiNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	bio := BIOMask(bioTags)
	const steps, batch = 20, 8
	k := len(bioTags)
	emis := to32(randSlice(rng, steps*batch*k))
	trans, start, end := to32(randSlice(rng, k*k)), to32(randSlice(rng, k)), to32(randSlice(rng, k))
	lens := []int32{20, 20, 17, 9, 5, 3, 1, 0}
	out := make([]int32, steps*batch)
	var ws ViterbiWorkspace
	Viterbi(emis, steps, batch, k, lens, trans, start, end, &bio, &ws, out)
	if a := testing.AllocsPerRun(20, func() {
		Viterbi(emis, steps, batch, k, lens, trans, start, end, &bio, &ws, out)
	}); a != 0 {
		t.Fatalf("Viterbi allocates %v times per run, want 0", a)
	}
}

func TestBIOMask(t *testing.T) {
	t.Parallel()
	tags := []string{"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "X"}
	idx := map[string]int{}
	for i, s := range tags {
		idx[s] = i
	}
	m := BIOMask(tags)
	k := len(tags)
	tests := []struct {
		name     string
		from, to string // from "" means sentence start; to "" means sentence end
		want     bool
	}{
		{"start O", "", "O", true},
		{"start B", "", "B-PER", true},
		{"start I", "", "I-PER", false},
		{"start unknown", "", "X", true},
		{"end O", "O", "", true},
		{"end B", "B-LOC", "", true},
		{"end I", "I-LOC", "", true},
		{"O→O", "O", "O", true},
		{"O→B", "O", "B-PER", true},
		{"O→I", "O", "I-PER", false},
		{"B→I same", "B-PER", "I-PER", true},
		{"I→I same", "I-PER", "I-PER", true},
		{"B→I other", "B-PER", "I-LOC", false},
		{"I→I other", "I-LOC", "I-PER", false},
		{"B→I prefix type", "B-MISC", "I-PER", false},
		{"I→B other", "I-PER", "B-LOC", true},
		{"I→O", "I-PER", "O", true},
		{"B→B same", "B-PER", "B-PER", true},
		{"unknown→I", "X", "I-MISC", false},
		{"I→unknown", "I-MISC", "X", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got bool
			switch {
			case tc.from == "":
				got = m.Start[idx[tc.to]]
			case tc.to == "":
				got = m.End[idx[tc.from]]
			default:
				got = m.Trans[idx[tc.from]*k+idx[tc.to]]
			}
			if got != tc.want {
				t.Fatalf("%q→%q allowed = %v, want %v", tc.from, tc.to, got, tc.want)
			}
		})
	}
	if e := BIOMask(nil); len(e.Trans) != 0 || len(e.Start) != 0 || len(e.End) != 0 {
		t.Fatalf("BIOMask(nil) = %+v", e)
	}
}

func TestCRFMaskCheckPath(t *testing.T) {
	t.Parallel()
	bio := BIOMask(bioTags)
	onlyEndO := &CRFMask{End: []bool{true, false, false, false, false}}
	tests := []struct {
		name string
		mask *CRFMask
		path []int32
		ok   bool
	}{
		{"empty", &bio, nil, true},
		{"O B I I O", &bio, []int32{0, 1, 2, 2, 0}, true},
		{"I at start", &bio, []int32{2}, false},
		{"O I", &bio, []int32{0, 2}, false},
		{"B-PER I-LOC", &bio, []int32{1, 4}, false},
		{"out of range", &bio, []int32{0, 5}, false},
		{"negative", nil, []int32{-1}, false},
		{"nil mask", nil, []int32{4, 2, 4}, true},
		{"end masked", onlyEndO, []int32{0, 1}, false},
		{"end allowed", onlyEndO, []int32{1, 0}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.mask.CheckPath(5, tc.path); (err == nil) != tc.ok {
				t.Fatalf("CheckPath(%v) = %v, want ok=%v", tc.path, err, tc.ok)
			}
		})
	}
}

var sinkTags []int32

// BenchmarkViterbi decodes batch 64 with the 9 CoNLL-2003 BIO tags in
// float32 at 16, 64 and 256 tokens per sentence.
func BenchmarkViterbi(b *testing.B) {
	tags := []string{"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"}
	mask := BIOMask(tags)
	k := len(tags)
	const batch = 64
	for _, steps := range []int{16, 64, 256} {
		b.Run("f32/tokens="+strconv.Itoa(steps), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			emis := to32(randSlice(rng, steps*batch*k))
			trans, start, end := to32(randSlice(rng, k*k)), to32(randSlice(rng, k)), to32(randSlice(rng, k))
			lens := make([]int32, batch)
			for i := range lens {
				lens[i] = int32(steps)
			}
			out := make([]int32, steps*batch)
			var ws ViterbiWorkspace
			Viterbi(emis, steps, batch, k, lens, trans, start, end, &mask, &ws, out)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				Viterbi(emis, steps, batch, k, lens, trans, start, end, &mask, &ws, out)
			}
			sinkTags = out
			b.ReportMetric(float64(steps*batch*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// randCRFCase draws a brute-force test case: 1-4 tags, 1-5 steps, 1-3
// sequences of random lengths (zero included) and, on odd trials, a random
// transition mask; ok is false when the mask allows no path.
func randCRFCase(rng *rand.Rand, trial int) (k, steps, batch int, lens []int32, mask *CRFMask, ok bool) {
	k = 1 + rng.IntN(4)
	steps = 1 + rng.IntN(5)
	batch = 1 + rng.IntN(3)
	lens = make([]int32, batch)
	for b := range lens {
		lens[b] = int32(rng.IntN(steps + 1))
	}
	if trial%2 == 1 {
		mask = randMask(rng, k, 0.7)
		if !mask.hasPath(k, steps) {
			return k, steps, batch, lens, mask, false
		}
	}
	return k, steps, batch, lens, mask, true
}
