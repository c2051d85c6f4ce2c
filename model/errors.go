package model

import "errors"

var (
	// ErrConfig reports an invalid hyper-parameter or option.
	ErrConfig = errors.New("model: invalid config")
	// ErrFormat reports a model file that cannot be used: wrong kind,
	// version, missing tensor, bad shape or metadata.
	ErrFormat = errors.New("model: bad model file")
	// ErrData reports training data that cannot be used.
	ErrData = errors.New("model: bad training data")
	// ErrDiverged reports a training run whose loss became NaN or infinite.
	ErrDiverged = errors.New("model: training diverged")
	// ErrEncoderMismatch reports a language model whose encoder cannot
	// replace a classifier's: another view, tokenizer, vocabulary or shape
	// (ReplaceEncoder).
	ErrEncoderMismatch = errors.New("model: encoder does not match")
)
