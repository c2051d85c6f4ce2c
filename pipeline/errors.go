package pipeline

import "errors"

// Sentinel errors.
var (
	// ErrInvalidConfig is wrapped by every error Config.Validate returns.
	ErrInvalidConfig = errors.New("pipeline: invalid config")
	// ErrNoModels is returned when a Snapshot has no language.
	ErrNoModels = errors.New("pipeline: no models")
)
