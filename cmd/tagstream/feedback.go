package main

import (
	"github.com/spf13/cobra"
)

func newFeedbackCmd() *cobra.Command {
	o := produceOptions{brokers: "127.0.0.1:9092", topic: "tagstream.feedback", format: "json", partitions: 1, replication: 1, maxBytes: 1_000_000}
	cmd := &cobra.Command{
		Use:   "feedback [--brokers HOST:PORT,...] [--topic tagstream.feedback] < FILE",
		Short: "Send label corrections (JSONL) to the feedback topic",
		Long: `Read corrections, one JSON object per line, and write them to the feedback topic:
{"id"?, "text", "label"?, "entities"?: [{"start","end","type"}], "lang"?} with a corrected class label
and/or corrected entity spans (rune offsets, as in results). A running 'tagstream run' with
finetune.enabled learns from them; invalid ones go to the dead-letter subject with their reason.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runProduce(cmd.Context(), o, cmd.InOrStdin(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.brokers, "brokers", o.brokers, "comma-separated Kafka bootstrap brokers, host:port")
	f.StringVar(&o.topic, "topic", o.topic, "feedback topic")
	return cmd
}
