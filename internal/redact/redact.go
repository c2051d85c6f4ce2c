// Package redact hides secrets in strings that logs and errors show.
package redact

import (
	"net/url"
	"strings"
)

// Mark replaces a secret.
const Mark = "REDACTED"

// URLs replaces the user information of each comma-separated URL in s:
// "nats://user:pw@host" becomes "nats://user:REDACTED@host", and
// "nats://token@host" (nats.go reads a lone user as a token)
// "nats://REDACTED@host". Any other part that holds "@" (it does not
// parse, or has no scheme) is replaced whole.
func URLs(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	parts := strings.Split(s, ",")
	for i, part := range parts {
		u, err := url.Parse(strings.TrimSpace(part))
		switch {
		case err != nil || u.User == nil:
			// "@" that is not user information of a parsed URL (no scheme,
			// "user:pw@host" read as scheme "user") may still hide a
			// secret: hide the whole part.
			if strings.Contains(part, "@") {
				parts[i] = Mark
			}
		case hasPassword(u.User):
			u.User = url.UserPassword(u.User.Username(), Mark)
			parts[i] = u.String()
		default:
			u.User = url.User(Mark)
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

func hasPassword(u *url.Userinfo) bool {
	_, ok := u.Password()
	return ok
}
