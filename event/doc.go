// Package event holds the types that flow between tagstream's transports
// and its pipeline: a consumed [Record] with its decoded [Event] (or the
// [DecodeError] that makes it a dead letter), the [Result] or [DeadLetter]
// published for it as an [Item], the [Ack] that releases its offset, and the
// [ModelObject] of a promoted model file.
//
// It is a leaf: it imports only the standard library, so the pipeline can
// speak in these types without linking Kafka or NATS clients, and the
// consumer and producer implement the pipeline's interfaces on them.
//
// [Decode] turns one record value into an Event. It is a pure function and
// the only place the event schema is checked; the consumer, the produce
// command and the offline scan all use it.
package event
