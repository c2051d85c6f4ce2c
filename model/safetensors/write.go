package safetensors

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MetadataKey is the reserved header key holding the metadata map; no
// tensor may use it as its name.
const MetadataKey = "__metadata__"

// ChecksumKey is the metadata key under which Write stores the lower-case
// hex SHA-256 of the byte buffer, and which Read verifies when present.
const ChecksumKey = "sha256"

// MaxHeaderBytes is the largest header the specification allows (100 MB).
const MaxHeaderBytes = 100_000_000

// headerAlign is the alignment of the byte buffer's start in the file.
const headerAlign = 8

// Write writes tensors and meta to w in the safetensors layout.
//
// Tensors are written sorted by name, with contiguous data offsets in that
// order, so the output depends only on the set of tensors and metadata.
// Write copies meta and sets meta["sha256"] to the lower-case hex SHA-256 of
// the byte buffer (the concatenated tensor data), overriding any value the
// caller supplied; meta itself is not modified. The header is padded with
// spaces to a multiple of 8 bytes.
//
// Write returns an error wrapping ErrInvalid, before writing anything, if a
// name is empty, repeated, equal to "__metadata__" or not valid UTF-8, a
// metadata key or value is not valid UTF-8, a dtype is unknown, a
// dimension is negative, or len(Data) differs from the element count times
// the dtype size. It returns an error wrapping ErrTooLarge if the header
// would exceed MaxHeaderBytes, and otherwise any error from w.
func Write(w io.Writer, tensors []Tensor, meta map[string]string) error {
	header, order, err := encodeHeader(tensors, meta)
	if err != nil {
		return err
	}
	var prefix [8]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(len(header)))
	if _, err := w.Write(prefix[:]); err != nil {
		return fmt.Errorf("write header length: %w", err)
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	for _, i := range order {
		t := tensors[i]
		if len(t.Data) == 0 {
			continue
		}
		if _, err := w.Write(t.Data); err != nil {
			return fmt.Errorf("write tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// encodeHeader validates tensors and returns the padded JSON header and the
// indices of tensors sorted by name.
func encodeHeader(tensors []Tensor, meta map[string]string) ([]byte, []int, error) {
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(tensors[a].Name, tensors[b].Name) })

	sum := sha256.New()
	for k, i := range order {
		t := tensors[i]
		switch {
		case t.Name == "":
			return nil, nil, fmt.Errorf("tensor %d: empty name: %w", i, ErrInvalid)
		case t.Name == MetadataKey:
			return nil, nil, fmt.Errorf("tensor %d: reserved name %q: %w", i, t.Name, ErrInvalid)
		case !utf8.ValidString(t.Name):
			return nil, nil, fmt.Errorf("tensor %d: name %q is not valid utf-8: %w", i, t.Name, ErrInvalid)
		case k > 0 && tensors[order[k-1]].Name == t.Name:
			return nil, nil, fmt.Errorf("tensor %q: duplicate name: %w", t.Name, ErrInvalid)
		}
		n, err := byteSize(t.DType, t.Shape)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %v: %w", t.Name, err, ErrInvalid)
		}
		if n != len(t.Data) {
			return nil, nil, fmt.Errorf("tensor %q: %s%v needs %d bytes, data has %d: %w",
				t.Name, t.DType, t.Shape, n, len(t.Data), ErrInvalid)
		}
		sum.Write(t.Data)
	}

	m := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, fmt.Errorf("metadata %q: not valid utf-8: %w", k, ErrInvalid)
		}
		m[k] = v
	}
	m[ChecksumKey] = hex.EncodeToString(sum.Sum(nil))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	var b bytes.Buffer
	b.WriteString(`{"` + MetadataKey + `":{`)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, k)
		b.WriteByte(':')
		writeJSONString(&b, m[k])
	}
	b.WriteByte('}')
	offset := 0
	for _, i := range order {
		t := tensors[i]
		b.WriteByte(',')
		writeJSONString(&b, t.Name)
		b.WriteString(`:{"dtype":`)
		writeJSONString(&b, string(t.DType))
		b.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		b.WriteString(`],"data_offsets":[`)
		b.WriteString(strconv.Itoa(offset))
		b.WriteByte(',')
		offset += len(t.Data)
		b.WriteString(strconv.Itoa(offset))
		b.WriteString("]}")
	}
	b.WriteByte('}')
	for b.Len()%headerAlign != 0 {
		b.WriteByte(' ')
	}
	if b.Len() > MaxHeaderBytes {
		return nil, nil, fmt.Errorf("header of %d bytes exceeds %d: %w", b.Len(), MaxHeaderBytes, ErrTooLarge)
	}
	return b.Bytes(), order, nil
}

// writeJSONString writes s as a JSON string without HTML escaping. s must
// be valid UTF-8.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes; Buffer writes never fail
	b.Truncate(b.Len() - 1) // drop the newline Encode appends
}
