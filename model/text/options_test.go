package text

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr string // substring; "" means valid
	}{
		{"zero", Options{}, ""},
		{"defaults", DefaultOptions(), ""},
		{"no squeeze", Options{MaxRepeat: -1}, ""},
		{"max repeat too small", Options{MaxRepeat: -2}, "MaxRepeat -2 out of range [-1, 64]"},
		{"max repeat too large", Options{MaxRepeat: 65}, "MaxRepeat 65 out of range [-1, 64]"},
		{"dict zh", Options{Dict: "zh"}, ""},
		{"dict zh_t", Options{Dict: "zh_t"}, ""},
		{"dict unknown", Options{Dict: "ja"}, `Dict "ja"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.opts.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want ErrInvalidOption containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{Dict: "nope"}); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("New(invalid) error = %v, want ErrInvalidOption", err)
	}
}

func TestOptionsRecorded(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	got := tk.Options()
	if got != DefaultOptions() {
		t.Fatalf("Options() = %+v, want %+v", got, DefaultOptions())
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("marshal options: %v", err)
	}
	const want = `{"keep_case":false,"no_split_hashtags":false,"max_repeat":3,"keep_skin_tone":false,"dict":"zh_s"}`
	if string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var back Options
	if err := json.Unmarshal(b, &back); err != nil || back != got {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, got)
	}
}

// TestOptionsBehaviour covers the non-default settings without loading
// another dictionary: the options only affect the scanner, so a copy of the
// shared Tokenizer with different opts is equivalent to New(opts).
func TestOptionsBehaviour(t *testing.T) {
	t.Parallel()
	base := testTokenizer(t)
	tests := []struct {
		name string
		opts Options
		in   string
		want string
	}{
		{"keep case", Options{KeepCase: true, MaxRepeat: 3}, "Hello #NBA", "Hello #NBA NBA"},
		{"no hashtag split", Options{NoSplitHashtags: true, MaxRepeat: 3}, "#HappyDay", "#happyday"},
		{"no squeeze", Options{MaxRepeat: -1}, "soooooo", "soooooo"},
		{"squeeze 1", Options{MaxRepeat: 1}, "soooooo good", "so god"},
		{"skin tone", Options{KeepSkinTone: true, MaxRepeat: 3}, "👍🏽", "👍🏽"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tk := &Tokenizer{opts: tt.opts, seg: base.seg}
			var b Buffer
			if got := texts(tk.Tokenize(&b, tt.in)); got != tt.want {
				t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDictChars(t *testing.T) {
	t.Parallel()
	tok, err := New(Options{Dict: DictChars})
	if err != nil {
		t.Fatal(err)
	}
	var buf Buffer
	toks := tok.Tokenize(&buf, "北京欢迎你 hi")
	var han []string
	for _, tk := range toks {
		if tk.Kind == Han {
			han = append(han, tk.Text)
		}
	}
	if strings.Join(han, "|") != "北|京|欢|迎|你" {
		t.Fatalf("DictChars Han tokens %q, want one per character", han)
	}
	for _, tk := range tok.Chars(&buf, "北京") {
		if tk.Seg != SegS {
			t.Fatalf("DictChars char %q has position %v, want S", tk.Text, tk.Seg)
		}
	}
}
