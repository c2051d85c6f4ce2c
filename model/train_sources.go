package model

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/tagstream/tagstream/model/metrics"
)

// tagSchema is the tag set of a tagger trained on one or more data sets and,
// per data set, how its gold tags constrain the model's tags.
//
// The model's entity types are the raw types of every data set given
// without a map (TaggedSentence.Map nil: weibo_ner's PER.NAM, GPE.NOM...)
// plus every unified type a mapped data set annotates that no raw type
// already stands for (MISC from CLUENER's books and films). A mapped gold
// span of unified type u may be any named model type that reports u (a
// CLUENER address may be Weibo's LOC.NAM or GPE.NAM); a token a data set
// leaves O may also be any model type that data set does not annotate
// (hidden): a BTC tweet's O may hide a MISC, a CLUENER O a nominal mention.
// Such tokens get a tag set and the CRF is trained on the sum over the paths
// the annotation allows (nn.CRF.NLLPartial).
type tagSchema struct {
	tags    []string
	index   map[string]int32
	types   []string            // model entity types, sorted
	unified map[string]string   // model type -> reported type
	nominal map[string]bool     // model type is a nominal mention
	hidden  map[string][]string // data set -> model types its O may hide
	// mappedOnly lists the types only mapped data sets have: an unmapped
	// dev set is not scored on them.
	mappedOnly []string
}

// unifiedType returns the reported type of a raw entity type under typeMap
// and whether it is a nominal mention ("GPE.NOM" -> "LOC", true).
func unifiedType(typeMap map[string]string, raw string) (string, bool) {
	base, nom, _ := splitType(raw)
	if out, ok := typeMap[base]; ok {
		base = out
	}
	return base, nom
}

func newTagSchema(train []TaggedSentence, typeMap map[string]string) (*tagSchema, error) {
	tagSet := map[string]bool{"O": true}
	rawBySet := map[string]map[string]bool{} // unmapped set -> its raw types
	mapped := map[string]*DataTypeMap{}      // mapped set -> its map
	for i, s := range train {
		if len(s.Tokens) != len(s.Tags) || len(s.Tokens) == 0 {
			return nil, fmt.Errorf("%w: training sentence %d has %d tokens and %d tags", ErrData, i+1, len(s.Tokens), len(s.Tags))
		}
		if s.Map != nil {
			if m, ok := mapped[s.Set]; ok && m != s.Map {
				return nil, fmt.Errorf("%w: data set %q has two type maps (%s, %s)", ErrData, s.Set, m.Name, s.Map.Name)
			}
			mapped[s.Set] = s.Map
			continue
		}
		raw := rawBySet[s.Set]
		if raw == nil {
			raw = map[string]bool{}
			rawBySet[s.Set] = raw
		}
		for _, t := range s.Tags {
			tagSet[t] = true
			if len(t) > 2 {
				raw[t[2:]] = true
			}
		}
	}
	sc := &tagSchema{unified: map[string]string{}, nominal: map[string]bool{}, hidden: map[string][]string{}}
	addType := func(t string) {
		if _, ok := sc.unified[t]; !ok {
			sc.unified[t], sc.nominal[t] = unifiedType(typeMap, t)
			sc.types = append(sc.types, t)
		}
	}
	for t := range tagSet {
		if len(t) > 2 {
			addType(t[2:])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(mapped)) {
		for _, u := range mapped[name].Targets() {
			if len(sc.named(u)) == 0 {
				addType(u)
				sc.mappedOnly = append(sc.mappedOnly, u)
				tagSet["B-"+u], tagSet["I-"+u] = true, true
			}
		}
	}
	slices.Sort(sc.types)
	sc.tags = slices.Sorted(maps.Keys(tagSet))
	sc.index = map[string]int32{}
	for i, t := range sc.tags {
		sc.index[t] = int32(i)
	}
	// Every I-X needs its B-X in the tag set so the BIO mask allows it.
	for _, t := range sc.tags {
		if strings.HasPrefix(t, "I-") && !tagSet["B-"+t[2:]] {
			return nil, fmt.Errorf("%w: tag %s appears but B-%s never does", ErrData, t, t[2:])
		}
	}
	if len(sc.tags) > 64 {
		return nil, fmt.Errorf("%w: %d tags, at most 64 when training on several data sets", ErrConfig, len(sc.tags))
	}
	for set, raw := range rawBySet {
		for _, t := range sc.types {
			if !raw[t] {
				sc.hidden[set] = append(sc.hidden[set], t)
			}
		}
	}
	for set, m := range mapped {
		for _, t := range sc.types {
			if sc.nominal[t] || !m.Annotates(sc.unified[t]) {
				sc.hidden[set] = append(sc.hidden[set], t)
			}
		}
	}
	return sc, nil
}

// named returns the named model types reported as u.
func (sc *tagSchema) named(u string) []string {
	var out []string
	for _, t := range sc.types {
		if sc.unified[t] == u && !sc.nominal[t] {
			out = append(out, t)
		}
	}
	return out
}

// encode writes the model tag of each of the first len(gold) tokens of s
// into gold (for a token with a set, one member consistent with the span,
// so the path passes CRFMask.CheckPath) and returns the tokens' tag sets
// (nil when every tag is exactly known).
func (sc *tagSchema) encode(s TaggedSentence, gold []int32) ([]uint64, error) {
	var allowed []uint64
	set := func(j int, bits uint64) {
		if allowed == nil {
			allowed = make([]uint64, len(gold))
		}
		allowed[j] = bits
	}
	hidden := sc.hidden[s.Set]
	for j := range gold {
		tag := s.Tags[j]
		if s.Map != nil {
			mt, known := s.Map.MapTag(tag)
			if !known {
				return nil, fmt.Errorf("%w: data set %q: tag %q is not in type map %q", ErrData, s.Set, tag, s.Map.Name)
			}
			tag = mt
			if tag != "O" {
				cands := sc.named(tag[2:])
				gold[j] = sc.index[tag[:2]+cands[0]]
				if len(cands) > 1 {
					var bits uint64
					for _, c := range cands {
						bits |= 1 << uint(sc.index[tag[:2]+c])
					}
					set(j, bits)
				}
				continue
			}
		}
		id, ok := sc.index[tag]
		if !ok {
			return nil, fmt.Errorf("%w: tag %q is not in the tag set", ErrData, tag)
		}
		gold[j] = id
		if tag == "O" && len(hidden) > 0 {
			bits := uint64(1) << uint(id)
			for _, h := range hidden {
				for _, p := range [...]string{"B-", "I-"} {
					if k, ok := sc.index[p+h]; ok {
						bits |= 1 << uint(k)
					}
				}
			}
			set(j, bits)
		}
	}
	return allowed, nil
}

// caseAugment returns train plus, for a fraction p of its sentences, an
// all-lowercase copy and, for a fraction p/4, an all-uppercase copy (the
// casing of tweets), drawn by rng. Tags are kept.
func caseAugment(train []TaggedSentence, p float64, rng *rand.Rand) []TaggedSentence {
	if p <= 0 {
		return train
	}
	out := slices.Clip(train)
	for _, s := range train {
		for _, c := range [...]struct {
			p float64
			f func(string) string
		}{{p, strings.ToLower}, {p / 4, strings.ToUpper}} {
			if rng.Float64() >= c.p {
				continue
			}
			cp := s
			cp.Tokens = make([]string, len(s.Tokens))
			for i, t := range s.Tokens {
				cp.Tokens[i] = c.f(t)
			}
			out = append(out, cp)
		}
	}
	return out
}

// DevSetReport is one dev data set's entity scores in its own terms.
type DevSetReport struct {
	Set string `json:"set"`
	metrics.NER
}

// evaluateSets scores dev per data set (TaggedSentence.Set) in the set's
// own terms and returns the pooled scores, the per-set ones (in first-seen
// order) and the mean of the sets' F1 (the selection score). A mapped set
// is scored in unified types: gold through its map, predictions through the
// model's type map with nominal mentions and types the set does not
// annotate removed. An unmapped set is scored in raw types, predictions of
// the hidden types (those only mapped training sets have) removed.
func (m *CompiledTagger) evaluateSets(dev []TaggedSentence, hidden []string) (metrics.NER, []DevSetReport, float64, error) {
	tokens := make([][]string, len(dev))
	for i, s := range dev {
		tokens[i] = s.Tokens
	}
	pred := m.PredictSentences(tokens)
	var order []string
	gold := map[string][][]string{}
	preds := map[string][][]string{}
	var allGold, allPred [][]string
	for i, s := range dev {
		g, p := s.Tags, pred[i]
		if s.Map != nil {
			g, p = make([]string, len(s.Tags)), slices.Clone(p)
			targets := s.Map.Targets()
			for j, t := range s.Tags {
				g[j], _ = s.Map.MapTag(t)
				if p[j] == "O" {
					continue
				}
				u, nom := m.UnifiedType(p[j][2:])
				if nom || !slices.Contains(targets, u) {
					p[j] = "O"
				} else {
					p[j] = p[j][:2] + u
				}
			}
		} else if len(hidden) > 0 {
			p = slices.Clone(p)
			for j, t := range p {
				if t != "O" && slices.Contains(hidden, t[2:]) {
					p[j] = "O"
				}
			}
		}
		if _, ok := gold[s.Set]; !ok {
			order = append(order, s.Set)
		}
		gold[s.Set] = append(gold[s.Set], g)
		preds[s.Set] = append(preds[s.Set], p)
		allGold, allPred = append(allGold, g), append(allPred, p)
	}
	pooled, err := metrics.EvalNER(allGold, allPred)
	if err != nil {
		return metrics.NER{}, nil, 0, err
	}
	var sets []DevSetReport
	var sum float64
	for _, set := range order {
		r, err := metrics.EvalNER(gold[set], preds[set])
		if err != nil {
			return metrics.NER{}, nil, 0, err
		}
		sets = append(sets, DevSetReport{Set: set, NER: r})
		sum += r.F1
	}
	return pooled, sets, sum / float64(len(order)), nil
}
