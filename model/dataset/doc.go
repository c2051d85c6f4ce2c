// Package dataset reads labelled training and evaluation data for the
// text classifier (ReadClassification) and the NER tagger (ReadNER), and
// hashes it (HashExamples, HashNERExamples) so a model file can record the
// data it was trained on.
//
// # Formats
//
// Classification: JSON Lines with string fields "text" and "label" (or, for
// multi-label data, "labels": a non-empty array of distinct strings, as
// GoEmotions), or CSV (RFC 4180, via encoding/csv) whose header row names a
// "text" and a "label" column in any order. NER: JSON Lines with string arrays "tokens"
// and "tags", or CoNLL column files (whitespace-separated columns, token
// first, tag last, a blank line between sentences, "-DOCSTART-" lines
// skipped). Tags must be "O", "B-TYPE" or "I-TYPE".
//
// With FormatAuto the format comes from the name's extension and, failing
// that, from the first non-space byte ('{' means JSON Lines). A UTF-8 byte
// order mark at the start is dropped, CRLF line ends are accepted, and
// blank lines are ignored (in CoNLL they separate sentences).
//
// # Bad records
//
// A record that is malformed, lacks a field, has an empty or wrongly typed
// field, or is not valid UTF-8 is reported with its 1-based line number as
// a *LineError. By default it is skipped and counted in Report; with
// Options.Strict the read stops and returns an error naming the input, the
// line and the reason. I/O errors and ErrFormat always stop the read.
//
// The readers hold no state between calls and are safe for concurrent use
// on different readers. Returned slices belong to the caller.
package dataset
