package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks every key against the range in its doc comment and
// returns all problems at once, joined with errors.Join in key order, or nil.
// Each problem wraps ErrInvalid and reads "<key> = <value>, want <range>",
// for example "batch.max_size = 0, want 1..4096". Secret values are shown
// as REDACTED. Validate does not touch the file system: it does not check that
// the files named exist.
func (c Config) Validate() error {
	var v validator

	k := c.Kafka
	if len(k.Brokers) == 0 {
		v.fail("kafka.brokers", k.Brokers, "at least one host:port")
	}
	for i, b := range k.Brokers {
		v.hostPort(fmt.Sprintf("kafka.brokers[%d]", i), b)
	}
	if len(k.Topics) == 0 {
		v.fail("kafka.topics", k.Topics, "at least one topic")
	}
	for i, t := range k.Topics {
		key := fmt.Sprintf("kafka.topics[%d]", i)
		v.topic(key, t)
		for _, prev := range k.Topics[:i] {
			if t == prev {
				v.fail(key, t, "no duplicate topics")
				break
			}
		}
	}
	if k.Group == "" {
		v.fail("kafka.group", k.Group, "a non-empty group ID")
	}
	v.oneOf("kafka.start_offset", k.StartOffset, "earliest", "latest")
	if k.FeedbackTopic != "" {
		v.topic("kafka.feedback_topic", k.FeedbackTopic)
	}
	v.tls("kafka.tls", k.TLS)
	v.oneOf("kafka.sasl.mechanism", k.SASL.Mechanism, "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
	if k.SASL.Mechanism != "" {
		if k.SASL.Username == "" {
			v.fail("kafka.sasl.username", "", "non-empty when kafka.sasl.mechanism is set")
		}
		if k.SASL.Password == "" {
			v.fail("kafka.sasl.password", "", "non-empty when kafka.sasl.mechanism is set")
		}
	} else {
		if k.SASL.Username != "" {
			v.fail("kafka.sasl.username", k.SASL.Username, "empty when kafka.sasl.mechanism is empty")
		}
		if k.SASL.Password != "" {
			v.fail("kafka.sasl.password", redacted, "empty when kafka.sasl.mechanism is empty")
		}
	}
	v.intRange("kafka.fetch_max_bytes", k.FetchMaxBytes, 1<<10, 1<<30)
	v.durRange("kafka.commit_interval", k.CommitInterval, 0, time.Minute)

	n := c.NATS
	v.natsURL("nats.url", n.URL)
	v.oneOf("nats.mode", n.Mode, "jetstream", "core")
	if n.Mode == "jetstream" {
		if n.Stream == "" || len(n.Stream) > 255 || strings.ContainsAny(n.Stream, ".*>/\\ \t\r\n\f\v") {
			v.fail("nats.stream", n.Stream, `1..255 bytes without whitespace, ".", "*", ">", "/" or "\"`)
		}
	}
	v.durRange("nats.duplicate_window", n.DuplicateWindow, 0, 24*time.Hour)
	if n.User != "" && n.Password == "" {
		v.fail("nats.password", "", "non-empty when nats.user is set")
	}
	if n.Password != "" && n.User == "" {
		v.fail("nats.user", "", "non-empty when nats.password is set")
	}
	var auth []string
	if n.User != "" || n.Password != "" {
		auth = append(auth, "nats.user")
	}
	if n.Token != "" {
		auth = append(auth, "nats.token")
	}
	if n.NKeySeedFile != "" {
		auth = append(auth, "nats.nkey_seed_file")
	}
	if n.CredsFile != "" {
		auth = append(auth, "nats.creds_file")
	}
	if len(auth) > 1 {
		v.errs = append(v.errs, fmt.Errorf("%w: %s are set, want at most one NATS auth method", ErrInvalid, strings.Join(auth, ", ")))
	}
	v.tls("nats.tls", n.TLS)
	v.intRange("nats.max_pending_acks", int64(n.MaxPendingAcks), 1, 1<<20)

	v.oneOf("input.format", c.Input.Format, "json", "text")
	v.intRange("input.max_bytes", c.Input.MaxBytes, 1, 64<<20)
	v.intRange("input.max_tokens", int64(c.Input.MaxTokens), 1, 8192)

	v.subject("output.subject_prefix", c.Output.SubjectPrefix)
	v.subject("output.dlq_subject", c.Output.DLQSubject)
	v.tasks(c.Tasks, c.Output.RouteTask)

	v.intRange("batch.max_size", int64(c.Batch.MaxSize), 1, 4096)
	v.durRange("batch.max_delay", c.Batch.MaxDelay, 0, 10*time.Second)
	v.intRange("batch.max_bytes", c.Batch.MaxBytes, 1, 1<<30)

	v.intRange("workers", int64(c.Workers), 1, maxWorkers)
	v.intRange("queue_size", int64(c.QueueSize), 1, 1<<20)
	v.intRange("max_in_flight_bytes", c.MaxInFlightBytes, 1<<10, 64<<30)

	v.hostPort("http.addr", c.HTTP.Addr)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	v.durRange("shutdown_timeout", c.ShutdownTimeout, time.Millisecond, 10*time.Minute)

	v.hostPort("embedded.kafka_addr", c.Embedded.KafkaAddr)
	v.hostPort("embedded.nats_addr", c.Embedded.NATSAddr)

	f := c.Finetune
	v.durRange("finetune.interval", f.Interval, time.Minute, 168*time.Hour)
	v.intRange("finetune.min_examples", int64(f.MinExamples), 1, 10_000_000)
	v.intRange("finetune.max_procs", int64(f.MaxProcs), 1, maxWorkers)
	if !(f.MaxRegression >= 0 && f.MaxRegression <= 1) { // also catches NaN
		v.fail("finetune.max_regression", f.MaxRegression, "0..1")
	}

	pt := c.Pretrain
	if !(pt.Sample > 0 && pt.Sample <= 1) {
		v.fail("pretrain.sample", pt.Sample, "above 0 up to 1")
	}
	v.intRange("pretrain.buffer", int64(pt.Buffer), 10, 10_000_000)
	v.durRange("pretrain.interval", pt.Interval, time.Minute, 168*time.Hour)
	v.intRange("pretrain.min_texts", int64(pt.MinTexts), 1, 10_000_000)
	if !(pt.Duty >= 0.01 && pt.Duty <= 1) {
		v.fail("pretrain.duty", pt.Duty, "0.01..1")
	}
	if pt.Enabled && pt.LMEN == "" && pt.LMZH == "" {
		v.fail("pretrain.lm_en", pt.LMEN, "a language model file (pretrain.enabled needs lm_en or lm_zh)")
	}

	return errors.Join(v.errs...)
}

// Languages are the languages a task may have models for.
var Languages = []string{"en", "zh"}

// tasks checks the task list and the route task. Whether a model is
// multi-label is known only once it is loaded: the server refuses a
// multi-label route task then.
func (v *validator) tasks(tasks []Task, route string) {
	if len(tasks) == 0 {
		v.fail("tasks", "[]", "at least one task")
	}
	seen := map[string]int{}
	for i, t := range tasks {
		key := fmt.Sprintf("tasks[%d]", i)
		if !validTaskName(t.Name) {
			v.fail(key+".name", t.Name, "[a-z][a-z0-9_]*, at most 64 bytes")
		} else if j, dup := seen[t.Name]; dup {
			v.fail(key+".name", t.Name, fmt.Sprintf("a name no other task has (tasks[%d] is %q too)", j, t.Name))
		} else {
			seen[t.Name] = i
		}
		if len(t.Models) == 0 {
			v.fail(key+".models", "{}", "a model for at least one language (en, zh)")
		}
		for _, lang := range slices.Sorted(maps.Keys(t.Models)) {
			if !slices.Contains(Languages, lang) {
				v.fail(key+".models."+lang, t.Models[lang], "languages en and zh only")
			} else if strings.TrimSpace(t.Models[lang]) == "" {
				v.fail(key+".models."+lang, "", `a file path or "builtin:NAME"`)
			}
		}
		for _, lang := range slices.Sorted(maps.Keys(t.Data)) {
			if !slices.Contains(Languages, lang) {
				v.fail(key+".data."+lang, t.Data[lang], "languages en and zh only")
			} else if _, ok := t.Models[lang]; !ok {
				v.fail(key+".data."+lang, t.Data[lang], "data only for a language the task has a model for")
			}
		}
		for _, l := range slices.Sorted(maps.Keys(t.Thresholds)) {
			if x := t.Thresholds[l]; !(x > 0 && x < 1) {
				v.fail(key+".thresholds."+l, x, "above 0 and below 1")
			}
		}
	}
	i := slices.IndexFunc(tasks, func(t Task) bool { return t.Name == route })
	switch {
	case len(tasks) == 0:
	case i < 0:
		names := make([]string, len(tasks))
		for j, t := range tasks {
			names[j] = strconv.Quote(t.Name)
		}
		v.fail("output.route_task", route, "the name of a task ("+strings.Join(names, ", ")+")")
	default:
		for _, lang := range Languages {
			if _, ok := tasks[i].Models[lang]; !ok {
				v.fail("output.route_task", route, fmt.Sprintf("a task with a model for every language (%s has none for %s)", route, lang))
				break
			}
		}
		if len(tasks[i].Thresholds) > 0 {
			v.fail("output.route_task", route, "a single-label task (it has thresholds)")
		}
	}
}

// validTaskName reports whether s matches [a-z][a-z0-9_]* and is at most
// 64 bytes.
func validTaskName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// validator collects Validate's problems.
type validator struct{ errs []error }

// fail records "key = value, want want". Strings are quoted; pass redacted
// (never the secret) for secret keys.
func (v *validator) fail(key string, value any, want string) {
	var s string
	switch x := value.(type) {
	case string:
		s = strconv.Quote(x)
	case []string:
		s = fmt.Sprintf("%q", x)
	case time.Duration:
		s = x.String()
	default:
		s = fmt.Sprint(x)
	}
	if value == redacted {
		s = redacted
	}
	v.errs = append(v.errs, fmt.Errorf("%w: %s = %s, want %s", ErrInvalid, key, s, want))
}

func (v *validator) intRange(key string, x, lo, hi int64) {
	if x < lo || x > hi {
		v.fail(key, x, fmt.Sprintf("%d..%d", lo, hi))
	}
}

func (v *validator) durRange(key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.fail(key, d, lo.String()+".."+hi.String())
	}
}

func (v *validator) oneOf(key, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = strconv.Quote(a)
	}
	v.fail(key, s, "one of "+strings.Join(q, ", "))
}

// hostPort accepts host:port with a numeric port 0..65535; the host may be
// empty (all interfaces) but must not contain whitespace.
func (v *validator) hostPort(key, s string) {
	host, port, err := net.SplitHostPort(s)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
		if strings.ContainsAny(host, " \t\r\n") {
			err = errors.New("space in host")
		}
	}
	if err != nil {
		v.fail(key, s, "host:port with port 0..65535")
	}
}

// topic accepts a Kafka topic name: 1..249 characters of [a-zA-Z0-9._-],
// not "." or "..".
func (v *validator) topic(key, s string) {
	ok := len(s) >= 1 && len(s) <= 249 && s != "." && s != ".."
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			ok = false
			break
		}
	}
	if !ok {
		v.fail(key, s, "a topic name of 1..249 characters from [a-zA-Z0-9._-]")
	}
}

// subject accepts a NATS publish subject: non-empty tokens separated by ".",
// no whitespace and no wildcards.
func (v *validator) subject(key, s string) {
	ok := s != ""
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n\f\v") {
			ok = false
			break
		}
	}
	if !ok {
		v.fail(key, s, "a NATS subject of non-empty \".\"-separated tokens without whitespace or wildcards")
	}
}

// natsURL accepts one or more comma-separated URLs with scheme nats, tls, ws
// or wss and a host.
func (v *validator) natsURL(key, s string) {
	ok := strings.TrimSpace(s) != ""
	for u := range strings.SplitSeq(s, ",") {
		p, err := url.Parse(strings.TrimSpace(u))
		if err != nil || p.Host == "" {
			ok = false
			break
		}
		switch p.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			ok = false
		}
	}
	if !ok {
		v.fail(key, s, `comma-separated URLs like "nats://host:4222" (scheme nats, tls, ws or wss)`)
	}
}

// tls checks the TLS block at prefix: cert and key come together, and
// nothing is set while TLS is disabled.
func (v *validator) tls(prefix string, t TLS) {
	if (t.CertFile == "") != (t.KeyFile == "") {
		if t.CertFile == "" {
			v.fail(prefix+".cert_file", "", "non-empty when "+prefix+".key_file is set")
		} else {
			v.fail(prefix+".key_file", "", "non-empty when "+prefix+".cert_file is set")
		}
	}
	if t.Enabled {
		return
	}
	need := "empty when " + prefix + ".enabled is false"
	for _, f := range []struct{ key, val string }{
		{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile},
	} {
		if f.val != "" {
			v.fail(prefix+"."+f.key, f.val, need)
		}
	}
	if t.InsecureSkipVerify {
		v.fail(prefix+".insecure_skip_verify", true, "false when "+prefix+".enabled is false")
	}
}
