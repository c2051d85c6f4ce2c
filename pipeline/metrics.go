package pipeline

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagstream/tagstream/event"
)

// metrics are the pipeline's Prometheus metrics. They are always created
// (so the code never checks for nil) and registered only on the injected
// Registerer.
type metrics struct {
	consumed      prometheus.Counter
	published     *prometheus.CounterVec
	entities      *prometheus.CounterVec
	deadLetters   *prometheus.CounterVec
	publishErrors prometheus.Counter
	fetchErrors   prometheus.Counter
	throttled     prometheus.Counter
	dropped       prometheus.Counter
	batchSize     prometheus.Histogram
	inference     *prometheus.HistogramVec
	latency       prometheus.Histogram
	inFlight      prometheus.Gauge
	modelInfo     *prometheus.GaugeVec
	taskLabels    *prometheus.CounterVec
	taskMissing   *prometheus.CounterVec
}

// statser is implemented by a Source that reports per-partition offsets
// (the Kafka consumer does).
type statser interface {
	PartitionStats() []event.PartitionStats
}

func newMetrics(reg prometheus.Registerer, p *Pipeline) (*metrics, error) {
	m := &metrics{
		consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tagstream_events_consumed_total", Help: "Records fetched from Kafka.",
		}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tagstream_results_published_total", Help: "Results acknowledged by NATS, by language and label.",
		}, []string{"lang", "label"}),
		entities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tagstream_entities_total", Help: "Entities in results acknowledged by NATS, by language and type.",
		}, []string{"lang", "type"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tagstream_dead_letters_total", Help: "Dead letters acknowledged by NATS, by reason.",
		}, []string{"reason"}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tagstream_publish_errors_total", Help: "Failed publishes (each is retried).",
		}),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tagstream_fetch_errors_total", Help: "Failed Kafka fetches (each is retried).",
		}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tagstream_backpressure_waits_total", Help: "Times fetching paused because MaxInFlight records were unacknowledged.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tagstream_dropped_total", Help: "Dead letters the sink refused even after truncation (should stay 0).",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tagstream_batch_size", Help: "Records per micro-batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13), // 1..4096
		}),
		inference: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tagstream_inference_seconds", Help: "Model time per micro-batch and language.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 0.1ms..3.3s
		}, []string{"lang"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tagstream_end_to_end_latency_seconds", Help: "From the Kafka record timestamp to the NATS acknowledgement of its result.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5ms..16s
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tagstream_in_flight_events", Help: "Records fetched and not yet acknowledged.",
		}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tagstream_model_info", Help: "Models in service (value 1), by language, kind (classifier or ner), task (classifiers) and version.",
		}, []string{"lang", "kind", "task", "version"}),
		taskLabels: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tagstream_task_labels_total", Help: "Labels in results acknowledged by NATS, by task, language and label (a multi-label result counts each of its labels, an empty set as \"none\").",
		}, []string{"task", "lang", "label"}),
		taskMissing: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tagstream_task_missing_total", Help: "Results without a task because their language has no model for it, by task and language.",
		}, []string{"task", "lang"}),
	}
	if reg == nil {
		return m, nil
	}
	paused := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "tagstream_backpressure_seconds_total", Help: "Seconds fetching was paused because too many records or bytes were in flight (the current pause included).",
	}, p.pausedSeconds)
	cs := []prometheus.Collector{paused, m.consumed, m.published, m.entities, m.deadLetters, m.publishErrors, m.fetchErrors, m.throttled, m.dropped,
		m.batchSize, m.inference, m.latency, m.inFlight, m.modelInfo, m.taskLabels, m.taskMissing}
	if s, ok := p.src.(statser); ok {
		cs = append(cs, &offsetCollector{src: s})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) setModels(s *Snapshot) {
	m.modelInfo.Reset()
	for _, l := range s.order {
		lm := s.langs[l]
		for _, t := range lm.Tasks {
			m.modelInfo.WithLabelValues(l, "classifier", t.Task, t.Version).Set(1)
		}
		if lm.NERVersion != "" {
			m.modelInfo.WithLabelValues(l, "ner", "", lm.NERVersion).Set(1)
		}
	}
}

// offsetCollector exports, per owned partition, the records fetched but not
// yet committed: in flight plus done but not yet committed.
type offsetCollector struct{ src statser }

var uncommittedDesc = prometheus.NewDesc("tagstream_uncommitted_offsets",
	"Records of a partition fetched but not yet committed (in flight, or done and awaiting the next commit).",
	[]string{"topic", "partition"}, nil)

func (c *offsetCollector) Describe(ch chan<- *prometheus.Desc) { ch <- uncommittedDesc }

func (c *offsetCollector) Collect(ch chan<- prometheus.Metric) {
	for _, ps := range c.src.PartitionStats() {
		n := float64(ps.InFlight)
		if ps.Watermark >= 0 && ps.Committed >= 0 && ps.Watermark > ps.Committed {
			n += float64(ps.Watermark - ps.Committed)
		}
		ch <- prometheus.MustNewConstMetric(uncommittedDesc, prometheus.GaugeValue, n, ps.Topic, strconv.Itoa(ps.Partition))
	}
}
