// Package consent records, checks and proves consent for a helpdesk's
// purposes (live-chat support, marketing e-mail, …) as GDPR Art. 7(1) and
// 7(3) ask: the controller can show that a person consented, to which
// wording, when and how, and withdrawing is as easy as granting.
//
// A Purpose has versioned Policy texts. Publishing a version marked Material
// makes earlier consents stale: Check then answers StatusNeedsReconsent.
// Grants and withdrawals are append-only Records with evidence (source,
// client IP, user agent, the checkbox wording, who recorded it), linked per
// account into a SHA-256 hash chain that Verify walks to detect any edited,
// removed or reordered record, and any current state that disagrees with it.
//
// Choices made here, where the GDPR and the issue are silent:
//
//   - Subjects are indexed by their keyed pseudonym (Config.Pseudonymizer),
//     so Check and History stay one indexed lookup and keep working after
//     the identifier itself is gone.
//   - No identifying value is hashed into the chain (chain version 2,
//     ChainVersion): the subject, who recorded the decision, the IP address,
//     the user agent and the wording each get a random salt of their own and
//     a salted SHA-256 commitment, and the chain hashes the commitments.
//     PseudonymizeRecords deletes the values and their salts but keeps the
//     commitments, so the chain still verifies, every proof exported before
//     still verifies and still matches the store (ConfirmProof), and nothing
//     left can be linked back to the person — not even by testing guesses
//     against a commitment — except through the pseudonym, which needs the
//     host's key. The wording goes too: the policy text, its hash and the
//     purpose remain, and a proof exported before erasure still carries it.
//   - Records written before chain version 2 (Record.Version 1) keep
//     verifying under their own rule, which hashed RecordedBy and Wording as
//     they were: pseudonymising them removes the subject, IP and user agent
//     only. Reseal, run once per account after upgrading, re-seals them
//     under version 2 (removing the recorder and wording of records already
//     pseudonymised) and keeps each record's old hash in PriorHash.
//   - Check answers from the subject's latest record itself and checks that
//     record's hash, and Verify checks the current state (one entry per
//     subject and purpose, which Check reads) against the chain: an entry
//     edited in storage is reported, never silently answered from.
//   - Erasure works in pages: LiveRecordIDs lists a subject's records not
//     yet pseudonymised in ID order, and PseudonymizeRecords changes exactly
//     the IDs it is given in one store step and counts them, so a receipt can
//     count what changed. Pseudonymize is the two in a loop.
//   - A withdrawal is recorded even when nothing was granted: it is the
//     subject's documented objection and costs nothing.
//   - Inside the host's transaction: a host that writes the rows a consent
//     is for (a customer, a ticket) and the consent itself in one
//     transaction of its own uses a Service over a store bound to that
//     transaction, svc.WithStore(sqlStore.WithTx(tx).Consent()) with
//     store/sqlstore: the records and the chain head then commit or roll
//     back with the host's rows. Record keeps its guarantee there (every
//     decision of a call or none, the chain serialised per account by a
//     lock on its head row, held until the host commits: record late in
//     the transaction). The Service keeps no lock or queue of its own, so
//     a bound Service cannot wait on an unbound one in the same process.
//     Audit events are sent when a call returns, before the host commits:
//     a host that rolls back after a successful Record has audit events of
//     records that were never stored, each naming its seq; a host that
//     wants neither builds its bound Service with consent.New and an audit
//     sink that holds the events until its commit.
//   - Limits: subject 128 bytes, user agent 1 KiB, wording 4 KiB, policy
//     text 256 KiB, purpose key 64 bytes of [a-z0-9._-], MaxBatch record IDs
//     per batch call.
package consent

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
)

// Action is what a record does.
type Action string

// The two actions.
const (
	Grant    Action = "grant"
	Withdraw Action = "withdraw"
)

// Source says where a consent decision was captured.
type Source string

// The standard sources. Hosts may use their own lower-case tokens.
const (
	SourcePreChat Source = "prechat"
	SourcePortal  Source = "portal"
	SourceAPI     Source = "api"
	SourceImport  Source = "import"
	SourceAgent   Source = "agent"
)

// Status is the answer of Check.
type Status int

// The statuses Check returns.
const (
	// StatusNeverGiven: no record for this subject and purpose.
	StatusNeverGiven Status = iota
	// StatusGranted: the latest record is a grant under the current
	// material policy version and has not expired.
	StatusGranted
	// StatusWithdrawn: the latest record is a withdrawal.
	StatusWithdrawn
	// StatusNeedsReconsent: granted, but a materially changed policy version
	// was published since.
	StatusNeedsReconsent
	// StatusExpired: granted longer ago than the purpose's Lifetime.
	StatusExpired
)

var statusNames = [...]string{"never_given", "granted", "withdrawn", "needs_reconsent", "expired"}

// String returns the status's stable name.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("status(%d)", int(s))
	}
	return statusNames[s]
}

// MarshalText encodes the status as its name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("%w: unknown consent status %q", gdprkit.ErrInvalid, b)
}

// Granted reports whether the subject's consent is in force.
func (s Status) Granted() bool { return s == StatusGranted }

// Purpose is one reason for processing that needs consent.
type Purpose struct {
	// Key identifies the purpose in its account: 1–64 bytes of [a-z0-9._-].
	Key string `json:"key"`
	// Name is the human name ("Live-chat support").
	Name string `json:"name"`
	// Label is the checkbox wording. Default: "I agree to <Name>."
	Label string `json:"label"`
	// Description is optional longer text for admins.
	Description string `json:"description,omitempty"`
	// Lifetime, when positive, makes a grant expire after it.
	Lifetime time.Duration `json:"lifetime,omitempty"`
	// CurrentVersion is the latest published policy version (0: none yet).
	// Set by the store.
	CurrentVersion int `json:"current_version"`
	// MaterialVersion is the latest version published as a material change.
	// Grants under an older version need re-consent. Set by the store.
	MaterialVersion int `json:"material_version"`
	// CreatedAt is when the purpose was defined.
	CreatedAt time.Time `json:"created_at"`
}

// Policy is one published version of a purpose's text. Policies are
// immutable once published.
type Policy struct {
	// Purpose is the key of the purpose the text belongs to.
	Purpose string `json:"purpose"`
	// Version counts the purpose's texts from 1.
	Version int `json:"version"`
	// Text is exactly what was shown to the subject.
	Text string `json:"text"`
	// TextHash is the hex SHA-256 of Text; records carry it, so a proof
	// never points at "the current page".
	TextHash string `json:"text_hash"`
	// Material marks a change that makes earlier grants need re-consent.
	Material bool `json:"material"`
	// PublishedAt is when the version was published.
	PublishedAt time.Time `json:"published_at"`
	// PublishedBy is the actor who published it.
	PublishedBy gdprkit.ActorID `json:"published_by"`
}

// Evidence is how a decision was captured.
type Evidence struct {
	// IP is the client address in canonical form, or empty.
	IP string `json:"ip,omitempty"`
	// UserAgent is the client's User-Agent header, or empty.
	UserAgent string `json:"user_agent,omitempty"`
	// Wording is the checkbox or button text the subject acted on.
	Wording string `json:"wording,omitempty"`
}

// Record is one append-only grant or withdrawal.
//
// Its identifying values — Subject, RecordedBy, Evidence.IP,
// Evidence.UserAgent and Evidence.Wording — are not hashed into the chain
// themselves: each is bound by a salted commitment (Commits) opened by its
// own random salt (Salts), and the chain hashes the commitments. Removing a
// value together with its salt therefore leaves the chain and every proof
// valid, and leaves nothing from which the value could be recovered, not even
// by testing guesses. Records sealed before chain version 2 (Version 1) use
// the older rule instead: see Salt, SubjectCommit and EvidenceCommit.
type Record struct {
	// ID is the record's unique identifier (a UUIDv7 string).
	ID string `json:"id"`
	// Seq is the record's position in its account's chain, from 1.
	Seq int64 `json:"seq"`
	// Version is the chain rule the record is sealed under: ChainVersion for
	// records written by this version of the package, 1 for older ones (a
	// version-1 proof has no such field; 0 is read as 1).
	Version int `json:"version,omitempty"`
	// Subject is the subject's identifier; empty once pseudonymised.
	Subject gdprkit.SubjectID `json:"subject,omitempty"`
	// SubjectPS is the subject's keyed pseudonym; it never changes.
	SubjectPS gdprkit.Pseudonym `json:"subject_ps"`
	// Purpose is the key of the purpose decided on.
	Purpose string `json:"purpose"`
	// PolicyVersion is the version of the purpose's policy text shown.
	PolicyVersion int `json:"policy_version"`
	// PolicyHash is the hex SHA-256 of that text (Policy.TextHash).
	PolicyHash string `json:"policy_hash"`
	// Action is grant or withdraw.
	Action Action `json:"action"`
	// Source says where the decision was captured.
	Source Source `json:"source"`
	// Evidence is how it was captured; IP, UserAgent and Wording are empty
	// once pseudonymised (Wording stays in version-1 records).
	Evidence Evidence `json:"evidence"`
	// RecordedBy is who captured the decision: the subject themself, an
	// agent, an importer. Empty once pseudonymised (it stays in version-1
	// records, whose hash holds it; Service.Reseal moves them to version 2).
	RecordedBy gdprkit.ActorID `json:"recorded_by,omitempty"`
	// At is when the decision was recorded.
	At time.Time `json:"at"`
	// Salts holds the random hex salt of each field's commitment (version
	// 2). A salt is removed with its value; a field whose value was empty
	// when recorded has neither salt nor commitment.
	Salts Fields `json:"salts,omitzero"`
	// Commits holds the commitment of each field (version 2): the hex
	// SHA-256 of the chain version, the field's name, its salt and its value.
	// Commitments never change.
	Commits Fields `json:"commits,omitzero"`
	// Salt (hex) keys SubjectCommit and EvidenceCommit in version-1
	// records; empty once pseudonymised, and in version-2 records.
	Salt string `json:"salt,omitempty"`
	// SubjectCommit is the version-1 salted SHA-256 commitment to the
	// subject; empty in version-2 records.
	SubjectCommit string `json:"subject_commit,omitempty"`
	// EvidenceCommit is the version-1 commitment to (IP, UserAgent); empty
	// in version-2 records.
	EvidenceCommit string `json:"evidence_commit,omitempty"`
	// PriorHash is the hash the record had before Service.Reseal re-sealed
	// it under the current rule, so a proof exported earlier can still be
	// matched to it; empty for records sealed under the current rule from
	// the start. It is part of the record's hash.
	PriorHash string `json:"prior_hash,omitempty"`
	// PrevHash is the hash of the record before this one ("" for the first).
	PrevHash string `json:"prev_hash"`
	// Hash is the record's chain hash.
	Hash string `json:"hash"`
	// Pseudonymized reports that the record's identifying values were
	// removed (Service.PseudonymizeRecords). It is not part of the hash.
	Pseudonymized bool `json:"pseudonymized,omitempty"`
}

// Fields holds one string per identifying field of a record: Record.Salts
// and Record.Commits use it.
type Fields struct {
	// Subject is for Record.Subject.
	Subject string `json:"subject,omitempty"`
	// RecordedBy is for Record.RecordedBy.
	RecordedBy string `json:"recorded_by,omitempty"`
	// IP is for Record.Evidence.IP.
	IP string `json:"ip,omitempty"`
	// UserAgent is for Record.Evidence.UserAgent.
	UserAgent string `json:"user_agent,omitempty"`
	// Wording is for Record.Evidence.Wording.
	Wording string `json:"wording,omitempty"`
}

// Input limits.
const (
	MaxPurposeKey  = 64
	MaxName        = 200
	MaxDescription = 4096
	MaxUserAgent   = 1024
	MaxWording     = 4096
	MaxPolicyText  = 256 << 10
)

var purposeKeyRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func validPurposeKey(k string) error {
	if !purposeKeyRe.MatchString(k) {
		return fmt.Errorf("%w: purpose key %q must be 1-%d characters of a-z, 0-9, '.', '_', '-'", gdprkit.ErrInvalid, truncate(k, 80), MaxPurposeKey)
	}
	return nil
}

func validText(what, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: empty %s", gdprkit.ErrInvalid, what)
	case len(s) > max:
		return fmt.Errorf("%w: %s longer than %d bytes", gdprkit.ErrInvalid, what, max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", gdprkit.ErrInvalid, what)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
