package config

import "errors"

// ErrInvalid is wrapped by every error about the content of the
// configuration: a file that does not parse, an unknown key, a value of the
// wrong type and a value out of range. Errors reading the file itself are not
// ErrInvalid; they wrap the os error (for example fs.ErrNotExist).
var ErrInvalid = errors.New("config: invalid")
