package text

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSplitClitics(t *testing.T) {
	t.Parallel()
	tk, err := New(Options{Dict: DictChars, SplitClitics: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf Buffer
	tests := []struct {
		name, in, want string
		spans          string // rune spans of the tokens, "start:end" space-separated; "" = not checked
	}{
		{"possessive", "Barack Obama's new podcast", "barack obama 's new podcast", "0:6 7:12 12:14 15:18 19:26"},
		{"curly possessive", "Apple\u2019s CEO", "apple 's ceo", "0:5 5:7 8:11"},
		{"left single quote", "Apple\u2018s", "apple 's", ""},
		{"modifier apostrophe", "Apple\u02bcs", "apple 's", ""},
		{"upper possessive", "OBAMA'S", "obama 's", ""},
		{"negation", "don't", "do n't", "0:2 2:5"},
		{"cannot", "can't won't isn't", "ca n't wo n't is n't", ""},
		{"curly negation", "didn\u2019t", "did n't", ""},
		{"are", "they're", "they 're", ""},
		{"have", "should've", "should 've", ""},
		{"will", "we'll", "we 'll", ""},
		{"would", "she'd", "she 'd", ""},
		{"am", "I'm", "i 'm", "0:1 1:3"},
		{"standalone after space", "Obama 's", "obama 's", "0:5 6:8"},
		{"standalone at start", "'s", "'s", "0:2"},
		{"standalone negation", "n't", "n't", "0:3"},
		{"not a clitic", "O'Brien rock'n'roll y'all", "o'brien rock'n'roll y'all", ""},
		{"quote not clitic", "'sure' he said", "' sure ' he said", ""},
		{"quoted d after punct", "(\"'d\")", "( \" ' d \" )", ""},
		{"plural possessive", "students' rights", "students ' rights", ""},
		{"digits", "90's music", "90 's music", ""},
		{"hashtag possessive", "#Ukraine's", "#ukraine ukraine 's", ""},
		{"mention possessive", "@bob's", "<user> 's", ""},
		{"zh around", "我爱Apple's产品", "我 爱 apple 's 产 品", ""},
		{"clitic only letters", "it'sx", "it'sx", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			toks := tk.Tokenize(&buf, tc.in)
			if got := texts(toks); got != tc.want {
				t.Errorf("Tokenize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			checkOffsets(t, tc.in, toks)
			if tc.spans != "" {
				var sp []string
				for _, tok := range toks {
					sp = append(sp, fmt.Sprintf("%d:%d", tok.Start, tok.End))
				}
				if got := strings.Join(sp, " "); got != tc.spans {
					t.Errorf("spans of %q = %s, want %s", tc.in, got, tc.spans)
				}
			}
			if got := texts(tk.Chars(&buf, tc.in)); !strings.Contains(tc.in, "#") && got != tc.want {
				t.Errorf("Chars(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// Without SplitClitics the tokenization of earlier models is unchanged.
func TestCliticsOffByDefault(t *testing.T) {
	t.Parallel()
	tk, err := New(Options{Dict: DictChars})
	if err != nil {
		t.Fatal(err)
	}
	var buf Buffer
	in := "Obama's team don't 's"
	if got, want := texts(tk.Tokenize(&buf, in)), "obama's team don't ' s"; got != want {
		t.Errorf("Tokenize(%q) = %q, want %q", in, got, want)
	}
}

// TestWithOptions checks that a tokenizer derived from a loaded one shares
// its dictionary and tokenizes as one built by New with the same options,
// and that a different dictionary or an invalid option is refused.
func TestWithOptions(t *testing.T) {
	t.Parallel()
	base := testTokenizer(t)
	opts := base.Options()
	opts.SplitClitics = true
	derived, err := base.WithOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	if derived.seg != base.seg {
		t.Error("WithOptions loaded a second dictionary")
	}
	fresh, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var b1, b2 Buffer
	for _, s := range []string{"Barack Obama's new podcast", "马云在杭州创办了阿里巴巴, isn't it", "联合国秘书长访问了非洲 #Weibo's"} {
		if got, want := texts(derived.Tokenize(&b1, s)), texts(fresh.Tokenize(&b2, s)); got != want {
			t.Errorf("derived %q = %q, New gives %q", s, got, want)
		}
		if got, want := texts(derived.Chars(&b1, s)), texts(fresh.Chars(&b2, s)); got != want {
			t.Errorf("derived chars %q = %q, New gives %q", s, got, want)
		}
	}
	if derived.Options() != fresh.Options() {
		t.Errorf("options %+v, New gives %+v", derived.Options(), fresh.Options())
	}
	other := opts
	other.Dict = DictChars
	if _, err := base.WithOptions(other); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("another dictionary: err = %v, want ErrInvalidOption", err)
	}
	bad := opts
	bad.MaxRepeat = -2
	if _, err := base.WithOptions(bad); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("invalid option: err = %v, want ErrInvalidOption", err)
	}
}
