package gdprkit

import (
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxIDLen is the longest AccountID, SubjectID or ActorID accepted, in bytes.
const MaxIDLen = 128

// AccountID names one tenant (one helpdesk account). Every storage call takes
// one, and no call ever reads or changes the data of another account.
type AccountID string

// SubjectID names a data subject within an account: an end user, a
// customer-portal user or an agent, as the host identifies them (its user key
// or, for anonymous chat visitors, an e-mail address).
type SubjectID string

// ActorID names whoever performs an action: an agent, an admin, the owner, a
// system process ("system:retention") or an API client.
type ActorID string

// Validate reports whether the account ID is usable: non-empty, valid UTF-8,
// at most MaxIDLen bytes, no control characters.
func (a AccountID) Validate() error { return validateID("account ID", string(a)) }

// Validate reports whether the subject ID is usable (see AccountID.Validate).
func (s SubjectID) Validate() error { return validateID("subject ID", string(s)) }

// Validate reports whether the actor ID is usable (see AccountID.Validate).
func (a ActorID) Validate() error { return validateID("actor ID", string(a)) }

func validateID(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty %s", ErrInvalid, what)
	case len(s) > MaxIDLen:
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalid, what, MaxIDLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalid, what)
		}
	}
	return nil
}

// NewID returns a fresh UUIDv7 in its canonical string form. UUIDv7 values
// sort by creation time, which keeps SQL indexes append-mostly.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// uuid.NewV7 only fails when crypto/rand fails, which the Go runtime
		// treats as fatal on every supported platform.
		panic("gdprkit: cannot generate UUIDv7: " + err.Error())
	}
	return id.String()
}
