package redact

import "testing"

// The cases of a configuration are in config's TestRedactedURL; these are
// the shapes errors and logs meet.
func TestURLs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"nats://127.0.0.1:4222,tls://bob:s3cr3t@[::1]:4223", "nats://127.0.0.1:4222,tls://bob:REDACTED@[::1]:4223"},
		{"ws://only-a-token@host", "ws://REDACTED@host"},
		{"not a url but @ here", "REDACTED"},
		{"alice:pw@localhost:4222", "REDACTED"}, // no scheme: "alice" would be read as one
	} {
		if got := URLs(tc.in); got != tc.want {
			t.Errorf("URLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
