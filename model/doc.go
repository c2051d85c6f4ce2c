// Package model holds tagstream's models: the BiLSTM sentence classifier,
// its training loop and its model files. It imports no I/O package beyond
// io: callers hand it readers and writers (a test enforces the arrows).
//
// # Lifecycle
//
// Train with TrainClassifier (or load with LoadClassifier), then Compile the
// float64 master weights into an immutable float32 CompiledClassifier and
// share it among workers. Each worker owns a ClassifierWorkspace and calls
// ClassifyBatch; after the workspace has grown to the largest batch, a call
// allocates nothing.
//
// # Invariants
//
//   - A CompiledClassifier is never written after Compile returns; training
//     updates only the Classifier's float64 weights.
//   - Embedding rows: 0 is <unk>, 1..V-1 the vocabulary, V..V+Buckets-1 the
//     hashed sub-word n-grams.
//   - Sequences are laid out time-major (row t·B+b) and sorted longest first
//     inside a batch, so recurrent products skip finished sequences.
//   - Model files are safetensors with float32 tensors; every load checks the
//     format version, payload SHA-256, metadata and tensor shapes.
package model
