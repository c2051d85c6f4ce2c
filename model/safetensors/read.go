package safetensors

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// DefaultMaxBytes is the input limit Read uses when maxBytes <= 0 (1 GiB).
const DefaultMaxBytes int64 = 1 << 30

// File is the decoded content of a safetensors file.
type File struct {
	// Meta is the "__metadata__" map; never nil after Read.
	Meta map[string]string
	// Tensors are sorted by name. Their Data slices share one buffer.
	Tensors []Tensor
}

// Read reads a whole safetensors file from r, reading at most maxBytes
// bytes (DefaultMaxBytes if maxBytes <= 0), and validates it as described
// in the package documentation.
//
// Errors wrap ErrTooLarge (input longer than maxBytes or header longer than
// MaxHeaderBytes), ErrTruncated (input shorter than its length prefix or
// the tensor offsets say), ErrHeader (any other header or layout problem) or ErrChecksum
// (metadata "sha256" does not match), or are read errors from r. Read never
// allocates more than the bytes it actually read plus the decoded header.
func Read(r io.Reader, maxBytes int64) (*File, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	var prefix [8]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("read header length: %w", ErrTruncated)
		}
		return nil, fmt.Errorf("read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	if n > MaxHeaderBytes {
		return nil, fmt.Errorf("header length %d exceeds %d: %w", n, MaxHeaderBytes, ErrTooLarge)
	}
	if maxBytes < 8 || n > uint64(maxBytes-8) {
		return nil, fmt.Errorf("header length %d exceeds limit of %d bytes: %w", n, maxBytes, ErrTooLarge)
	}
	rest, err := io.ReadAll(io.LimitReader(r, maxBytes-8+1))
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	if int64(len(rest)) > maxBytes-8 {
		return nil, fmt.Errorf("file exceeds limit of %d bytes: %w", maxBytes, ErrTooLarge)
	}
	if n > uint64(len(rest)) {
		return nil, fmt.Errorf("header length %d exceeds remaining %d bytes: %w", n, len(rest), ErrTruncated)
	}
	header, buf := rest[:n], rest[n:]
	f, err := parse(header, buf)
	if err != nil {
		return nil, err
	}
	if want, ok := f.Meta[ChecksumKey]; ok {
		sum := sha256.Sum256(buf)
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, fmt.Errorf("byte buffer sha256 %s, metadata says %q: %w", got, want, ErrChecksum)
		}
	}
	return f, nil
}

// entry is a tensor's header entry with its offsets.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int
}

// parse decodes and validates the header and slices buf into tensors.
func parse(header, buf []byte) (*File, error) {
	if len(header) == 0 || header[0] != '{' {
		return nil, fmt.Errorf("header does not start with '{': %w", ErrHeader)
	}
	if !utf8.Valid(header) {
		return nil, fmt.Errorf("header is not valid utf-8: %w", ErrHeader)
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil { // '{', checked above
		return nil, fmt.Errorf("header: %v: %w", err, ErrHeader)
	}
	f := &File{Meta: map[string]string{}}
	seen := map[string]bool{}
	var entries []entry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("header: %v: %w", err, ErrHeader)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("header: unexpected %v: %w", tok, ErrHeader)
		}
		if seen[key] {
			return nil, fmt.Errorf("header: duplicate key %q: %w", key, ErrHeader)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("header: key %q: %v: %w", key, err, ErrHeader)
		}
		if key == MetadataKey {
			if err := decodeMeta(raw, f.Meta); err != nil {
				return nil, err
			}
			continue
		}
		e, err := decodeEntry(key, raw)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, fmt.Errorf("header: %v: %w", err, ErrHeader)
	}
	if trailing := header[dec.InputOffset():]; len(bytes.TrimLeft(trailing, " \t\r\n")) != 0 {
		return nil, fmt.Errorf("header: data after the json object: %w", ErrHeader)
	}

	// Sort by offsets and check that they tile the buffer exactly.
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), strings.Compare(a.name, b.name))
	})
	pos := 0
	for _, e := range entries {
		if e.begin != pos {
			what := "overlaps the previous tensor"
			if e.begin > pos {
				what = "leaves a gap after the previous tensor"
			}
			return nil, fmt.Errorf("tensor %q: offsets [%d, %d] %s ending at %d: %w",
				e.name, e.begin, e.end, what, pos, ErrHeader)
		}
		pos = e.end
	}
	if pos > len(buf) {
		return nil, fmt.Errorf("tensors need %d bytes, byte buffer has %d: %w", pos, len(buf), ErrTruncated)
	}
	if pos < len(buf) {
		return nil, fmt.Errorf("tensors cover %d bytes, byte buffer has %d: %w", pos, len(buf), ErrHeader)
	}

	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	f.Tensors = make([]Tensor, len(entries))
	for i, e := range entries {
		f.Tensors[i] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, Data: buf[e.begin:e.end:e.end]}
	}
	return f, nil
}

// decodeMeta decodes the metadata object into m, requiring string values.
func decodeMeta(raw json.RawMessage, m map[string]string) error {
	if string(raw) == "null" {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("header: %s: %v: %w", MetadataKey, err, ErrHeader)
	}
	for k, v := range fields {
		var s string
		if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return fmt.Errorf("header: %s: value of %q is not a string: %w", MetadataKey, k, ErrHeader)
		}
		m[k] = s
	}
	return nil
}

// decodeEntry decodes and checks one tensor entry, except for how its
// offsets relate to other tensors.
func decodeEntry(name string, raw json.RawMessage) (entry, error) {
	fail := func(format string, args ...any) (entry, error) {
		return entry{}, fmt.Errorf("tensor %q: %s: %w", name, fmt.Sprintf(format, args...), ErrHeader)
	}
	if name == "" {
		return fail("empty name")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return fail("entry is not an object")
	}
	var (
		dtype   string
		shape   []int64
		offsets []int64
	)
	for _, f := range []struct {
		key string
		dst any
	}{{"dtype", &dtype}, {"shape", &shape}, {"data_offsets", &offsets}} {
		v, ok := fields[f.key]
		if !ok || string(v) == "null" {
			return fail("missing %s", f.key)
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return fail("%s: %v", f.key, err)
		}
	}
	e := entry{name: name, dtype: DType(dtype), shape: make([]int, len(shape))}
	if e.dtype.Size() == 0 {
		return fail("unknown dtype %q", dtype)
	}
	for i, d := range shape {
		if d < 0 || d > math.MaxInt {
			return fail("dimension %d is %d", i, d)
		}
		e.shape[i] = int(d)
	}
	size, err := byteSize(e.dtype, e.shape)
	if err != nil {
		return fail("%v", err)
	}
	if len(offsets) != 2 {
		return fail("data_offsets has %d values, want 2", len(offsets))
	}
	if offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > math.MaxInt {
		return fail("invalid data_offsets %v", offsets)
	}
	e.begin, e.end = int(offsets[0]), int(offsets[1])
	if e.end-e.begin != size {
		return fail("%s%v needs %d bytes, data_offsets %v span %d", e.dtype, e.shape, size, offsets, e.end-e.begin)
	}
	return e, nil
}

// Lookup returns the tensor called name and whether it exists. Lookup is
// safe for concurrent use if f is not modified.
func (f *File) Lookup(name string) (Tensor, bool) {
	i, ok := slices.BinarySearchFunc(f.Tensors, name, func(t Tensor, n string) int { return strings.Compare(t.Name, n) })
	if !ok {
		return Tensor{}, false
	}
	return f.Tensors[i], true
}

// Tensor returns the tensor called name after checking that its dtype is
// dtype (any dtype if dtype is "") and its shape is exactly shape (no shape
// arguments means a scalar). Errors wrap ErrNotFound or ErrMismatch and
// name the tensor, the expected and the actual dtype or shape.
func (f *File) Tensor(name string, dtype DType, shape ...int) (Tensor, error) {
	t, ok := f.Lookup(name)
	if !ok {
		return Tensor{}, fmt.Errorf("tensor %q: %w", name, ErrNotFound)
	}
	if dtype != "" && t.DType != dtype {
		return Tensor{}, fmt.Errorf("tensor %q: dtype %s, want %s: %w", name, t.DType, dtype, ErrMismatch)
	}
	if !slices.Equal(t.Shape, shape) {
		if shape == nil {
			shape = []int{}
		}
		return Tensor{}, fmt.Errorf("tensor %q: shape %v, want %v: %w", name, t.Shape, shape, ErrMismatch)
	}
	return t, nil
}
