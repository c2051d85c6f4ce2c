package text

import (
	"fmt"
	"strings"
	"testing"
)

func TestTokenizeRules(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"spaces only", " \t\n\u200b\ufeff ", ""},
		{"lowercase", "Hello WORLD iPhone", "hello world iphone"},
		{"apostrophe kept", "I don't think it's fine", "i don't think it's fine"},
		{"curly apostrophe unified", "don\u2019t", "don't"},
		{"trailing apostrophe split", "students' rights", "students ' rights"},
		{"elongation squeezed", "soooooo goood", "sooo goood"},
		{"hyphen splits", "well-known", "well - known"},
		{"bang run", "wow!!!!", "wow !!"},
		{"single bang", "wow!", "wow !"},
		{"double bang", "wow!!", "wow !!"},
		{"mixed bang query", "what?!?!", "what ?!"},
		{"dots", "wait...", "wait ..."},
		{"long dots", "wait.......", "wait ..."},
		{"unicode ellipsis", "wait…", "wait ..."},
		{"double ellipsis zh", "好……", "好 ..."},
		{"ideographic stops", "好。。。", "好 ..."},
		{"sentence stop", "end.", "end ."},
		{"other run", "hmm----", "hmm --"},
		{"url http", "see https://t.co/AbC123 now", "see <url> now"},
		{"url trailing period", "go to http://x.com/a.", "go to <url> ."},
		{"url www", "www.example.com/path?q=1, ok", "<url> , ok"},
		{"url parens kept", "(https://en.wikipedia.org/wiki/Go_(game))", "( <url> )"},
		{"url bare", "link bit.ly/abc ok", "link <url> ok"},
		{"not url", "e.g. this", "e . g . this"},
		{"url in zh", "看这个https://t.co/x很好", "看 这个 <url> 很 好"},
		{"mention", "@john_doe hi @Jane", "<user> hi <user>"},
		{"email is not mention", "me@example", "me @ example"},
		{"mention weibo", "@张三 你好", "<user> 你好"},
		{"hashtag lower", "#happybirthday", "#happybirthday happybirthday"},
		{"hashtag camel", "#HappyBirthdayRemus", "#happybirthdayremus happy birthday remus"},
		{"hashtag acronym", "#NHLPlayoffs", "#nhlplayoffs nhl playoffs"},
		{"hashtag digits", "#Rio2016", "#rio2016 rio <num>"},
		{"hashtag underscore", "#good_vibes", "#good_vibes good vibes"},
		{"hashtag number only", "#1 fan", "# <num> fan"},
		{"hashtag weibo", "#话题#", "# 话题 #"},
		{"numbers", "1,000.50 and 10:30 and 3.14", "<num> and <num> and <num>"},
		{"ordinal word", "7th covid19", "7th covid19"},
		{"number then dot", "1.接电源", "<num> . 接电源"},
		{"fullwidth", "ＨＥＬＬＯ １２３", "hello <num>"},
		{"ligature", "ﬁne", "fine"},
		{"circled digits", "①②", "<num>"},
		{"emoji", "lol😂😂", "lol 😂 😂"},
		{"emoji skin tone dropped", "👍🏽", "👍"},
		{"emoji zwj family", "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"},
		{"emoji vs16 dropped", "❤\ufe0f", "❤"},
		{"emoji flag", "🇨🇳🇺🇸", "🇨🇳 🇺🇸"},
		{"emoji keycap", "1\ufe0f\u20e3", "1\u20e3"},
		{"emoji zwj skin", "👩🏽\u200d💻", "👩\u200d💻"},
		{"emoji tag flag", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"},
		{"emoticons", ":) :-( :D <3 ;) xD ^_^ T_T", ":) :-( :d <3 ;) xd ^_^ t_t"},
		{"emoticon glued", "great:)", "great :)"},
		{"heart run", "<333", "<3"},
		{"broken heart", "</3", "</3"},
		{"not emoticon time", "at 10:30", "at <num>"},
		{"not emoticon paren", "(step 8)", "( step <num> )"},
		{"not emoticon word", "boxDrop xDD", "boxdrop xdd"},
		{"han segmentation", "选择珠江花园的原因就是方便", "选择 珠江 花园 的 原因 就是 方便"},
		{"mixed", "iPhone手机很好用!!!", "iphone 手机 很 好 用 !!"},
		{"fullwidth punct", "真的吗？！", "真的 吗 ?!"},
		{"invalid utf8", "a\xffb", "a \ufffd b"},
		{"control", "a\x00b", "a \x00 b"},
		{"lone combining mark", "\u0301a", "\u0301a"},
		{"combining composed", "cafe\u0301", "café"},
		{"cyrillic", "Привет мир", "привет мир"},
		{"kana", "すごい", "すごい"},
		{"trademark", "Go™", "gotm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b Buffer
			toks := tk.Tokenize(&b, tt.in)
			if got := texts(toks); got != tt.want {
				t.Errorf("Tokenize(%q)\n got  %q\n want %q", tt.in, got, tt.want)
			}
			checkOffsets(t, tt.in, toks)
		})
	}
}

func TestTokenizeKindsAndCase(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	in := "RT @user I LOVE iPhone 5 #Win http://x.co 好 😂 :) !! \x01"
	want := []string{
		"rt/Word/UPPER", "<user>/Mention/none", "i/Word/Title", "love/Word/UPPER",
		"iphone/Word/mIxed", "<num>/Number/none", "#win/Hashtag/Title", "win/Word/Title",
		"<url>/URL/none", "好/Han/none", "😂/Emoji/none", ":)/Emoticon/none", "!!/Punct/none",
		"\x01/Other/none",
	}
	var b Buffer
	toks := tk.Tokenize(&b, in)
	var got []string
	for _, tok := range toks {
		got = append(got, fmt.Sprintf("%s/%s/%s", tok.Text, tok.Kind, tok.Case))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Tokenize(%q)\n got  %q\n want %q", in, got, want)
	}
}

func TestCasing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Casing
	}{
		{"empty", "", CaseNone},
		{"digits", "123", CaseNone},
		{"lower", "hello", CaseLower},
		{"upper", "NASA", CaseUpper},
		{"single upper", "I", CaseTitle},
		{"title", "Hello", CaseTitle},
		{"mixed", "iPhone", CaseMixed},
		{"mixed title-ish", "McDonald", CaseMixed},
		{"upper with digit", "A1B", CaseUpper},
		{"greek upper", "ΑΒΓ", CaseUpper},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := casing([]rune(tt.in)); got != tt.want {
				t.Errorf("casing(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestChars(t *testing.T) {
	t.Parallel()
	tk := testTokenizer(t)
	tests := []struct {
		name, in, want string
	}{
		{"bmes", "选择珠江花园的原因就是方便", "选/B 择/E 珠/B 江/E 花/B 园/E 的/S 原/B 因/E 就/B 是/E 方/B 便/E"},
		{"three char word", "一应俱全", "一/B 应/M 俱/M 全/E"},
		{"mixed", "iPhone手机 @张三 #Win 😂 2020年", "iphone/- 手/B 机/E <user>/- #win/- 😂/- <num>/- 年/S"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b Buffer
			toks := tk.Chars(&b, tt.in)
			var parts []string
			for _, tok := range toks {
				parts = append(parts, tok.Text+"/"+tok.Seg.String())
				if (tok.Kind == Han) != (tok.Seg != SegNone) {
					t.Errorf("token %q: Kind %v with Seg %v", tok.Text, tok.Kind, tok.Seg)
				}
			}
			if got := strings.Join(parts, " "); got != tt.want {
				t.Errorf("Chars(%q)\n got  %q\n want %q", tt.in, got, tt.want)
			}
			checkOffsets(t, tt.in, toks)
		})
	}
}

func TestStringers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"kind", Emoticon.String(), "Emoticon"},
		{"kind out of range", Kind(200).String(), "Kind(200)"},
		{"casing", CaseTitle.String(), "Title"},
		{"casing out of range", NumCasing.String(), "Casing(5)"},
		{"segpos", SegM.String(), "M"},
		{"segpos out of range", NumSegPos.String(), "SegPos(5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	if int(NumKind) != len(kindNames) || int(NumCasing) != len(casingNames) || int(NumSegPos) != len(segNames) {
		t.Errorf("name tables out of sync with Num* constants")
	}
}
