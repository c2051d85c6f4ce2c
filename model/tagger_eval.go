package model

// PredictSentences tags pre-tokenized sentences (the gold tokens are the
// tagger's tokens, in batches of 64; EvaluateSentences scores its output) and returns
// the raw predicted tags, one per token: elements of Tags(), such as
// "B-PER.NAM", before the model's type map. Tokens past the model's
// MaxTokens are "O". The result is newly allocated; its strings are shared
// with Tags(). tokens is not modified. Safe for concurrent use.
func (m *CompiledTagger) PredictSentences(tokens [][]string) [][]string {
	ws := m.NewWorkspace()
	pred := make([][]string, len(tokens))
	for lo := 0; lo < len(tokens); lo += 64 {
		hi := min(lo+64, len(tokens))
		ws.feat.reset()
		for _, s := range tokens[lo:hi] {
			m.tg.encodeGold(&ws.feat, &ws.buf, s)
		}
		m.forward(ws)
		for i, s := range tokens[lo:hi] {
			p := make([]string, len(s))
			for j := range p {
				p[j] = "O"
			}
			for j, t := range ws.tagsOf(i) {
				p[j] = m.tg.Tags[t]
			}
			pred[lo+i] = p
		}
	}
	return pred
}

// UnifiedType returns the type TagBatch reports (Entity.Type) for a raw
// entity type of the tagger's tags (the part after "B-"/"I-"), and whether
// such a mention is nominal (Entity.Nominal set and true): a ".NAM" or
// ".NOM" suffix is removed and the rest mapped through the model's TypeMap,
// unmapped types passing through, as Compile does. "GPE.NOM" gives "LOC",
// true with the built-in map. Safe for concurrent use.
func (m *CompiledTagger) UnifiedType(rawType string) (typ string, nominal bool) {
	return unifiedType(m.tg.TypeMap, rawType)
}
