package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/server"
)

// topicTexts are pretrain's --from-topic settings: event texts read from a
// Kafka topic without a consumer group (consumer.Scan).
type topicTexts struct {
	topic     string
	brokers   string
	maxEvents int
}

func (o *topicTexts) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.topic, "from-topic", "", "also read the texts of the events on this Kafka topic, every partition from its earliest offset to its current end (no consumer group, nothing committed)")
	f.StringVar(&o.brokers, "brokers", "", "with --from-topic: comma-separated Kafka bootstrap brokers (default: kafka.brokers of the configuration)")
	f.IntVar(&o.maxEvents, "max-events", 0, "with --from-topic: stop after this many events (0: read to the end)")
}

// read returns the texts of the valid events of the topic (nil without
// --from-topic), reporting how many it read and how many it skipped as
// malformed. Brokers, TLS, SASL and the input format come from the
// configuration (--config, TAGSTREAM_*); --brokers overrides the brokers.
func (o *topicTexts) read(cmd *cobra.Command) ([]string, error) {
	if o.topic == "" {
		return nil, nil
	}
	if o.maxEvents < 0 {
		return nil, fmt.Errorf("pretrain: --max-events %d: want >= 0", o.maxEvents)
	}
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	cc := server.ConsumerConfig(cfg)
	sc := consumer.ScanConfig{
		Brokers: cc.Brokers, Topic: o.topic, TLS: cc.TLS, SASL: cc.SASL,
		Format: cc.Format, MaxBytes: cc.MaxBytes, FetchMaxBytes: cc.FetchMaxBytes, MaxEvents: o.maxEvents,
	}
	if o.brokers != "" {
		sc.Brokers = splitList(o.brokers)
	}
	start := time.Now()
	var texts []string
	st, err := consumer.Scan(cmd.Context(), sc, func(ev event.Event) error {
		texts = append(texts, ev.Text)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pretrain: --from-topic %s (brokers %s): %w", o.topic, strings.Join(sc.Brokers, ","), err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "read %d texts from topic %s (%d of %d partitions, %.1fs); skipped %d malformed events%s\n",
		len(texts), o.topic, st.Read, st.Partitions, time.Since(start).Seconds(), st.MalformedTotal(), describeReasons(st.Malformed))
	if st.Stalled > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "%d partitions of %s given up before their end offset: no record arrived for 10s (transaction markers?)\n", st.Stalled, o.topic)
	}
	return texts, nil
}

// describeReasons formats malformed counts as " (invalid_json 2, ...)".
func describeReasons(m map[event.Reason]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for r, n := range m {
		parts = append(parts, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(parts)
	return " (" + strings.Join(parts, ", ") + ")"
}
