// Package metrics computes evaluation metrics for the classifier and the
// NER tagger, with the semantics of the reference tools so numbers can be
// compared with published results.
//
// Classification scores (Classify) follow scikit-learn's
// precision_recall_fscore_support with labels set to every label index and
// zero_division=0: a ratio whose denominator is zero is 0. Macro averages
// are unweighted means over all labels, including labels that occur neither
// in gold nor in predictions (scikit-learn would drop those unless they are
// passed in labels explicitly).
//
// NER scores (Entities, EvalNER) follow conlleval and seqeval's default
// (non-strict) mode: entities are exact (type, start, end) matches, and
// precision, recall and F1 are micro-averaged over all entities.
//
// All scores are fractions in [0, 1], not percentages. The functions are
// pure: they keep no state and are safe for concurrent use. Inputs are
// never modified.
package metrics
