package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConsoleSeesTheFleet: two instances in one consumer group, each with
// its console. Each processes only its partitions, yet either console shows
// every result (they read the result subjects on NATS, not their own
// pipeline), and says so.
func TestConsoleSeesTheFleet(t *testing.T) {
	t.Parallel()
	p := startTwoInstances(t)
	a, b, kafkaAddr, httpA, httpB := p.a, p.b, p.kafkaAddr, p.httpA, p.httpB
	get := func(addr, path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	// Both in the group, each with some partitions, before the events.
	for _, addr := range []string{httpA, httpB} {
		pollUntil(t, 60*time.Second, func() error {
			if body := get(addr, "/readyz"); !strings.Contains(body, "ready") || strings.Contains(body, "not ready") {
				return fmt.Errorf("%s: %s", addr, body)
			}
			return nil
		})
	}
	pollUntil(t, 60*time.Second, func() error {
		if n := strings.Count(a.stderr.String()+b.stderr.String(), "consumer group assignment"); n < 3 { // a alone, then a and b
			return fmt.Errorf("%d assignments logged", n)
		}
		return nil
	})
	const n = 200
	if _, stderr, err := runTool(t, "", "produce", "--brokers", kafkaAddr, "--topic", "tagstream.events", "--demo", fmt.Sprint(n)); err != nil {
		t.Fatalf("produce: %v\n%s", err, stderr)
	}
	published := func(addr string) float64 {
		return sumMetric(get(addr, "/metrics"), "tagstream_results_published_total")
	}
	pollUntil(t, 60*time.Second, func() error {
		if pa, pb := published(httpA), published(httpB); pa+pb != n {
			return fmt.Errorf("published a %v + b %v, want %d", pa, pb, n)
		}
		return nil
	})
	pa, pb := published(httpA), published(httpB)
	if pa == 0 || pb == 0 {
		t.Fatalf("one instance did all the work (a %v, b %v): the test needs both", pa, pb)
	}
	for _, addr := range []string{httpA, httpB} {
		pollUntil(t, 30*time.Second, func() error {
			var st struct {
				Scope     string `json:"scope"`
				ScopeNote string `json:"scope_note"`
				Totals    struct {
					Results int `json:"results"`
				} `json:"totals"`
			}
			if err := json.Unmarshal([]byte(get(addr, "/api/v1/state")), &st); err != nil {
				return err
			}
			if st.Totals.Results != n || st.Scope != "fleet" || !strings.Contains(st.ScopeNote, "every instance") {
				return fmt.Errorf("console of %s: %d results, scope %q (%s); want all %d of the fleet", addr, st.Totals.Results, st.Scope, st.ScopeNote, n)
			}
			return nil
		})
	}
	t.Logf("instance a published %v, b %v; both consoles show all %d", pa, pb, n)
	a.cancel()
	b.cancel()
	_ = a.wait(t, 60*time.Second)
	_ = b.wait(t, 60*time.Second)
}
