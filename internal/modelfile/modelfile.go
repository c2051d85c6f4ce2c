// Package modelfile reads and writes tagstream's model files and labelled
// data on disk, for the commands and the server. Package model itself
// reads from an io.Reader and writes to an io.Writer; this package adds the
// file handling (errors that name the path, atomic writes).
package modelfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/dataset"
)

// Load loads a model of any kind from path, sharing tokenizers through tc
// (nil shares nothing).
func Load(path string, tc *model.TokenizerCache) (model.Loaded, error) {
	return withFile(path, func(f *os.File) (model.Loaded, error) { return model.Load(f, path, tc) })
}

// LoadClassifier loads a classifier from path.
func LoadClassifier(path string, tc *model.TokenizerCache) (*model.Classifier, error) {
	return withFile(path, func(f *os.File) (*model.Classifier, error) { return model.LoadClassifier(f, path, tc) })
}

// LoadLM loads a language model from path.
func LoadLM(path string, tc *model.TokenizerCache) (*model.LanguageModel, error) {
	return withFile(path, func(f *os.File) (*model.LanguageModel, error) { return model.LoadLM(f, path, tc) })
}

func withFile[T any](path string, read func(*os.File) (T, error)) (_ T, err error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	return read(f)
}

// Write writes a model file atomically: save writes into a temporary file
// in path's directory, which is synced and renamed over path only when
// everything succeeded, so a reader never sees half a model.
func Write(path string, save func(w io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tagstream-model-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err = save(w); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadLabeled reads labelled classification data (JSONL or CSV, see
// package dataset; multi-label JSONL records carry "labels") as
// model.LabeledText.
func ReadLabeled(path string) ([]model.LabeledText, error) {
	exs, err := withFile(path, func(f *os.File) ([]dataset.Example, error) {
		exs, _, err := dataset.ReadClassification(f, path, dataset.Options{})
		return exs, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]model.LabeledText, len(exs))
	for i, e := range exs {
		out[i] = model.LabeledText{Text: e.Text, Label: e.Label, Labels: e.Labels}
	}
	return out, nil
}
