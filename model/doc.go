// Package model holds tagstream's models and everything that trains,
// evaluates, fine-tunes and stores them: the sentence classifier, the
// named-entity tagger, the language models that pretrain their encoders,
// the analyzer that runs classifiers and a tagger together, the online
// fine-tuning guards and int8 quantization. Text handling is in subpackage
// text, the layers (LSTM, CRF, Adam, kernels) in nn, scoring in metrics,
// data files in dataset and the file container in safetensors.
//
// The package imports no I/O package beyond io: callers hand it readers and
// writers (a test enforces the arrows), and internal/modelfile adds paths.
//
// # Classifier
//
// A BiLSTM over word and hashed sub-word embeddings with max- and
// mean-pooling, then a softmax over the labels. Train with TrainClassifier
// (or load with LoadClassifier), Compile the float64 master weights into
// an immutable float32 CompiledClassifier, and share that among workers;
// each worker owns a ClassifierWorkspace and calls ClassifyBatch.
// CompiledClassifier.Evaluate gives accuracy and macro precision, recall
// and F1.
//
// # Tagger
//
// A BiLSTM-CRF for named entities over the tokens of its view: English
// words (embeddings and a character CNN), or Chinese characters (with
// hashed bigram rows and gse lexicon word-match features). TrainTagger reads tagged
// sentences from one or several data sets: each TaggedSentence may carry
// the DataTypeMap of its set, which maps the set's types onto the model's
// and marks what the set does not annotate, so that the CRF is trained on
// the tag sets each token allows (CRF.NLLPartial) instead of treating an
// unannotated span as O. Compile gives a CompiledTagger with TagBatch;
// entities come back with rune offsets into the text, unified types
// (PER/LOC/ORG/MISC after the model's type map) and the nominal flag.
// EvaluateSentences, EvaluateEntities and EvaluateGoldTypesOnly score it.
//
// # Language models
//
// TrainLM trains a forward and a backward LSTM language model (sampled
// softmax) on unlabelled text; ReplaceEncoder and the --init of training
// put its encoder into a classifier or tagger. The pipeline's pretraining
// job refreshes one on the live stream and keeps a round only when the
// held-out perplexity does not rise.
//
// # Analyzer
//
// NewTaskAnalyzer joins the compiled classifiers of one language (tasks,
// single- or multi-label, any number) and its tagger (or none); NewAnalyzer
// is the one-classifier form. Analyze tokenizes each text once per
// distinct tokenizer setting among the models (once for the built-in
// models of a language, which share theirs), builds every classifier's
// embedding bags from its setting's tokens, and tags the character view
// derived from the tagger's (CharView);
// the classifiers run one after another in one scratch memory. It is what
// the pipeline's workers, predict and the benchmarks run.
//
// # Fine-tuning and guards
//
// FineTuneClassifier and FineTuneTagger continue training from a model on
// feedback mixed with replayed original data (a multi-label classifier
// with its sigmoid loss, keeping its thresholds); Guard and GuardTagger
// decide whether the candidate may replace the model in service:
// significantly better on held-out feedback (McNemar's test, p < 0.01, so
// random labels do not pass) and not worse than MaxRegression on a fixed
// guard set. A multi-label example counts as right only when the
// predicted label set equals its gold set.
//
// # Quantization
//
// Quantize rewrites a model file with its large matrices as int8 and one
// scale per row; loading dequantizes, so inference is unchanged apart from
// the rounding and the file is about four times smaller.
//
// # Invariants
//
//   - A compiled model is never written after Compile returns; training and
//     fine-tuning update only the float64 master weights and compile anew.
//     Swapping models is swapping pointers to compiled models.
//   - Hot paths allocate nothing once a workspace has grown to the largest
//     batch (tests count allocations).
//   - Embedding rows: 0 is <unk>, 1..V-1 the vocabulary, V..V+Buckets-1 the
//     hashed sub-word n-grams.
//   - Sequences are laid out time-major (row t·B+b) and sorted longest first
//     inside a batch, so recurrent products skip finished sequences.
//   - Every layer has a gradient check; training is reproducible for a seed
//     and a worker count.
//   - Model files are safetensors with float32 (or int8 and scale) tensors;
//     every load checks the format version, payload SHA-256, metadata,
//     tokenizer options and tensor shapes, and names the file in its error.
//     Tokenizers that share a dictionary are shared through TokenizerCache.
package model
