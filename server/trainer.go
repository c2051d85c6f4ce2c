package server

import (
	"context"
	"fmt"

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
	for lang, path := range map[string]string{"en": f.DataEN, "zh": f.DataZH} {
		if path == "" {
			s.log.Info("no original data for fine-tuning: candidates are guarded on held-out feedback only", "lang", lang, "key", "finetune.data_"+lang)
			continue
		}
		exs, err := modelfile.ReadLabeled(path)
		if err != nil {
			return fmt.Errorf("finetune.data_%s: %w", lang, err)
		}
		guard[lang] = exs[:min(1000, len(exs))]
		original[lang] = exs[min(1000, len(exs)):min(6000, len(exs))]
	}
	tr, err := pipeline.NewTrainer(pipeline.TrainerConfig{
		MinExamples: f.MinExamples, MaxRegression: f.MaxRegression,
		FineTune: model.FineTuneConfig{Workers: f.MaxProcs},
	}, s.swapper, original, guard, s.log)
	if err != nil {
		return err
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
