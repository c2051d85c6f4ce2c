package event

import (
	"fmt"
	"time"
)

// ModelObject describes one promoted model file in the model bucket. The
// fields are kept as object metadata.
type ModelObject struct {
	// Name is the object name: "<lang>.<kind>.<seq, 8 digits>" for a
	// tagger, "<lang>.classifier-<task>.<seq>" for a task's classifier.
	Name string
	// Lang is "en" or "zh"; Kind is "classifier" or "ner".
	Lang, Kind string
	// Task is the task of a classifier ("" for a tagger; an object stored
	// before tasks existed has none and belongs to the route task).
	Task string
	// Seq is the promotion number of (Lang, Kind, Task): monotonic.
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
func ModelObjectName(lang, kind, task string, seq int) string {
	if task != "" {
		kind += "-" + task
	}
	return fmt.Sprintf("%s.%s.%08d", lang, kind, seq)
}

// Slot returns the key of what o replaces when it is applied:
// "<lang>.<kind>" or "<lang>.classifier.<task>".
func (o ModelObject) Slot() string {
	if o.Task != "" {
		return o.Lang + "." + o.Kind + "." + o.Task
	}
	return o.Lang + "." + o.Kind
}
