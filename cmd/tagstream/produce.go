package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/server"
)

const (
	// maxLineBytes is the longest input line produce accepts, without its
	// line ending.
	maxLineBytes = 64 << 20
	// produceChunk is the most messages one WriteMessages call carries.
	produceChunk = 1000
	// produceChunkBytes flushes a chunk early once its values reach this
	// size, which bounds the memory held by one chunk.
	produceChunkBytes = 16 << 20
	// messageOverhead bounds what kafka-go adds to a value's length when it
	// checks a message against Writer.BatchBytes (no key, no headers).
	messageOverhead = 32
	// produceLinger is how long a partial chunk waits for more input before
	// it is written, so interactive input goes out line by line.
	produceLinger = 20 * time.Millisecond
)

// produceOptions are the flags of produce, and the TLS and SASL settings
// of the configuration (kafka.tls.*, kafka.sasl.*).
type produceOptions struct {
	brokers     string
	topic       string
	format      string
	createTopic bool
	partitions  int
	replication int
	maxBytes    int64
	tls         consumer.TLSConfig
	sasl        consumer.SASLConfig
}

// withSecurity sets o's TLS and SASL settings from the configuration of
// cmd (--config, TAGSTREAM_* environment).
func (o *produceOptions) withSecurity(cmd *cobra.Command) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	cc := server.ConsumerConfig(cfg)
	o.tls, o.sasl = cc.TLS, cc.SASL
	return nil
}

func newProduceCmd() *cobra.Command {
	var demo int
	o := produceOptions{brokers: "127.0.0.1:9092", format: "json", partitions: 1, replication: 1, maxBytes: 1_000_000}
	cmd := &cobra.Command{
		Use:   "produce --topic TOPIC [--brokers HOST:PORT,...] [--format json|text] [--create-topic [--partitions N]] [flags] < FILE",
		Short: "Write lines from stdin to a Kafka topic, one message per line",
		Long: `Read stdin line by line and write each non-blank line to the topic as one message.

--format json (default) requires every non-blank line to be an event the pipeline
accepts ({"id"?, "text", "lang"?, "meta"?}, checked as the pipeline decodes it, so
nothing sent this way becomes a dead letter); --format text sends each line as raw
UTF-8 text. Blank lines are skipped, line endings (\n or \r\n) are not sent.
Lines may be up to 64 MiB, messages up to --max-bytes.

An invalid line stops the command with an error naming its line number; every line
before it has been written. Messages are written in chunks of up to 1000 with acks
from all in-sync replicas; on Ctrl-C the chunk in flight is finished and the command
stops. A summary goes to stderr.

--create-topic creates the topic first (an existing topic is fine).

TLS and SASL come from the configuration (--config, TAGSTREAM_* environment):
kafka.tls.* and kafka.sasl.*, as for run. Rejected credentials or an untrusted
certificate stop the command before the first line is read, with an error naming
the broker and the SASL mechanism.

--demo N sends N events made of the built-in demo messages (English and Chinese, ids
seed-0, seed-1, ...) instead of reading stdin.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("partitions") && !o.createTopic {
				return errors.New("produce: --partitions needs --create-topic")
			}
			if cmd.Flags().Changed("replication-factor") && !o.createTopic {
				return errors.New("produce: --replication-factor needs --create-topic")
			}
			in, err := demoInput(cmd, "produce", demo, demoEvents)
			if err != nil {
				return err
			}
			if err := o.withSecurity(cmd); err != nil {
				return err
			}
			return runProduce(cmd.Context(), o, in, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.IntVar(&demo, "demo", 0, "send this many built-in demo events instead of reading stdin")
	f.StringVar(&o.brokers, "brokers", o.brokers, "comma-separated Kafka bootstrap brokers, host:port")
	f.StringVar(&o.topic, "topic", "", "topic to write to (required)")
	f.StringVar(&o.format, "format", o.format, `line format: "json" (one JSON object per line) or "text"`)
	f.BoolVar(&o.createTopic, "create-topic", false, "create the topic first; an existing topic is fine")
	f.IntVar(&o.partitions, "partitions", o.partitions, "partitions of a topic made by --create-topic")
	f.IntVar(&o.replication, "replication-factor", o.replication, "replication factor of a topic made by --create-topic")
	f.Int64Var(&o.maxBytes, "max-bytes", o.maxBytes, "largest message value in bytes; at most the topic's max.message.bytes (range 1..64 MiB)")
	_ = cmd.MarkFlagRequired("topic")
	return cmd
}

// validate checks the flags, naming the flag, its value and the limit.
func (o produceOptions) validate() error {
	switch {
	case o.topic == "":
		return errors.New("produce: --topic is empty")
	case len(splitList(o.brokers)) == 0:
		return fmt.Errorf("produce: --brokers %q: want host:port[,host:port...]", o.brokers)
	case o.format != "json" && o.format != "text":
		return fmt.Errorf("produce: --format %q: want json or text", o.format)
	case o.partitions < 1:
		return fmt.Errorf("produce: --partitions %d: want >= 1", o.partitions)
	case o.replication < 1:
		return fmt.Errorf("produce: --replication-factor %d: want >= 1", o.replication)
	case o.maxBytes < 1 || o.maxBytes > maxLineBytes:
		return fmt.Errorf("produce: --max-bytes %d: want 1..%d", o.maxBytes, maxLineBytes)
	}
	return nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// runProduce writes the lines of in to o.topic and prints a summary to
// stderr, also when it fails part way.
func runProduce(ctx context.Context, o produceOptions, in io.Reader, stderr io.Writer) (err error) {
	if err := o.validate(); err != nil {
		return err
	}
	transport, err := consumer.NewTransport(o.tls, o.sasl, "tagstream-produce")
	if err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	defer transport.CloseIdleConnections()
	brokers := splitList(o.brokers)
	if err := checkAccess(ctx, brokers, o); err != nil {
		return err
	}
	if o.createTopic {
		if err := createTopic(ctx, stderr, transport, brokers, o); err != nil {
			return err
		}
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        o.topic,
		Balancer:     &kafka.Hash{}, // keyless messages go round robin
		RequiredAcks: kafka.RequireAll,
		BatchSize:    produceChunk,
		BatchBytes:   o.maxBytes + messageOverhead,
		BatchTimeout: 5 * time.Millisecond, // the 1s default delays every partial batch (kafka-go #1180)
		Transport:    transport,
	}
	defer func() {
		if cerr := w.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("produce: close writer: %w", cerr)
		}
	}()

	start := time.Now()
	var produced int
	defer func() {
		d := time.Since(start)
		rate := 0.0
		if s := d.Seconds(); s > 0 {
			rate = float64(produced) / s
		}
		fmt.Fprintf(stderr, "produced %d messages to %s in %v (%.0f msg/s)\n", produced, o.topic, d.Round(time.Millisecond), rate)
	}()

	stop := make(chan struct{})
	defer close(stop)
	lines := make(chan inputLine, 64)
	// The reader ends at EOF, on a read error, or at its next line once
	// stop is closed. A read of stdin blocked on a terminal cannot be
	// interrupted; that goroutine then ends with the process, which is why
	// it is not joined here.
	go readLines(in, lines, stop)

	p := lineWriter{w: w, o: o, produced: &produced}
	return p.run(ctx, lines)
}

// checkAccess stops produce at once when TLS or SASL is configured and a
// broker rejects the credentials or is not trusted; kafka-go's writer would
// retry those and then report them without the mechanism. Other failures
// are left to the writer.
func checkAccess(ctx context.Context, brokers []string, o produceOptions) error {
	if !o.tls.Enable && o.sasl.Mechanism == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, server.AccessCheckTimeout)
	defer cancel()
	err := consumer.CheckAccess(ctx, consumer.Config{Brokers: brokers, Topics: []string{o.topic}, Group: "tagstream-produce", TLS: o.tls, SASL: o.sasl})
	if errors.Is(err, consumer.ErrPermanent) {
		return fmt.Errorf("produce: %w", err)
	}
	return nil
}

// createTopic creates o.topic (an existing topic is fine) and says which.
func createTopic(ctx context.Context, stderr io.Writer, transport *kafka.Transport, brokers []string, o produceOptions) error {
	created, err := consumer.CreateTopic(ctx, brokers, transport, o.topic, o.partitions, o.replication)
	switch {
	case err != nil:
		return fmt.Errorf("produce: %w", err)
	case created:
		fmt.Fprintf(stderr, "created topic %s with %d partitions\n", o.topic, o.partitions)
	default:
		fmt.Fprintf(stderr, "topic %s already exists\n", o.topic)
	}
	return nil
}
