package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/metrics"
)

func TestEvalMapGold(t *testing.T) {
	t.Parallel()
	ent := func(typ string, start, end int) metrics.Entity {
		return metrics.Entity{Type: typ, Start: start, End: end}
	}
	tests := []struct {
		name    string
		mapName string
		in      []metrics.Entity
		want    []metrics.Entity
		wantErr string
	}{
		{"btc keeps its types", "btc", []metrics.Entity{ent("PER", 0, 2), ent("LOC", 3, 4)}, []metrics.Entity{ent("PER", 0, 2), ent("LOC", 3, 4)}, ""},
		{"cluener maps and drops position", "cluener",
			[]metrics.Entity{ent("name", 0, 2), ent("position", 2, 4), ent("scene", 5, 6), ent("game", 7, 9)},
			[]metrics.Entity{ent("PER", 0, 2), ent("LOC", 5, 6), ent("MISC", 7, 9)}, ""},
		{"weibo drops nominal mentions", "weibo_ner",
			[]metrics.Entity{ent("PER.NOM", 0, 2), ent("GPE.NAM", 3, 5), ent("ORG.NAM", 6, 7)},
			[]metrics.Entity{ent("LOC", 3, 5), ent("ORG", 6, 7)}, ""},
		{"btc has no MISC", "btc", []metrics.Entity{ent("PER", 0, 1), ent("MISC", 1, 2)}, nil, `"MISC"`},
		{"weibo unmarked type", "weibo_ner", []metrics.Entity{ent("PER", 0, 1)}, nil, `"PER" is not in type map weibo_ner`},
		{"empty", "cluener", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dm, ok := BuiltinTypeMap(tt.mapName)
			if !ok {
				t.Fatalf("no built-in map %s", tt.mapName)
			}
			got, err := mapGold(slices.Clone(tt.in), dm)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("mapGold(%v) error %v, want one containing %s", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("mapGold(%v) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEvalScoredType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mapName string // "" = no map
		typ     string
		nominal bool
		keep    bool
	}{
		{"btc", "PER", false, true},
		{"btc", "MISC", false, false}, // btc annotates no MISC
		{"btc", "PER", true, false},   // nominal mentions are not scored
		{"cluener", "MISC", false, true},
		{"weibo_ner", "MISC", false, false},
		{"weibo_ner", "LOC", false, true},
		{"btc", "person", false, false}, // a type the model did not map
		{"", "MISC", true, true},        // no map: everything as reported
		{"", "person", false, true},
	}
	for _, tt := range tests {
		var dm *DataTypeMap
		if tt.mapName != "" {
			dm, _ = BuiltinTypeMap(tt.mapName)
		}
		typ, keep := scoredType(dm)(tt.typ, tt.nominal)
		if keep != tt.keep || (keep && typ != tt.typ) {
			t.Errorf("map %q, type %s nominal %v: %q, %v; want keep %v", tt.mapName, tt.typ, tt.nominal, typ, keep, tt.keep)
		}
	}
}

func TestEvalRenderTags(t *testing.T) {
	t.Parallel()
	got := renderTags(6, []metrics.Entity{{Type: "PER", Start: 0, End: 2}, {Type: "PER", Start: 2, End: 3}, {Type: "LOC", Start: 4, End: 6}})
	want := []string{"B-PER", "I-PER", "B-PER", "O", "B-LOC", "I-LOC"}
	if !slices.Equal(got, want) {
		t.Fatalf("renderTags = %v, want %v", got, want)
	}
	// The round trip through metrics.Entities keeps adjacent entities apart.
	if back := metrics.Entities(got); len(back) != 3 {
		t.Fatalf("Entities(renderTags(...)) = %v, want 3 entities", back)
	}
}
