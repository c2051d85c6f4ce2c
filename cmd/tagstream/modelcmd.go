package main

import (
	"context"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/internal/tailfmt"
	"github.com/tagstream/tagstream/producer"
	"github.com/tagstream/tagstream/server"
)

func newModelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Inspect and steer the promoted models in the model bucket (models.bucket)",
		Long: `Every running instance serves the newest promotion of each task's classifier of each language
in the model bucket (a JetStream Object Store). 'promote VERSION' makes an earlier version the
newest again; 'rollback --task T --lang L' promotes the parent of the newest one of that task and
language (a built-in model when the parent is one). --task defaults to output.route_task. Instances
swap within about a second.`,
	}
	var nats, bucket, task, route string
	cmd.PersistentFlags().StringVar(&nats, "nats", "", "NATS URL (default: nats.url of the config)")
	cmd.PersistentFlags().StringVar(&bucket, "bucket", "", "bucket (default: models.bucket of the config)")
	open := func(cmd *cobra.Command) (*producer.ModelStore, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, err
		}
		route = cfg.Output.RouteTask
		if task == "" {
			task = route
		}
		if !slices.ContainsFunc(cfg.Tasks, func(t config.Task) bool { return t.Name == task }) {
			return nil, fmt.Errorf("model: --task %q is not a configured task", task)
		}
		if nats != "" {
			cfg.NATS.URL = nats
		}
		if bucket != "" {
			cfg.Models.Bucket = bucket
		}
		if cfg.Models.Bucket == "" {
			return nil, fmt.Errorf("model: no bucket (models.bucket is empty)")
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
		defer cancel()
		return producer.OpenModelStore(ctx, server.ProducerConfig(cfg), cfg.Models.Bucket)
	}
	// withStore opens the bucket for a subcommand and closes it after.
	withStore := func(fn func(cmd *cobra.Command, s *producer.ModelStore, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			s, err := open(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			return fn(cmd, s, args)
		}
	}
	list := &cobra.Command{
		Use: "list", Short: "List the promoted models, oldest first", Args: cobra.NoArgs,
		RunE: withStore(func(cmd *cobra.Command, s *producer.ModelStore, _ []string) error {
			objs, err := s.List(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "LANG\tKIND\tTASK\tSEQ\tVERSION\tPARENT\tCREATED\tBYTES")
			for _, o := range objs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\n", o.Lang, o.Kind, tailfmt.OrDash(o.Task), o.Seq, o.Version, o.Parent, o.Created.Format(time.RFC3339), o.Size)
			}
			return w.Flush()
		}),
	}
	show := &cobra.Command{
		Use: "show VERSION", Short: "Show one promoted model", Args: cobra.ExactArgs(1),
		RunE: withStore(func(cmd *cobra.Command, s *producer.ModelStore, args []string) error {
			o, err := server.FindVersion(cmd.Context(), s, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "version:  %s\nobject:   %s\nlang:     %s\nkind:     %s\ntask:     %s\nseq:      %d\nparent:   %s\ncreated:  %s\nbytes:    %d\ndecision: %s\n",
				o.Version, o.Name, o.Lang, o.Kind, tailfmt.OrDash(o.Task), o.Seq, o.Parent, o.Created.Format(time.RFC3339Nano), o.Size, o.Metrics)
			return nil
		}),
	}
	promote := &cobra.Command{
		Use: "promote VERSION", Short: "Make VERSION the newest promotion of its task and language", Args: cobra.ExactArgs(1),
		RunE: withStore(func(cmd *cobra.Command, s *producer.ModelStore, args []string) error {
			msg, err := server.Promote(cmd.Context(), s, args[0], "", task, route)
			if err == nil {
				fmt.Fprintln(cmd.OutOrStdout(), msg)
			}
			return err
		}),
	}
	var lang string
	rollback := &cobra.Command{
		Use: "rollback [--task T] [--lang L]", Short: "Promote the parent of the newest promotion of a task and language", Args: cobra.NoArgs,
		RunE: withStore(func(cmd *cobra.Command, s *producer.ModelStore, _ []string) error {
			msg, err := server.Rollback(cmd.Context(), s, task, lang, route)
			if err == nil {
				fmt.Fprintln(cmd.OutOrStdout(), msg)
			}
			return err
		}),
	}
	rollback.Flags().StringVar(&lang, "lang", "en", "language")
	cmd.PersistentFlags().StringVar(&task, "task", "", "task (default: output.route_task of the config)")
	cmd.AddCommand(list, show, promote, rollback)
	addConfigFlags(cmd)
	return cmd
}
