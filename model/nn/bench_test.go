package nn

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

var sinkF32 float32
var sinkF64 float64

// benchLSTM runs one direction of an LSTM forward pass (input GEMM plus
// recurrence) over batch sequences of steps tokens, in element type T.
func benchLSTM[T Float](b *testing.B, steps, batch, in, hid int) {
	rng := rand.New(rand.NewPCG(1, 2))
	mk := func(n int) []T {
		s := make([]T, n)
		for i := range s {
			s[i] = T(rng.Float64()*0.2 - 0.1)
		}
		return s
	}
	x, wx, wh, bias := mk(steps*batch*in), mk(in*4*hid), mk(hid*4*hid), mk(4*hid)
	gates := make([]T, steps*batch*4*hid)
	out := make([]T, steps*batch*hid)
	h, c := make([]T, batch*hid), make([]T, batch*hid)
	lens := make([]int32, batch)
	for i := range lens {
		lens[i] = int32(steps)
	}
	flops := float64(steps*batch) * (2*float64(in)*4*float64(hid) + 2*float64(hid)*4*float64(hid))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Affine(x, steps*batch, in, wx, bias, 4*hid, gates)
		LSTMRecur(gates, wh, steps, batch, hid, lens, false, out, hid, 0, h, c)
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(float64(steps*batch*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkLSTMForward compares float32 and float64 at the classifier's
// shapes (embedding 64, hidden 64, batch 64) for 16, 64 and 256 tokens.
func BenchmarkLSTMForward(b *testing.B) {
	for _, steps := range []int{16, 64, 256} {
		b.Run("f32/tokens="+strconv.Itoa(steps), func(b *testing.B) { benchLSTM[float32](b, steps, 64, 64, 64) })
		b.Run("f64/tokens="+strconv.Itoa(steps), func(b *testing.B) { benchLSTM[float64](b, steps, 64, 64, 64) })
	}
}

// BenchmarkActivations measures the per-element cost of the nonlinearities.
func BenchmarkActivations(b *testing.B) {
	xs32 := make([]float32, 1024)
	xs64 := make([]float64, 1024)
	for i := range xs32 {
		xs32[i] = float32(i-512) / 64
		xs64[i] = float64(i-512) / 64
	}
	b.Run("sigmoid/f32", func(b *testing.B) {
		var s float32
		for b.Loop() {
			for _, x := range xs32 {
				s += Sigmoid(x)
			}
		}
		sinkF32 = s
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(xs32)), "ns/elem")
	})
	b.Run("sigmoid/f64", func(b *testing.B) {
		var s float64
		for b.Loop() {
			for _, x := range xs64 {
				s += Sigmoid(x)
			}
		}
		sinkF64 = s
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(xs64)), "ns/elem")
	})
	b.Run("tanh/f32", func(b *testing.B) {
		var s float32
		for b.Loop() {
			for _, x := range xs32 {
				s += Tanh(x)
			}
		}
		sinkF32 = s
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(xs32)), "ns/elem")
	})
	b.Run("tanh/f64", func(b *testing.B) {
		var s float64
		for b.Loop() {
			for _, x := range xs64 {
				s += Tanh(x)
			}
		}
		sinkF64 = s
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(xs64)), "ns/elem")
	})
}
