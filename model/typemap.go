package model

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Unified entity types: every built-in tagger reports these (see
// Tagger.TypeMap), and DataTypeMap maps a data set's own types onto them.
const (
	TypePER  = "PER"
	TypeLOC  = "LOC"
	TypeORG  = "ORG"
	TypeMISC = "MISC"
)

// DataTypeMap maps the entity types of one NER data set onto the unified
// types PER, LOC, ORG and MISC. It serves two purposes:
//
//   - evaluation in the product's terms (tagstream eval --type-map): gold
//     spans are mapped (a type mapped to "" is dropped), predictions keep
//     only the unified types the data set annotates, and nominal mentions
//     are never scored;
//   - training on several data sets at once (a training file's source
//     map): a gold span of source type s may be any named model type whose
//     unified type is Types[s], and a token the data set leaves O may also
//     be any model type it does not annotate (partial annotation; see
//     TaggerTrainConfig).
type DataTypeMap struct {
	// Name identifies the map (a built-in name or a file name).
	Name string `json:"name"`
	// Types maps each source type, exactly as it appears after B-/I-, to a
	// unified type, or to "" to drop spans of that type (they become O).
	Types map[string]string `json:"types"`
	// Partial lists unified types that the data set annotates only in part:
	// its O tokens may hide them (WNUT-17 tags products and creative works,
	// which map to MISC, but not nationalities or events, which CoNLL-2003
	// calls MISC). Unified types that no source type maps to are always
	// treated as unannotated.
	Partial []string `json:"partial,omitempty"`
}

// Targets returns the sorted unified types the data set annotates.
func (m *DataTypeMap) Targets() []string {
	set := map[string]bool{}
	for _, u := range m.Types {
		if u != "" {
			set[u] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// Annotates reports whether the data set's spans are a complete annotation
// of the unified type u: u is a target and not Partial.
func (m *DataTypeMap) Annotates(u string) bool {
	if slices.Contains(m.Partial, u) {
		return false
	}
	for _, t := range m.Types {
		if t == u {
			return true
		}
	}
	return false
}

// MapTag maps a BIO tag of the data set: "B-name" -> "B-PER"; O, tags of a
// dropped type and tags of a type the map does not know -> "O", with known
// false in the last case.
func (m *DataTypeMap) MapTag(tag string) (out string, known bool) {
	if len(tag) < 3 || tag[1] != '-' || (tag[0] != 'B' && tag[0] != 'I') {
		return "O", tag == "O"
	}
	u, ok := m.Types[tag[2:]]
	if !ok {
		return "O", false
	}
	if u == "" {
		return "O", true
	}
	return tag[:2] + u, true
}

// Validate reports a map with no types or a target outside the unified
// types.
func (m *DataTypeMap) Validate() error {
	if len(m.Types) == 0 {
		return fmt.Errorf("%w: type map %q has no types", ErrConfig, m.Name)
	}
	for s, u := range m.Types {
		switch u {
		case "", TypePER, TypeLOC, TypeORG, TypeMISC:
		default:
			return fmt.Errorf("%w: type map %q maps %q to %q, want PER, LOC, ORG, MISC or \"\" (drop)", ErrConfig, m.Name, s, u)
		}
		if s == "" || strings.ContainsAny(s, " \t") {
			return fmt.Errorf("%w: type map %q has source type %q", ErrConfig, m.Name, s)
		}
	}
	for _, u := range m.Partial {
		switch u {
		case TypePER, TypeLOC, TypeORG, TypeMISC:
		default:
			return fmt.Errorf("%w: type map %q: partial type %q is not PER, LOC, ORG or MISC", ErrConfig, m.Name, u)
		}
	}
	return nil
}

// ParseDataTypeMap decodes a JSON type map ({"types": {...}, "partial":
// [...]}) and validates it; name is used when the JSON has none.
func ParseDataTypeMap(name string, b []byte) (*DataTypeMap, error) {
	var m DataTypeMap
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: type map %s: %v", ErrConfig, name, err)
	}
	if m.Name == "" {
		m.Name = name
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// BuiltinTypeMap returns the map shipped for a data set of ../shared/data
// (conll2003_en, btc, wnut17, cluener, weibo_ner, resume_ner), or false.
func BuiltinTypeMap(name string) (*DataTypeMap, bool) {
	m, ok := builtinTypeMaps()[name]
	return m, ok
}

// BuiltinTypeMapNames returns the names BuiltinTypeMap knows, sorted.
func BuiltinTypeMapNames() []string {
	return slices.Sorted(maps.Keys(builtinTypeMaps()))
}

func builtinTypeMaps() map[string]*DataTypeMap {
	id := map[string]string{"PER": TypePER, "LOC": TypeLOC, "ORG": TypeORG, "MISC": TypeMISC}
	return map[string]*DataTypeMap{
		"conll2003_en": {Name: "conll2003_en", Types: id},
		// BTC annotates persons, locations and organisations only.
		"btc": {Name: "btc", Types: map[string]string{"PER": TypePER, "LOC": TypeLOC, "ORG": TypeORG}},
		// WNUT-17: products and creative works are MISC, but the data set
		// does not tag the rest of CoNLL's MISC (nationalities, events).
		"wnut17": {Name: "wnut17", Types: map[string]string{
			"person": TypePER, "location": TypeLOC, "corporation": TypeORG, "group": TypeORG,
			"product": TypeMISC, "creative-work": TypeMISC,
		}, Partial: []string{TypeMISC}},
		// CLUENER: scenes (scenic spots, venues) are places; books, games
		// and films are MISC; job titles (position) are not named entities.
		"cluener": {Name: "cluener", Types: map[string]string{
			"name": TypePER, "address": TypeLOC, "scene": TypeLOC,
			"organization": TypeORG, "company": TypeORG, "government": TypeORG,
			"book": TypeMISC, "game": TypeMISC, "movie": TypeMISC, "position": "",
		}},
		// Weibo NER, named mentions only: nominal mentions (.NOM, "the
		// president") are dropped; a GPE is a location.
		"weibo_ner": {Name: "weibo_ner", Types: map[string]string{
			"PER.NAM": TypePER, "LOC.NAM": TypeLOC, "GPE.NAM": TypeLOC, "ORG.NAM": TypeORG,
			"PER.NOM": "", "LOC.NOM": "", "GPE.NOM": "", "ORG.NOM": "",
		}},
		// Resume NER: countries (CONT) are places, schools (EDU) are
		// organisations, ethnic groups (RACE) are MISC as CoNLL's
		// nationalities are; job titles and majors are not named entities.
		"resume_ner": {Name: "resume_ner", Types: map[string]string{
			"NAME": TypePER, "CONT": TypeLOC, "LOC": TypeLOC, "ORG": TypeORG, "EDU": TypeORG,
			"RACE": TypeMISC, "TITLE": "", "PRO": "",
		}},
	}
}
