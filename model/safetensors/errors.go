package safetensors

import "errors"

// Sentinel errors returned (wrapped) by Read, Write and File.Tensor. Test
// for them with errors.Is.
var (
	// ErrTruncated means the input ended before the 8-byte length prefix,
	// the header, or the tensor data the header describes.
	ErrTruncated = errors.New("safetensors: truncated file")
	// ErrHeader means the JSON header is malformed or describes an invalid
	// layout: bad JSON, unknown dtype, bad shape, offsets out of bounds,
	// overlapping, or leaving gaps in the byte buffer.
	ErrHeader = errors.New("safetensors: invalid header")
	// ErrTooLarge means the header is longer than MaxHeaderBytes or the
	// input is longer than the caller's byte limit.
	ErrTooLarge = errors.New("safetensors: file too large")
	// ErrChecksum means the "sha256" metadata entry does not match the
	// byte buffer.
	ErrChecksum = errors.New("safetensors: checksum mismatch")
	// ErrInvalid means a tensor passed to Write is invalid (bad name,
	// unknown dtype, negative dimension, or data length not matching the
	// shape).
	ErrInvalid = errors.New("safetensors: invalid tensor")
	// ErrNotFound means File.Tensor was asked for a name the file lacks.
	ErrNotFound = errors.New("safetensors: tensor not found")
	// ErrMismatch means File.Tensor found the tensor but its dtype or
	// shape differs from the one asked for.
	ErrMismatch = errors.New("safetensors: tensor mismatch")
	// ErrDType means a conversion method was called on a tensor whose
	// dtype it cannot convert.
	ErrDType = errors.New("safetensors: unsupported dtype")
)
