package authn

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// RecordKind is one sort of the records authn stores about a user, as
// Service.UserRecords lists them one at a time.
type RecordKind string

// The record kinds, in the order UserRecords pages through them: the user
// first, so that an erasure interrupted after its first batch has already
// made every session and token of the user unusable (both need the user
// record), and no new one can be created.
const (
	// RecordUser is the user record: canonical username and password
	// hash. Its ID is the user's ID.
	RecordUser RecordKind = "user"
	// RecordTOTP is one TOTP enrolment, pending or active (a user has at
	// most one of each). Its ID is the enrolment's ID.
	RecordTOTP RecordKind = "totp"
	// RecordRecovery is one unused recovery code. Its ID is the code's
	// stored SHA-256, 64 lower-case hex digits (see RecoveryRef); the code
	// itself cannot be derived from it.
	RecordRecovery RecordKind = "recovery"
	// RecordToken is one API token, revoked or not. Its ID is the token's
	// ID.
	RecordToken RecordKind = "token"
	// RecordSession is one session. Its ID is the session's ID.
	RecordSession RecordKind = "session"
	// RecordThrottle is one failure counter of the user. Its ID is the
	// counter's factor, "/", and its client (see ThrottleRef).
	RecordThrottle RecordKind = "throttle"
)

// recordKinds is the order of RecordKinds.
var recordKinds = [...]RecordKind{RecordUser, RecordTOTP, RecordRecovery, RecordToken, RecordSession, RecordThrottle}

// RecordKinds returns the record kinds in the order UserRecords pages
// through them.
func RecordKinds() []RecordKind { return recordKinds[:] }

// Rank returns k's position in RecordKinds, or -1 for an unknown kind.
func (k RecordKind) Rank() int {
	for i, x := range recordKinds {
		if x == k {
			return i
		}
	}
	return -1
}

// RecordRef names one stored record of a user: its kind and its ID among
// the user's records of that kind. The zero RecordRef names no record; as
// the after argument of UserRecords it means "from the first".
type RecordRef struct {
	// Kind is the record's kind.
	Kind RecordKind
	// ID identifies the record among the user's records of Kind (see the
	// RecordKind constants for what it holds).
	ID string
}

// maxRecordID bounds a RecordRef's ID: the longest ID the stores keep
// (a user ID of 128 bytes; a throttle key of factor, "/" and client).
const maxRecordID = 256

// RecoveryRef returns the RecordRef of the recovery code stored with hash.
func RecoveryRef(hash []byte) RecordRef {
	return RecordRef{Kind: RecordRecovery, ID: hex.EncodeToString(hash)}
}

// ThrottleRef returns the RecordRef of failure counter k (its User is not
// part of the ref: the ref names a counter among the user's).
func ThrottleRef(k ThrottleKey) RecordRef {
	return RecordRef{Kind: RecordThrottle, ID: string(k.Factor) + "/" + k.Client}
}

// String returns the ref as "kind:id", the form ParseRecordRef reads.
func (r RecordRef) String() string { return string(r.Kind) + ":" + r.ID }

// ParseRecordRef parses the "kind:id" form of String. Anything else, or
// a ref that fails Validate, is an error wrapping gdprkit.ErrInvalid.
func ParseRecordRef(s string) (RecordRef, error) {
	k, id, ok := strings.Cut(s, ":")
	if !ok {
		return RecordRef{}, fmt.Errorf("%w: authn: record ref %q is not kind:id", gdprkit.ErrInvalid, truncateRef(s))
	}
	r := RecordRef{Kind: RecordKind(k), ID: id}
	return r, r.Validate()
}

func truncateRef(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
}

// Validate reports whether r can name a record: a known kind and an ID of
// 1–256 bytes, which for a recovery code is 64 lower-case hex digits and
// for a failure counter holds the "/" between factor and client.
func (r RecordRef) Validate() error {
	if r.Kind.Rank() < 0 {
		return fmt.Errorf("%w: authn: unknown record kind %q", gdprkit.ErrInvalid, truncateRef(string(r.Kind)))
	}
	if r.ID == "" || len(r.ID) > maxRecordID {
		return fmt.Errorf("%w: authn: a %s record ID must be 1-%d bytes", gdprkit.ErrInvalid, r.Kind, maxRecordID)
	}
	switch r.Kind {
	case RecordRecovery:
		if _, ok := r.RecoveryHash(); !ok {
			return fmt.Errorf("%w: authn: a recovery record ID is 64 lower-case hex digits", gdprkit.ErrInvalid)
		}
	case RecordThrottle:
		if !strings.Contains(r.ID, "/") {
			return fmt.Errorf("%w: authn: a throttle record ID is factor/client", gdprkit.ErrInvalid)
		}
	}
	return nil
}

// RecoveryHash returns the code hash a recovery ref names, and whether r
// is one (RecordRecovery with 64 lower-case hex digits).
func (r RecordRef) RecoveryHash() ([]byte, bool) {
	if r.Kind != RecordRecovery || len(r.ID) != 64 || strings.ToLower(r.ID) != r.ID {
		return nil, false
	}
	b, err := hex.DecodeString(r.ID)
	return b, err == nil
}

// Throttle returns the factor and client of the failure counter a
// throttle ref names, and whether r is one.
func (r RecordRef) Throttle() (Factor, string, bool) {
	if r.Kind != RecordThrottle {
		return "", "", false
	}
	f, client, ok := strings.Cut(r.ID, "/")
	return Factor(f), client, ok
}

// MaxRecordPage is the most records UserRecords returns, and
// DeleteUserRecords deletes, in one call.
const MaxRecordPage = 1000

// UserRecords pages through the records authn stores about the user, one
// RecordRef per record — the user record, each TOTP enrolment, recovery
// code, API token (revoked or not), session and failure counter — in the
// order of RecordKinds, then by ID, the same on every call: it returns up
// to limit refs that follow after (the zero RecordRef: from the first).
// An erasure that must count exactly what it deletes (package
// erasure/kitdata) finds them this way and deletes them with
// DeleteUserRecords. limit must be 1–MaxRecordPage and after zero or
// valid, or the error wraps gdprkit.ErrInvalid.
func (s *Service) UserRecords(ctx context.Context, account gdprkit.AccountID, userID string, after RecordRef, limit int) ([]RecordRef, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxRecordPage {
		return nil, fmt.Errorf("%w: authn: page limit must be 1 to %d, not %d", gdprkit.ErrInvalid, MaxRecordPage, limit)
	}
	if after != (RecordRef{}) {
		if err := after.Validate(); err != nil {
			return nil, err
		}
	}
	refs, err := s.st.UserRecords(ctx, account, userID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("authn: user records: %w", err)
	}
	return refs, nil
}

// DeleteUserRecords deletes exactly the user's records that refs name,
// atomically, and counts, by kind, those it deleted: a ref that names no
// record of the user (already deleted, or another user's) counts zero, so
// calling again changes nothing more. Deleting the user record alone
// leaves the user's other records in place but unusable: sessions and
// tokens need their user. It records EventRecordsErased with the counts.
// At most MaxRecordPage refs, each valid, or the error wraps
// gdprkit.ErrInvalid and nothing is deleted.
func (s *Service) DeleteUserRecords(ctx context.Context, account gdprkit.AccountID, userID string, refs []RecordRef) (Counts, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return Counts{}, err
	}
	if len(refs) > MaxRecordPage {
		return Counts{}, fmt.Errorf("%w: authn: at most %d records at once, not %d", gdprkit.ErrInvalid, MaxRecordPage, len(refs))
	}
	for _, r := range refs {
		if err := r.Validate(); err != nil {
			return Counts{}, err
		}
	}
	if len(refs) == 0 {
		return Counts{}, nil
	}
	c, err := s.st.DeleteUserRecords(ctx, account, userID, refs)
	if err != nil {
		return Counts{}, fmt.Errorf("authn: delete user records: %w", err)
	}
	s.event(ctx, account, EventRecordsErased, userID, countAttrs(c))
	return c, nil
}
