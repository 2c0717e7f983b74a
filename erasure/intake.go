package erasure

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
)

// The intake of a request records, beside who asked for whom and when,
// the channel it came through and how the requester's identity was
// verified (Art. 12(2) and (6): the controller must be able to show that
// it acted on a request it could attribute to the subject). Both are
// recorded by category, with an optional short note that says how, never
// what: a note that looks like it carries an identifier (a document
// number, an e-mail address, a phone number) is refused, so the evidence
// of a check never becomes a copy of the document checked.

// Channel is how a request reached the controller.
type Channel string

// The channels. "" means the channel was not recorded (requests filed
// before channels existed, or by a host that does not say).
const (
	// ChannelWeb: a form on the host's site or customer portal.
	ChannelWeb Channel = "web_form"
	// ChannelEmail: an e-mail to the helpdesk or the privacy contact.
	ChannelEmail Channel = "email"
	// ChannelPhone: a phone call.
	ChannelPhone Channel = "phone"
	// ChannelInPerson: in person, at a desk or shop.
	ChannelInPerson Channel = "in_person"
	// ChannelPost: a letter.
	ChannelPost Channel = "post"
	// ChannelAPI: the host's API, on behalf of the subject.
	ChannelAPI Channel = "api"
	// ChannelOther: anything else; say what in the note.
	ChannelOther Channel = "other"
)

// Channels lists the channels, in the order a form offers them.
var Channels = []Channel{ChannelWeb, ChannelEmail, ChannelPhone, ChannelInPerson, ChannelPost, ChannelAPI, ChannelOther}

// Validate reports whether c is one of the channels (or "", unrecorded);
// otherwise it returns an error wrapping gdprkit.ErrInvalid.
func (c Channel) Validate() error {
	if c == "" {
		return nil
	}
	for _, x := range Channels {
		if c == x {
			return nil
		}
	}
	return fmt.Errorf("%w: unknown channel %q (one of %s)", gdprkit.ErrInvalid, truncate(string(c), 40), joinStrings(Channels))
}

// IdentityMethod is how a requester's identity was verified.
type IdentityMethod string

// The identity methods. "" means the method was not recorded
// (VerifyIdentity without evidence).
const (
	// IdentitySession: the subject filed or confirmed the request while
	// logged in to their own account.
	IdentitySession IdentityMethod = "logged_in_session"
	// IdentityEmailLink: the subject followed a single-use link sent to an
	// e-mail address the controller already held for them.
	IdentityEmailLink IdentityMethod = "email_link"
	// IdentityPhoneCallback: the controller called back a phone number it
	// already held for the subject.
	IdentityPhoneCallback IdentityMethod = "phone_callback"
	// IdentityDocument: an identity document was checked (and not kept).
	IdentityDocument IdentityMethod = "id_document_checked"
	// IdentityKnownDetails: the requester answered details only the
	// subject knows (ticket numbers, dates of contact).
	IdentityKnownDetails IdentityMethod = "known_details"
	// IdentityOther: anything else; say what in the note.
	IdentityOther IdentityMethod = "other"
)

// IdentityMethods lists the identity methods, in the order a form offers
// them.
var IdentityMethods = []IdentityMethod{IdentitySession, IdentityEmailLink, IdentityPhoneCallback, IdentityDocument, IdentityKnownDetails, IdentityOther}

// Validate reports whether m is one of the methods (or "", unrecorded);
// otherwise it returns an error wrapping gdprkit.ErrInvalid.
func (m IdentityMethod) Validate() error {
	if m == "" {
		return nil
	}
	for _, x := range IdentityMethods {
		if m == x {
			return nil
		}
	}
	return fmt.Errorf("%w: unknown identity method %q (one of %s)", gdprkit.ErrInvalid, truncate(string(m), 40), joinStrings(IdentityMethods))
}

// Evidence says how a requester's identity was verified: the method, who
// checked, and a short note. It never holds the evidence itself.
type Evidence struct {
	// Method is how the identity was verified.
	Method IdentityMethod `json:"method,omitempty"`
	// Note says how, in a few words ("passport seen at the front desk",
	// "link sent to the address on file"): at most MaxNote bytes, and
	// never the value checked, so CheckNote refuses a note with an '@' or
	// more than three digits.
	Note string `json:"note,omitempty"`
	// By is who checked (an agent), or the subject themself for a
	// logged-in session or an e-mail link; "" when not recorded.
	By gdprkit.ActorID `json:"by,omitempty"`
}

// MaxNote is the longest channel or evidence note, in bytes.
const MaxNote = 200

// CheckNote reports whether note may be stored as a channel or evidence
// note: valid UTF-8 of at most MaxNote bytes, without control characters,
// an '@' or more than three digits — a note says how something was done,
// and anything that could be a document number, an e-mail address or a
// phone number is refused with an error wrapping gdprkit.ErrInvalid.
func CheckNote(note string) error {
	if len(note) > MaxNote || !utf8.ValidString(note) {
		return fmt.Errorf("%w: a note is valid UTF-8 of at most %d bytes", gdprkit.ErrInvalid, MaxNote)
	}
	digits := 0
	for _, r := range note {
		switch {
		case unicode.IsControl(r):
			return fmt.Errorf("%w: a note may not hold control characters", gdprkit.ErrInvalid)
		case r == '@' || r == '＠':
			return fmt.Errorf("%w: a note says how, never to whom: it may not hold an e-mail address", gdprkit.ErrInvalid)
		case unicode.IsDigit(r):
			digits++
		}
	}
	if digits > 3 {
		return fmt.Errorf("%w: a note may not hold more than three digits: record how the identity was checked, never a document or phone number", gdprkit.ErrInvalid)
	}
	return nil
}

// validate checks the evidence; by, when not empty, must be a valid
// actor.
func (e Evidence) validate() error {
	if err := e.Method.Validate(); err != nil {
		return err
	}
	if e.Method == "" && (e.Note != "" || e.By != "") {
		return fmt.Errorf("%w: identity evidence with a note or a checker needs a method", gdprkit.ErrInvalid)
	}
	if e.Method == IdentityOther && strings.TrimSpace(e.Note) == "" {
		return fmt.Errorf("%w: identity method %q needs a note saying what was done", gdprkit.ErrInvalid, IdentityOther)
	}
	if e.By != "" {
		if err := e.By.Validate(); err != nil {
			return err
		}
	}
	return CheckNote(e.Note)
}

// validIntake checks a submission's channel and identity evidence.
func validIntake(sub Submission) error {
	if err := sub.Channel.Validate(); err != nil {
		return err
	}
	if err := CheckNote(sub.ChannelNote); err != nil {
		return fmt.Errorf("channel note: %w", err)
	}
	if sub.Channel == "" && sub.ChannelNote != "" {
		return fmt.Errorf("%w: a channel note needs a channel", gdprkit.ErrInvalid)
	}
	if sub.Channel == ChannelOther && strings.TrimSpace(sub.ChannelNote) == "" {
		return fmt.Errorf("%w: channel %q needs a note saying which", gdprkit.ErrInvalid, ChannelOther)
	}
	if sub.Identity != (Evidence{}) && !sub.Verified {
		return fmt.Errorf("%w: identity evidence belongs to a verified submission (or to VerifyIdentityWith)", gdprkit.ErrInvalid)
	}
	if err := sub.Identity.validate(); err != nil {
		return fmt.Errorf("identity evidence: %w", err)
	}
	return nil
}

// VerifyIdentityWith records that the requester's identity was verified,
// and how; the request's job becomes runnable. ev.Method is required;
// ev.By defaults to by. A request already verified stays as it was
// (verifying twice changes nothing). Errors: gdprkit.ErrInvalid for bad
// evidence (see Evidence and CheckNote), gdprkit.ErrNotFound, and
// gdprkit.ErrConflict for a request that is not open; nothing changes
// then.
func (s *Service) VerifyIdentityWith(ctx context.Context, account gdprkit.AccountID, id string, by gdprkit.ActorID, ev Evidence) error {
	if err := account.Validate(); err != nil {
		return err
	}
	if err := by.Validate(); err != nil {
		return err
	}
	if ev.Method == "" {
		return fmt.Errorf("%w: identity evidence needs a method (one of %s)", gdprkit.ErrInvalid, joinStrings(IdentityMethods))
	}
	if ev.By == "" {
		ev.By = by
	}
	if err := ev.validate(); err != nil {
		return err
	}
	return s.verify(ctx, account, id, by, ev)
}

// verify stores the verification and audits it (method only).
func (s *Service) verify(ctx context.Context, account gdprkit.AccountID, id string, by gdprkit.ActorID, ev Evidence) error {
	if err := s.store.VerifyRequest(ctx, account, id, s.now(), ev); err != nil {
		return fmt.Errorf("erasure: verify request: %w", err)
	}
	attrs := map[string]string{"request": id}
	if ev.Method != "" {
		attrs["method"] = string(ev.Method)
	}
	s.emit(ctx, account, "erasure.verified", by, "", attrs)
	return nil
}

// Intake is the part of a receipt that says how the request came in and
// was handled in time: channel and identity method by category (never
// their notes or who checked), when the identity was verified, the due
// date (Art. 12(3)) and whether it was extended.
type Intake struct {
	// Channel is how the request arrived ("" when not recorded).
	Channel Channel `json:"channel,omitempty"`
	// IdentityMethod is how the identity was verified ("" when not
	// recorded).
	IdentityMethod IdentityMethod `json:"identity_method,omitempty"`
	// VerifiedAt is when the identity was verified.
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// DueAt is the request's due date, extension included.
	DueAt time.Time `json:"due_at"`
	// Extended is true when the due date was extended (the reason stays
	// with the request).
	Extended bool `json:"extended,omitempty"`
}

// intakeOf is a request's receipt Intake; nil for a request that records
// neither channel nor identity method, so the receipts of requests filed
// without them keep the form (and hash) they had.
func intakeOf(r Request) *Intake {
	if r.Channel == "" && r.Identity.Method == "" {
		return nil
	}
	return &Intake{Channel: r.Channel, IdentityMethod: r.Identity.Method, VerifiedAt: r.VerifiedAt, DueAt: r.DueAt, Extended: r.Extended}
}

func joinStrings[S ~string](xs []S) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = string(x)
	}
	return strings.Join(parts, ", ")
}
