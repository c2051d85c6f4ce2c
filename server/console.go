package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tagstream/tagstream/console"
	"github.com/tagstream/tagstream/consumer"
	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/pipeline"
	"github.com/tagstream/tagstream/producer"
)

// consoleBackend is what the web console asks of the server.
type consoleBackend struct{ s *Server }

func (b consoleBackend) Tasks() (string, map[string]console.TaskInfo) {
	snap := b.s.swapper.Models()
	out := map[string]console.TaskInfo{}
	for _, lang := range snap.Langs() {
		_, lm := snap.For(lang)
		for _, t := range lm.Tasks {
			info, ok := out[t.Task]
			if !ok {
				info = console.TaskInfo{Multi: true, MultiLangs: map[string]bool{}, Langs: map[string][]string{}}
			}
			info.Langs[lang] = slices.Clone(t.Classifier.Labels)
			info.MultiLangs[lang] = t.MultiLabel
			info.Multi = info.Multi && t.MultiLabel
			out[t.Task] = info
		}
	}
	return snap.Route(), out
}

func (b consoleBackend) Analyze(_ context.Context, text, lang string) (*event.Result, error) {
	return pipeline.Analyze(b.s.swapper.Models(), text, lang, b.s.cfg.Input.MaxTokens), nil
}

// SendFeedback checks a correction exactly as the trainer will
// (pipeline.ParseFeedback against the models in service) and writes it to
// the feedback topic.
func (b consoleBackend) SendFeedback(ctx context.Context, value []byte) error {
	s := b.s
	if s.cfg.Kafka.FeedbackTopic == "" || s.fbWriter == nil {
		return fmt.Errorf("%w: no feedback topic (kafka.feedback_topic)", console.ErrBadInput)
	}
	src := event.Source{Topic: s.cfg.Kafka.FeedbackTopic, Partition: -1, Offset: -1}
	rec := event.Record{Topic: src.Topic, Partition: -1, Offset: -1, Value: value, Time: time.Now()}
	ev, err := event.Decode(src, value, event.DecodeOptions{MaxBytes: s.cfg.Input.MaxBytes})
	if err != nil {
		var de *event.DecodeError
		if errors.As(err, &de) {
			rec.Err = de
		}
	} else {
		rec.Event = ev
	}
	frozen := func(task string) bool {
		for _, t := range s.cfg.Tasks {
			if t.Name == task {
				return !t.FinetuneOn()
			}
		}
		return false
	}
	if _, reason, err := pipeline.ParseFeedback(rec, s.swapper.Models(), frozen); err != nil {
		return fmt.Errorf("%w: %s: %v", console.ErrBadInput, reason, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.fbWriter.WriteMessages(wctx, kafka.Message{Value: value}); err != nil {
		return fmt.Errorf("write to %s: %w", s.cfg.Kafka.FeedbackTopic, err)
	}
	return nil
}

func (b consoleBackend) Models(ctx context.Context) ([]event.ModelObject, error) {
	if b.s.store == nil {
		return nil, nil
	}
	return b.s.store.List(ctx)
}

func (b consoleBackend) Promote(ctx context.Context, version, task string) (string, error) {
	if b.s.store == nil {
		return "", fmt.Errorf("%w: no model bucket (models.bucket, nats.mode jetstream)", console.ErrBadInput)
	}
	route := b.s.swapper.Models().Route()
	if task == "" {
		task = route
	}
	return badInput(Promote(ctx, b.s.store, version, "", task, route))
}

func (b consoleBackend) Rollback(ctx context.Context, task, lang string) (string, error) {
	if b.s.store == nil {
		return "", fmt.Errorf("%w: no model bucket (models.bucket, nats.mode jetstream)", console.ErrBadInput)
	}
	route := b.s.swapper.Models().Route()
	if task == "" {
		task = route
	}
	return badInput(Rollback(ctx, b.s.store, task, lang, route))
}

func (b consoleBackend) Rounds() []console.Round {
	if b.s.trainer == nil {
		return nil
	}
	var out []console.Round
	for _, r := range b.s.trainer.Recent() {
		d := "rejected"
		if r.Promoted {
			d = "promoted"
		}
		out = append(out, console.Round{Task: r.Task, Lang: r.Lang, Kind: r.Kind, Decision: d, Reason: r.Reason, Version: r.Version, Base: r.Base, Examples: r.Examples, At: r.At})
	}
	return out
}

func badInput(msg string, err error) (string, error) {
	if errors.Is(err, ErrNoSuchModel) {
		err = fmt.Errorf("%w: %v", console.ErrBadInput, err)
	}
	return msg, err
}

// startConsole builds the web console and its feedback writer (the NATS
// subscription that feeds it starts with Run).
func (s *Server) startConsole(instance string) error {
	if !s.cfg.HTTP.Console {
		return nil
	}
	if s.cfg.Kafka.FeedbackTopic != "" {
		cc := ConsumerConfig(s.cfg)
		tr, err := consumer.NewTransport(cc.TLS, cc.SASL, "tagstream-console")
		if err != nil {
			return fmt.Errorf("console feedback writer: %w", err)
		}
		s.fbWriter = &kafka.Writer{
			Addr: kafka.TCP(s.cfg.Kafka.Brokers...), Topic: s.cfg.Kafka.FeedbackTopic, Transport: tr,
			Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond,
		}
	}
	host, _, _ := net.SplitHostPort(s.cfg.HTTP.Addr)
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" && s.cfg.HTTP.Token == "" {
		s.log.Warn("console on a non-loopback address without http.token: its writes (feedback, promote, rollback) are disabled, and other hosts may read it only with http.console_open", "addr", s.cfg.HTTP.Addr)
	}
	note := "Fleet view: results and dead letters of every instance, read from NATS (" + s.cfg.Output.SubjectPrefix + ".>, " + s.cfg.Output.DLQSubject + ")."
	switch {
	case !s.cfg.HTTP.ConsoleTexts:
		note += " Texts are hidden (http.console_texts is off): the console keeps no event text, so the review queue is empty."
	case !s.cfg.Output.IncludeText:
		note += " Results carry no text (output.include_text is off): texts, entity highlights and the review queue need it."
	}
	s.console = console.New(consoleBackend{s}, console.Options{
		Instance: instance, Fleet: true, ScopeNote: note, TextShown: s.cfg.Output.IncludeText && s.cfg.HTTP.ConsoleTexts, HideTexts: !s.cfg.HTTP.ConsoleTexts,
		Token: s.cfg.HTTP.Token, Open: s.cfg.HTTP.ConsoleOpen, Log: s.log,
	})
	return nil
}

// subscribeConsole feeds the console from NATS until the returned stop.
func (s *Server) subscribeConsole(ctx context.Context) (stop func()) {
	if s.console == nil {
		return func() {}
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sub, err := producer.Subscribe(sctx, ProducerConfig(s.cfg), []string{s.cfg.Output.SubjectPrefix + ".>", s.cfg.Output.DLQSubject},
		func(subject string, data []byte) {
			if subject == s.cfg.Output.DLQSubject {
				s.console.ObserveDeadLetter(data)
			} else {
				s.console.ObserveResult(data)
			}
		}, s.log)
	if err != nil {
		s.log.Error("console: no live data", "err", err)
		return func() {}
	}
	return sub.Close
}
