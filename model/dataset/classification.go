package dataset

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

var classificationExts = map[string]Format{".jsonl": FormatJSONL, ".json": FormatJSONL, ".ndjson": FormatJSONL, ".csv": FormatCSV}

// ReadClassification reads labelled texts from r, in JSON Lines or CSV as
// described in the package documentation. name identifies the input in
// errors and, with FormatAuto, selects the format by extension (".jsonl",
// ".json", ".ndjson" or ".csv").
//
// Every example has a non-blank Text and Label, kept verbatim. Bad records
// are skipped and reported, or with opts.Strict fail the read with an error
// wrapping a *LineError. The error is also non-nil for I/O errors, for
// FormatCoNLL, and for CSV input whose header lacks a text or label column
// (ErrFormat). Empty input gives no examples and no error.
func ReadClassification(r io.Reader, name string, opts Options) ([]Example, Report, error) {
	br, format, err := prepare(r, name, opts.Format, classificationExts, FormatCSV)
	rep := Report{Format: format}
	if err != nil {
		return nil, rep, err
	}
	var out []Example
	switch format {
	case FormatJSONL:
		out, err = readClassificationJSONL(newLineReader(br, opts.MaxLineBytes), name, opts.Strict, &rep)
	case FormatCSV:
		out, err = readClassificationCSV(br, name, opts.Strict, &rep)
	default:
		return nil, rep, fmt.Errorf("read %s: format %q for classification data: %w", name, string(format), ErrFormat)
	}
	if err != nil {
		return nil, rep, err
	}
	rep.Read = len(out)
	return out, rep, nil
}

func readClassificationJSONL(lr *lineReader, name string, strict bool, rep *Report) ([]Example, error) {
	var out []Example
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: line %d: %w", name, lr.line+1, err)
		}
		var bad error
		var ex Example
		switch {
		case tooLong:
			bad = fmt.Errorf("longer than %d bytes: %w", lr.max, ErrLineTooLong)
		case isBlank(line):
			continue
		default:
			ex, bad = parseClassificationJSON(line)
		}
		if bad != nil {
			if err := rep.add(name, strict, lr.line, bad); err != nil {
				return nil, err
			}
			continue
		}
		ex.Line = lr.line
		out = append(out, ex)
	}
}

func parseClassificationJSON(line []byte) (Example, error) {
	obj, err := parseObject(line)
	if err != nil {
		return Example{}, err
	}
	text, err := stringField(obj, "text")
	if err != nil {
		return Example{}, err
	}
	if raw, ok := obj["labels"]; ok {
		if _, both := obj["label"]; both {
			return Example{}, fmt.Errorf("both \"label\" and \"labels\": %w", ErrField)
		}
		labels, err := stringList(raw, "labels")
		if err != nil {
			return Example{}, err
		}
		return Example{Text: text, Labels: labels}, nil
	}
	label, err := stringField(obj, "label")
	if err != nil {
		return Example{}, err
	}
	return Example{Text: text, Label: label}, nil
}

// stringList decodes a non-empty JSON array of distinct non-blank strings.
func stringList(raw json.RawMessage, key string) ([]string, error) {
	var list []string
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
		return nil, fmt.Errorf("%q is not an array of strings: %w", key, ErrField)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("empty %q: %w", key, ErrField)
	}
	seen := make(map[string]bool, len(list))
	for _, l := range list {
		if strings.TrimSpace(l) == "" {
			return nil, fmt.Errorf("blank label in %q: %w", key, ErrField)
		}
		if seen[l] {
			return nil, fmt.Errorf("label %q twice in %q: %w", l, key, ErrField)
		}
		seen[l] = true
	}
	return list, nil
}

// parseObject checks that line is valid UTF-8 holding one JSON object and
// returns its fields.
func parseObject(line []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(line) {
		return nil, ErrEncoding
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, fmt.Errorf("not a json object: %w", ErrSyntax)
		}
		return nil, fmt.Errorf("%v: %w", err, ErrSyntax)
	}
	if obj == nil {
		return nil, fmt.Errorf("not a json object: %w", ErrSyntax)
	}
	return obj, nil
}

// stringField returns the non-blank string field key of obj.
func stringField(obj map[string]json.RawMessage, key string) (string, error) {
	raw, ok := obj[key]
	if !ok {
		return "", fmt.Errorf("missing %q: %w", key, ErrField)
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%q is not a string: %w", key, ErrField)
	}
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("empty %q: %w", key, ErrField)
	}
	return s, nil
}

func readClassificationCSV(r io.Reader, name string, strict bool, rep *Report) ([]Example, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("read %s: csv header: %v: %w", name, err, ErrFormat)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	textCol, labelCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "text":
			if textCol < 0 {
				textCol = i
			}
		case "label":
			if labelCol < 0 {
				labelCol = i
			}
		}
	}
	if textCol < 0 || labelCol < 0 {
		return nil, fmt.Errorf("read %s: csv header %q lacks a text or label column: %w", name, header, ErrFormat)
	}
	need := max(textCol, labelCol) + 1
	var out []Example
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		var bad error
		line := 0
		switch {
		case errors.As(err, &pe):
			line, bad = pe.StartLine, fmt.Errorf("%v: %w", pe.Err, ErrSyntax)
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", name, err)
		default:
			line, _ = cr.FieldPos(0)
			bad = checkCSVRecord(rec, need)
		}
		if bad != nil {
			if err := rep.add(name, strict, line, bad); err != nil {
				return nil, err
			}
			continue
		}
		ex := Example{Text: rec[textCol], Label: rec[labelCol], Line: line}
		if strings.TrimSpace(ex.Text) == "" {
			bad = fmt.Errorf(`empty "text": %w`, ErrField)
		} else if strings.TrimSpace(ex.Label) == "" {
			bad = fmt.Errorf(`empty "label": %w`, ErrField)
		}
		if bad != nil {
			if err := rep.add(name, strict, line, bad); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, ex)
	}
}

func checkCSVRecord(rec []string, need int) error {
	if len(rec) < need {
		return fmt.Errorf("%d fields, want at least %d: %w", len(rec), need, ErrField)
	}
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return ErrEncoding
		}
	}
	return nil
}
