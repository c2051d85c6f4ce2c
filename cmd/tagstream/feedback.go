package main

import (
	"github.com/spf13/cobra"
)

func newFeedbackCmd() *cobra.Command {
	var demo int
	o := produceOptions{brokers: "127.0.0.1:9092", topic: "tagstream.feedback", format: "json", partitions: 1, replication: 1, maxBytes: 1_000_000}
	cmd := &cobra.Command{
		Use:   "feedback [--brokers HOST:PORT,...] [--topic tagstream.feedback] < FILE",
		Short: "Send label corrections (JSONL) to the feedback topic",
		Long: `Read corrections, one JSON object per line, and write them to the feedback topic:
{"id"?, "text", "lang"?, "task"?, "label"? or "labels"?, "entities"?: [{"start","end","type"}]} with
the corrected label of a single-label task ("label") or labels of a multi-label one ("labels": [...],
possibly empty; "task" absent: output.route_task) and/or corrected entity spans (rune offsets, as
in results). A running 'tagstream run' with
finetune.enabled learns from them; invalid ones go to the dead-letter subject with their reason.

--demo N sends N built-in English corrections instead of reading stdin: gamer and music slang in
which "sick" or "filthy" is praise, which the built-in model mostly gets wrong. A 'tagstream demo'
given 300 of them fine-tunes on them and promotes a new model version within a minute or so.

TLS and SASL come from the configuration (kafka.tls.*, kafka.sasl.*), as for produce.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := demoInput(cmd, "feedback", demo, driftCorrections)
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
	f.StringVar(&o.brokers, "brokers", o.brokers, "comma-separated Kafka bootstrap brokers, host:port")
	f.StringVar(&o.topic, "topic", o.topic, "feedback topic")
	f.IntVar(&demo, "demo", 0, "send this many built-in drift corrections instead of reading stdin")
	return cmd
}
