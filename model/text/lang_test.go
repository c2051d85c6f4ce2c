package text

import "testing"

func TestDetectLang(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"empty", "", "en"},
		{"english", "I love this phone", "en"},
		{"chinese", "我爱这个手机", "zh"},
		{"mostly zh", "我爱你 hello", "zh"},
		{"mostly en", "I love this 好", "en"},
		{"digits only", "12345 !!", "en"},
		{"invalid utf8", "\xff\xfe中", "zh"},
		{"cyrillic", "привет", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DetectLang(tt.in); got != tt.want {
				t.Errorf("DetectLang(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsHan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    rune
		want bool
	}{
		{"basic", '中', true},
		{"ext a", '\u3400', true},
		{"ext b", '\U00020000', true},
		{"ideographic zero", '〇', true},
		{"latin", 'a', false},
		{"kana", 'あ', false},
		{"hangul", '한', false},
		{"cjk punct", '。', false},
		{"fullwidth", 'Ａ', false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsHan(tt.r); got != tt.want {
				t.Errorf("IsHan(%q) = %v, want %v", tt.r, got, tt.want)
			}
		})
	}
}
