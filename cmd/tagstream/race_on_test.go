//go:build race

package main

// raceEnabled: the race detector slows model loading about tenfold, so
// wall-clock bounds are relaxed (and the unrelaxed run is reported).
const raceEnabled = true
