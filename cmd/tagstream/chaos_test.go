package main

// Reliability tests against real brokers (issue 7): `tagstream run` runs as
// subprocesses against a real Apache Kafka and a real nats-server with
// JetStream; the tests kill and restart them, add and remove group members,
// restart the brokers and starve the stream, and then read the whole
// JetStream stream back to check that every produced event is in it exactly
// once and that the group committed every partition to its end.
//
// They take minutes, restart shared brokers (deploy/local/*.sh) and need a
// quiet machine, so plain `go test ./...` skips them: they run only with
// TAGSTREAM_CHAOS=1 plus TAGSTREAM_KAFKA_BROKERS and TAGSTREAM_NATS_URL (as
// .ci/run sets them after starting the brokers). TAGSTREAM_CHAOS_SEED
// replays the kill moments of an earlier run. `run` has no identity-model
// option (only `bench e2e --model none` does), so every event goes through
// the built-in classifier and NER models of its language; volumes were sized
// for about 700-1,800 events/s on two shared cores, TestChaosCrashRestart's
// for up to 10,000.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestChaosCrashRestart(t *testing.T) {
	const (
		partitions = 4
		kills      = 5
		// Every incarnation must still have events left when it is
		// killed. Since the assembly kernels the built-in models label
		// 5,000-10,000 events/s on two cores, and one incarnation published
		// 17,000-34,000 before its kill (clean-clone CI, 2026-12-02), so
		// 100,000 events ran out before the fifth kill. 300,000 leave a
		// margin of about 2×; the rest takes 20-60 s of labelling, plus
		// ~11 s per kill (start-up, then the dead member's 10 s session
		// timeout before the group rebalances).
		events = 300_000
	)
	r := newChaosRig(t, partitions)
	seed := chaosSeed(t)
	t.Logf("seed %d (%s=%d replays the kill moments)", seed, chaosSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pubs := r.countPublishes(t)
	r.produce(t, events)

	t0 := time.Now()
	p := r.startRun(t, "run-0")
	for k := range kills {
		total, _ := pubs.counts()
		pubs.waitPublishes(t, total, 200, 90*time.Second) // this incarnation publishes
		delay := time.Duration(rng.Int64N(int64(3 * time.Second)))
		<-time.After(delay) // a random moment, not a wait for a condition
		if _, unique := pubs.counts(); unique >= events {
			t.Fatalf("every event was published before kill %d: the volume is too small for %d kills", k+1, kills)
		}
		p.kill()
		total, unique := pubs.counts()
		t.Logf("kill %d: SIGKILL %s %v after it started (+%v random), %d publishes, %d unique", k+1, p.name,
			time.Since(p.start).Round(time.Millisecond), delay.Round(time.Millisecond), total, unique)
		p = r.startRun(t, fmt.Sprintf("run-%d", k+1))
	}
	r.waitCommitted(t, 4*time.Minute)
	done := time.Since(t0)
	p.stop(t, 40*time.Second)

	tl := r.tally(t)
	total, unique := pubs.counts()
	t.Logf("chaos crash-restart: seed=%d kills=%d events=%d results=%d (dead letters %d) lost=%d duplicates=%d "+
		"redelivered=%d (publishes %d, unique %d) wall=%v (%.0f events/s incl. restarts)",
		seed, kills, tl.events, tl.results, tl.deadLetter, tl.lost, tl.duplicates,
		total-unique, total, unique, done.Round(100*time.Millisecond), float64(tl.events)/done.Seconds())
	tl.check(t, events)
}

// script runs deploy/local/<name> with args from the repository root
// with the test's environment (TAGSTREAM_LOCAL_DIR, KAFKA_PORT, NATS_PORT,
// ... as the CI set them).

func TestChaosBrokerRestart(t *testing.T) {
	const (
		partitions = 4
		// Enough to keep the instance busy through each outage: the first
		// batch outlasts the Kafka restart and the 8,192 records the
		// instance may hold fetched; the second is produced after it.
		eventsKafka = 30_000
		eventsNATS  = 15_000
	)
	r := newChaosRig(t, partitions)
	kafkaAddr := strings.Split(r.brokers, ",")[0]
	natsAddr := strings.TrimPrefix(strings.Split(r.natsURL, ",")[0], "nats://")
	r.requireScriptOwns(t, "kafka.sh", kafkaAddr)
	r.requireScriptOwns(t, "nats.sh", natsAddr)
	t.Cleanup(func() { // whatever happened, leave both brokers running
		for _, s := range []string{"kafka.sh", "nats.sh"} {
			if out, err := r.script(t, s, "start"); err != nil {
				t.Errorf("cleanup: deploy/local/%s start: %v: %s", s, err, out)
			}
		}
	})
	pubs := r.countPublishes(t)
	r.produce(t, eventsKafka)
	t0 := time.Now()
	p := r.startRun(t, "run")
	w := p.watchReadyz(t)
	pollEvery(t, 100*time.Millisecond, 60*time.Second, p.ready)
	total, _ := pubs.counts()
	pubs.waitPublishes(t, total, 1000, 60*time.Second)

	// Kafka away.
	kStop := time.Now()
	if out, err := r.script(t, "kafka.sh", "stop"); err != nil {
		t.Fatalf("kafka.sh stop: %v: %s", err, out)
	}
	kDown := time.Now()
	// Probe readiness while the broker is away, as long as a kubelet would
	// need to see it (three 1 s periods) and then some.
	<-time.After(5 * time.Second)
	kStart := time.Now()
	out, err := r.script(t, "kafka.sh", "start")
	if err != nil {
		t.Fatalf("kafka.sh start: %v: %s", err, out)
	}
	kUp := time.Now()
	t.Logf("kafka away for %v (stop took %v, start %v): %s", kUp.Sub(kStop).Round(time.Millisecond),
		kDown.Sub(kStop).Round(time.Millisecond), kUp.Sub(kStart).Round(time.Millisecond), out)
	var lagUp int64
	pollEvery(t, 100*time.Millisecond, 2*time.Minute, func() (err error) { lagUp, err = r.lag(); return err })
	pollEvery(t, 100*time.Millisecond, 2*time.Minute, func() error { // the group commits again
		lag, err := r.lag()
		if err == nil && lag >= lagUp {
			err = fmt.Errorf("no commit since kafka came back (lag %d)", lag)
		}
		return err
	})
	kCommit := time.Now()
	kafkaFalse, sawKafkaFalse := w.first(kStop, false)
	if sawKafkaFalse && kafkaFalse.at.After(kUp) {
		sawKafkaFalse = false // not ready only after the broker was back
	}
	var kReady chaosSample
	if sawKafkaFalse {
		kReady = w.wait(t, kafkaFalse.at, true, 2*time.Minute)
	} else {
		kReady = w.wait(t, kUp, true, 2*time.Minute)
	}
	probes, probesReady := w.count(kStop, kUp)
	if !sawKafkaFalse {
		t.Errorf("/readyz answered 200 to %d of %d probes in the %v Kafka was away", probesReady, probes, kUp.Sub(kStop).Round(time.Millisecond))
	}

	// NATS away, with a second batch flowing.
	r.produce(t, eventsNATS)
	total, _ = pubs.counts()
	pubs.waitPublishes(t, total, 1000, 60*time.Second)
	before, err := r.streamMsgs()
	if err != nil {
		t.Fatalf("stream before the NATS restart: %v", err)
	}
	nStop := time.Now()
	if out, err := r.script(t, "nats.sh", "stop"); err != nil {
		t.Fatalf("nats.sh stop: %v: %s", err, out)
	}
	natsFalse := w.wait(t, nStop, false, 10*time.Second)
	nStart := time.Now()
	out, err = r.script(t, "nats.sh", "start")
	if err != nil {
		t.Fatalf("nats.sh start: %v: %s", err, out)
	}
	nUp := time.Now()
	t.Logf("nats away for %v (start took %v): %s", nUp.Sub(nStop).Round(time.Millisecond), nUp.Sub(nStart).Round(time.Millisecond), out)
	nReady := w.wait(t, nUp, true, time.Minute)
	var after uint64
	pollEvery(t, 100*time.Millisecond, 30*time.Second, func() error { // the store survived the restart
		after, err = r.streamMsgs()
		return err
	})
	if after < before {
		t.Errorf("stream %s held %d messages before the NATS restart and %d after: the JetStream store did not persist", r.stream, before, after)
	}

	r.waitCommitted(t, 3*time.Minute)
	done := time.Since(t0)
	p.stop(t, 40*time.Second)
	tl := r.tally(t)
	total, unique := pubs.counts()
	kafkaReadyz := fmt.Sprintf("readyz stayed 200 (%d of %d probes; bug)", probesReady, probes)
	if sawKafkaFalse {
		kafkaReadyz = fmt.Sprintf("readyz false after %v, 200 again %v after start", kafkaFalse.at.Sub(kStop).Round(time.Millisecond), kReady.at.Sub(kUp).Round(time.Millisecond))
	}
	t.Logf("chaos broker-restart: events=%d results=%d lost=%d duplicates=%d redelivered>=%d; "+
		"kafka: away %v, %s, commits resumed %v after start; "+
		"nats: away %v, readyz false after %v, 200 again %v after start, store kept %d->%d msgs; wall=%v",
		tl.events, tl.results, tl.lost, tl.duplicates, total-unique,
		kUp.Sub(kStop).Round(time.Millisecond), kafkaReadyz, kCommit.Sub(kUp).Round(time.Millisecond),
		nUp.Sub(nStop).Round(time.Millisecond), natsFalse.at.Sub(nStop).Round(time.Millisecond), nReady.at.Sub(nUp).Round(time.Millisecond),
		before, after, done.Round(100*time.Millisecond))
	tl.check(t, eventsKafka+eventsNATS)
}

// TestChaosRebalance adds and removes group members while the group works
// through a backlog: start one, add two, SIGTERM one, SIGKILL one, start
// another.
func TestChaosRebalance(t *testing.T) {
	const (
		partitions = 6
		// Enough that every membership change happens mid-stream: with
		// 60,000 the faster models of 2026-12-01 had published everything
		// by the time b's SIGTERM returned, and the wait for more timed out.
		events = 200_000
		step   = 1500 // publishes between membership changes
	)
	r := newChaosRig(t, partitions)
	pubs := r.countPublishes(t)
	r.produce(t, events)
	t0 := time.Now()
	progress := func(what string) {
		t.Helper()
		base, unique := pubs.counts()
		if unique >= events {
			t.Fatalf("every event was published before %s: the volume is too small", what)
		}
		pubs.waitPublishes(t, base, step, 2*time.Minute)
		total, unique := pubs.counts()
		t.Logf("%v: %s (%d publishes, %d unique so far)", time.Since(t0).Round(time.Millisecond), what, total, unique)
	}
	a := r.startRun(t, "a")
	pollEvery(t, 100*time.Millisecond, time.Minute, a.ready)
	progress("add b and c")
	b := r.startRun(t, "b")
	c := r.startRun(t, "c")
	pollEvery(t, 100*time.Millisecond, time.Minute, b.ready)
	pollEvery(t, 100*time.Millisecond, time.Minute, c.ready)
	progress("SIGTERM b")
	termTook := b.stop(t, 40*time.Second)
	progress("SIGKILL c")
	c.kill()
	progress("add d")
	d := r.startRun(t, "d")
	pollEvery(t, 100*time.Millisecond, time.Minute, d.ready)
	r.waitCommitted(t, 3*time.Minute)
	done := time.Since(t0)
	for _, p := range []*chaosProc{a, d} {
		p.stop(t, 40*time.Second)
	}
	tl := r.tally(t)
	total, unique := pubs.counts()
	t.Logf("chaos rebalance: members a, +b +c, -b (SIGTERM, clean exit in %v), -c (SIGKILL), +d; partitions=%d events=%d results=%d "+
		"lost=%d duplicates=%d redelivered=%d absorbed by de-duplication (publishes %d, unique %d) wall=%v",
		termTook.Round(time.Millisecond), partitions, tl.events, tl.results, tl.lost, tl.duplicates,
		total-unique, total, unique, done.Round(100*time.Millisecond))
	tl.check(t, events)
}

// TestChaosSlowDownstream gives the instance a stream that refuses results
// (max_msgs reached, discard new) and checks backpressure up to fetching:
// the records in flight and the memory stay bounded while nothing can be
// published, and everything drains once the stream has room.
func TestChaosSlowDownstream(t *testing.T) {
	const (
		partitions = 4
		events     = 30_000
		room       = 2000 // messages the stream takes before it refuses
		stall      = 20 * time.Second
	)
	r := newChaosRig(t, partitions)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	scfg := jetstream.StreamConfig{
		Name: r.stream, Subjects: []string{r.prefix + ".>", r.dlq}, Storage: jetstream.FileStorage,
		Duplicates: 2 * time.Minute, MaxMsgs: room, Discard: jetstream.DiscardNew,
	}
	if _, err := r.js.CreateStream(ctx, scfg); err != nil {
		t.Fatalf("create stream %s: %v", r.stream, err)
	}
	r.produce(t, events)
	t0 := time.Now()
	p := r.startRun(t, "run")
	const (
		consumedM = "tagstream_events_consumed_total"
		errorsM   = "tagstream_publish_errors_total"
		waitsM    = "tagstream_backpressure_waits_total"
	)
	var runPeak int64
	sample := func() (map[string]float64, int64, error) {
		rss, err := p.rss()
		if err != nil {
			return nil, 0, err
		}
		runPeak = max(runPeak, rss)
		m, err := p.metrics(consumedM, errorsM, waitsM, "tagstream_results_published_total", "tagstream_dead_letters_total")
		return m, rss, err
	}
	// Stalled: publishes are refused and fetching has stopped (the records
	// consumed stay the same for 2 s). Backpressure waits alone do not say
	// it: labelling a backlog is slower than fetching it, so they start
	// early anyway.
	var last float64
	var since time.Time
	pollEvery(t, 100*time.Millisecond, 2*time.Minute, func() error {
		m, _, err := sample()
		if err != nil {
			return err
		}
		if c := m[consumedM]; c != last {
			last, since = c, time.Now()
		}
		if m[errorsM] == 0 || time.Since(since) < 2*time.Second {
			return fmt.Errorf("not stalled yet: %v", m)
		}
		return nil
	})
	full := time.Since(t0)
	stored, err := r.streamMsgs()
	if err != nil {
		t.Fatal(err)
	}
	m0, rss0, err := sample()
	if err != nil {
		t.Fatal(err)
	}
	mEnd, rssMax := m0, rss0
	for end := time.Now().Add(stall); time.Now().Before(end); {
		<-time.After(250 * time.Millisecond) // sampling period
		m, rss, err := sample()
		if err != nil {
			t.Fatal(err)
		}
		mEnd, rssMax = m, max(rssMax, rss)
	}
	consumed, published := mEnd[consumedM], mEnd["tagstream_results_published_total"]+mEnd["tagstream_dead_letters_total"]
	if stored != room {
		t.Errorf("stream holds %d messages, want its limit %d", stored, room)
	}
	if consumed != m0[consumedM] || consumed-published > chaosMaxInFlight || consumed >= events {
		t.Errorf("while nothing could be published: consumed %.0f -> %.0f of %d, published %.0f: want no fetching and at most %d in flight",
			m0[consumedM], consumed, events, published, chaosMaxInFlight)
	}
	if mEnd[waitsM] == 0 {
		t.Errorf("%s is 0 with fetching stopped", waitsM)
	}
	if mEnd[errorsM] <= m0[errorsM] {
		t.Errorf("publish errors %.0f -> %.0f: refused publishes are not being retried", m0[errorsM], mEnd[errorsM])
	}
	// Bounded: what bounds the memory is that fetching stopped (above).
	// RSS still grows for a while as the retries' garbage raises the GC
	// target (seen: 436 MiB at the stall, 513 after 30 s, 523 after 90 s),
	// so the check is a ceiling well inside deploy/k8s's 1536 MiB limit.
	if rssMax > 1<<30 {
		t.Errorf("RSS grew from %d to %d MiB while stalled, want under 1024 MiB", rss0>>20, rssMax>>20)
	}
	t.Logf("stalled %v after start; first refusal: %s", full.Round(time.Millisecond), chaosGrep(p.log, "publish failed"))

	// Room again: no limit.
	scfg.MaxMsgs = -1
	uctx, ucancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ucancel()
	if _, err := r.js.UpdateStream(uctx, scfg); err != nil {
		t.Fatalf("update stream %s: %v", r.stream, err)
	}
	opened := time.Now()
	pollEvery(t, 100*time.Millisecond, 3*time.Minute, func() error {
		if _, _, err := sample(); err != nil {
			return err
		}
		lag, err := r.lag()
		if err == nil && lag != 0 {
			err = fmt.Errorf("%d records not committed", lag)
		}
		return err
	})
	drain := time.Since(opened)
	p.stop(t, 40*time.Second)
	tl := r.tally(t)
	t.Logf("chaos slow-downstream: events=%d stream limit=%d msgs (discard new), full %v after start; stalled %v: consumed %.0f -> %.0f, "+
		"in flight %.0f (bound %d), backpressure_waits %.0f -> %.0f, publish_errors %.0f -> %.0f, RSS %d -> %d MiB (peak over the run %d MiB); "+
		"room given: drained %.0f events in %v; results=%d lost=%d duplicates=%d wall=%v",
		tl.events, room, full.Round(100*time.Millisecond), stall, m0[consumedM], consumed, consumed-published, chaosMaxInFlight,
		m0[waitsM], mEnd[waitsM], m0[errorsM], mEnd[errorsM], rss0>>20, rssMax>>20, runPeak>>20,
		events-published, drain.Round(100*time.Millisecond), tl.results, tl.lost, tl.duplicates, time.Since(t0).Round(100*time.Millisecond))
	tl.check(t, events)
}
