package event

import (
	"fmt"
	"time"
)

// ModelObject describes one promoted model file in the model bucket. The
// fields are kept as object metadata.
type ModelObject struct {
	// Name is the object name: "<lang>.<kind>.<seq, 8 digits>".
	Name string
	// Lang is "en" or "zh"; Kind is "classifier" or "ner".
	Lang, Kind string
	// Seq is the promotion number of (Lang, Kind): monotonic.
	Seq int
	// Version is the model version results carry, "<name>.ftN@<hash>".
	Version string
	// Parent is the version it was fine-tuned from.
	Parent string
	// Metrics is a short human-readable summary of the promotion decision.
	Metrics string
	// Created is when it was promoted.
	Created time.Time
	// Size is the file size in bytes.
	Size uint64
}

// ModelObjectName returns the object name of a promotion.
func ModelObjectName(lang, kind string, seq int) string {
	return fmt.Sprintf("%s.%s.%08d", lang, kind, seq)
}
