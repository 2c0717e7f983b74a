package erasure

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// Kind names one kind of data in the cascade graph ("ticket", "message",
// a host table name, …). Kinds are 1–64 bytes of [a-z0-9_.-].
type Kind string

// The kinds of the standard helpdesk graph and of gdprkit's own data.
const (
	// KindEndUser is the end user's (contact's) profile; the root of an
	// end user's data.
	KindEndUser Kind = "end_user"
	// KindIdentity is one of a user's identities: e-mail address, phone
	// number, social or SSO login.
	KindIdentity Kind = "identity"
	// KindPortalProfile is the customer-portal profile.
	KindPortalProfile Kind = "portal_profile"
	// KindOAuthToken is an OAuth access or refresh token of the user.
	KindOAuthToken Kind = "oauth_token"
	// KindSession is a login session of the user.
	KindSession Kind = "session"
	// KindSavedSearch is a saved search or view the user created.
	KindSavedSearch Kind = "saved_search"
	// KindTicket is a ticket the user requested (opened).
	KindTicket Kind = "ticket"
	// KindMessage is a message in one of those tickets, whoever wrote it.
	KindMessage Kind = "message"
	// KindAttachment is an attachment or inline image record of a message.
	KindAttachment Kind = "attachment"
	// KindBlob is the stored file of an attachment (disk, object storage).
	KindBlob Kind = "blob"
	// KindAgentProfile is an agent's profile.
	KindAgentProfile Kind = "agent_profile"
	// KindAssignedTicket is an open ticket assigned to the agent; by
	// default it is reassigned, not deleted.
	KindAssignedTicket Kind = "assigned_ticket"
	// KindAuthoredMessage is a message the agent wrote in someone else's
	// ticket; by default its authorship is anonymised.
	KindAuthoredMessage Kind = "authored_message"
	// KindConsent is the subject's consent records (package consent); they
	// are pseudonymised, keeping the proof.
	KindConsent Kind = "consent"
	// KindCredentials is the subject's passwords, TOTP secrets, recovery
	// codes, API tokens and sessions (package authn); they are deleted.
	KindCredentials Kind = "credentials"
	// KindSpamLesson is what the spam filter learned from one of the
	// subject's messages (package spam); it is untrained.
	KindSpamLesson Kind = "spam_lesson"
)

// Validate reports whether k is a usable kind name.
func (k Kind) Validate() error {
	if len(k) == 0 || len(k) > 64 {
		return fmt.Errorf("%w: kind %q must be 1-64 bytes", gdprkit.ErrInvalid, truncate(string(k), 80))
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return fmt.Errorf("%w: kind %q may hold only a-z, 0-9, '_', '.', '-'", gdprkit.ErrInvalid, truncate(string(k), 80))
		}
	}
	return nil
}

// Action is what happens to a record.
type Action string

// The actions.
const (
	// Delete removes the record.
	Delete Action = "delete"
	// Anonymize keeps the record but cuts its link to the subject and
	// removes or replaces its personal fields.
	Anonymize Action = "anonymize"
	// Keep leaves the record as it is; a Rule that keeps must name its
	// legal ground.
	Keep Action = "keep"
)

func (a Action) valid() bool { return a == Delete || a == Anonymize || a == Keep }

// Rule is the policy for one kind: what to do with the subject's records
// and, for Keep, the legal ground (GDPR Art. 17(3)) recorded in the receipt.
type Rule struct {
	Action Action `json:"action"`
	// Ground is required when Action is Keep, and optional otherwise
	// (for example "Art. 17(3)(e): defence of legal claims").
	Ground string `json:"ground,omitempty"`
	// Fields is the per-field policy applied by Anonymize: a field mapped
	// to Keep is left as is, to Delete is blanked, to Anonymize is replaced
	// by the subject's keyed pseudonym. Fields not named get the target's
	// own default. Targets document the fields they know.
	Fields map[string]Action `json:"fields,omitempty"`
}

func (r Rule) validate(k Kind, info TargetInfo) error {
	if !r.Action.valid() {
		return fmt.Errorf("%w: %s: unknown action %q", gdprkit.ErrInvalid, k, r.Action)
	}
	if r.Action == Keep && strings.TrimSpace(r.Ground) == "" {
		return fmt.Errorf("%w: %s: keeping records needs a legal ground", gdprkit.ErrInvalid, k)
	}
	if len(r.Ground) > 500 {
		return fmt.Errorf("%w: %s: ground longer than 500 bytes", gdprkit.ErrInvalid, k)
	}
	if r.Action != Keep && !info.can(r.Action) {
		return fmt.Errorf("%w: %s cannot %s", gdprkit.ErrInvalid, k, r.Action)
	}
	for f, a := range r.Fields {
		if !a.valid() {
			return fmt.Errorf("%w: %s: field %q: unknown action %q", gdprkit.ErrInvalid, k, f, a)
		}
	}
	return nil
}

// Ref points at one record of a target. IDs are opaque to the engine.
type Ref struct {
	ID string `json:"id"`
	// Bytes is the stored size, for blobs (0 otherwise).
	Bytes int64 `json:"bytes,omitempty"`
	// Cursor, when set, is what the next page's Query.After must be to
	// continue after this record (a target that orders children by
	// parent, then key, needs both); empty means the ID.
	Cursor string `json:"cursor,omitempty"`
}

// Next returns the Query.After that continues after r.
func (r Ref) Next() string {
	if r.Cursor != "" {
		return r.Cursor
	}
	return r.ID
}

// Query asks a target for a page of the subject's records.
type Query struct {
	// Subject is the data subject's key (Subject.Key: the subject's ID
	// unless the Directory says otherwise). Root targets (no parent) find
	// by it; child targets may ignore it.
	Subject gdprkit.SubjectID
	// Parents holds IDs of records of the parent kind: a child target
	// returns its records that belong to any of them. Empty for roots.
	Parents []string
	// After is the previous page's last Ref.Next() ("" for the first):
	// the target returns records strictly after it in its own stable
	// order.
	After string
	// Limit is the largest number of refs to return (≥ 1).
	Limit int
	// Identifiers are the subject's known identifiers, for root targets
	// that find records by the identifiers they mention (recipients in a
	// JSON column, a name in free text). Empty for DeleteRecord and
	// account erasure.
	Identifiers []Identifier
	// Keys are the subject's other keys by name (Subject.Keys), for root
	// targets that find the subject by one of them.
	Keys map[string]gdprkit.SubjectID
	// All asks for every record of the account, whoever it belongs to and
	// whatever its parent: account deletion asks it of targets with
	// Caps.EraseAccount while legal holds are active, to delete what no
	// hold covers one record at a time. Subject and Parents are empty.
	All bool
}

// Anon tells Anonymize how to anonymise.
type Anon struct {
	// Subject is whose link to cut: the key root targets find the subject
	// by (Subject.Key, which is the subject's ID unless the Directory says
	// otherwise).
	Subject gdprkit.SubjectID
	// Pseudonym is the subject's keyed pseudonym, for fields replaced by it.
	Pseudonym gdprkit.Pseudonym
	// Label is a short display name that replaces the subject's name where
	// a thread must still read ("Former user 3f9a1c2e").
	Label string
	// ReassignTo is the key of the agent that takes over reassigned work;
	// empty means the unassigned queue.
	ReassignTo gdprkit.SubjectID
	// Fields is the rule's per-field policy.
	Fields map[string]Action
	// Identifiers are the subject's known identifiers (e-mail addresses,
	// phone numbers, names), for targets that remove them from other
	// records' JSON, lists or free text.
	Identifiers []Identifier
	// Gone, in a prediction of a dry run (Predict), holds the records an
	// earlier step of the same plan would already have deleted, by
	// records space (TargetInfo.Records) and ID: a prediction of what a
	// database cascade would reach leaves them out, as the run would.
	Gone map[string]map[string]bool
}

// Identifier is one identifier of a subject, by kind ("email", "phone",
// "name", "login").
type Identifier struct {
	// Kind says what the value is: "email", "phone", "name", "login", or a
	// host's own kind.
	Kind string `json:"kind"`
	// Value is the identifier itself.
	Value string `json:"value"`
}

// Caps declares what a target can do beyond the five methods every
// target implements in earnest (Info, Find, Delete, Anonymize, Export).
// The engine calls an optional method only when its capability is set, so
// a wrapper that forwards the Target interface keeps every capability of
// the target it wraps: capabilities are data, not interfaces found by
// type assertion.
type Caps struct {
	// Parents: ParentsOf says which parent record each record lives
	// under, so legal holds on an ancestor are honoured when a record is
	// reached another way (Service.DeleteRecord, a root kind sharing its
	// Records). A child target without it cannot see such holds.
	Parents bool `json:"parents,omitempty"`
	// Identifiers: Identifiers lists the e-mail addresses, phone numbers
	// and names the records hold; the engine keeps a keyed pseudonym of
	// each as a tombstone and hands them to other targets (Anon and Query
	// Identifiers) before anything changes.
	Identifiers bool `json:"identifiers,omitempty"`
	// EraseAccount: EraseAccount removes every record of an account, for
	// account deletion.
	EraseAccount bool `json:"erase_account,omitempty"`
	// Predict: Predict counts what Delete or Anonymize would change
	// without changing it — rows a database cascade would delete or set
	// NULL, rows of a group — so a plan shows it.
	Predict bool `json:"predict,omitempty"`
	// Residue: Residue searches the target's records for identifiers
	// that should be gone.
	Residue bool `json:"residue,omitempty"`
	// Check: Check verifies, before a job writes anything, that what the
	// target was built against (a live database schema) still holds.
	Check bool `json:"check,omitempty"`
	// Locate: Locate finds the account's records by when they were
	// created, whoever they belong to, so Service.Holders can answer
	// "whose attachments were stored between these dates" (a breach's
	// affected subjects).
	Locate bool `json:"locate,omitempty"`
	// Count: Count counts the subject's records of the kind with one
	// aggregate query (a SQL COUNT over the predicate Find uses, joined up
	// the parent chain), so Service.Preview can show a dry run of a large
	// subject without walking its records.
	Count bool `json:"count,omitempty"`
}

// TargetInfo describes a target.
type TargetInfo struct {
	// Kind is the target's unique name in a graph.
	Kind Kind `json:"kind"`
	// Parent is the kind whose records this target's records belong to
	// ("" for a root, found by subject).
	Parent Kind `json:"parent,omitempty"`
	// Default is the rule applied when the policy does not name the kind.
	Default Rule `json:"default"`
	// Actions lists what the target can do besides Keep (Delete,
	// Anonymize, or both).
	Actions []Action `json:"actions"`
	// Description is for people reading plans.
	Description string `json:"description,omitempty"`
	// Records, when set, names the table or collection the target's
	// records live in. Targets with the same Records address the same
	// records by the same IDs (message and authored_message both reach
	// messages), which lets a dry run see that a record deleted by one is
	// not there for the other.
	Records string `json:"records,omitempty"`
	// After lists kinds whose records must be deleted or anonymised
	// before this kind's (a row that references another must go before
	// it). erasure/sqltarget fills it from the database's foreign keys;
	// hosts may add their own. See Graph for how the order is derived.
	After []Kind `json:"after,omitempty"`
	// Classes, when not empty, limits a root target to subjects of these
	// classes (Subject.Class): customers kept in one table and agents in
	// another. Children follow their root. Empty: every subject.
	Classes []string `json:"classes,omitempty"`
	// NoExport keeps the kind out of access exports (internal records
	// such as an agent's assistant prompts); it is still erased.
	NoExport bool `json:"no_export,omitempty"`
	// Categories are the categories of personal data the records hold
	// (CategoryContact, CategoryContent, … or a host's own, such as
	// "billing"), for the record of processing activities (GDPR Art. 30,
	// package processing), which refuses a graph with a kind that declares
	// none. The engine itself does not read them.
	Categories []string `json:"categories,omitempty"`
	// Provided marks data the subject provided themself (their profile,
	// the messages and files they sent), as opposed to what others wrote
	// about them (agents' notes) or the system derived: a portability
	// export (Art. 20) holds only provided kinds. Default: false.
	Provided bool `json:"provided,omitempty"`
	// Caps declares the optional methods the target implements.
	Caps Caps `json:"caps"`
}

// The categories of personal data a helpdesk holds: the vocabulary of
// TargetInfo.Categories. Hosts may add their own (lower-case words).
const (
	// CategoryIdentity: who the person is: names, user IDs, usernames,
	// roles, social or SSO logins.
	CategoryIdentity = "identity"
	// CategoryContact: how to reach the person: e-mail addresses, phone
	// numbers, postal addresses.
	CategoryContact = "contact"
	// CategoryContent: what the person wrote or was written about them:
	// ticket subjects, messages, notes, signatures, and what is derived
	// from them (spam filter lessons).
	CategoryContent = "content"
	// CategoryAttachments: files and images the person sent or that show
	// them (attachments, inline images, avatars).
	CategoryAttachments = "attachments"
	// CategoryOnlineIdentifiers: IP addresses, user agents, cookies,
	// session and device identifiers (Recital 30).
	CategoryOnlineIdentifiers = "online identifiers"
	// CategoryCredentials: password hashes, second-factor secrets,
	// recovery codes, API and OAuth tokens.
	CategoryCredentials = "credentials"
	// CategoryUsage: what the person did and when: timestamps, activity,
	// preferences, saved searches, language, ratings.
	CategoryUsage = "usage"
	// CategoryConsent: the person's consent decisions with their evidence.
	CategoryConsent = "consent"
)

func (i TargetInfo) can(a Action) bool {
	for _, x := range i.Actions {
		if x == a {
			return true
		}
	}
	return false
}

func (i TargetInfo) forClass(class string) bool {
	if len(i.Classes) == 0 {
		return true
	}
	for _, c := range i.Classes {
		if c == class {
			return true
		}
	}
	return false
}

// Change is what one call of Delete, Anonymize or EraseAccount changed
// (or, from Predict, would change).
type Change struct {
	// Records is how many of the given records this call changed: rows
	// affected, never the number of refs it was given. A record already
	// deleted or anonymised (a batch applied again after a crash) counts
	// zero.
	Records int64 `json:"records"`
	// Rows is how many rows (or entries) those records span: more than
	// Records when a record is a group of rows (key/value rows sharing a
	// session ID, a table without a primary key bound by its parent
	// column). Zero means the same as Records.
	Rows int64 `json:"rows,omitempty"`
	// Bytes is the size of deleted files.
	Bytes int64 `json:"bytes,omitempty"`
	// Effects is what else changed because of the call, outside the
	// target's own records: rows a database deleted or set to NULL by
	// itself through foreign keys (ON DELETE CASCADE / SET NULL).
	Effects []Effect `json:"effects,omitempty"`
}

// rows returns Rows, or Records when Rows is not set.
func (c Change) rows() int64 {
	if c.Rows > 0 {
		return c.Rows
	}
	return c.Records
}

// Effect is a change a target's action caused outside its own records.
type Effect struct {
	// Table is where the rows are.
	Table string `json:"table"`
	// Column is the referencing column, for EffectNulled.
	Column string `json:"column,omitempty"`
	// Action is EffectDeleted or EffectNulled.
	Action string `json:"action"`
	// Rows is how many rows.
	Rows int64 `json:"rows"`
}

// The effect actions.
const (
	// EffectDeleted: the database deleted the rows (ON DELETE CASCADE).
	EffectDeleted = "deleted"
	// EffectNulled: the database set the column to NULL (ON DELETE SET
	// NULL).
	EffectNulled = "set null"
)

// addEffects merges b into a, summing rows of the same table, column and
// action, and returns a in a stable order.
func addEffects(a, b []Effect) []Effect {
	for _, e := range b {
		found := false
		for i := range a {
			if a[i].Table == e.Table && a[i].Column == e.Column && a[i].Action == e.Action {
				a[i].Rows += e.Rows
				found = true
				break
			}
		}
		if !found {
			a = append(a, e)
		}
	}
	sort.Slice(a, func(i, j int) bool {
		if a[i].Table != a[j].Table {
			return a[i].Table < a[j].Table
		}
		if a[i].Column != a[j].Column {
			return a[i].Column < a[j].Column
		}
		return a[i].Action < a[j].Action
	})
	return a
}

// ResidueQuery asks a target for records that still hold a subject's
// identifiers.
type ResidueQuery struct {
	// Subject is the subject's key. It is empty when one search stands for
	// several subjects at once (Work's batched verify pass, RunBatch):
	// Identifiers then hold all of their identifiers, and a finding of
	// any of them counts, so a Residue must search by Identifiers alone.
	Subject gdprkit.SubjectID
	// Identifiers are the values to look for (e-mail addresses, phone
	// numbers, names, the subject's own key).
	Identifiers []Identifier
	// Limit caps the findings (≥ 1).
	Limit int
}

// Finding is one place where a searched identifier is still present.
type Finding struct {
	// Kind is the target that holds it.
	Kind Kind `json:"kind"`
	// Record is the record's ID.
	Record string `json:"record"`
	// Field is the column or field ("" when the record as a whole, such
	// as a file's key).
	Field string `json:"field,omitempty"`
	// Identifier is the kind of identifier found ("email", "name", …),
	// never its value.
	Identifier string `json:"identifier"`
}

// Target is one kind of data in the cascade. Implementations must be safe
// for concurrent use, and every method must act only in the given account.
//
// It is one interface: the optional methods (ParentsOf, Identifiers,
// EraseAccount, Predict, Residue, Check, Locate) are called only when
// Info().Caps says the target has them, so a target that lacks one embeds
// Base, which answers ErrUnsupported, and a wrapper that forwards all twelve methods
// (or embeds the Target it wraps) keeps every capability.
//
// The engine relies on these rules:
//
//   - Find returns at most q.Limit refs, strictly after q.After, in an
//     order of the target's choosing that is stable across calls. Fewer
//     than q.Limit refs means there are no more.
//   - Delete and Anonymize act on exactly the given refs, no others, and
//     are idempotent: applied again to the same refs (some or all already
//     done) they succeed and change nothing more. Their Change says how
//     many records they really changed.
//   - After Delete or Anonymize, Find for the same subject no longer
//     returns those records (anonymising cuts the link to the subject).
//   - Export returns one JSON value per ref still present.
//   - The subject passed to Delete and Export is the key the records were
//     found by (empty when DeleteRecord removes a record's subtree or an
//     account is erased); targets that find by parent may ignore it.
type Target interface {
	// Info describes the target: its kind, parent edge, policy and
	// capabilities.
	Info() TargetInfo
	// Find returns the next batch of the subject's (or the parents') records.
	Find(ctx context.Context, account gdprkit.AccountID, q Query) ([]Ref, error)
	// Delete removes the records.
	Delete(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []Ref) (Change, error)
	// Anonymize blanks or replaces the records' personal fields.
	Anonymize(ctx context.Context, account gdprkit.AccountID, refs []Ref, a Anon) (Change, error)
	// Export returns the records as JSON values.
	Export(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []Ref) ([]json.RawMessage, error)

	// ParentsOf returns the parent record's ID of each of ids that exists
	// in the account; IDs it does not know are left out (Caps.Parents).
	ParentsOf(ctx context.Context, account gdprkit.AccountID, ids []string) (map[string]string, error)
	// Identifiers lists the identifiers the records hold
	// (Caps.Identifiers).
	Identifiers(ctx context.Context, account gdprkit.AccountID, refs []Ref) ([]Identifier, error)
	// EraseAccount removes every record of the account
	// (Caps.EraseAccount). It is idempotent.
	EraseAccount(ctx context.Context, account gdprkit.AccountID) (Change, error)
	// Predict counts what action (Delete or Anonymize, with a for
	// Anonymize) would change on refs, changing nothing (Caps.Predict).
	Predict(ctx context.Context, account gdprkit.AccountID, refs []Ref, action Action, a Anon) (Change, error)
	// Residue returns records that still hold any of q.Identifiers
	// (Caps.Residue).
	Residue(ctx context.Context, account gdprkit.AccountID, q ResidueQuery) ([]Finding, error)
	// Check verifies that the target still matches what it was built
	// against and that the request's rules are safe on it, before a job or
	// plan touches anything (Caps.Check).
	Check(ctx context.Context, c CheckRequest) error
	// Locate returns a page of the account's records created within
	// q's period, whoever they belong to (Caps.Locate).
	Locate(ctx context.Context, account gdprkit.AccountID, q LocateQuery) ([]Ref, error)
	// Count returns how many records of the subject the target holds: for
	// a root, every record Find returns for q's Subject, Keys and
	// Identifiers over all pages; for a child, every record under the
	// subject's records of its parent kind, all the way up to the root
	// (q.Parents, After and Limit are not used). Records that the kinds
	// in without (kinds over the same Records that act earlier and
	// delete) would reach are left out; a target that cannot tell returns
	// ErrUnsupported. Holds and rules are not considered (Caps.Count).
	Count(ctx context.Context, account gdprkit.AccountID, q Query, without []Kind) (int64, error)
}

// CheckRequest is what Target.Check verifies.
type CheckRequest struct {
	// Run identifies one job run, plan or submission: targets built
	// together (one schema binding) may check once per run.
	Run string
	// Cached lets a target judge Rules on the schema it read last rather
	// than reading it again. It is set for a submission, after which
	// nothing is written before the job's run checks again with Cached
	// unset; a burst of submissions then costs no schema read each.
	Cached bool
	// Rules are the rules the request will apply, every kind of the graph
	// included: a binding refuses rules whose effects its database would
	// turn against other data (a delete that a foreign key would cascade
	// into kept rows).
	Rules map[Kind]Rule
}

// Base is embedded by targets to provide the optional methods they do not
// implement: each returns ErrUnsupported, and the engine never calls them
// while TargetInfo.Caps says the capability is absent.
type Base struct{}

// ParentsOf returns ErrUnsupported.
func (Base) ParentsOf(context.Context, gdprkit.AccountID, []string) (map[string]string, error) {
	return nil, ErrUnsupported
}

// Identifiers returns ErrUnsupported.
func (Base) Identifiers(context.Context, gdprkit.AccountID, []Ref) ([]Identifier, error) {
	return nil, ErrUnsupported
}

// EraseAccount returns ErrUnsupported.
func (Base) EraseAccount(context.Context, gdprkit.AccountID) (Change, error) {
	return Change{}, ErrUnsupported
}

// Predict returns ErrUnsupported.
func (Base) Predict(context.Context, gdprkit.AccountID, []Ref, Action, Anon) (Change, error) {
	return Change{}, ErrUnsupported
}

// Residue returns ErrUnsupported.
func (Base) Residue(context.Context, gdprkit.AccountID, ResidueQuery) ([]Finding, error) {
	return nil, ErrUnsupported
}

// Check returns ErrUnsupported.
func (Base) Check(context.Context, CheckRequest) error { return ErrUnsupported }

// Count returns ErrUnsupported.
func (Base) Count(context.Context, gdprkit.AccountID, Query, []Kind) (int64, error) {
	return 0, ErrUnsupported
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// ErrUnsupported is returned by a target asked for an action it does not
// offer (see TargetInfo.Actions); it wraps gdprkit.ErrInvalid.
var ErrUnsupported = fmt.Errorf("%w: the target does not support this action", gdprkit.ErrInvalid)
