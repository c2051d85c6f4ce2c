package text

import "fmt"

// Version identifies the tokenization rules implemented by this package. It
// changes whenever the same input and [Options] could produce different
// tokens, so a model file can record it next to [Tokenizer.Options] and refuse
// to run with a tokenizer it was not trained with.
const Version = 1

// Default values used for zero-valued [Options] fields.
const (
	// DefaultMaxRepeat is the default for Options.MaxRepeat.
	DefaultMaxRepeat = 3
	// DefaultDict is the default for Options.Dict.
	DefaultDict = "zh_s"
	// DictChars is the Options.Dict value that loads no dictionary: every
	// Han character is its own word. It starts instantly and saves the
	// dictionary's memory (small devices, tests, fuzzing).
	DictChars = "chars"
	// maxMaxRepeat is the largest accepted Options.MaxRepeat.
	maxMaxRepeat = 64
)

// Options configures a [Tokenizer]. The zero value means "use the defaults"
// (house style): every field's zero value is its default, so Options{} and
// [DefaultOptions] tokenize identically. Options is a plain struct that
// round-trips through encoding/json, so a model file can record the exact
// settings it was trained with (use [Tokenizer.Options], which has the
// defaults filled in).
type Options struct {
	// KeepCase keeps the letter case of Token.Text. Default false: cased
	// letters are lowercased (the original casing is still reported in
	// Token.Case).
	KeepCase bool `json:"keep_case"`

	// NoSplitHashtags disables the extra word tokens that [Tokenizer.Tokenize]
	// emits after a #hashtag. Default false: "#HappyBirthday" yields
	// "#happybirthday", "happy", "birthday".
	NoSplitHashtags bool `json:"no_split_hashtags"`

	// MaxRepeat is the maximum number of times the same letter may repeat
	// in a word token; longer runs are squeezed ("soooooo" -> "sooo" with 3).
	// 0 means DefaultMaxRepeat (3), -1 disables squeezing. Range -1..64.
	MaxRepeat int `json:"max_repeat"`

	// KeepSkinTone keeps emoji skin-tone modifiers (U+1F3FB..U+1F3FF) in
	// emoji tokens. Default false: "👍🏽" becomes "👍" (the span still
	// covers the modifier). Variation selectors (U+FE0E, U+FE0F) are always
	// dropped from emoji token text.
	KeepSkinTone bool `json:"keep_skin_tone"`

	// Dict names the gse embedded dictionary used for Chinese word
	// segmentation: "zh_s" (simplified, default), "zh_t" (traditional) or
	// "zh" (both; slower to load and about 1.5x the memory), or DictChars
	// ("chars": no dictionary, one word per character). "" means
	// DefaultDict.
	Dict string `json:"dict"`

	// SplitClitics splits English possessives and contractions into their
	// own tokens as the Penn Treebank and CoNLL-2003 do: "Obama's" ->
	// "obama", "'s"; "don't" -> "do", "n't"; also 're, 've, 'll, 'd and 'm,
	// with any apostrophe (' ’ ‘ ʼ). A clitic standing alone after a space
	// or at the start of the text ("Obama 's") is one token too. Default
	// false (the tokenization of models trained before it existed);
	// tagstream's training commands set it.
	SplitClitics bool `json:"split_clitics,omitempty"`

	// CompoundWords keeps as one token what CoNLL and Penn Treebank data
	// (and tweet NER data) have as one: words joined by underscores, as in
	// user names ("david_myers77", "_mo_lee_"); hyphenated compounds
	// ("coca-cola", "chester-le-street", "2-year-old"); abbreviations and
	// initials with their periods ("u.s.", "p.", "e.g."); and numbers
	// joined by hyphens (dates, scores and ranges: "1996-08-30", "4-38"),
	// which stay one number. Default false: each of those is several
	// tokens (the tokenization of models trained before it existed);
	// `train ner` sets it.
	CompoundWords bool `json:"compound_words,omitempty"`
}

// DefaultOptions returns the default options with every default filled in
// explicitly. It is equivalent to Options{}.
func DefaultOptions() Options {
	return Options{MaxRepeat: DefaultMaxRepeat, Dict: DefaultDict}
}

// Validate reports whether o is usable, naming the offending field, value
// and limit. Errors wrap [ErrInvalidOption].
func (o Options) Validate() error {
	if o.MaxRepeat < -1 || o.MaxRepeat > maxMaxRepeat {
		return fmt.Errorf("%w: MaxRepeat %d out of range [-1, %d]", ErrInvalidOption, o.MaxRepeat, maxMaxRepeat)
	}
	switch o.Dict {
	case "", "zh", "zh_s", "zh_t", DictChars:
	default:
		return fmt.Errorf("%w: Dict %q is not one of \"zh_s\", \"zh_t\", \"zh\", \"chars\"", ErrInvalidOption, o.Dict)
	}
	return nil
}

// withDefaults returns o with zero-valued fields replaced by their defaults.
func (o Options) withDefaults() Options {
	if o.MaxRepeat == 0 {
		o.MaxRepeat = DefaultMaxRepeat
	}
	if o.Dict == "" {
		o.Dict = DefaultDict
	}
	return o
}
