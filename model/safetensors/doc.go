// Package safetensors reads and writes the safetensors file layout
// (https://github.com/huggingface/safetensors, "Format" section) without
// third-party dependencies.
//
// # Layout
//
//	8 bytes   N, little-endian uint64: length of the header
//	N bytes   JSON header (UTF-8), starting with '{', optionally padded
//	          with trailing spaces
//	rest      byte buffer: raw little-endian, row-major tensor data
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets"},
// where data_offsets [begin, end) are relative to the start of the byte
// buffer. The optional key "__metadata__" holds a string-to-string map.
//
// # Invariants
//
// Read accepts a file only if it satisfies the specification: the header
// is at most MaxHeaderBytes, valid UTF-8 JSON with no duplicate keys, every
// dtype is known, every dimension is non-negative, the byte size implied by
// dtype and shape (checked for overflow) equals end-begin, and the tensors,
// sorted by offset, are contiguous, do not overlap and cover the byte buffer
// exactly, so no byte of the file is left unindexed. In addition, if the
// metadata has a "sha256" entry, it must equal the lower-case hex SHA-256 of
// the byte buffer. Write always adds that entry.
//
// Write produces deterministic output: "__metadata__" first with its keys
// sorted, then tensors sorted by name with contiguous offsets in that order,
// and the header padded with spaces so that the byte buffer starts at an
// 8-byte aligned offset (as the reference implementation does).
//
// # Aliasing
//
// Tensors returned by Read share one backing buffer; each Data slice is
// capped, so appending to it never overwrites a neighbour. The conversion
// methods (Float64s, ...) always return fresh slices. The constructors (NewF64,
// ...) copy their input.
//
// Nothing in this package panics on any input.
package safetensors
