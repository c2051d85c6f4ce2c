// Package console is tagstream's web console: a page served by the binary
// (assets embedded, no build step) and its JSON API under /api/v1/. It
// shows the stream live (rates, latency, label mix per task, entity types,
// the models in service), the recent results and dead letters, runs the
// models on a typed text, offers the results the models were least sure
// of for review (each answer goes to the feedback topic as a correction),
// and promotes and rolls back models in the bucket.
//
// It speaks to no transport itself: the process feeds it every published
// result and dead letter (Observe; the server subscribes to the result and
// dead-letter subjects on NATS, so the console of any instance or of the
// trainer sees the whole fleet), and a Backend runs the models, writes
// feedback and reaches the model bucket.
//
// Security: writes (feedback, promote, rollback) need the token
// (Authorization: Bearer) and are disabled without one; reads from another
// host than loopback need the token too unless Options.Open. Every text is
// rendered by the page as text (textContent), and a Content-Security-Policy
// forbids inline script.
package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tagstream/tagstream/event"
)

//go:embed static
var static embed.FS

// TaskInfo describes one task for the page: its labels per language and
// which languages' models are multi-label (a task may have a multi-label
// model in one language and a single-label one in another); Multi says
// every language's is.
type TaskInfo struct {
	Multi      bool                `json:"multi"`
	MultiLangs map[string]bool     `json:"multi_langs"`
	Langs      map[string][]string `json:"langs"`
}

// Backend is what the console needs from the process.
type Backend interface {
	// Tasks returns the route task and every task with its labels.
	Tasks() (route string, tasks map[string]TaskInfo)
	// Analyze runs the models in service on text (lang "" detects it).
	Analyze(ctx context.Context, text, lang string) (*event.Result, error)
	// SendFeedback checks a correction (the feedback topic's JSON) as the
	// trainer would and writes it to the feedback topic; an error wrapping
	// ErrBadInput is the caller's fault.
	SendFeedback(ctx context.Context, value []byte) error
	// Models lists the model bucket (nil, nil without one).
	Models(ctx context.Context) ([]event.ModelObject, error)
	// Promote makes version the newest promotion of task; Rollback
	// promotes the parent of the newest promotion of task and lang. They
	// return a message for the user.
	Promote(ctx context.Context, version, task string) (string, error)
	Rollback(ctx context.Context, task, lang string) (string, error)
	// Rounds returns this process's fine-tuning rounds, newest first
	// (none without a trainer here).
	Rounds() []Round
}

// Round is one fine-tuning round's decision.
type Round struct {
	Task     string    `json:"task"`
	Lang     string    `json:"lang"`
	Kind     string    `json:"kind"`
	Decision string    `json:"decision"` // "promoted" or "rejected"
	Reason   string    `json:"reason"`
	Version  string    `json:"version,omitempty"`
	Base     string    `json:"base"`
	Examples int       `json:"examples"`
	At       time.Time `json:"at"`
}

// ErrBadInput marks a Backend error caused by the request (answered 400).
var ErrBadInput = errors.New("bad input")

// Options configure a Console.
type Options struct {
	// Instance names this process (its HTTP address).
	Instance string
	// Fleet says Observe sees every instance's results (from NATS);
	// ScopeNote says so, or not, in one sentence on the page.
	Fleet     bool
	ScopeNote string
	// TextShown says results carry their text (output.include_text).
	TextShown bool
	// HideTexts drops every event text as it arrives: results keep no
	// text and dead letters no preview of their raw value.
	HideTexts bool
	// Token enables writes (and remote reads); "" disables writes.
	Token string
	// Open serves reads to any host without the token.
	Open bool
	// MaxAnalyze bounds concurrent try-a-text requests (default 2).
	MaxAnalyze int
	// DecodePerSec is how many results a second are decoded (default
	// 200); the rest of a flood is counted only (see ObserveResult).
	DecodePerSec int
	Log          *slog.Logger
	Now          func() time.Time
}

// Console holds the recent stream and serves the page and the API. Observe
// and the handlers are safe for concurrent use.
type Console struct {
	opt     Options
	be      Backend
	analyze chan struct{}
	done    chan struct{} // closed by Close: event streams end
	once    sync.Once

	mu           sync.Mutex
	seq          int64
	results      []*Result
	dead         []*DeadLetter
	secs         [seriesSecs]second
	mix          [mixBuckets]mix
	inService    map[modelSlot]served
	totalResults int
	totalDead    int
	answered     map[string]bool // review items answered here
	sent         int             // corrections sent from this console
	sinceSeq     int             // the newest promotion's seq seen, and
	sinceSent    int             // corrections sent since it
	newest       string          // name of the newest bucket object seen
}

// New returns a Console.
func New(be Backend, opt Options) *Console {
	if opt.MaxAnalyze <= 0 {
		opt.MaxAnalyze = 2
	}
	if opt.DecodePerSec <= 0 {
		opt.DecodePerSec = decodePerSec
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Console{opt: opt, be: be, analyze: make(chan struct{}, opt.MaxAnalyze), done: make(chan struct{}), inService: map[modelSlot]served{}, answered: map[string]bool{}}
}

// Close ends the open event streams (so that an HTTP server's Shutdown
// does not wait for them). The handlers keep answering other requests.
func (c *Console) Close() { c.once.Do(func() { close(c.done) }) }

// Observe records one published message: a result or a dead letter, as
// JSON (what tail prints with --raw). Anything else is ignored. A caller
// that knows which it is (the subject) calls ObserveResult or
// ObserveDeadLetter, which read less.
func (c *Console) Observe(data []byte) {
	now := c.opt.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observe(data, now)
}

// ObserveResult records a published result. Every result is counted; only
// the first DecodePerSec of each second are decoded (outside the lock), so
// a flood costs the console a count each.
func (c *Console) ObserveResult(data []byte) {
	now := c.opt.Now()
	c.mu.Lock()
	decode := c.countResult(now)
	c.mu.Unlock()
	if !decode {
		return
	}
	r := decodeResult(data)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.storeResult(r, now)
}

// ObserveDeadLetter records a published dead letter.
func (c *Console) ObserveDeadLetter(data []byte) {
	now := c.opt.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observeDead(data, now)
}

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Handler returns the console's handler: the page at "/", its assets under
// "/static/", the API under "/api/v1/".
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	files := http.FileServerFS(sub)
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, sub, "index.html")
	})
	mux.HandleFunc("GET /api/v1/state", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, c.state(r.Context())) })
	mux.HandleFunc("GET /api/v1/events", c.events)
	mux.HandleFunc("GET /api/v1/results", c.listResults)
	mux.HandleFunc("GET /api/v1/deadletters", c.listDead)
	mux.HandleFunc("POST /api/v1/analyze", c.tryText)
	mux.HandleFunc("GET /api/v1/review/next", c.reviewNext)
	mux.HandleFunc("POST /api/v1/feedback", c.write(c.feedback))
	mux.HandleFunc("GET /api/v1/models", c.models)
	mux.HandleFunc("POST /api/v1/models/promote", c.write(c.promote))
	mux.HandleFunc("POST /api/v1/models/rollback", c.write(c.rollback))
	return c.guard(mux)
}

// guard sets the security headers and refuses remote reads without the
// token (unless Open).
func (c *Console) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if !c.opt.Open && !loopback(r.RemoteAddr) && !c.tokenOK(r) {
			writeJSON(w, http.StatusForbidden, errorBody("the console answers other hosts than loopback only with the token (or http.console_open)"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Console) tokenOK(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && c.opt.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.opt.Token)) == 1
}

// write wraps a write handler: 403 without a configured token, 401 without
// the right one, a bounded body.
func (c *Console) write(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case c.opt.Token == "":
			writeJSON(w, http.StatusForbidden, errorBody("writes are disabled: set http.token"))
			return
		case !c.tokenOK(r):
			writeJSON(w, http.StatusUnauthorized, errorBody("token missing or wrong (Authorization: Bearer <http.token>)"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		h(w, r)
	}
}

type errBody struct {
	Error string `json:"error"`
}

func errorBody(msg string) errBody { return errBody{Error: msg} }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body of at most 64 KiB into v, answering 400 itself
// when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		msg := "bad JSON: " + err.Error()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			msg = fmt.Sprintf("body over %d bytes", mbe.Limit)
		}
		writeJSON(w, http.StatusBadRequest, errorBody(msg))
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeJSON(w, http.StatusBadRequest, errorBody("bad JSON: one object expected"))
		return false
	}
	return true
}
