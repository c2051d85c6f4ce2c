package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// HashExamples returns the lower-case hex SHA-256 of the texts and labels
// (or label lists) of examples, in order. Line numbers are not hashed, so the same data read
// from JSON Lines or CSV hashes the same. Each string is length-prefixed,
// so field boundaries cannot be shifted without changing the hash.
func HashExamples(examples []Example) string {
	h := sha256.New()
	h.Write([]byte("tagstream/dataset/classification/v1\x00"))
	writeUvarint(h, uint64(len(examples)))
	for _, ex := range examples {
		writeString(h, ex.Text)
		writeString(h, ex.Label)
		if len(ex.Labels) > 0 { // multi-label (Label is then ""): the set in order
			writeUvarint(h, uint64(len(ex.Labels)))
			for _, l := range ex.Labels {
				writeString(h, l)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HashNERExamples returns the lower-case hex SHA-256 of the tokens and
// tags of examples, in order, hashed like HashExamples (line numbers
// excluded, everything length-prefixed).
func HashNERExamples(examples []NERExample) string {
	h := sha256.New()
	h.Write([]byte("tagstream/dataset/ner/v1\x00"))
	writeUvarint(h, uint64(len(examples)))
	for _, ex := range examples {
		writeUvarint(h, uint64(len(ex.Tokens)))
		for _, s := range ex.Tokens {
			writeString(h, s)
		}
		writeUvarint(h, uint64(len(ex.Tags)))
		for _, s := range ex.Tags {
			writeString(h, s)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeUvarint(h hash.Hash, v uint64) {
	var b [binary.MaxVarintLen64]byte
	h.Write(b[:binary.PutUvarint(b[:], v)])
}

func writeString(h hash.Hash, s string) {
	writeUvarint(h, uint64(len(s)))
	h.Write([]byte(s))
}
