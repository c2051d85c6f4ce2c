package models

import (
	"io"
	"slices"
	"testing"

	"github.com/tagstream/tagstream/model"
)

// TestDefaultModels checks that every built-in classifier loads (format
// version, checksum, shapes), stays under the 8 MB budget and has the
// expected labels.
func TestDefaultModels(t *testing.T) {
	var tc model.TokenizerCache
	for _, name := range []string{SentimentEN, SentimentZH} {
		t.Run(name, func(t *testing.T) {
			f, err := Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() >= 8_000_000 {
				t.Errorf("%s is %d bytes, budget is under 8,000,000", name, st.Size())
			}
			c, err := model.LoadClassifier(f.(io.Reader), name, &tc)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(c.Labels, "positive") || !slices.Contains(c.Labels, "negative") {
				t.Errorf("%s labels %v, want positive and negative among them", name, c.Labels)
			}
			for _, k := range []string{"dev_metrics", "train_data_sha256", "created_at", "train_config"} {
				if c.Info[k] == "" {
					t.Errorf("%s metadata %q missing", name, k)
				}
			}
		})
	}
}
