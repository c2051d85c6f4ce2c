package config

import (
	"runtime"
	"time"
)

// Config is the whole tagstream configuration. It is a plain value: copy it
// freely, but note that the slices in Kafka are shared by copies (use
// Redacted for a deep copy). Keys are the mapstructure tags joined by "."
// (for example "batch.max_size"); the yaml tags are identical.
//
// Every field below gives its unit, default and accepted range. Load fills
// omitted keys from Default; an explicitly given value is taken literally and
// must be in range (the one exception is Workers, where 0 means GOMAXPROCS).
type Config struct {
	// Kafka is the input side: brokers, topics and consumer group.
	Kafka Kafka `mapstructure:"kafka" yaml:"kafka"`
	// NATS is the output side: where results and DLQ entries are published.
	NATS NATS `mapstructure:"nats" yaml:"nats"`
	// Input limits how incoming records are decoded.
	Input Input `mapstructure:"input" yaml:"input"`
	// Output names the subjects results are published to.
	Output Output `mapstructure:"output" yaml:"output"`
	// Batch controls how records are grouped before classification.
	Batch Batch `mapstructure:"batch" yaml:"batch"`
	// Workers is the number of classification workers. Default
	// GOMAXPROCS (at most 256); 0 in a file, env var or flag means
	// GOMAXPROCS. Range 1..256 after that substitution.
	Workers int `mapstructure:"workers" yaml:"workers"`
	// QueueSize is the capacity, in records, of the channel between the
	// consumer and the workers. Default 4096, range 1..1048576.
	QueueSize int `mapstructure:"queue_size" yaml:"queue_size"`
	// MaxInFlightBytes bounds the record value bytes fetched and not yet
	// acknowledged by NATS; at the bound fetching pauses. With
	// queue_size + nats.max_pending_acks it bounds the memory held by
	// records. Default 67108864 (64 MiB), range 1024..68719476736.
	MaxInFlightBytes int64 `mapstructure:"max_in_flight_bytes" yaml:"max_in_flight_bytes"`
	// Tasks are the classification tasks run on every event, each with its
	// own models per language (at least one task; see Task). Set in the
	// file, or a task's model and data files by
	// TAGSTREAM_TASKS_<NAME>_MODELS_<LANG> and TAGSTREAM_TASKS_<NAME>_DATA_<LANG>
	// (name and language upper-cased) for a task the file or the default
	// defines. Default one task, sentiment, with the built-in
	// sentiment-en and sentiment-zh.
	Tasks []Task `mapstructure:"tasks" yaml:"tasks"`
	// Models names the NER taggers and the model bucket.
	Models Models `mapstructure:"models" yaml:"models"`
	// HTTP configures the metrics and health endpoint.
	HTTP HTTP `mapstructure:"http" yaml:"http"`
	// Log configures the process logger.
	Log Log `mapstructure:"log" yaml:"log"`
	// ShutdownTimeout bounds the soft shutdown phase (flush, wait for acks,
	// commit) before everything is cancelled. Default 30s, range 1ms..10m.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout" yaml:"shutdown_timeout"`
	// Embedded runs in-process Kafka and NATS servers for demos and tests.
	Embedded Embedded `mapstructure:"embedded" yaml:"embedded"`
	// Finetune configures online fine-tuning from the feedback topic.
	Finetune Finetune `mapstructure:"finetune" yaml:"finetune"`
	// Pretrain configures language-model pretraining on the live stream.
	Pretrain Pretrain `mapstructure:"pretrain" yaml:"pretrain"`
}

// Kafka configures the Kafka consumer.
type Kafka struct {
	// Brokers are the bootstrap brokers as host:port. Default
	// ["127.0.0.1:9092"], at least one. From env or a plain string flag:
	// comma-separated.
	Brokers []string `mapstructure:"brokers" yaml:"brokers"`
	// Topics are the input topics. Default ["tagstream.events"], at least
	// one, each 1..249 characters of [a-zA-Z0-9._-], no duplicates.
	Topics []string `mapstructure:"topics" yaml:"topics"`
	// Group is the consumer group ID. Default "tagstream", non-empty.
	Group string `mapstructure:"group" yaml:"group"`
	// StartOffset is where a group with no committed offset starts:
	// "earliest" or "latest". Default "earliest".
	StartOffset string `mapstructure:"start_offset" yaml:"start_offset"`
	// FeedbackTopic carries labelled feedback for fine-tuning. Default
	// "tagstream.feedback"; empty means no feedback topic, otherwise a
	// valid topic name as for Topics.
	FeedbackTopic string `mapstructure:"feedback_topic" yaml:"feedback_topic"`
	// TLS configures TLS to the brokers. Default off.
	TLS TLS `mapstructure:"tls" yaml:"tls"`
	// SASL configures SASL authentication. Default none.
	SASL SASL `mapstructure:"sasl" yaml:"sasl"`
	// FetchMaxBytes is the maximum size of one fetch response, in bytes.
	// Default 10485760 (10 MiB), range 1024..1073741824 (1 KiB..1 GiB).
	FetchMaxBytes int64 `mapstructure:"fetch_max_bytes" yaml:"fetch_max_bytes"`
	// CommitInterval is how often acknowledged offsets are committed.
	// Default 1s, range 0s..1m; 0 commits after every acknowledged batch.
	CommitInterval time.Duration `mapstructure:"commit_interval" yaml:"commit_interval"`
}

// TLS configures a TLS client connection. All fields default to empty/off.
// CertFile and KeyFile are given together or not at all, and no field may be
// set while Enabled is false.
type TLS struct {
	// Enabled turns TLS on. Default false.
	Enabled bool `mapstructure:"enabled" yaml:"enabled"`
	// CAFile is a PEM file of CAs to trust. Default empty: system roots.
	CAFile string `mapstructure:"ca_file" yaml:"ca_file"`
	// CertFile is the PEM client certificate for mutual TLS. Default empty.
	CertFile string `mapstructure:"cert_file" yaml:"cert_file"`
	// KeyFile is the PEM private key for CertFile. Default empty.
	KeyFile string `mapstructure:"key_file" yaml:"key_file"`
	// InsecureSkipVerify disables server certificate verification. Default
	// false; for tests only.
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify" yaml:"insecure_skip_verify"`
}

// SASL configures Kafka SASL authentication.
type SASL struct {
	// Mechanism is "" (no SASL, the default), "PLAIN", "SCRAM-SHA-256" or
	// "SCRAM-SHA-512".
	Mechanism string `mapstructure:"mechanism" yaml:"mechanism"`
	// Username is required when Mechanism is set and must be empty
	// otherwise. Default empty.
	Username string `mapstructure:"username" yaml:"username"`
	// Password is secret (Redacted replaces it). Required when Mechanism is
	// set and must be empty otherwise. Default empty.
	Password string `mapstructure:"password" yaml:"password"`
}

// NATS configures the NATS publisher.
type NATS struct {
	// URL is the server URL, or several separated by commas, each with a
	// nats, tls, ws or wss scheme and a host. Default
	// "nats://127.0.0.1:4222".
	URL string `mapstructure:"url" yaml:"url"`
	// Mode is "jetstream" (acknowledged publishes, the default) or "core".
	Mode string `mapstructure:"mode" yaml:"mode"`
	// Stream is the JetStream stream name. Default "TAGSTREAM". In
	// jetstream mode it must be non-empty, at most 255 bytes, without
	// whitespace, ".", "*", ">", "/" or "\". Ignored in core mode.
	Stream string `mapstructure:"stream" yaml:"stream"`
	// DuplicateWindow is the JetStream de-duplication window. Default 2m,
	// range 0s..24h.
	DuplicateWindow time.Duration `mapstructure:"duplicate_window" yaml:"duplicate_window"`
	// User is the user name for user/password auth. Default empty.
	User string `mapstructure:"user" yaml:"user"`
	// Password is secret (Redacted replaces it). Given together with User.
	// Default empty.
	Password string `mapstructure:"password" yaml:"password"`
	// Token is secret (Redacted replaces it): token auth. Default empty.
	Token string `mapstructure:"token" yaml:"token"`
	// NKeySeedFile is the path of an nkey seed file. Default empty.
	NKeySeedFile string `mapstructure:"nkey_seed_file" yaml:"nkey_seed_file"`
	// CredsFile is the path of a JWT user credentials file. Default empty.
	// At most one of user/password, Token, NKeySeedFile and CredsFile is set.
	CredsFile string `mapstructure:"creds_file" yaml:"creds_file"`
	// TLS configures TLS to the server. Default off.
	TLS TLS `mapstructure:"tls" yaml:"tls"`
	// MaxPendingAcks bounds JetStream publishes awaiting an ack, in
	// messages. Default 4096, range 1..1048576.
	MaxPendingAcks int `mapstructure:"max_pending_acks" yaml:"max_pending_acks"`
}

// Input limits how incoming records are decoded.
type Input struct {
	// Format is the record value format: "json" (default) or "text".
	Format string `mapstructure:"format" yaml:"format"`
	// MaxBytes is the largest record value accepted, in bytes; larger
	// records go to the DLQ. Default 1048576 (1 MiB), range 1..67108864.
	MaxBytes int64 `mapstructure:"max_bytes" yaml:"max_bytes"`
	// MaxTokens is the number of tokens labelled per record (each model
	// also keeps at most its own max_tokens); the rest is cut and the
	// result says "truncated": true. Default 256, range 1..8192.
	MaxTokens int `mapstructure:"max_tokens" yaml:"max_tokens"`
}

// Output names the NATS subjects results are published to. Subjects are
// non-empty dot-separated tokens without whitespace or wildcards.
type Output struct {
	// SubjectPrefix is prepended to result subjects. Default
	// "tagstream.results".
	SubjectPrefix string `mapstructure:"subject_prefix" yaml:"subject_prefix"`
	// DLQSubject receives records that could not be processed. Default
	// "tagstream.dlq".
	DLQSubject string `mapstructure:"dlq_subject" yaml:"dlq_subject"`
	// IncludeText copies the input text into each result. Default false.
	IncludeText bool `mapstructure:"include_text" yaml:"include_text"`
	// RouteTask names the single-label task whose label is the result's
	// top-level label and subject token; it must have a model for every
	// language (en and zh). Default "sentiment".
	RouteTask string `mapstructure:"route_task" yaml:"route_task"`
}

// Task is one classification task: a name, its classifier per language
// and its settings. Every result carries every task's output under
// "tasks".<name>; a language without a model for the task leaves it out.
type Task struct {
	// Name names the task in results, feedback, metrics and the model
	// bucket: [a-z][a-z0-9_]*, at most 64 bytes, unique among the tasks.
	Name string `mapstructure:"name" yaml:"name"`
	// Models maps a language ("en", "zh") to its classifier: a file path,
	// or "builtin:NAME" for a model built into the binary (sentiment-en,
	// sentiment-zh, emotion-en, emotion-zh). At least one language. A
	// task's models may differ by language in labels and in kind (the
	// multi-label emotion-en beside the single-label emotion-zh): each
	// result carries its language's form.
	Models map[string]string `mapstructure:"models" yaml:"models"`
	// Finetune lets online fine-tuning (finetune.enabled) train this
	// task from feedback. Default true.
	Finetune *bool `mapstructure:"finetune" yaml:"finetune"`
	// Thresholds overrides the decision thresholds stored in a
	// multi-label task's models, per label (above 0, below 1). Only for
	// multi-label tasks; every label must be one of the models'. Default
	// none.
	Thresholds map[string]float64 `mapstructure:"thresholds" yaml:"thresholds"`
	// Data maps a language to an optional JSONL file of the original
	// training data of its classifier ({"text","label"} or
	// {"text","labels"}): the first 1000 lines are the fixed guard set of
	// fine-tuning, the next 5000 are replayed in every round against
	// forgetting. Default none: no replay, and candidates are guarded on
	// held-out feedback only.
	Data map[string]string `mapstructure:"data" yaml:"data"`
}

// FinetuneOn reports whether the task may be fine-tuned (Finetune unset
// means yes).
func (t Task) FinetuneOn() bool { return t.Finetune == nil || *t.Finetune }

// Batch controls how records are grouped before classification.
type Batch struct {
	// MaxSize is the largest batch, in records. Default 64, range 1..4096.
	MaxSize int `mapstructure:"max_size" yaml:"max_size"`
	// MaxDelay is how long a partial batch waits for more records.
	// Default 5ms, range 0s..10s; 0 sends what is there at once.
	MaxDelay time.Duration `mapstructure:"max_delay" yaml:"max_delay"`
	// MaxBytes closes a batch once its record values reach this many bytes
	// (a batch always takes at least one record), bounding the text one
	// worker tokenizes at a time. Default 1048576 (1 MiB), range
	// 1..1073741824.
	MaxBytes int64 `mapstructure:"max_bytes" yaml:"max_bytes"`
}

// Models names the NER taggers (one per language) and the model bucket.
// The classifiers are configured per task (Config.Tasks).
type Models struct {
	// NEREN is the English NER tagger: a file path, or "builtin:NAME".
	// Default empty: the built-in ner-en.
	NEREN string `mapstructure:"ner_en" yaml:"ner_en"`
	// NERZH is the Chinese NER tagger, as NEREN. Default empty: the
	// built-in ner-zh.
	NERZH string `mapstructure:"ner_zh" yaml:"ner_zh"`
	// Bucket is the JetStream Object Store bucket through which promoted
	// fine-tuned models reach every instance (jetstream mode only).
	// Default "tagstream_models"; empty turns distribution off.
	Bucket string `mapstructure:"bucket" yaml:"bucket"`
}

// HTTP configures the metrics and health endpoint.
type HTTP struct {
	// Addr is the listen address as host:port (port 0..65535, host may be
	// empty for all interfaces). Default "127.0.0.1:8080".
	Addr string `mapstructure:"addr" yaml:"addr"`
	// Console serves the web console at "/" and its API under /api/v1/.
	// Default true.
	Console bool `mapstructure:"console" yaml:"console"`
	// Token is secret (Redacted replaces it): the console's write actions
	// (feedback, promote, rollback) need it as "Authorization: Bearer
	// <token>", and are disabled while it is empty; a client other than
	// loopback needs it for reads too unless ConsoleOpen. Default empty.
	Token string `mapstructure:"token" yaml:"token"`
	// ConsoleOpen serves the console's reads to any host without the
	// token. Default false.
	ConsoleOpen bool `mapstructure:"console_open" yaml:"console_open"`
	// ConsoleTexts shows event texts in the console (recent results, the
	// review queue, dead-letter previews); false keeps no event text in
	// the console's memory at all (typed try-a-text input is still shown).
	// Default true.
	ConsoleTexts bool `mapstructure:"console_texts" yaml:"console_texts"`
}

// Log configures the process logger.
type Log struct {
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `mapstructure:"level" yaml:"level"`
	// Format is "text" (default) or "json".
	Format string `mapstructure:"format" yaml:"format"`
}

// Embedded configures in-process Kafka and NATS servers.
type Embedded struct {
	// Enabled starts the embedded servers. Default false.
	Enabled bool `mapstructure:"enabled" yaml:"enabled"`
	// KafkaAddr is the embedded Kafka listen address, host:port. Default
	// "127.0.0.1:9092".
	KafkaAddr string `mapstructure:"kafka_addr" yaml:"kafka_addr"`
	// NATSAddr is the embedded NATS listen address, host:port. Default
	// "127.0.0.1:4222".
	NATSAddr string `mapstructure:"nats_addr" yaml:"nats_addr"`
}

// Finetune configures online fine-tuning. The keys are parsed and
// validated; the feature itself lives in package model.
type Finetune struct {
	// Enabled turns fine-tuning on. Default false.
	Enabled bool `mapstructure:"enabled" yaml:"enabled"`
	// Interval is the time between fine-tuning rounds. Default 10m, range
	// 1m..168h.
	Interval time.Duration `mapstructure:"interval" yaml:"interval"`
	// MinExamples is the number of new feedback examples needed to start a
	// round. Default 200, range 1..10000000.
	MinExamples int `mapstructure:"min_examples" yaml:"min_examples"`
	// MaxProcs is the number of goroutines a round may use. Default 1,
	// range 1..256.
	MaxProcs int `mapstructure:"max_procs" yaml:"max_procs"`
	// MaxRegression is the largest drop in guard-set accuracy (a
	// fraction; exact-set accuracy for multi-label tasks) for which a
	// fine-tuned model is still swapped in. Default 0.01, range 0..1.
	MaxRegression float64 `mapstructure:"max_regression" yaml:"max_regression"`
}

// Pretrain configures the background job that keeps pretraining the
// language models (tagstream pretrain --view words) on a sample of the live
// stream and hands their refreshed encoders to fine-tuning.
type Pretrain struct {
	// Enabled turns the job on (it needs finetune.enabled to reach the
	// classifiers). Default false.
	Enabled bool `mapstructure:"enabled" yaml:"enabled"`
	// LMEN is the English language model file to start from (words view;
	// the classifier must have been trained with --init from it for its
	// encoder to be handed over). Default empty: no job for English.
	LMEN string `mapstructure:"lm_en" yaml:"lm_en"`
	// LMZH is the same for Chinese. Default empty.
	LMZH string `mapstructure:"lm_zh" yaml:"lm_zh"`
	// SaveDir is a directory where every refreshed model is saved (lm-en.safetensors,
	// lm-zh.safetensors, replaced atomically); at start a model saved
	// there is loaded instead of lm_en/lm_zh, so a restart continues the
	// refreshed one. Created if missing. Default empty: refreshed models
	// live in memory only.
	SaveDir string `mapstructure:"save_dir" yaml:"save_dir"`
	// Sample is the fraction of consumed event texts kept. Default 0.1,
	// range above 0 up to 1.
	Sample float64 `mapstructure:"sample" yaml:"sample"`
	// Buffer is the number of texts kept per language, a uniform
	// reservoir over all sampled (each cut to 2048 bytes). Default 20000,
	// range 10..10000000.
	Buffer int `mapstructure:"buffer" yaml:"buffer"`
	// Interval is the time between rounds. Default 30m, range 1m..168h.
	Interval time.Duration `mapstructure:"interval" yaml:"interval"`
	// MinTexts is the number of texts sampled since a language's last
	// round needed to start one. Default 1000, range 1..10000000.
	MinTexts int `mapstructure:"min_texts" yaml:"min_texts"`
	// Duty is the share of one core a round may use: after each batch it
	// sleeps so that busy time is at most this fraction of the round.
	// Default 0.25, range 0.01..1.
	Duty float64 `mapstructure:"duty" yaml:"duty"`
}

// Default returns the default configuration. It is valid. The slices in the
// result are fresh and owned by the caller.
func Default() Config {
	return Config{
		Kafka: Kafka{
			Brokers:        []string{"127.0.0.1:9092"},
			Topics:         []string{"tagstream.events"},
			Group:          "tagstream",
			StartOffset:    "earliest",
			FeedbackTopic:  "tagstream.feedback",
			FetchMaxBytes:  10 << 20,
			CommitInterval: time.Second,
		},
		NATS: NATS{
			URL:             "nats://127.0.0.1:4222",
			Mode:            "jetstream",
			Stream:          "TAGSTREAM",
			DuplicateWindow: 2 * time.Minute,
			MaxPendingAcks:  4096,
		},
		Input: Input{
			Format:    "json",
			MaxBytes:  1 << 20,
			MaxTokens: 256,
		},
		Output: Output{
			SubjectPrefix: "tagstream.results",
			DLQSubject:    "tagstream.dlq",
			RouteTask:     "sentiment",
		},
		Tasks: []Task{{
			Name:     "sentiment",
			Models:   map[string]string{"en": "builtin:sentiment-en", "zh": "builtin:sentiment-zh"},
			Finetune: new(true),
		}},
		Batch: Batch{
			MaxSize:  64,
			MaxDelay: 5 * time.Millisecond,
			MaxBytes: 1 << 20,
		},
		MaxInFlightBytes: 64 << 20,
		Models:           Models{Bucket: "tagstream_models"},
		Workers:          defaultWorkers(),
		QueueSize:        4096,
		HTTP:             HTTP{Addr: "127.0.0.1:8080", Console: true, ConsoleTexts: true},
		Log: Log{
			Level:  "info",
			Format: "text",
		},
		ShutdownTimeout: 30 * time.Second,
		Embedded: Embedded{
			KafkaAddr: "127.0.0.1:9092",
			NATSAddr:  "127.0.0.1:4222",
		},
		Finetune: Finetune{
			Interval:      10 * time.Minute,
			MinExamples:   200,
			MaxProcs:      1,
			MaxRegression: 0.01,
		},
		Pretrain: Pretrain{
			Sample:   0.1,
			Buffer:   20000,
			Interval: 30 * time.Minute,
			MinTexts: 1000,
			Duty:     0.25,
		},
	}
}

// maxWorkers is the upper bound of Config.Workers.
const maxWorkers = 256

// defaultWorkers is GOMAXPROCS clamped to 1..maxWorkers.
func defaultWorkers() int {
	return min(max(runtime.GOMAXPROCS(0), 1), maxWorkers)
}
