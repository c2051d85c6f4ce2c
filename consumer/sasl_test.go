package consumer

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestSASL consumes through kfake with SASL enabled, one mechanism each.
func TestSASL(t *testing.T) {
	t.Parallel()
	for _, mech := range []string{SASLPlain, SASLScramSHA256, SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			sc := SASLConfig{Mechanism: mech, Username: "tagstream", Password: "s3cret"}
			k := newTestKafka(t, 1, 1, kfake.EnableSASL(), kfake.Superuser(mech, sc.Username, sc.Password))
			m, err := newSASLMechanism(sc)
			if err != nil {
				t.Fatal(err)
			}
			k.transport.SASL = m
			k.produce(t, jsonMsgs(k.topics[0], 1, 3)...)
			cfg := k.config("sasl-" + k.topics[0])
			cfg.SASL = sc
			c := newTestConsumer(t, cfg)
			if recs := fetchN(t, c, 3, 20*time.Second); len(recs) != 3 {
				t.Fatalf("got %d records", len(recs))
			}
		})
	}
}
