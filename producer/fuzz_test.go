package producer

import (
	"testing"

	"github.com/tagstream/tagstream/event"
)

// FuzzSubjectToken: any label gives one valid, non-empty subject token, and
// sanitizing a token is the identity.
func FuzzSubjectToken(f *testing.F) {
	for _, s := range []string{"", "Positive", "a.b", "a*>", "正面", "\xff", " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, label string) {
		tok := event.SubjectToken(label)
		if tok == "" {
			t.Fatalf("SubjectToken(%q) is empty", label)
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				t.Fatalf("SubjectToken(%q) = %q: byte %q outside [a-z0-9_-]", label, tok, c)
			}
		}
		if again := event.SubjectToken(tok); again != tok {
			t.Fatalf("SubjectToken(%q) = %q, not a fixed point of %q", tok, again, label)
		}
		if !validSubject("p." + tok) {
			t.Fatalf("p.%s is not a valid subject", tok)
		}
	})
}
