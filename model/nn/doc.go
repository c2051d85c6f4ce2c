// Package nn is tagstream's numeric core on gonum: GEMM, embedding bags,
// masked uni- and bidirectional LSTMs with fused gates, dense layers,
// max/mean pooling, softmax cross-entropy, dropout, a linear-chain CRF with
// hard transition masks and Viterbi decoding, a character CNN word encoder
// and the Adam optimizer.
//
// Training runs in float64 with forward and backward passes (every layer is
// checked against finite differences in the tests); inference runs the same
// generic forward kernels in float32 with fast exponentials.
//
// # Layout and aliasing
//
// Matrices are row-major []T slices. Sequences are time-major: row t·B+b is
// step t of sequence b. Outputs may be written into a column range of a wider
// matrix (ldo, off) so a BiLSTM concatenates directions without copies.
// Receivers must not overlap inputs.
//
// # Allocation
//
// Gemm never allocates or spawns goroutines. When the CPU has AVX2 and FMA,
// float32 products without transposes (inference) and float64 products of
// every transposition (training) run micro-kernels in Go assembly
// (sgemm_amd64.s and dgemm_amd64.s, both written by one generator,
// sgemm_gen.go with dgemm_gen.go's float64 settings); float32 products with
// a transpose, and every product in builds for other architectures or with
// the purego tag, run gonum on its serial path. Forward kernels write
// into caller-owned buffers, so a worker that reuses its buffers allocates
// nothing per batch. Functions panic only on programmer errors such as
// buffers too small for the stated shapes.
package nn
