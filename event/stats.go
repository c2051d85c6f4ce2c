package event

// PartitionStats describes one partition a source tracks: what
// was fetched, what is in flight and what is committed.
type PartitionStats struct {
	Topic     string
	Partition int
	// Fetched counts records marked in flight since the partition was
	// (re)assigned.
	Fetched int64
	// InFlight is the number of fetched records not yet popped off the
	// watermark (not done, or done behind an undone one).
	InFlight int
	// Watermark is the committable offset, -1 if unknown.
	Watermark int64
	// Committed is the highest offset known committed, -1 if unknown.
	Committed int64
}
