package event

import "time"

// Header is one record header. A source does not retain it.
type Header struct {
	Key   string
	Value []byte
}

// Record is one consumed Kafka record with its decoded Event. Exactly one of
// Event and Err is meaningful: when Err is non-nil the value is a bad event
// the caller sends to the DLQ (Err.Reason, the coordinates and Value) before
// marking it done. The caller owns the slices.
type Record struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []Header
	Time      time.Time
	Event     Event
	Err       *DecodeError
}

// Source returns the record's coordinates.
func (r *Record) Source() Source {
	return Source{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
}
