package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/internal/tailfmt"
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
			o, err := findVersion(cmd.Context(), s, args[0])
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
			return repromote(cmd.Context(), s, args[0], "", task, route, cmd.OutOrStdout())
		}),
	}
	var lang string
	rollback := &cobra.Command{
		Use: "rollback [--task T] [--lang L]", Short: "Promote the parent of the newest promotion of a task and language", Args: cobra.NoArgs,
		RunE: withStore(func(cmd *cobra.Command, s *producer.ModelStore, _ []string) error {
			objs, err := s.List(cmd.Context())
			if err != nil {
				return err
			}
			var newest *event.ModelObject
			for i := range objs {
				if objs[i].Lang == lang && objs[i].Kind == "classifier" && taskOf(objs[i], route) == task && objs[i].Seq > seqOf(newest) {
					newest = &objs[i]
				}
			}
			if newest == nil {
				return fmt.Errorf("model rollback: no promoted %s classifier of task %q", lang, task)
			}
			return repromote(cmd.Context(), s, newest.Parent, lang, task, route, cmd.OutOrStdout())
		}),
	}
	rollback.Flags().StringVar(&lang, "lang", "en", "language")
	cmd.PersistentFlags().StringVar(&task, "task", "", "task (default: output.route_task of the config)")
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

// taskOf returns o's task: an object stored before tasks existed has none
// and is the route task's.
func taskOf(o event.ModelObject, route string) string {
	if o.Kind == "classifier" && o.Task == "" {
		return route
	}
	return o.Task
}

func seqOf(o *event.ModelObject) int {
	if o == nil {
		return 0
	}
	return o.Seq
}

// repromote stores version again as the newest promotion of its task and
// language. A version not in the bucket may be a built-in model, promoted
// for task (lang, when given, must be the built-in's).
func repromote(ctx context.Context, s *producer.ModelStore, version, lang, task, route string, out io.Writer) error {
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
		src.Task = task
	}
	src.Task = taskOf(src, route)
	seq := 0 // the next of the slot's, objects from before tasks included
	for _, o := range objs {
		o.Task = taskOf(o, route)
		if o.Slot() == src.Slot() {
			seq = max(seq, o.Seq)
		}
	}
	obj := event.ModelObject{Lang: src.Lang, Kind: src.Kind, Task: src.Task, Seq: seq + 1, Version: src.Version, Parent: src.Parent, Metrics: "promoted by hand"}
	if obj, err = s.Put(ctx, obj, data); err != nil {
		return err
	}
	fmt.Fprintf(out, "promoted %s as %s\n", obj.Version, obj.Name)
	return nil
}

// builtinClassifiers are the built-in classifiers and their languages.
var builtinClassifiers = []struct{ name, lang string }{
	{models.SentimentEN, "en"}, {models.SentimentZH, "zh"}, {models.EmotionEN, "en"},
}

// builtinObject returns the file of the built-in classifier whose version is
// version.
func builtinObject(version, lang string) ([]byte, event.ModelObject, error) {
	var tc model.TokenizerCache
	var names []string
	for _, b := range builtinClassifiers {
		names = append(names, b.name)
		if lang != "" && lang != b.lang {
			continue
		}
		l, err := models.Load(b.name, &tc)
		if err != nil {
			return nil, event.ModelObject{}, err
		}
		if l.Classifier == nil || pipeline.Version(b.name, l.Classifier.Checksum) != version {
			continue
		}
		f, err := models.Open(b.name)
		if err != nil {
			return nil, event.ModelObject{}, err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, event.ModelObject{}, err
		}
		return data, event.ModelObject{Lang: b.lang, Kind: "classifier", Version: version}, nil
	}
	return nil, event.ModelObject{}, fmt.Errorf("model: %q is neither in the bucket nor a built-in classifier (%s)", version, strings.Join(names, ", "))
}
