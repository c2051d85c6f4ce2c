package producer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tagstream/tagstream/event"
	"github.com/tagstream/tagstream/internal/redact"
)

// objectMeta is the object store metadata of o.
func objectMeta(o event.ModelObject) jetstream.ObjectMeta {
	return jetstream.ObjectMeta{
		Name:        o.Name,
		Description: "tagstream " + o.Kind + " " + o.Version,
		Metadata: map[string]string{
			"lang": o.Lang, "kind": o.Kind, "task": o.Task, "seq": strconv.Itoa(o.Seq), "version": o.Version,
			"parent": o.Parent, "metrics": o.Metrics, "created": o.Created.UTC().Format(time.RFC3339Nano),
		},
	}
}

func objectFromInfo(info *jetstream.ObjectInfo) (event.ModelObject, error) {
	m := info.Metadata
	seq, err := strconv.Atoi(m["seq"])
	if err != nil || m["lang"] == "" || m["kind"] == "" || m["version"] == "" {
		return event.ModelObject{}, fmt.Errorf("model object %s: metadata %v lacks lang, kind, seq or version", info.Name, m)
	}
	created, _ := time.Parse(time.RFC3339Nano, m["created"])
	return event.ModelObject{
		Name: info.Name, Lang: m["lang"], Kind: m["kind"], Task: m["task"], Seq: seq, Version: m["version"],
		Parent: m["parent"], Metrics: m["metrics"], Created: created, Size: info.Size,
	}, nil
}

// ModelStore keeps promoted model files in a JetStream Object Store bucket
// (object store digests protect the transfer; the model file's own
// checksum, checked when it is loaded, protects the content). It owns its
// NATS connection until Close. Safe for concurrent use.
type ModelStore struct {
	nc     *nats.Conn
	os     jetstream.ObjectStore
	bucket string
	log    *slog.Logger

	mu     sync.Mutex
	puts   map[int]context.CancelCauseFunc // Puts in flight, by putSeq
	putSeq int
}

// OpenModelStore connects to NATS (cfg's URL, auth and TLS) and opens the
// bucket, creating it when missing.
func OpenModelStore(ctx context.Context, cfg Config, bucket string, opts ...Option) (*ModelStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	s := &ModelStore{bucket: bucket, log: o.logger, puts: map[int]context.CancelCauseFunc{}}
	closed := make(chan struct{}, 1)
	nopts, err := natsOptions(cfg, o.logger, closed, s.onAsyncErr)
	if err != nil {
		return nil, err
	}
	url := redact.URLs(cfg.URL)
	nc, err := nats.Connect(cfg.URL, nopts...)
	if err != nil {
		return nil, fmt.Errorf("model store: connect to nats %s: %w", url, err)
	}
	fail := func(err error) (*ModelStore, error) {
		nc.Close()
		return nil, err
	}
	if err := waitConnected(ctx, nc); err != nil {
		return fail(fmt.Errorf("model store: connect to nats %s: %w", describeConn(cfg), err))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fail(fmt.Errorf("model store: jetstream on %s: %w", url, err))
	}
	obs, err := js.ObjectStore(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		obs, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: bucket, Description: "tagstream promoted models", Storage: jetstream.FileStorage})
		if errors.Is(err, jetstream.ErrBucketExists) {
			obs, err = js.ObjectStore(ctx, bucket)
		}
	}
	if err != nil {
		return fail(fmt.Errorf("model store: bucket %s on %s: %w", bucket, url, err))
	}
	s.nc, s.os = nc, obs
	return s, nil
}

// onAsyncErr ends the Puts in flight when the server refuses a publish to
// this bucket's subjects ($O.<bucket>.>): the server only reports it
// asynchronously, and the Put would otherwise wait for acks until its ctx
// ends.
func (s *ModelStore) onAsyncErr(err error) {
	if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), "$O."+s.bucket+".") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.puts {
		cancel(err)
	}
}

// Put stores a promoted model file under obj.Name (derived from Lang, Kind
// and Seq when empty) and returns the stored description. When the server
// denies this connection's user writes to the bucket, Put returns as soon
// as the server says so, with an error wrapping nats.ErrPermissionViolation.
func (s *ModelStore) Put(ctx context.Context, obj event.ModelObject, data []byte) (event.ModelObject, error) {
	if obj.Name == "" {
		obj.Name = event.ModelObjectName(obj.Lang, obj.Kind, obj.Task, obj.Seq)
	}
	if obj.Created.IsZero() {
		obj.Created = time.Now()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	s.mu.Lock()
	s.putSeq++
	id := s.putSeq
	s.puts[id] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.puts, id)
		s.mu.Unlock()
		cancel(nil)
	}()
	info, err := s.os.Put(ctx, objectMeta(obj), bytes.NewReader(data))
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, nats.ErrPermissionViolation) {
			err = cause // this connection's user may not write the bucket
		}
		return obj, fmt.Errorf("model store %s: put %s: %w", s.bucket, obj.Name, err)
	}
	obj.Size = info.Size
	return obj, nil
}

// Get returns the bytes of the object name (the object store checks its
// digest) and its description.
func (s *ModelStore) Get(ctx context.Context, name string) ([]byte, event.ModelObject, error) {
	info, err := s.os.GetInfo(ctx, name)
	if err != nil {
		return nil, event.ModelObject{}, fmt.Errorf("model store %s: info %s: %w", s.bucket, name, err)
	}
	obj, err := objectFromInfo(info)
	if err != nil {
		return nil, event.ModelObject{}, err
	}
	data, err := s.os.GetBytes(ctx, name)
	if err != nil {
		return nil, obj, fmt.Errorf("model store %s: get %s: %w", s.bucket, name, err)
	}
	return data, obj, nil
}

// List returns every model object, sorted by lang, kind, task and seq.
func (s *ModelStore) List(ctx context.Context) ([]event.ModelObject, error) {
	infos, err := s.os.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model store %s: list: %w", s.bucket, err)
	}
	var out []event.ModelObject
	for _, info := range infos {
		obj, err := objectFromInfo(info)
		if err != nil {
			s.log.Warn("model store: skipping an object", "err", err)
			continue
		}
		out = append(out, obj)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Lang != b.Lang {
			return a.Lang < b.Lang
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Task != b.Task {
			return a.Task < b.Task
		}
		return a.Seq < b.Seq
	})
	return out, nil
}

// Watch calls fn for every object put after Watch started, until ctx ends.
// fn runs on Watch's goroutine and should not block for long.
func (s *ModelStore) Watch(ctx context.Context, fn func(event.ModelObject)) error {
	w, err := s.os.Watch(ctx, jetstream.UpdatesOnly(), jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("model store %s: watch: %w", s.bucket, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case info, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("model store %s: watch ended", s.bucket)
			}
			if info == nil {
				continue
			}
			obj, err := objectFromInfo(info)
			if err != nil {
				s.log.Warn("model store: ignoring an object", "err", err)
				continue
			}
			fn(obj)
		}
	}
}

// Close closes the connection.
func (s *ModelStore) Close() { s.nc.Close() }
