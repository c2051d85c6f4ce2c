package server

import (
	"io"
	"log/slog"
	"time"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/producer"
)

// ConsumerConfig maps the file configuration onto the consumer's.
func ConsumerConfig(c config.Config) consumer.Config {
	ci := c.Kafka.CommitInterval
	if ci < 10*time.Millisecond {
		ci = 10 * time.Millisecond // 0 in the file: as soon as possible
	}
	return consumer.Config{
		Brokers:     c.Kafka.Brokers,
		Topics:      c.Kafka.Topics,
		Group:       c.Kafka.Group,
		StartOffset: c.Kafka.StartOffset,
		TLS: consumer.TLSConfig{
			Enable: c.Kafka.TLS.Enabled, CAFile: c.Kafka.TLS.CAFile, CertFile: c.Kafka.TLS.CertFile,
			KeyFile: c.Kafka.TLS.KeyFile, InsecureSkipVerify: c.Kafka.TLS.InsecureSkipVerify,
		},
		SASL:           consumer.SASLConfig{Mechanism: c.Kafka.SASL.Mechanism, Username: c.Kafka.SASL.Username, Password: c.Kafka.SASL.Password},
		FetchMaxBytes:  max(c.Kafka.FetchMaxBytes, c.Input.MaxBytes),
		FetchLinger:    max(c.Batch.MaxDelay, time.Millisecond),
		CommitInterval: ci,
		Format:         event.Format(c.Input.Format),
		MaxBytes:       c.Input.MaxBytes,
	}
}

// ProducerConfig maps the file configuration onto the publisher's.
func ProducerConfig(c config.Config) producer.Config {
	return producer.Config{
		URL:             c.NATS.URL,
		Mode:            producer.Mode(c.NATS.Mode),
		Stream:          c.NATS.Stream,
		DuplicateWindow: c.NATS.DuplicateWindow,
		SubjectPrefix:   c.Output.SubjectPrefix,
		DLQSubject:      c.Output.DLQSubject,
		IncludeText:     c.Output.IncludeText,
		User:            c.NATS.User,
		Password:        c.NATS.Password,
		Token:           c.NATS.Token,
		NKeySeedFile:    c.NATS.NKeySeedFile,
		CredsFile:       c.NATS.CredsFile,
		TLS: producer.TLSConfig{
			Enabled: c.NATS.TLS.Enabled, CAFile: c.NATS.TLS.CAFile, CertFile: c.NATS.TLS.CertFile,
			KeyFile: c.NATS.TLS.KeyFile, InsecureSkipVerify: c.NATS.TLS.InsecureSkipVerify,
		},
		MaxPendingAcks: c.NATS.MaxPendingAcks,
	}
}

func PipelineConfig(c config.Config) pipeline.Config {
	return pipeline.Config{
		BatchMaxSize:     c.Batch.MaxSize,
		BatchMaxDelay:    c.Batch.MaxDelay,
		BatchMaxBytes:    c.Batch.MaxBytes,
		Workers:          c.Workers,
		QueueSize:        c.QueueSize,
		MaxInFlight:      max(c.QueueSize+c.NATS.MaxPendingAcks, c.Batch.MaxSize),
		MaxInFlightBytes: c.MaxInFlightBytes,
		MaxTokens:        c.Input.MaxTokens,
		// The drain gets 4/5 of shutdown_timeout; the final commit and
		// leaving the group get the rest (see service.run).
		ShutdownTimeout: max(c.ShutdownTimeout*4/5, time.Millisecond),
		IncludeText:     c.Output.IncludeText,
	}
}

// NewLogger builds the process logger from the log config.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
