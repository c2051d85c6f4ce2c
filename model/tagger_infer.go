package model

import (
	"github.com/tagstream/tagstream/model/nn"
	"github.com/tagstream/tagstream/model/text"
)

// CompiledTagger is the immutable float32 inference form of a Tagger, safe
// for concurrent use with one TaggerWorkspace per goroutine.
type CompiledTagger struct {
	tg           *Tagger // configuration, vocabularies, mask (read-only)
	emb          []float32
	cnnEmb       []float32
	cnnW, cnnB   []float32
	fwx, fwh, fb []float32
	bwx, bwh, bb []float32
	ow, ob       []float32
	trans        []float32
	start, end   []float32
	vec          []float32 // pretrained vectors (Config.VecDim > 0), or nil
	// the LSTM and emission weights packed once for the GEMM kernels
	pfwx, pfwh, pbwx, pbwh, pow *nn.PackedB
	// per tag: 'B', 'I' or 'O', and the raw entity type index; per raw
	// type: the reported type and its nominal flag (nil when unmarked)
	prefix  []byte
	typ     []int32
	types   []string
	nominal []*bool
	yes, no bool
}

// Compile returns the float32 inference form of the current weights.
func (tg *Tagger) Compile() *CompiledTagger {
	n := &tg.net
	m := &CompiledTagger{
		tg:  tg,
		emb: to32(n.emb.Table.W),
		fwx: to32(n.fwd.Wx.W), fwh: to32(n.fwd.Wh.W), fb: to32(n.fwd.B.W),
		bwx: to32(n.bwd.Wx.W), bwh: to32(n.bwd.Wh.W), bb: to32(n.bwd.B.W),
		ow: to32(n.out.W.W), ob: to32(n.out.B.W),
		trans: to32(n.crf.Trans.W), start: to32(n.crf.Start.W), end: to32(n.crf.End.W),
	}
	in, H := tg.Config.features(), tg.Config.Hidden
	m.pfwx, m.pfwh = nn.PackB(m.fwx, in, 4*H), nn.PackB(m.fwh, H, 4*H)
	m.pbwx, m.pbwh = nn.PackB(m.bwx, in, 4*H), nn.PackB(m.bwh, H, 4*H)
	m.pow = nn.PackB(m.ow, 2*H, len(tg.Tags))
	if n.cnn != nil {
		m.cnnEmb, m.cnnW, m.cnnB = to32(n.cnn.Emb.W), to32(n.cnn.W.W), to32(n.cnn.B.W)
	}
	if n.vec != nil {
		m.vec = to32(n.vec.W)
	}
	m.yes = true
	typeIdx := map[string]int32{}
	for _, t := range tg.Tags {
		p, ty := byte('O'), ""
		if len(t) > 2 && (t[0] == 'B' || t[0] == 'I') && t[1] == '-' {
			p, ty = t[0], t[2:]
		}
		id, ok := typeIdx[ty]
		if !ok && ty != "" {
			id = int32(len(m.types))
			typeIdx[ty] = id
			base, nom := unifiedType(tg.TypeMap, ty)
			_, _, marked := splitType(ty)
			m.types = append(m.types, base)
			switch {
			case !marked:
				m.nominal = append(m.nominal, nil)
			case nom:
				m.nominal = append(m.nominal, &m.yes)
			default:
				m.nominal = append(m.nominal, &m.no)
			}
		}
		m.prefix = append(m.prefix, p)
		m.typ = append(m.typ, id)
	}
	return m
}

// Tags returns the tag set in score order. Do not modify.
func (m *CompiledTagger) Tags() []string { return m.tg.Tags }

// Lang returns the language the tagger was trained for ("en" or "zh").
func (m *CompiledTagger) Lang() string { return m.tg.Lang }

// Entity is a named entity found in a text. Start and End are rune offsets
// into the original text ([Start, End)); Text is that substring of it. Type
// is the reported type (after the model's type map); Nominal is set by
// models whose data marks named (.NAM) and nominal (.NOM) mentions, and
// points into the model (do not modify).
type Entity struct {
	Text    string `json:"text"`
	Type    string `json:"type"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Nominal *bool  `json:"nominal,omitempty"`
}

// TaggerWorkspace is one worker's scratch memory for TagBatch; it grows to
// the largest batch seen and is then reused, so steady-state tagging
// allocates nothing. Not safe for concurrent use.
type TaggerWorkspace struct {
	buf         text.Buffer
	feat        tagFeatures
	runes       []rune
	byteAt      []int32 // per text: byte offset of each rune (+ end), flattened
	byteStart   []int32 // per text: start of its byteAt block
	spans       []tokSpan
	order, slen []int32
	xe, xt, x   []float32
	gates, h, c []float32
	seq, emis   []float32
	path        []int32
	pathText    []int32
	vit         nn.ViterbiWorkspace
	cnn         nn.CharCNNWorkspace[float32]
	ents        []Entity
	entStart    []int32
}

// NewWorkspace returns an empty workspace.
func (m *CompiledTagger) NewWorkspace() *TaggerWorkspace { return &TaggerWorkspace{} }

// TagBatch finds the entities of every text. Entities(i) on the workspace
// then returns those of texts[i], valid until the next call with ws.
func (m *CompiledTagger) TagBatch(ws *TaggerWorkspace, texts []string) {
	ws.reset()
	for _, s := range texts {
		m.addText(ws, s, m.tg.Tokenizer.Chars(&ws.buf, s))
	}
	m.run(ws, texts)
}

func (ws *TaggerWorkspace) reset() {
	ws.feat.reset()
	ws.spans = ws.spans[:0]
	ws.byteAt, ws.byteStart = ws.byteAt[:0], ws.byteStart[:0]
}

// addText appends the features of text s given its character-view tokens.
func (m *CompiledTagger) addText(ws *TaggerWorkspace, s string, toks []text.Token) {
	ws.runes = m.tg.encodeTokens(&ws.feat, ws.runes, s, toks, &ws.spans)
	ws.byteStart = append(ws.byteStart, int32(len(ws.byteAt)))
	for i := range s {
		ws.byteAt = append(ws.byteAt, int32(i))
	}
	ws.byteAt = append(ws.byteAt, int32(len(s)))
}

// run tags the texts added since reset (texts must be those texts, in order)
// and extracts their entities.
func (m *CompiledTagger) run(ws *TaggerWorkspace, texts []string) {
	m.forward(ws)
	ws.ents, ws.entStart = ws.ents[:0], ws.entStart[:0]
	for i, s := range texts {
		ws.entStart = append(ws.entStart, int32(len(ws.ents)))
		tags := ws.tagsOf(i)
		first := int(ws.feat.start[i])
		byteAt := ws.byteAt[ws.byteStart[i]:]
		// Chunk BIO tags (conlleval: an entity starts at B-X, or at an I-X
		// not continuing an X entity; the CRF mask already forbids the latter).
		open := -1
		var openType int32
		flush := func(end int) {
			if open < 0 {
				return
			}
			// Emoji and emoticons are never names: an entity's ends are
			// trimmed of them, and one made only of them is dropped.
			lo, hi := first+open, first+end
			for lo < hi && ws.spans[lo].sym {
				lo++
			}
			for hi > lo && ws.spans[hi-1].sym {
				hi--
			}
			if lo == hi {
				open = -1
				return
			}
			rs, re := ws.spans[lo].start, ws.spans[hi-1].end
			ws.ents = append(ws.ents, Entity{Text: s[byteAt[rs]:byteAt[re]], Type: m.types[openType], Start: int(rs), End: int(re), Nominal: m.nominal[openType]})
			open = -1
		}
		for t, tag := range tags {
			p, ty := m.prefix[tag], m.typ[tag]
			switch {
			case p == 'B' || (p == 'I' && (open < 0 || ty != openType)):
				flush(t)
				open, openType = t, ty
			case p == 'O':
				flush(t)
			}
		}
		flush(len(tags))
	}
	ws.entStart = append(ws.entStart, int32(len(ws.ents)))
}

// Entities returns the entities TagBatch found in text i of the last batch.
func (ws *TaggerWorkspace) Entities(i int) []Entity {
	return ws.ents[ws.entStart[i]:ws.entStart[i+1]]
}

// tagsOf returns the decoded tag indices of text i of the last forward pass
// (one per tagged token), from the time-major Viterbi output.
func (ws *TaggerWorkspace) tagsOf(i int) []int32 {
	// forward stores each text's path contiguously in text order.
	lo := ws.feat.start[i]
	return ws.pathText[lo : lo+ws.feat.lens[i]]
}

// forward runs the network over the features in ws.feat and leaves each
// text's best tag path in ws.pathText (text order).
func (m *CompiledTagger) forward(ws *TaggerWorkspace) {
	cfg := m.tg.Config
	f := &ws.feat
	B, ntok := len(f.lens), f.ntok()
	ws.pathText = nn.Grow(ws.pathText, ntok)
	if B == 0 || ntok == 0 {
		return
	}
	in, H, K := cfg.features(), cfg.Hidden, len(m.tg.Tags)
	ws.xe = nn.Grow(ws.xe, ntok*cfg.Embed)
	nn.EmbedBags32(m.emb, cfg.Embed, f.ids, f.offs, ws.xe)
	ws.xt = nn.Grow(ws.xt, ntok*in)
	fillOneHots(ws.xt, in, cfg.oneHotCol(), f.cas, f.seg, f.lex)
	for r := 0; r < ntok; r++ {
		copy(ws.xt[r*in:r*in+cfg.Embed], ws.xe[r*cfg.Embed:(r+1)*cfg.Embed])
	}
	if m.cnnEmb != nil {
		nn.CharCNNForward(m.cnnEmb, cfg.CharEmbed, m.cnnW, m.cnnB, cfg.CharFilters, cfg.CharWindow, f.cids, f.coffs, ws.xt, in, cfg.Embed, &ws.cnn)
	}
	if m.vec != nil {
		fillVectors(ws.xt, in, cfg.vecCol(), m.vec, cfg.VecDim, f.vids)
	}
	// Longest first, time-major.
	ws.order, ws.slen = longestFirst(ws.order, ws.slen, f.lens)
	steps := int(ws.slen[0])
	n := steps * B
	ws.x = nn.Grow(ws.x, n*in)
	gatherTimeMajor(ws.x, ws.xt, in, steps, ws.order, f.start, f.lens)
	ws.gates = nn.Grow(ws.gates, n*4*H)
	ws.h = nn.Grow(ws.h, B*H)
	ws.c = nn.Grow(ws.c, B*H)
	ws.seq = nn.Grow(ws.seq, n*2*H)
	if steps > 0 {
		affineSteps(ws.x, m.pfwx, m.fb, ws.gates, steps, ws.slen)
		nn.LSTMRecurPacked(ws.gates, m.pfwh, steps, B, ws.slen, false, ws.seq, 2*H, 0, ws.h, ws.c)
		affineSteps(ws.x, m.pbwx, m.bb, ws.gates, steps, ws.slen)
		nn.LSTMRecurPacked(ws.gates, m.pbwh, steps, B, ws.slen, true, ws.seq, 2*H, H, ws.h, ws.c)
	}
	ws.emis = nn.Grow(ws.emis, n*K)
	affineSteps(ws.seq, m.pow, m.ob, ws.emis, steps, ws.slen)
	ws.path = nn.Grow(ws.path, n)
	nn.Viterbi(ws.emis, steps, B, K, ws.slen, m.trans, m.start, m.end, &m.tg.mask, &ws.vit, ws.path)
	for t := 0; t < steps; t++ {
		for p, o := range ws.order {
			if int32(t) < f.lens[o] {
				ws.pathText[int(f.start[o])+t] = ws.path[t*B+p]
			}
		}
	}
}
