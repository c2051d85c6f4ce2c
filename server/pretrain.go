package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/text"
	"github.com/tagstream/tagstream/pipeline"
)

// newPretrainer builds the live-stream pretraining job of the pretrain
// section (nil when it is off): the language models of pretrain.lm_en and
// pretrain.lm_zh, loaded with the tokenizers of the classifiers in snap.
// The refreshed encoders go to the fine-tuning loop, so without
// finetune.enabled (or with the identity models) the job stays off.
func (s *Server) newPretrainer(snap *pipeline.Snapshot, o Options) error {
	p := s.cfg.Pretrain
	if !p.Enabled || o.Identity {
		return nil
	}
	if !s.cfg.Finetune.Enabled || s.cfg.Kafka.FeedbackTopic == "" {
		s.log.Warn("pretrain.enabled needs finetune.enabled and kafka.feedback_topic (fine-tuning takes the refreshed encoders): live-stream pretraining is off")
		return nil
	}
	var toks []*text.Tokenizer
	for _, l := range snap.Langs() {
		_, lm := snap.For(l)
		for _, t := range lm.Tasks {
			toks = append(toks, t.Classifier.Tokenizer)
		}
	}
	tc := model.NewTokenizerCache(toks...)
	if p.SaveDir != "" {
		if err := os.MkdirAll(p.SaveDir, 0o755); err != nil {
			return fmt.Errorf("pretrain.save_dir: %w", err)
		}
	}
	lms := map[string]*model.LanguageModel{}
	for lang, path := range map[string]string{"en": p.LMEN, "zh": p.LMZH} {
		if path == "" {
			continue
		}
		fromSaved := false
		if saved := savedLMPath(p.SaveDir, lang); saved != "" {
			// A refreshed model of an earlier run is continued; one that
			// cannot be read is refused, not silently replaced.
			switch _, err := os.Stat(saved); {
			case err == nil:
				path, fromSaved = saved, true
			case !errors.Is(err, fs.ErrNotExist):
				return fmt.Errorf("pretrain.save_dir: %w", err)
			}
		}
		lm, err := modelfile.LoadLM(path, tc)
		switch {
		case err != nil && fromSaved:
			return fmt.Errorf("pretrain.save_dir: %w (remove the file to start again from pretrain.lm_%s)", err, lang)
		case err != nil:
			return fmt.Errorf("pretrain.lm_%s: %w", lang, err)
		case fromSaved:
			s.log.Info("continuing the refreshed language model", "lang", lang, "path", path, "epochs", lm.Info["epochs"])
		}
		lms[lang] = lm
	}
	var onKept func(string, *model.LanguageModel) error
	if p.SaveDir != "" {
		onKept = func(lang string, lm *model.LanguageModel) error {
			return modelfile.Write(savedLMPath(p.SaveDir, lang), lm.Save)
		}
	}
	pt, err := pipeline.NewPretrainer(pipeline.PretrainConfig{
		Sample: p.Sample, Buffer: p.Buffer, Interval: p.Interval, MinTexts: p.MinTexts, Duty: p.Duty,
		OnKept: onKept,
	}, lms, s.log)
	if err != nil {
		return fmt.Errorf("pretrain: %w", err)
	}
	if err := pt.Register(s.reg); err != nil {
		return err
	}
	s.pretrainer = pt
	s.log.Info("live-stream pretraining on", "lm_en", p.LMEN, "lm_zh", p.LMZH, "save_dir", p.SaveDir, "sample", p.Sample, "buffer", p.Buffer,
		"interval", p.Interval, "min_texts", p.MinTexts, "duty", p.Duty)
	return nil
}

// savedLMPath is where the job saves lang's refreshed language model in
// dir ("" without a dir).
func savedLMPath(dir, lang string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "lm-"+lang+".safetensors")
}

// startSampler gives the stand-alone trainer (no pipeline to hook into) a
// consumer of the event topics, group <kafka.group>.pretrain starting at
// the latest offsets, whose records only feed the Pretrainer's sample.
func (s *Server) startSampler() error {
	cc := ConsumerConfig(s.cfg)
	cc.Group = s.cfg.Kafka.Group + ".pretrain"
	cc.StartOffset = "latest"
	c, err := consumer.New(cc, consumer.WithLogger(s.log))
	if err != nil {
		return fmt.Errorf("pretrain sampler: %w", err)
	}
	s.ptCons = c
	return nil
}

// runPretrain runs the pretraining job (and the trainer's sampler) until
// ctx ends; the returned channel is closed once every goroutine it started
// has returned. Without a job it is closed at once.
func (s *Server) runPretrain(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if s.pretrainer == nil {
		close(done)
		return done
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.pretrainer.Run(ctx); err != nil {
			s.log.Error("live-stream pretraining stopped", "err", err)
		}
	}()
	if s.ptCons != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.sample(ctx)
		}()
	}
	go func() { // owned by runPretrain's caller through done
		wg.Wait()
		close(done)
	}()
	return done
}

// sample feeds the events of the sampler consumer to the Pretrainer and
// marks them done, until ctx ends or the consumer closes.
func (s *Server) sample(ctx context.Context) {
	for {
		recs, err := s.ptCons.Fetch(ctx, 256)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, consumer.ErrClosed) {
				return
			}
			s.log.Warn("pretrain sampler fetch", "err", err, "retry_in", time.Second)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		s.pretrainer.Offer(recs)
		s.ptCons.Done(recs...)
	}
}
