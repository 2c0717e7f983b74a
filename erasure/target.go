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
	// Subject is the data subject. Root targets (no parent) find by it;
	// child targets may ignore it.
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
}

// Anon tells Anonymize how to anonymise.
type Anon struct {
	// Subject is whose link to cut.
	Subject gdprkit.SubjectID
	// Pseudonym is the subject's keyed pseudonym, for fields replaced by it.
	Pseudonym gdprkit.Pseudonym
	// Label is a short display name that replaces the subject's name where
	// a thread must still read ("Former agent 3f9a1c2e").
	Label string
	// ReassignTo is the agent that takes over reassigned work; empty means
	// the unassigned queue.
	ReassignTo gdprkit.SubjectID
	// Fields is the rule's per-field policy.
	Fields map[string]Action
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
}

func (i TargetInfo) can(a Action) bool {
	for _, x := range i.Actions {
		if x == a {
			return true
		}
	}
	return false
}

// Target is one kind of data in the cascade. Implementations must be safe
// for concurrent use, and every method must act only in the given account.
//
// The engine relies on these rules:
//
//   - Find returns at most q.Limit refs, strictly after q.After, in an
//     order of the target's choosing that is stable across calls.
//   - Delete and Anonymize are idempotent: applied again to the same refs
//     (some or all already done) they succeed and change nothing more.
//   - After Delete or Anonymize, Find for the same subject no longer
//     returns those records (anonymising cuts the link to the subject).
//   - Export returns one JSON value per ref still present.
//   - The subject passed to Delete and Export is the one whose records
//     were found (empty when DeleteRecord removes a record's subtree);
//     targets that find by parent may ignore it.
type Target interface {
	// Info describes the target: its kind, parent edge and policy.
	Info() TargetInfo
	// Find returns the next batch of the subject's (or the parents') records.
	Find(ctx context.Context, account gdprkit.AccountID, q Query) ([]Ref, error)
	// Delete removes the records.
	Delete(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []Ref) error
	// Anonymize blanks or replaces the records' personal fields.
	Anonymize(ctx context.Context, account gdprkit.AccountID, refs []Ref, a Anon) error
	// Export returns the records as JSON values.
	Export(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []Ref) ([]json.RawMessage, error)
}

// AccountEraser is implemented by targets that can remove every record of
// an account in one go; EraseAccount calls it after the per-subject
// cascade to remove what belongs to nobody in particular.
type AccountEraser interface {
	EraseAccount(ctx context.Context, account gdprkit.AccountID) (int, error)
}

// ParentFinder is implemented by child targets that can say which parent
// record each of their records lives under. The engine uses it to honour a
// legal hold on an ancestor (a held ticket, a held subject) when a record
// is reached other than from that ancestor: permanently deleted with
// Service.DeleteRecord, or found by a root kind that shares its Records
// (authored_message reaches messages, assigned_ticket tickets). A child
// target that does not implement it cannot see such holds.
type ParentFinder interface {
	// ParentsOf returns the parent record's ID of each of ids that exists
	// in the account; IDs it does not know are left out.
	ParentsOf(ctx context.Context, account gdprkit.AccountID, ids []string) (map[string]string, error)
}

// Graph is a validated set of targets: kinds unique, every parent present,
// no cycles. It is immutable and safe for concurrent use.
type Graph struct {
	byKind map[Kind]Target
	infos  map[Kind]TargetInfo
	order  []Kind // parents before children, ties by kind name
	kids   map[Kind][]Kind
	height map[Kind]int // 1 for a leaf
}

// NewGraph validates targets and builds a graph. It returns an error
// wrapping gdprkit.ErrInvalid for a bad kind, a duplicate, a missing parent,
// a cycle, or a default rule the target cannot apply.
func NewGraph(targets ...Target) (*Graph, error) {
	g := &Graph{byKind: map[Kind]Target{}, infos: map[Kind]TargetInfo{}}
	for _, t := range targets {
		if t == nil {
			return nil, fmt.Errorf("%w: nil target", gdprkit.ErrInvalid)
		}
		info := t.Info()
		if err := info.Kind.Validate(); err != nil {
			return nil, err
		}
		if _, dup := g.byKind[info.Kind]; dup {
			return nil, fmt.Errorf("%w: two targets of kind %q", gdprkit.ErrInvalid, info.Kind)
		}
		if len(info.Actions) == 0 {
			return nil, fmt.Errorf("%w: target %q supports no action", gdprkit.ErrInvalid, info.Kind)
		}
		if err := info.Default.validate(info.Kind, info); err != nil {
			return nil, err
		}
		g.byKind[info.Kind] = t
		g.infos[info.Kind] = info
	}
	depth := map[Kind]int{}
	var visit func(k Kind, seen map[Kind]bool) (int, error)
	visit = func(k Kind, seen map[Kind]bool) (int, error) {
		if d, ok := depth[k]; ok {
			return d, nil
		}
		if seen[k] {
			return 0, fmt.Errorf("%w: cycle through kind %q", gdprkit.ErrInvalid, k)
		}
		seen[k] = true
		p := g.infos[k].Parent
		d := 0
		if p != "" {
			if _, ok := g.infos[p]; !ok {
				return 0, fmt.Errorf("%w: kind %q names unknown parent %q", gdprkit.ErrInvalid, k, p)
			}
			pd, err := visit(p, seen)
			if err != nil {
				return 0, err
			}
			d = pd + 1
		}
		depth[k] = d
		return d, nil
	}
	for k := range g.infos {
		if _, err := visit(k, map[Kind]bool{}); err != nil {
			return nil, err
		}
		g.order = append(g.order, k)
	}
	sort.Slice(g.order, func(i, j int) bool {
		a, b := g.order[i], g.order[j]
		if depth[a] != depth[b] {
			return depth[a] < depth[b]
		}
		return a < b
	})
	g.kids = map[Kind][]Kind{}
	g.height = map[Kind]int{}
	for i := len(g.order) - 1; i >= 0; i-- {
		k := g.order[i]
		if g.height[k] == 0 {
			g.height[k] = 1
		}
		if p := g.infos[k].Parent; p != "" {
			g.kids[p] = append([]Kind{k}, g.kids[p]...)
			g.height[p] = max(g.height[p], g.height[k]+1)
		}
	}
	return g, nil
}

// roots returns the root kinds, deepest subtree first (ties by name), so
// an end user's own tickets and messages go before the root targets that
// reach some of the same records another way (authored_message).
func (g *Graph) roots() []Kind {
	var out []Kind
	for _, k := range g.order {
		if g.infos[k].Parent == "" {
			out = append(out, k)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return g.height[out[i]] > g.height[out[j]] })
	return out
}

// path returns the kinds from k's root down to k.
func (g *Graph) path(k Kind) []Kind {
	var out []Kind
	for ; k != ""; k = g.infos[k].Parent {
		out = append([]Kind{k}, out...)
	}
	return out
}

// Targets describes the graph's targets, parents before children.
func (g *Graph) Targets() []TargetInfo {
	out := make([]TargetInfo, len(g.order))
	for i, k := range g.order {
		out[i] = g.infos[k]
	}
	return out
}

// Target returns the target of kind k.
func (g *Graph) Target(k Kind) (Target, bool) {
	t, ok := g.byKind[k]
	return t, ok
}

// placed returns the kind whose parent chain places k's records: k when it
// has a parent, else the child kind with the same Records (message for
// authored_message, the first by name if several), else "".
func (g *Graph) placed(k Kind) Kind {
	info := g.infos[k]
	if info.Parent != "" {
		return k
	}
	if info.Records == "" {
		return ""
	}
	best := Kind("")
	for kind, i := range g.infos {
		if i.Records == info.Records && i.Parent != "" && (best == "" || kind < best) {
			best = kind
		}
	}
	return best
}

// leafFirst returns the kinds under root (all kinds when root is ""),
// children before parents.
func (g *Graph) leafFirst(root Kind) []Kind {
	var out []Kind
	for i := len(g.order) - 1; i >= 0; i-- {
		k := g.order[i]
		if root == "" || g.under(k, root) {
			out = append(out, k)
		}
	}
	return out
}

// under reports whether k is root or a descendant of it.
func (g *Graph) under(k, root Kind) bool {
	for k != "" {
		if k == root {
			return true
		}
		k = g.infos[k].Parent
	}
	return false
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
