package consumer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tagstream/tagstream/event"
)

// scanIdle bounds how long Scan waits for the next record of a partition
// before it checks whether the reader has reached the end it aims for;
// after scanStall such waits in a row it gives the partition up (its last
// offsets hold no record it can read, e.g. transaction markers).
const (
	scanIdle  = 2 * time.Second
	scanStall = 5
)

// ScanConfig configures Scan: which topic to read, how to connect and how
// to decode. Zero fields other than Brokers and Topic take the defaults of
// Config.
type ScanConfig struct {
	// Brokers are the bootstrap brokers as host:port. Required.
	Brokers []string
	// Topic is the topic read. Required.
	Topic string
	// TLS and SASL are as in Config.
	TLS  TLSConfig
	SASL SASLConfig
	// Format and MaxBytes decode the values as the pipeline does (Decode).
	// Default "json" and 1 MiB.
	Format   event.Format
	MaxBytes int64
	// FetchMaxBytes caps one fetch response, in bytes. Default 16 MiB, at
	// least MaxBytes.
	FetchMaxBytes int64
	// MaxEvents stops the scan once this many valid events were read; 0
	// reads every partition to its end.
	MaxEvents int

	idle time.Duration // scanIdle; shorter in tests
}

// validate checks the fields Scan needs, through Config.Validate.
func (c ScanConfig) validate() error {
	if c.MaxEvents < 0 {
		return fmt.Errorf("%w: max events: %d, want >= 0", ErrInvalidConfig, c.MaxEvents)
	}
	return Config{
		Brokers: c.Brokers, Topics: []string{c.Topic}, Group: "tagstream-scan", TLS: c.TLS, SASL: c.SASL,
		Format: c.Format, MaxBytes: c.MaxBytes, FetchMaxBytes: max(c.FetchMaxBytes, c.MaxBytes),
	}.Validate()
}

// ScanStats counts what Scan read.
type ScanStats struct {
	// Events is the number of valid events handed to the callback.
	Events int
	// Malformed is the number of values Decode rejected, by reason.
	Malformed map[event.Reason]int
	// Partitions is the number of partitions of the topic; Read is the
	// number read from (an empty partition is not read).
	Partitions, Read int
	// Stalled is the number of partitions given up before their end
	// offset because no record arrived for 5 waits of 2s in a row (the
	// offsets left hold nothing readable, such as transaction markers).
	Stalled int
}

// MalformedTotal is the number of rejected values, all reasons together.
func (s ScanStats) MalformedTotal() int {
	n := 0
	for _, k := range s.Malformed {
		n += k
	}
	return n
}

// Scan reads cfg.Topic from the earliest offset of every partition up to
// the partition's end offset as it was when Scan looked it up (records
// written later are not waited for), or until cfg.MaxEvents valid events
// were read. It neither joins a consumer group nor commits anything: it
// reads each partition, in partition order, with a kafka-go Reader without
// a GroupID. Every value is decoded like the pipeline's input (Decode);
// fn receives each valid event in offset order, and rejected values are
// only counted. An error from fn stops the scan and is returned. Scan
// returns ctx's error when ctx ends, with the counts so far.
func Scan(ctx context.Context, cfg ScanConfig, fn func(event.Event) error) (ScanStats, error) {
	st := ScanStats{Malformed: map[event.Reason]int{}}
	if err := cfg.validate(); err != nil {
		return st, err
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = event.DefaultMaxBytes
	}
	if cfg.FetchMaxBytes <= 0 {
		cfg.FetchMaxBytes = DefaultFetchMaxBytes
	}
	cfg.FetchMaxBytes = max(cfg.FetchMaxBytes, cfg.MaxBytes)
	if cfg.idle <= 0 {
		cfg.idle = scanIdle
	}
	d, err := newDialer(Config{TLS: cfg.TLS, SASL: cfg.SASL})
	if err != nil {
		return st, err
	}
	parts, err := lookupPartitions(ctx, d, cfg.Brokers, cfg.Topic)
	if err != nil {
		return st, err
	}
	st.Partitions = len(parts)
	for _, p := range parts {
		if cfg.MaxEvents > 0 && st.Events >= cfg.MaxEvents {
			break
		}
		first, last, err := partitionOffsets(ctx, d, cfg.Brokers, cfg.Topic, p)
		if err != nil {
			return st, err
		}
		if first >= last {
			continue
		}
		st.Read++
		if err := scanPartition(ctx, d, cfg, p, first, last, &st, fn); err != nil {
			return st, err
		}
	}
	return st, nil
}

// lookupPartitions returns the partition ids of topic, sorted, from the
// first broker that answers.
func lookupPartitions(ctx context.Context, d *kafka.Dialer, brokers []string, topic string) ([]int, error) {
	var errs []error
	for _, b := range brokers {
		ps, err := d.LookupPartitions(ctx, "tcp", b, topic)
		if err != nil {
			errs = append(errs, fmt.Errorf("partitions of %s from broker %s%s: %w", topic, b, describeAuth(d), err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		ids := make([]int, 0, len(ps))
		for _, p := range ps {
			if p.Topic == topic {
				ids = append(ids, p.ID)
			}
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("topic %s: no partitions (does it exist?)", topic)
		}
		sort.Ints(ids)
		return ids, nil
	}
	return nil, errors.Join(errs...)
}

// partitionOffsets returns the first offset of topic[p] and its end (the
// offset the next record will get), asking the partition's leader.
func partitionOffsets(ctx context.Context, d *kafka.Dialer, brokers []string, topic string, p int) (first, last int64, err error) {
	var errs []error
	for _, b := range brokers {
		conn, err := d.DialLeader(ctx, "tcp", b, topic, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("leader of %s[%d] via broker %s%s: %w", topic, p, b, describeAuth(d), err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if err := conn.SetDeadline(time.Now().Add(dialTimeout)); err != nil {
			conn.Close()
			return 0, 0, err
		}
		first, last, err = conn.ReadOffsets()
		conn.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("offsets of %s[%d]: %w", topic, p, err)
		}
		return first, last, nil
	}
	return 0, 0, errors.Join(errs...)
}

// scanPartition reads topic[p] from first up to last (exclusive).
func scanPartition(ctx context.Context, d *kafka.Dialer, cfg ScanConfig, p int, first, last int64, st *ScanStats, fn func(event.Event) error) (err error) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   cfg.Brokers,
		Topic:     cfg.Topic,
		Partition: p,
		Dialer:    d,
		MinBytes:  1,
		MaxBytes:  int(cfg.FetchMaxBytes),
		MaxWait:   500 * time.Millisecond,
	})
	defer func() {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close reader of %s[%d]: %w", cfg.Topic, p, cerr)
		}
	}()
	if err := r.SetOffset(first); err != nil {
		return fmt.Errorf("seek %s[%d]@%d: %w", cfg.Topic, p, first, err)
	}
	opt := event.DecodeOptions{Format: cfg.Format, MaxBytes: cfg.MaxBytes}
	idle := 0
	for {
		fctx, cancel := context.WithTimeout(ctx, cfg.idle)
		m, err := r.FetchMessage(fctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
				return fmt.Errorf("fetch %s[%d]@%d: %w", cfg.Topic, p, r.Offset(), err)
			}
			if idle++; r.Offset() >= last || idle >= scanStall {
				if r.Offset() < last {
					st.Stalled++
				}
				return nil
			}
			continue
		}
		idle = 0
		if m.Offset >= last {
			return nil
		}
		ev, derr := event.Decode(event.Source{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}, m.Value, opt)
		if derr != nil {
			var de *event.DecodeError
			if errors.As(derr, &de) {
				st.Malformed[de.Reason]++
			} else {
				st.Malformed[event.ReasonInvalidJSON]++
			}
		} else {
			st.Events++
			if err := fn(ev); err != nil {
				return err
			}
		}
		if m.Offset >= last-1 || (cfg.MaxEvents > 0 && st.Events >= cfg.MaxEvents) {
			return nil
		}
	}
}
