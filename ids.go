package gdprkit

import (
	"fmt"
	"unicode"
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
// at most MaxIDLen bytes, no control character (C0, DEL or C1) anywhere and
// no white space (Unicode White_Space, such as U+0020 or U+00A0) at either
// end. Two IDs are the same ID only when their bytes are equal; refusing
// padded spellings means no store, log or collation can take "acme " for
// "acme" (MySQL's PAD SPACE collations compare them equal).
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
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return fmt.Errorf("%w: %s has leading or trailing white space", ErrInvalid, what)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalid, what)
		}
	}
	return nil
}

// MaxSurfaceLen is the longest Surface accepted, in bytes.
const MaxSurfaceLen = 64

// Validate reports whether the surface is usable: 1 to MaxSurfaceLen bytes
// of lower-case ASCII letters, digits, '_', '-' and '.'. A misspelt surface
// ("API" for SurfaceAPI) is refused rather than treated as another surface.
func (s Surface) Validate() error {
	if s == "" || len(s) > MaxSurfaceLen {
		return fmt.Errorf("%w: surface must be 1 to %d bytes", ErrInvalid, MaxSurfaceLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("%w: surface is not a lower-case token of [a-z0-9_.-]", ErrInvalid)
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
