package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/internal/redact"
	"github.com/tagstream/tagstream/internal/tailfmt"
	"github.com/tagstream/tagstream/producer"
	"github.com/tagstream/tagstream/server"
)

const (
	// tailPending is the capacity of tail's message channel; beyond it
	// nats.go drops messages and tail reports them as slow-consumer drops.
	tailPending = 8192
	// tailFlushTimeout bounds the wait for the server to confirm the
	// subscriptions.
	tailFlushTimeout = 10 * time.Second
)

// tailOptions are the flags of tail, and the credentials and TLS settings
// of the configuration (nats.user, nats.token, nats.nkey_seed_file, ...).
type tailOptions struct {
	url      string
	subjects []string
	count    int
	raw      bool
	auth     []nats.Option
}

func newTailCmd() *cobra.Command {
	o := tailOptions{url: producer.DefaultURL, subjects: []string{producer.DefaultSubjectPrefix + ".>"}}
	cmd := &cobra.Command{
		Use:   "tail [--nats URL] [--subject SUBJECT]... [--count N] [--raw]",
		Short: "Print the results and dead letters published to NATS",
		Long: `Subscribe to NATS subjects with a core subscription and print each message as it
arrives (results stored in a JetStream stream are delivered to core subscribers too;
tail does not replay what was published before it started).

By default a message is printed as one line: a result as
  <label> <lang> <id> "<first 60 characters of the text>" TYPE:entity ...
(the text only when the pipeline publishes it), a dead letter as
  DLQ <reason> <topic>/<partition>/<offset>: <error>
and anything else as "<subject>: <data>" (quoted if it has control characters).
--raw prints each message's data as is, one per line. Dead letters go to their own
subject; add it with, e.g., --subject 'tagstream.results.>' --subject tagstream.dlq.

--count N exits after N messages; otherwise tail runs until Ctrl-C.

Credentials and TLS come from the configuration (--config, TAGSTREAM_* environment):
nats.user and nats.password, nats.token, nats.nkey_seed_file or nats.creds_file, and
nats.tls.*, as for run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if o.auth, err = producer.AuthOptions(server.ProducerConfig(cfg)); err != nil {
				return fmt.Errorf("tail: %w", err)
			}
			return runTail(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "nats", o.url, "NATS server URL (comma-separated for several)")
	f.StringArrayVar(&o.subjects, "subject", o.subjects, "subject to subscribe to, wildcards allowed; repeat for several")
	f.IntVar(&o.count, "count", 0, "exit after this many messages (0: run until Ctrl-C)")
	f.BoolVar(&o.raw, "raw", false, "print message data as is instead of a summary line")
	return cmd
}

// runTail subscribes and prints messages until o.count were printed, ctx is
// cancelled (a clean exit) or the connection closes for good.
func runTail(ctx context.Context, o tailOptions, stdout, stderr io.Writer) (err error) {
	if o.count < 0 {
		return fmt.Errorf("tail: --count %d: want >= 0", o.count)
	}
	if len(o.subjects) == 0 {
		return errors.New("tail: no --subject")
	}
	closed := make(chan struct{})
	nc, err := nats.Connect(o.url, append([]nats.Option{
		nats.Name("tagstream tail"),
		nats.MaxReconnects(-1),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
	}, o.auth...)...)
	if err != nil {
		return fmt.Errorf("tail: connect %s: %w", redact.URLs(o.url), err)
	}
	defer nc.Close()

	msgs := make(chan *nats.Msg, tailPending)
	subs := make([]*nats.Subscription, 0, len(o.subjects))
	for _, s := range o.subjects {
		sub, err := nc.ChanSubscribe(s, msgs)
		if err != nil {
			return fmt.Errorf("tail: subscribe %q: %w", s, err)
		}
		subs = append(subs, sub)
	}
	defer func() {
		var dropped int
		for _, sub := range subs {
			if n, err := sub.Dropped(); err == nil {
				dropped += n
			}
		}
		if dropped > 0 {
			fmt.Fprintf(stderr, "tail: dropped %d messages: printing could not keep up\n", dropped)
		}
	}()
	// The subscriptions are in place once the server answered the flush.
	if err := nc.FlushTimeout(tailFlushTimeout); err != nil {
		return fmt.Errorf("tail: subscribe %s on %s: %w", strings.Join(o.subjects, ", "), nc.ConnectedUrlRedacted(), err)
	}
	fmt.Fprintf(stderr, "subscribed to %s on %s\n", strings.Join(o.subjects, ", "), nc.ConnectedUrlRedacted())

	out := bufio.NewWriter(stdout)
	defer func() {
		if ferr := out.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("tail: write: %w", ferr)
		}
	}()
	for n := 0; o.count == 0 || n < o.count; n++ {
		var m *nats.Msg
		select {
		case <-ctx.Done():
			return nil
		case <-closed:
			return fmt.Errorf("tail: connection to %s closed: %w", redact.URLs(o.url), nc.LastError())
		case m = <-msgs:
		}
		if o.raw {
			out.Write(m.Data)
			out.WriteByte('\n')
		} else {
			out.WriteString(tailfmt.Line(m.Subject, m.Data))
			out.WriteByte('\n')
		}
		if len(msgs) == 0 { // idle: show what we have
			if err := out.Flush(); err != nil {
				return fmt.Errorf("tail: write: %w", err)
			}
		}
	}
	return nil
}
