//go:build !race

package nn

// raceEnabled is true under the race detector, which slows the Go reference
// and fallback loops about tenfold; long sweeps use smaller shapes then.
const raceEnabled = false
