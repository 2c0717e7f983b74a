package staffaccess

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
)

// Status is where a grant stands as stored. A grant whose Until has passed
// is also reported as StatusExpired by StatusAt, without any write.
type Status string

// The statuses.
const (
	// StatusRequested: the vendor asked; the account has not decided.
	StatusRequested Status = "requested"
	// StatusApproved: the account's owner or an admin approved it; live
	// until Until unless revoked.
	StatusApproved Status = "approved"
	// StatusRefused: the account refused it.
	StatusRefused Status = "refused"
	// StatusRevoked: withdrawn by the account or the vendor.
	StatusRevoked Status = "revoked"
	// StatusExpired is never stored: StatusAt reports it for a requested
	// or approved grant whose Until has passed.
	StatusExpired Status = "expired"
)

// Grant says that one staff member of the vendor may see one account's
// data, for a purpose, until a time, once the account approved it.
type Grant struct {
	// ID is the grant's UUIDv7.
	ID string `json:"id"`
	// Account is the account whose data may be seen.
	Account gdprkit.AccountID `json:"account"`
	// Staff is the vendor's staff member the grant is for.
	Staff gdprkit.ActorID `json:"staff"`
	// Purpose says why (a support ticket reference, "investigate failed
	// imports").
	Purpose string `json:"purpose"`
	// Until is when the grant ends by itself.
	Until time.Time `json:"until"`
	// RequestedBy is who at the vendor asked.
	RequestedBy gdprkit.ActorID `json:"requested_by"`
	// RequestedAt is when.
	RequestedAt time.Time `json:"requested_at"`
	// Status is the stored status.
	Status Status `json:"status"`
	// DecidedBy is who in the account approved or refused it.
	DecidedBy gdprkit.ActorID `json:"decided_by,omitempty"`
	// DecidedRole is their role then ("owner", "admin").
	DecidedRole string `json:"decided_role,omitempty"`
	// DecidedAt is when.
	DecidedAt time.Time `json:"decided_at,omitzero"`
	// Note is what they wrote (a refusal's reason).
	Note string `json:"note,omitempty"`
	// RevokedBy is who withdrew it.
	RevokedBy gdprkit.ActorID `json:"revoked_by,omitempty"`
	// RevokedAt is when.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// Version counts changes: 1 when requested, +1 for each decision.
	Version int64 `json:"version"`
}

// LiveAt reports whether the grant lets its staff member in at t: approved,
// not revoked, and t before Until.
func (g Grant) LiveAt(t time.Time) bool { return g.Status == StatusApproved && t.Before(g.Until) }

// StatusAt returns the grant's status at t: the stored one, or
// StatusExpired for a requested or approved grant whose Until has passed.
func (g Grant) StatusAt(t time.Time) Status {
	if (g.Status == StatusRequested || g.Status == StatusApproved) && !t.Before(g.Until) {
		return StatusExpired
	}
	return g.Status
}

// Actor is someone acting on a grant: a user of the account with their
// role (owner and admin decide), or the vendor's staff (role
// gdprkit.RoleNone, identified by ID).
type Actor struct {
	// ID names the actor.
	ID gdprkit.ActorID
	// Role is their role in the account (gdprkit.RoleNone for vendor staff).
	Role gdprkit.Role
}

// EntryType names an entry of the trail.
type EntryType string

// The trail's entry types.
const (
	// EntryRequested: the vendor asked for a grant.
	EntryRequested EntryType = "requested"
	// EntryApproved: the account approved it.
	EntryApproved EntryType = "approved"
	// EntryRefused: the account refused it.
	EntryRefused EntryType = "refused"
	// EntryRevoked: it was revoked.
	EntryRevoked EntryType = "revoked"
	// EntryAccess: a staff member saw the account's data under a grant.
	EntryAccess EntryType = "access"
)

// Entry is one link of an account's append-only trail: a change to a grant
// (Data holds the grant as changed) or one access under a grant (What says
// what was seen). Each entry's Hash is SHA-256 over the previous entry's
// hash and its own canonical fields.
type Entry struct {
	// Seq is the entry's position in the account's trail, from 1.
	Seq int64 `json:"seq"`
	// ID is the entry's UUIDv7.
	ID string `json:"id"`
	// Grant is the grant the entry is about or was used.
	Grant string `json:"grant"`
	// Type says what happened.
	Type EntryType `json:"type"`
	// At is when.
	At time.Time `json:"at"`
	// Actor is who: the staff member for an access, the decider for a
	// decision.
	Actor gdprkit.ActorID `json:"actor"`
	// What describes what was accessed ("GET /tickets/42"), for an access.
	What string `json:"what,omitempty"`
	// Data is the grant's JSON snapshot after a change (empty for an
	// access), stored and hashed byte for byte.
	Data json.RawMessage `json:"data,omitempty"`
	// PrevHash is the previous entry's Hash ("" for the first).
	PrevHash string `json:"prev_hash"`
	// Hash is this entry's hash.
	Hash string `json:"hash"`
}

// Limits on text, in bytes.
const (
	// MaxPurpose bounds Request.Purpose.
	MaxPurpose = 1000
	// MaxNote bounds a decision's note.
	MaxNote = 1000
	// MaxWhat bounds an access's description.
	MaxWhat = 500
)

func validText(what, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: staffaccess: %s is required", gdprkit.ErrInvalid, what)
	case len(s) > max:
		return fmt.Errorf("%w: staffaccess: %s longer than %d bytes", gdprkit.ErrInvalid, what, max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: staffaccess: %s is not valid UTF-8", gdprkit.ErrInvalid, what)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return fmt.Errorf("%w: staffaccess: %s contains a control character", gdprkit.ErrInvalid, what)
		}
	}
	return nil
}
