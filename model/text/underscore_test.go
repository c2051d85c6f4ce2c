package text

import (
	"testing"
)

func TestJoinUnderscores(t *testing.T) {
	t.Parallel()
	on, err := New(Options{Dict: DictChars, SplitClitics: true, JoinUnderscores: true})
	if err != nil {
		t.Fatal(err)
	}
	off, err := New(Options{Dict: DictChars, SplitClitics: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf Buffer
	for _, tc := range []struct{ in, on, off string }{
		{"RT @ david_myers77 : hi", "rt @ david_myers77 : hi", "rt @ david _ myers77 : hi"},
		{"@ _Mo_lee_ where", "@ _mo_lee_ where", "@ _ mo _ lee _ where"},
		{"@ theresaaang_ ok", "@ theresaaang_ ok", "@ theresaaang _ ok"},
		{"Dark__Red_Hair's bag", "dark__red_hair 's bag", "dark __ red _ hair 's bag"},
		{"76ers_fan", "76ers_fan", "76ers _ fan"},
		{"a _ b __ c_", "a _ b __ c_", "a _ b __ c _"},
		{"@real_liam stays a mention", "<user> stays a mention", "<user> stays a mention"},
		{"北京_上海", "北 京 _ 上 海", "北 京 _ 上 海"},
	} {
		for _, c := range []struct {
			tk   *Tokenizer
			want string
		}{{on, tc.on}, {off, tc.off}} {
			toks := c.tk.Tokenize(&buf, tc.in)
			if got := texts(toks); got != c.want {
				t.Errorf("JoinUnderscores %v: Tokenize(%q) = %q, want %q", c.tk.Options().JoinUnderscores, tc.in, got, c.want)
			}
			checkOffsets(t, tc.in, toks)
			if got := texts(c.tk.Chars(&buf, tc.in)); got != c.want {
				t.Errorf("JoinUnderscores %v: Chars(%q) = %q, want %q", c.tk.Options().JoinUnderscores, tc.in, got, c.want)
			}
		}
	}
}
