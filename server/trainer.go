package server

import (
	"context"
	"fmt"

	"github.com/tagstream/tagstream/config"
	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/producer"
)

// startTrainer sets up online fine-tuning from the feedback topic.
func (s *Server) startTrainer(ctx context.Context) error {
	f := s.cfg.Finetune
	original, guard := map[string][]model.LabeledText{}, map[string][]model.LabeledText{}
	for i, t := range s.cfg.Tasks {
		for _, lang := range config.Languages {
			if _, ok := t.Models[lang]; !ok || !t.FinetuneOn() {
				continue
			}
			path := t.Data[lang]
			if path == "" {
				s.log.Info("no original data for fine-tuning: candidates are guarded on held-out feedback only", "task", t.Name, "lang", lang, "key", fmt.Sprintf("tasks[%d].data.%s", i, lang))
				continue
			}
			exs, err := modelfile.ReadLabeled(path)
			if err != nil {
				return fmt.Errorf("tasks[%d].data.%s (task %s): %w", i, lang, t.Name, err)
			}
			k := pipeline.TaskKey(t.Name, lang)
			guard[k] = exs[:min(1000, len(exs))]
			original[k] = exs[min(1000, len(exs)):min(6000, len(exs))]
		}
	}
	tr, err := pipeline.NewTrainer(pipeline.TrainerConfig{
		MinExamples: f.MinExamples, MaxRegression: f.MaxRegression,
		FineTune: model.FineTuneConfig{Workers: f.MaxProcs},
	}, s.swapper, original, guard, s.log)
	if err != nil {
		return err
	}
	for _, t := range s.cfg.Tasks {
		if !t.FinetuneOn() {
			tr.Freeze(t.Name)
		}
	}
	cc := ConsumerConfig(s.cfg)
	cc.Topics = []string{s.cfg.Kafka.FeedbackTopic}
	cc.Group = s.cfg.Kafka.Group + ".trainer"
	if s.fbCons, err = consumer.New(cc, consumer.WithLogger(s.log)); err != nil {
		return err
	}
	if s.fbPub, err = producer.New(ctx, ProducerConfig(s.cfg), producer.WithLogger(s.log)); err != nil {
		return err
	}
	if err := tr.Register(s.reg); err != nil {
		return err
	}
	s.trainer = tr
	s.log.Info("online fine-tuning on", "topic", s.cfg.Kafka.FeedbackTopic, "group", cc.Group, "min_examples", f.MinExamples, "interval", f.Interval, "max_procs", f.MaxProcs)
	return nil
}
