package main

// Reading data files for training and evaluation: records as read (for the
// data hash) and as the model packages take them.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/dataset"
)

// readAll reads and concatenates several data files with read.
func readAll[T any](cmd *cobra.Command, paths []string, opts dataset.Options, read func(*cobra.Command, string, dataset.Options) ([]T, error)) ([]T, error) {
	var all []T
	for _, p := range paths {
		recs, err := read(cmd, p, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	return all, nil
}

// readExamples reads a classification data file, reporting skipped lines.
func readExamples(cmd *cobra.Command, path string, opts dataset.Options) ([]dataset.Example, error) {
	return readDataFile(cmd, path, opts, dataset.ReadClassification)
}

// readDataFile opens path and reads it with read, reporting the lines it
// skipped; a file with no usable record is an error.
func readDataFile[T any](cmd *cobra.Command, path string, opts dataset.Options,
	read func(io.Reader, string, dataset.Options) ([]T, dataset.Report, error)) (_ []T, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	recs, rep, err := read(f, path, opts)
	if err != nil {
		return nil, err
	}
	reportSkipped(cmd, path, rep)
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no usable records", path)
	}
	return recs, nil
}

// readMapped reads data files given as FILE or FILE@MAP: load turns MAP
// into the file's map (the zero M without @; an error names the argument)
// and read reads one file with it, returning the records for the model
// and as read (for the training-data hash). Both are concatenated in order.
func readMapped[M, T, R any](args []string, load func(string) (M, error), read func(path string, m M) ([]T, []R, error)) ([]T, []R, error) {
	var out []T
	var all []R
	for _, arg := range args {
		path, mapArg, hasMap := strings.Cut(arg, "@")
		var m M
		if hasMap {
			var err error
			if m, err = load(mapArg); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", arg, err)
			}
		}
		recs, raw, err := read(path, m)
		if err != nil {
			return nil, nil, err
		}
		out, all = append(out, recs...), append(all, raw...)
	}
	return out, all, nil
}

// readLabelSources reads classification files given as FILE or FILE@MAP:
// each example's Set is its file, and a mapped file's labels go through
// its label map (model.LabelMap; a label the map lacks is an error naming
// the line). It also returns the records as read, for the data hash.
func readLabelSources(cmd *cobra.Command, args []string, opts dataset.Options) ([]model.LabeledText, []dataset.Example, error) {
	return readMapped(args, loadLabelMap, func(path string, lm *model.LabelMap) ([]model.LabeledText, []dataset.Example, error) {
		return readLabelFile(cmd, path, lm, opts)
	})
}

// readLabelFile reads one classification file, its labels through lm
// when not nil; see readLabelSources.
func readLabelFile(cmd *cobra.Command, path string, lm *model.LabelMap, opts dataset.Options) ([]model.LabeledText, []dataset.Example, error) {
	ex, err := readExamples(cmd, path, opts)
	if err != nil {
		return nil, nil, err
	}
	var out []model.LabeledText
	for _, e := range ex {
		lt := model.LabeledText{Text: e.Text, Label: e.Label, Labels: e.Labels, Set: path}
		if lm != nil {
			var keep bool
			if lt, keep, err = lm.Apply(lt); err != nil {
				return nil, nil, fmt.Errorf("%s line %d: %w", path, e.Line, err)
			}
			if !keep {
				continue
			}
		}
		out = append(out, lt)
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("%s: every record was dropped by label map %s", path, lm.Name)
	}
	return out, ex, nil
}

// loadLabelMap returns a built-in label map or reads a JSON one.
func loadLabelMap(arg string) (*model.LabelMap, error) {
	if lm, ok := model.BuiltinLabelMap(arg); ok {
		return lm, nil
	}
	b, err := os.ReadFile(arg)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("label map %s: no such file and not a built-in map (%s)", arg, strings.Join(model.BuiltinLabelMapNames(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("label map %s: %w", arg, err)
	}
	return model.ParseLabelMap(arg, b)
}
