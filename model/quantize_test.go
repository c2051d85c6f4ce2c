package model

import (
	"bytes"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagstream/tagstream/model/safetensors"
)

// TestQuantizeRowsBound: dequantized values are within half a row scale of
// the original, the scale is max|w|/127, and zero rows stay zero.
func TestQuantizeRowsBound(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	rows, cols := 37, 53
	w := make([]float64, rows*cols)
	for i := range w {
		w[i] = rng.NormFloat64() * math.Pow(10, float64(i/cols%7-3)) // rows of very different magnitude
	}
	for c := range cols {
		w[5*cols+c] = 0
	}
	w[9*cols+3] = -1e-30 // a tiny row max
	for c := range cols {
		if c != 3 {
			w[9*cols+c] = 0
		}
	}
	q, scale := quantizeRows(w, rows, cols)
	got := make([]float64, len(w))
	if err := dequantizeRows(got, q, scale, rows, cols); err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		var m float64
		for c := range cols {
			m = max(m, math.Abs(w[r*cols+c]))
		}
		if want := ceilBF16(float32(m / 127)); scale[r] != want || want < float32(m/127) || want > float32(m/127)*(1+1.0/128) {
			t.Fatalf("row %d scale %v, want %v", r, scale[r], want)
		}
		for c := range cols {
			i := r*cols + c
			if d := math.Abs(got[i] - w[i]); d > float64(scale[r])/2*(1+1e-6) {
				t.Fatalf("row %d col %d: %v -> %d -> %v, error %v > scale/2 %v", r, c, w[i], q[i], got[i], d, scale[r]/2)
			}
		}
	}
	if scale[5] != 0 || got[5*cols] != 0 {
		t.Fatalf("zero row: scale %v value %v", scale[5], got[5*cols])
	}
	if err := dequantizeRows(got, q, scale[:3], rows, cols); err == nil {
		t.Fatal("dequantize with too few scales succeeded")
	}
	scale[2] = float32(math.NaN())
	if err := dequantizeRows(got, q, scale, rows, cols); err == nil {
		t.Fatal("dequantize with a NaN scale succeeded")
	}
}

// TestQuantizeRoundTrip: a quantized classifier and tagger load with the
// usual loaders, are about 4× smaller, predict like the originals, and
// quantizing twice or a forged scale is refused.
func TestQuantizeRoundTrip(t *testing.T) {
	t.Parallel()
	var tc TokenizerCache
	// Built-in models: the test models are below the int8 size threshold
	// (ner-en ships as int8 already, ner-zh in float32).
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "models", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	clsFile, tgFile := read("sentiment-en.safetensors"), read("ner-zh.safetensors")
	l, err := Load(bytes.NewReader(clsFile), "sentiment-en", &tc)
	if err != nil {
		t.Fatal(err)
	}
	cls := l.Classifier
	for _, m := range []struct {
		kind string
		file []byte
	}{
		{KindClassifier, clsFile},
		{KindTagger, tgFile},
	} {
		var q bytes.Buffer
		orig := bytes.NewBuffer(m.file)
		rep, err := Quantize(bytes.NewReader(orig.Bytes()), &q)
		if err != nil {
			t.Fatalf("%s: %v", m.kind, err)
		}
		t.Logf("%s: %d int8 matrices, %d tensors kept, payload %d -> %d bytes (%.2fx), file %d -> %d bytes (%.2fx), max |error| %.2g",
			m.kind, rep.Matrices, rep.Kept, rep.InBytes, rep.OutBytes, float64(rep.InBytes)/float64(rep.OutBytes), len(m.file), q.Len(), float64(len(m.file))/float64(q.Len()), rep.MaxAbsErr)
		if rep.Matrices == 0 || rep.OutBytes*3 > rep.InBytes || rep.MaxAbsErr <= 0 {
			t.Fatalf("%s: report %+v: want int8 matrices and a payload under a third", m.kind, rep)
		}
		loaded, err := Load(bytes.NewReader(q.Bytes()), "q.safetensors", &tc)
		if err != nil {
			t.Fatalf("%s: load quantized: %v", m.kind, err)
		}
		if _, err := Quantize(bytes.NewReader(q.Bytes()), io.Discard); err == nil || !strings.Contains(err.Error(), "already quantized") {
			t.Fatalf("%s: quantizing twice: %v", m.kind, err)
		}
		switch m.kind {
		case KindClassifier:
			qc := loaded.Classifier
			if qc == nil || qc.Checksum == cls.Checksum {
				t.Fatalf("quantized classifier %v: want a new checksum", qc)
			}
			a, b := cls.Compile(), qc.Compile()
			texts := append(append([]string{}, nerTexts...), mixedTexts...)
			pa, pb := make([]float32, len(texts)*3), make([]float32, len(texts)*3)
			ba, bb := make([]int, len(texts)), make([]int, len(texts))
			a.ClassifyBatch(a.NewWorkspace(), texts, pa, ba)
			b.ClassifyBatch(b.NewWorkspace(), texts, pb, bb)
			for i := range pa {
				if math.Abs(float64(pa[i]-pb[i])) > 0.05 {
					t.Fatalf("probability %d: %v float32, %v int8", i, pa[i], pb[i])
				}
			}
		case KindTagger:
			if loaded.Tagger == nil {
				t.Fatal("quantized tagger did not load as a tagger")
			}
		}
	}
	// A scale that would overflow float32 is refused at load.
	var q bytes.Buffer
	if _, err := Quantize(bytes.NewReader(clsFile), &q); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(bytes.NewReader(q.Bytes()), MaxModelBytes)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, tt := range f.Tensors {
		if strings.HasSuffix(tt.Name, scaleSuffix) {
			s, _ := tt.Float32s()
			s[0] = float32(math.Inf(1))
			tt = newBF16(tt.Name, tt.Shape, s)
		}
		ts = append(ts, tt)
	}
	meta := maps.Clone(f.Meta)
	delete(meta, safetensors.ChecksumKey)
	var forged bytes.Buffer
	if err := safetensors.Write(&forged, ts, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bytes.NewReader(forged.Bytes()), "forged.safetensors", &tc); err == nil || !strings.Contains(err.Error(), "scale") {
		t.Fatalf("forged scale: %v, want an error naming the scale", err)
	}
}
