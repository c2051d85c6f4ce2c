package metrics

import "errors"

// Sentinel errors returned (wrapped) by Classify and EvalNER.
var (
	// ErrLength means gold and predicted sequences differ in length.
	ErrLength = errors.New("metrics: length mismatch")
	// ErrRange means a class index is outside the label list.
	ErrRange = errors.New("metrics: label index out of range")
	// ErrLabels means the label list repeats a label.
	ErrLabels = errors.New("metrics: duplicate label")
)
