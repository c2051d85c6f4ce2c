package consumer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// Backoff of awaitTopics between metadata reads.
const (
	topicPollFirst = 250 * time.Millisecond
	topicPollMax   = 5 * time.Second
)

// awaitTopics returns nil once every topic exists, reading the metadata
// with backoff (topicPollFirst doubling up to topicPollMax) and logging each
// missing topic once. It returns at once, with an error naming the broker,
// on a failure that retrying cannot mend (rejected credentials, an
// untrusted certificate), and with ctx.Err() when ctx ends.
func awaitTopics(ctx context.Context, d *kafka.Dialer, brokers, topics []string, log *slog.Logger) error {
	wait := topicPollFirst
	waiting := map[string]bool{}
	for {
		missing, err := missingTopics(ctx, d, brokers, topics)
		switch {
		case err == nil && len(missing) == 0:
			for t := range waiting {
				log.Info("topic exists now", "topic", t)
			}
			return nil
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil && permanent(err):
			return err
		case err != nil:
			log.Warn("cannot read topic metadata; retrying", "err", err, "retry_in", wait)
		default:
			for _, t := range missing {
				if !waiting[t] {
					waiting[t] = true
					log.Warn("topic does not exist (yet); waiting for it before joining the group", "topic", t)
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, topicPollMax)
	}
}

// missingTopics asks the first broker that answers which topics do not
// exist.
func missingTopics(ctx context.Context, d *kafka.Dialer, brokers, topics []string) ([]string, error) {
	var errs []error
	for _, b := range brokers {
		missing, err := missingOn(ctx, d, b, topics)
		if err == nil {
			return missing, nil
		}
		errs = append(errs, fmt.Errorf("broker %s: %w", b, err))
		if permanent(err) || ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func missingOn(ctx context.Context, d *kafka.Dialer, broker string, topics []string) ([]string, error) {
	conn, err := d.DialContext(ctx, "tcp", broker)
	if err != nil {
		if d.SASLMechanism != nil {
			return nil, fmt.Errorf("connect with SASL %s: %w", d.SASLMechanism.Name(), err)
		}
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(dialTimeout)); err != nil {
		return nil, err
	}
	var missing []string
	for _, t := range topics {
		_, err := conn.ReadPartitions(t)
		switch {
		case errors.Is(err, kafka.UnknownTopicOrPartition):
			missing = append(missing, t)
		case err != nil:
			return nil, fmt.Errorf("metadata of topic %s: %w", t, err)
		}
	}
	return missing, nil
}

// permanent reports errors that retrying with the same configuration cannot
// mend.
func permanent(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		verify    *tls.CertificateVerificationError
	)
	return errors.Is(err, kafka.SASLAuthenticationFailed) ||
		errors.Is(err, kafka.UnsupportedSASLMechanism) ||
		errors.Is(err, kafka.TopicAuthorizationFailed) ||
		errors.Is(err, kafka.ClusterAuthorizationFailed) ||
		errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &verify)
}
