package breach

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
)

// State is where a breach stands.
type State string

// The states. A breach is open when recorded, notified once the authority
// has been sent its notification, and closed when the controller has
// finished with it (with or without notifying, see Service.Close).
const (
	// StateOpen: recorded, the authority not notified yet.
	StateOpen State = "open"
	// StateNotified: the authority's notice was sent.
	StateNotified State = "notified"
	// StateClosed: the controller has finished with the breach.
	StateClosed State = "closed"
)

// Type is one of the three classic kinds of personal data breach (EDPB
// Guidelines 9/2022): a breach may be several at once.
type Type string

// The breach types.
const (
	// Confidentiality: personal data disclosed or accessed without
	// authority.
	Confidentiality Type = "confidentiality"
	// Integrity: personal data altered without authority.
	Integrity Type = "integrity"
	// Availability: personal data lost or destroyed, or access to it lost.
	Availability Type = "availability"
)

// Contact is how the authority and the subjects reach the data protection
// officer (or other contact point) of the account, as Art. 33(3)(b)
// requires. It is a role contact the host supplies, not a data subject.
type Contact struct {
	// Name of the DPO or contact point.
	Name string `json:"name,omitempty"`
	// Email address.
	Email string `json:"email,omitempty"`
	// Phone number.
	Phone string `json:"phone,omitempty"`
}

// Report is what a person recording or updating a breach states about it.
type Report struct {
	// Incident, optional, names one incident that affected several
	// accounts: each account gets its own breach (its own subjects,
	// notifications and register) carrying the same Incident, and an
	// account holds at most one breach per Incident.
	Incident string `json:"incident,omitempty"`
	// Title is a short name for the register ("Attachment bucket exposed").
	Title string `json:"title"`
	// Nature describes what happened (Art. 33(3)(a)).
	Nature string `json:"nature"`
	// Types classify it: confidentiality, integrity, availability.
	Types []Type `json:"types,omitempty"`
	// OccurredAt is when the breach began (as far as known).
	OccurredAt time.Time `json:"occurred_at"`
	// OccurredUntil is when it ended; zero while unknown or ongoing.
	OccurredUntil time.Time `json:"occurred_until,omitzero"`
	// AwareAt is when the controller became aware of it: the 72 hours of
	// Art. 33(1) run from here. It may not be before OccurredAt nor in the
	// future.
	AwareAt time.Time `json:"aware_at"`
	// DataCategories are the categories of personal data concerned
	// ("name", "email", "attachments", …).
	DataCategories []string `json:"data_categories,omitempty"`
	// SubjectCategories are the categories of data subjects ("customers",
	// "agents").
	SubjectCategories []string `json:"subject_categories,omitempty"`
	// Kinds are the erasure graph's kinds of data affected ("attachment",
	// "message"), as FindSubjects searches them.
	Kinds []string `json:"kinds,omitempty"`
	// ApproxSubjects is the approximate number of data subjects
	// concerned. FindSubjects raises it to the number found.
	ApproxSubjects int64 `json:"approx_subjects"`
	// ApproxRecords is the approximate number of personal data records
	// concerned.
	ApproxRecords int64 `json:"approx_records"`
	// Consequences are the likely consequences (Art. 33(3)(c)).
	Consequences string `json:"consequences,omitempty"`
	// MeasuresTaken are the measures taken to address the breach and
	// mitigate its effects (Art. 33(3)(d)).
	MeasuresTaken string `json:"measures_taken,omitempty"`
	// MeasuresProposed are the measures proposed but not yet taken.
	MeasuresProposed string `json:"measures_proposed,omitempty"`
	// HighRisk records the assessment that the breach is likely to result
	// in a high risk to people's rights and freedoms, so the subjects must
	// be told (Art. 34(1)).
	HighRisk bool `json:"high_risk"`
	// DPO is the account's contact point. Default: Config.DPO of the
	// service, when it has one.
	DPO Contact `json:"dpo"`
	// Authority names the competent supervisory authority. Default:
	// Config.Authority.
	Authority string `json:"authority,omitempty"`
	// By is who records or updates the breach. Required.
	By gdprkit.ActorID `json:"-"`
}

// Breach is one entry of an account's breach register.
type Breach struct {
	// ID is the breach's UUIDv7.
	ID string `json:"id"`
	// Account is the account (controller) the breach concerns.
	Account gdprkit.AccountID `json:"account"`
	// Report is what was stated about the breach, last update included.
	Report
	// State is open, notified or closed.
	State State `json:"state"`
	// RecordedAt is when it was recorded.
	RecordedAt time.Time `json:"recorded_at"`
	// RecordedBy is who recorded it.
	RecordedBy gdprkit.ActorID `json:"recorded_by"`
	// Deadline is AwareAt plus the notification window (72 hours).
	Deadline time.Time `json:"deadline"`
	// DelayReason gives the reasons for notifying the authority after the
	// deadline (Art. 33(1)); required for a late notification.
	DelayReason string `json:"delay_reason,omitempty"`
	// AuthorityNotifiedAt is when the notifier confirmed that the
	// authority's notification was sent; zero until then.
	AuthorityNotifiedAt time.Time `json:"authority_notified_at,omitzero"`
	// AuthorityNotice is the ID of the authority's notice while queued or
	// sent ("" before, and again after one failed, so it can be asked for
	// anew).
	AuthorityNotice string `json:"authority_notice,omitempty"`
	// DPONotice is the same for the DPO's notice.
	DPONotice string `json:"dpo_notice,omitempty"`
	// SubjectsFound counts the distinct subjects FindSubjects stored.
	SubjectsFound int64 `json:"subjects_found"`
	// ClosedAt is when the breach was closed (zero while it is not).
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// ClosedBy is who closed it.
	ClosedBy gdprkit.ActorID `json:"closed_by,omitempty"`
	// CloseReason is why it was closed.
	CloseReason string `json:"close_reason,omitempty"`
	// UpdatedAt is the time of the last change.
	UpdatedAt time.Time `json:"updated_at"`
	// Version counts changes: 1 when recorded, +1 for each change.
	Version int64 `json:"version"`
}

// Late reports whether the authority was (or, not yet notified, will be)
// notified after the deadline, judged at now.
func (b Breach) Late(now time.Time) bool {
	if !b.AuthorityNotifiedAt.IsZero() {
		return b.AuthorityNotifiedAt.After(b.Deadline)
	}
	return now.After(b.Deadline)
}

// Audience is who a notice goes to.
type Audience string

// The audiences.
const (
	// ToAuthority: the supervisory authority (Art. 33).
	ToAuthority Audience = "authority"
	// ToDPO: the account's data protection officer or contact point.
	ToDPO Audience = "dpo"
	// ToSubject: one affected data subject (Art. 34).
	ToSubject Audience = "subject"
)

// NoticeState is where a notice stands in the outbox.
type NoticeState string

// The notice states.
const (
	// NoticePending: waiting for a worker (NextAt says when).
	NoticePending NoticeState = "pending"
	// NoticeSending: a worker holds its lease and is sending it.
	NoticeSending NoticeState = "sending"
	// NoticeSent: the notifier confirmed it.
	NoticeSent NoticeState = "sent"
	// NoticeFailed: given up on after Config.MaxAttempts, or at once on a
	// permanent error (the notifier could not resolve the subject, …).
	NoticeFailed NoticeState = "failed"
)

// Notice is one notification in the durable outbox: persisted before it is
// sent, sent by a worker holding a lease, kept once sent as the record of
// the notification.
type Notice struct {
	// ID is the notice's UUIDv7; it is also the idempotency key the
	// notifier receives on every attempt.
	ID string `json:"id"`
	// Account is the breach's account.
	Account gdprkit.AccountID `json:"account"`
	// Breach is the breach's ID.
	Breach string `json:"breach"`
	// To is the audience.
	To Audience `json:"to"`
	// Subject is the subject's keyed pseudonym, for ToSubject.
	Subject gdprkit.Pseudonym `json:"subject,omitempty"`
	// State is pending, sending, sent or failed.
	State NoticeState `json:"state"`
	// RequestedAt is when it was asked for.
	RequestedAt time.Time `json:"requested_at"`
	// RequestedBy is who asked for it.
	RequestedBy gdprkit.ActorID `json:"requested_by"`
	// Attempts counts the sends tried.
	Attempts int `json:"attempts"`
	// NextAt is when a pending notice is due.
	NextAt time.Time `json:"next_at,omitzero"`
	// LastError is the last failed attempt's error, without personal data
	// as far as the notifier keeps it out.
	LastError string `json:"last_error,omitempty"`
	// SentAt is when the notifier confirmed the notice.
	SentAt time.Time `json:"sent_at,omitzero"`
	// Reference is what the notifier returned (a case number, a message
	// ID).
	Reference string `json:"reference,omitempty"`
	// LeaseOwner names the worker sending it (NoticeSending).
	LeaseOwner string `json:"-"`
	// LeaseToken guards that worker's outcome; it is never exported.
	LeaseToken string `json:"-"`
	// LeaseUntil is when the lease ends and another worker may take over.
	LeaseUntil time.Time `json:"-"`
}

// EntryType names a change in the history.
type EntryType string

// The history entry types.
const (
	// EntryRecorded: a breach was recorded (Data: the breach).
	EntryRecorded EntryType = "recorded"
	// EntryUpdated: its report changed (Data: the breach).
	EntryUpdated EntryType = "updated"
	// EntrySubjects: FindSubjects stored subjects (Data: the breach, whose
	// SubjectsFound changed, and the search).
	EntrySubjects EntryType = "subjects_found"
	// EntryNotify: notifications were requested (Data: the breach and the
	// counts per audience).
	EntryNotify EntryType = "notify_requested"
	// EntrySent: a notice was sent (Data: the notice, and the breach when
	// it changed state).
	EntrySent EntryType = "notice_sent"
	// EntryFailed: a notice was given up on (Data: the notice).
	EntryFailed EntryType = "notice_failed"
	// EntryClosed: the breach was closed (Data: the breach).
	EntryClosed EntryType = "closed"
)

// Entry is one link of an account's append-only history. Every change to a
// breach is one entry holding a snapshot of what changed; each entry's
// Hash is SHA-256 over the previous entry's hash and its own canonical
// fields, so Verify detects an edited, removed or reordered entry.
type Entry struct {
	// Seq is the entry's position in the account's history, from 1.
	Seq int64 `json:"seq"`
	// ID is the entry's UUIDv7.
	ID string `json:"id"`
	// Breach is the breach the entry is about.
	Breach string `json:"breach"`
	// Type says what happened.
	Type EntryType `json:"type"`
	// At is when.
	At time.Time `json:"at"`
	// Actor is who did it (a worker's owner name for notices).
	Actor gdprkit.ActorID `json:"actor"`
	// Data is the JSON snapshot (see the EntryType constants), stored and
	// hashed byte for byte.
	Data json.RawMessage `json:"data"`
	// PrevHash is the previous entry's Hash ("" for the first).
	PrevHash string `json:"prev_hash"`
	// Hash is this entry's hash.
	Hash string `json:"hash"`
}

// entryData is the body of an entry: what changed.
type entryData struct {
	Breach  *Breach          `json:"breach,omitempty"`
	Notice  *Notice          `json:"notice,omitempty"`
	Search  *Criteria        `json:"search,omitempty"`
	Counts  map[Audience]int `json:"counts,omitempty"`
	Summary string           `json:"summary,omitempty"`
}

// Limits on what a report may hold, in bytes or items.
const (
	// MaxTitle bounds Report.Title.
	MaxTitle = 200
	// MaxText bounds each free-text field (nature, consequences, …).
	MaxText = 20_000
	// MaxItems bounds each list (categories, kinds).
	MaxItems = 100
	// MaxItemLen bounds each list item.
	MaxItemLen = 200
	// MaxIncident bounds Report.Incident.
	MaxIncident = 128
)

func validText(what, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: breach: %s is required", gdprkit.ErrInvalid, what)
	case len(s) > max:
		return fmt.Errorf("%w: breach: %s longer than %d bytes", gdprkit.ErrInvalid, what, max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: breach: %s is not valid UTF-8", gdprkit.ErrInvalid, what)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return fmt.Errorf("%w: breach: %s contains a control character", gdprkit.ErrInvalid, what)
		}
	}
	return nil
}

func validList(what string, xs []string) error {
	if len(xs) > MaxItems {
		return fmt.Errorf("%w: breach: more than %d %s", gdprkit.ErrInvalid, MaxItems, what)
	}
	for _, x := range xs {
		if err := validText(what, x, MaxItemLen, true); err != nil {
			return err
		}
	}
	return nil
}

// validate checks r as of now; it fills nothing.
func (r *Report) validate(now time.Time) error {
	if err := r.By.Validate(); err != nil {
		return fmt.Errorf("breach: report by: %w", err)
	}
	if err := validText("incident", r.Incident, MaxIncident, false); err != nil {
		return err
	}
	if err := validText("title", r.Title, MaxTitle, true); err != nil {
		return err
	}
	for _, c := range []struct {
		what string
		s    string
		req  bool
	}{{"nature", r.Nature, true}, {"consequences", r.Consequences, false}, {"measures taken", r.MeasuresTaken, false},
		{"measures proposed", r.MeasuresProposed, false}, {"authority", r.Authority, false},
		{"DPO name", r.DPO.Name, false}, {"DPO e-mail", r.DPO.Email, false}, {"DPO phone", r.DPO.Phone, false}} {
		if err := validText(c.what, c.s, MaxText, c.req); err != nil {
			return err
		}
	}
	for _, t := range r.Types {
		if t != Confidentiality && t != Integrity && t != Availability {
			return fmt.Errorf("%w: breach: unknown type %q", gdprkit.ErrInvalid, t)
		}
	}
	for _, l := range []struct {
		what string
		xs   []string
	}{{"data categories", r.DataCategories}, {"subject categories", r.SubjectCategories}, {"kinds", r.Kinds}} {
		if err := validList(l.what, l.xs); err != nil {
			return err
		}
	}
	switch {
	case r.OccurredAt.IsZero() || r.AwareAt.IsZero():
		return fmt.Errorf("%w: breach: when it occurred and when it became known are required", gdprkit.ErrInvalid)
	case r.AwareAt.Before(r.OccurredAt):
		return fmt.Errorf("%w: breach: aware before it occurred", gdprkit.ErrInvalid)
	case !r.OccurredUntil.IsZero() && r.OccurredUntil.Before(r.OccurredAt):
		return fmt.Errorf("%w: breach: ends before it began", gdprkit.ErrInvalid)
	case r.AwareAt.After(now):
		return fmt.Errorf("%w: breach: aware time is in the future", gdprkit.ErrInvalid)
	case r.ApproxSubjects < 0 || r.ApproxRecords < 0:
		return fmt.Errorf("%w: breach: negative count", gdprkit.ErrInvalid)
	}
	return nil
}

// normalise puts a validated report in its stored form: UTC times at
// microsecond precision, sorted de-duplicated types.
func (r *Report) normalise() {
	for _, t := range []*time.Time{&r.OccurredAt, &r.OccurredUntil, &r.AwareAt} {
		if !t.IsZero() {
			*t = t.UTC().Truncate(time.Microsecond)
		}
	}
	slices.Sort(r.Types)
	r.Types = slices.Compact(r.Types)
}
