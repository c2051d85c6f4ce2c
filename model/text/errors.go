package text

import "errors"

// ErrInvalidOption is returned (wrapped) by [Options.Validate] and [New] when
// an [Options] field is out of range. Test for it with errors.Is.
var ErrInvalidOption = errors.New("text: invalid option")
