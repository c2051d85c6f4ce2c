package bench

import (
	"os"
	"testing"
)

func TestPeakRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("no /proc here (%v): peak_rss_mb is reported as 0", err)
	}
	ballast := make([]byte, 64<<20)
	for i := range ballast {
		ballast[i] = 1 // touched: resident
	}
	got := peakRSSMB()
	if got < 64 || got > 1<<20 {
		t.Fatalf("peak RSS %.1f MiB with a 64 MiB ballast resident", got)
	}
	_ = ballast[len(ballast)-1]
}
