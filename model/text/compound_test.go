package text

import (
	"testing"
)

func TestCompoundWords(t *testing.T) {
	t.Parallel()
	on, err := New(Options{Dict: DictChars, SplitClitics: true, CompoundWords: true})
	if err != nil {
		t.Fatal(err)
	}
	off, err := New(Options{Dict: DictChars, SplitClitics: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf Buffer
	for _, tc := range []struct{ in, on, off string }{
		// user names with underscores
		{"RT @ david_myers77 : hi", "rt @ david_myers77 : hi", "rt @ david _ myers77 : hi"},
		{"@ _Mo_lee_ where", "@ _mo_lee_ where", "@ _ mo _ lee _ where"},
		{"@ theresaaang_ ok", "@ theresaaang_ ok", "@ theresaaang _ ok"},
		{"Dark__Red_Hair's bag", "dark__red_hair 's bag", "dark __ red _ hair 's bag"},
		{"76ers_fan", "76ers_fan", "76ers _ fan"},
		{"a _ b __ c_", "a _ b __ c_", "a _ b __ c _"},
		{"@real_liam stays a mention", "<user> stays a mention", "<user> stays a mention"},
		// hyphenated compounds
		{"Chester-le-Street ex-England", "chester-le-street ex-england", "chester - le - street ex - england"},
		{"Coca‐Cola's 2-year-old Jay-Z", "coca‐cola 's 2-year-old jay-z", "coca ‐ cola 's <num> - year - old jay - z"},
		{"well- done -- no - way", "well - done -- no - way", "well - done -- no - way"},
		// abbreviations and initials
		{"the U.S. Open", "the u.s. open", "the u . s . open"},
		{"P. Simmons e.g. T.O'Gorman", "p. simmons e.g. t. o'gorman", "p . simmons e . g . t . o'gorman"},
		{"No. 1 plan B", "no . <num> plan b", "no . <num> plan b"},
		// numbers joined by hyphens stay one number
		{"NEW YORK 1996-08-30 4-38 81-3 .", "new york <num> <num> <num> .", "new york <num> - <num> - <num> <num> - <num> <num> - <num> ."},
		{"北京_上海 北京-上海", "北 京 _ 上 海 北 京 - 上 海", "北 京 _ 上 海 北 京 - 上 海"},
	} {
		for _, c := range []struct {
			tk   *Tokenizer
			want string
		}{{on, tc.on}, {off, tc.off}} {
			toks := c.tk.Tokenize(&buf, tc.in)
			if got := texts(toks); got != c.want {
				t.Errorf("CompoundWords %v: Tokenize(%q) = %q, want %q", c.tk.Options().CompoundWords, tc.in, got, c.want)
			}
			checkOffsets(t, tc.in, toks)
			if got := texts(c.tk.Chars(&buf, tc.in)); got != c.want {
				t.Errorf("CompoundWords %v: Chars(%q) = %q, want %q", c.tk.Options().CompoundWords, tc.in, got, c.want)
			}
		}
	}
}
