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
		err = fmt.Errorf("broker %s: %w", b, err)
		if permanent(err) {
			errs = append(errs, permanentError{err})
			break
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func missingOn(ctx context.Context, d *kafka.Dialer, broker string, topics []string) ([]string, error) {
	conn, err := d.DialContext(ctx, "tcp", broker)
	if err != nil {
		return nil, fmt.Errorf("connect%s: %w", describeAuth(d), err)
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

// CheckAccess connects to the brokers of cfg with its TLS and SASL settings,
// one after the other, until one answers a metadata request for cfg.Topics,
// and then returns nil; topics that do not exist yet are fine (a Consumer
// waits for them). Otherwise it returns the error of each broker tried,
// naming the broker and, for SASL, the mechanism. errors.Is(err,
// ErrPermanent) tells a failure that retrying cannot mend from one that may
// pass, such as a broker that is still starting. A Consumer retries the
// latter in the background but reports the former only from Fetch, so a
// service calls CheckAccess at startup to stop at once on wrong credentials.
func CheckAccess(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	d, err := newDialer(cfg)
	if err != nil {
		return err
	}
	_, err = missingTopics(ctx, d, cfg.Brokers, cfg.Topics)
	return err
}

// permanentError marks a broker error that permanent accepts, so that
// errors.Is(err, ErrPermanent) holds; its message is the wrapped error's.
type permanentError struct{ err error }

func (e permanentError) Error() string        { return e.err.Error() }
func (e permanentError) Unwrap() error        { return e.err }
func (e permanentError) Is(target error) bool { return target == ErrPermanent }

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

// CreateTopic creates topic with the given partitions and replication
// factor through the version-negotiating kafka.Client (Kafka 4 removed
// CreateTopics v0, which kafka.Conn uses). An existing topic is fine
// (created false); its partition count is left as it is. transport may be
// nil (kafka-go's default: no TLS or SASL).
func CreateTopic(ctx context.Context, brokers []string, transport *kafka.Transport, topic string, partitions, replication int) (created bool, err error) {
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	if transport != nil { // a typed nil in the interface field would be called
		cl.Transport = transport
	}
	resp, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: partitions, ReplicationFactor: replication,
	}}})
	if err != nil {
		return false, fmt.Errorf("create topic %s: %w", topic, err)
	}
	switch err := resp.Errors[topic]; {
	case err == nil:
		return true, nil
	case errors.Is(err, kafka.TopicAlreadyExists):
		return false, nil
	default:
		return false, fmt.Errorf("create topic %s: %w", topic, err)
	}
}
