package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/models"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/producer"
	"github.com/tagstream/tagstream/server"
)

func newModelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Inspect and steer the promoted models in the model bucket (models.bucket)",
		Long: `Every running instance serves the newest promotion of each language's classifier in the
model bucket (a JetStream Object Store). 'promote VERSION' makes an earlier version the newest
again; 'rollback [--lang en]' promotes the parent of the newest one (a built-in model when the
parent is one). Instances swap within about a second.`,
	}
	var nats, bucket string
	cmd.PersistentFlags().StringVar(&nats, "nats", "", "NATS URL (default: nats.url of the config)")
	cmd.PersistentFlags().StringVar(&bucket, "bucket", "", "bucket (default: models.bucket of the config)")
	open := func(cmd *cobra.Command) (*producer.ModelStore, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, err
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
			fmt.Fprintln(w, "LANG\tKIND\tSEQ\tVERSION\tPARENT\tCREATED\tBYTES")
			for _, o := range objs {
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%d\n", o.Lang, o.Kind, o.Seq, o.Version, o.Parent, o.Created.Format(time.RFC3339), o.Size)
			}
			return w.Flush()
		}),
	}
	show := &cobra.Command{
		Use: "show VERSION", Short: "Show one promoted model", Args: cobra.ExactArgs(1),
		RunE: withStore(func(cmd *cobra.Command, s *producer.ModelStore, args []string) error {
			o, err := findVersion(cmd.Context(), s, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "version:  %s\nobject:   %s\nlang:     %s\nkind:     %s\nseq:      %d\nparent:   %s\ncreated:  %s\nbytes:    %d\ndecision: %s\n",
				o.Version, o.Name, o.Lang, o.Kind, o.Seq, o.Parent, o.Created.Format(time.RFC3339Nano), o.Size, o.Metrics)
			return nil
		}),
	}
	promote := &cobra.Command{
		Use: "promote VERSION", Short: "Make VERSION the newest promotion of its language", Args: cobra.ExactArgs(1),
		RunE: withStore(func(cmd *cobra.Command, s *producer.ModelStore, args []string) error {
			return repromote(cmd.Context(), s, args[0], "", cmd.OutOrStdout())
		}),
	}
	var lang string
	rollback := &cobra.Command{
		Use: "rollback", Short: "Promote the parent of the newest promotion", Args: cobra.NoArgs,
		RunE: withStore(func(cmd *cobra.Command, s *producer.ModelStore, _ []string) error {
			objs, err := s.List(cmd.Context())
			if err != nil {
				return err
			}
			var newest *event.ModelObject
			for i := range objs {
				if objs[i].Lang == lang && objs[i].Kind == "classifier" {
					newest = &objs[i]
				}
			}
			if newest == nil {
				return fmt.Errorf("model rollback: no promoted %s classifier", lang)
			}
			return repromote(cmd.Context(), s, newest.Parent, lang, cmd.OutOrStdout())
		}),
	}
	rollback.Flags().StringVar(&lang, "lang", "en", "language")
	cmd.AddCommand(list, show, promote, rollback)
	addConfigFlags(cmd)
	return cmd
}

func findVersion(ctx context.Context, s *producer.ModelStore, version string) (event.ModelObject, error) {
	objs, err := s.List(ctx)
	if err != nil {
		return event.ModelObject{}, err
	}
	for i := len(objs) - 1; i >= 0; i-- {
		if objs[i].Version == version || objs[i].Name == version {
			return objs[i], nil
		}
	}
	return event.ModelObject{}, fmt.Errorf("model: no promoted model %q in the bucket", version)
}

// repromote stores version again as the newest promotion of its language.
// A version not in the bucket may be a built-in model (lang must then be
// given, or is taken from the built-in's name).
func repromote(ctx context.Context, s *producer.ModelStore, version, lang string, out io.Writer) error {
	objs, err := s.List(ctx)
	if err != nil {
		return err
	}
	var data []byte
	var src event.ModelObject
	if o, err := findVersion(ctx, s, version); err == nil {
		if data, src, err = s.Get(ctx, o.Name); err != nil {
			return err
		}
	} else {
		data, src, err = builtinObject(version, lang)
		if err != nil {
			return err
		}
	}
	seq := 0
	for _, o := range objs {
		if o.Lang == src.Lang && o.Kind == src.Kind {
			seq = max(seq, o.Seq)
		}
	}
	obj := event.ModelObject{Lang: src.Lang, Kind: src.Kind, Seq: seq + 1, Version: src.Version, Parent: src.Parent, Metrics: "promoted by hand"}
	if obj, err = s.Put(ctx, obj, data); err != nil {
		return err
	}
	fmt.Fprintf(out, "promoted %s as %s\n", obj.Version, obj.Name)
	return nil
}

// builtinObject returns the file of the built-in classifier whose version is
// version.
func builtinObject(version, lang string) ([]byte, event.ModelObject, error) {
	var tc model.TokenizerCache
	defs, err := models.Defaults(&tc)
	if err != nil {
		return nil, event.ModelObject{}, err
	}
	for l, d := range defs {
		if pipeline.Version(d.ClassifierName, d.Classifier.Checksum) != version || (lang != "" && lang != l) {
			continue
		}
		f, err := models.Open(d.ClassifierName)
		if err != nil {
			return nil, event.ModelObject{}, err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, event.ModelObject{}, err
		}
		return data, event.ModelObject{Lang: l, Kind: "classifier", Version: version}, nil
	}
	return nil, event.ModelObject{}, fmt.Errorf("model: %q is neither in the bucket nor a built-in classifier (%s)", version, strings.Join([]string{models.SentimentEN, models.SentimentZH}, ", "))
}
