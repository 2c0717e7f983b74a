package erasure

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/gdprkit/gdprkit"
)

// ActorRefs is what ActorRefsTarget needs from a store of records that name
// a user as their author but are not theirs to lose — an account's IP rules
// record who added each entry (ipfilter.Filter implements it). Records are
// identified by stable IDs; AnonymizeActor must be idempotent.
type ActorRefs interface {
	// ActorRecords returns the IDs of the records naming user as their
	// author and each record as a JSON object, in the same order.
	ActorRecords(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) ([]string, []json.RawMessage, error)
	// AnonymizeActor replaces user by replacement as the author of every
	// such record and returns how many changed.
	AnonymizeActor(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID, replacement gdprkit.ActorID) (int, error)
}

// ActorRefsTarget returns a root target of kind k over records whose
// authorship names the subject: it can only anonymise (the records stay,
// authored by the erasure's label "Former user …"), and exports the
// records for access requests. Anonymize changes every such record of the
// subject at once, whatever refs it is given.
func ActorRefsTarget(k Kind, description string, r ActorRefs) Target {
	return actorRefsTarget{kind: k, desc: description, r: r}
}

type actorRefsTarget struct {
	kind Kind
	desc string
	r    ActorRefs
}

func (t actorRefsTarget) Info() TargetInfo {
	return TargetInfo{Kind: t.kind, Default: Rule{Action: Anonymize}, Actions: []Action{Anonymize}, Description: t.desc}
}

func (t actorRefsTarget) records(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID) ([]string, map[string]json.RawMessage, error) {
	ids, data, err := t.r.ActorRecords(ctx, account, subject)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]json.RawMessage, len(ids))
	for i, id := range ids {
		if i < len(data) {
			byID[id] = data[i]
		}
	}
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	return sorted, byID, nil
}

func (t actorRefsTarget) Find(ctx context.Context, account gdprkit.AccountID, q Query) ([]Ref, error) {
	if q.Subject == "" {
		return nil, nil
	}
	ids, _, err := t.records(ctx, account, q.Subject)
	if err != nil {
		return nil, err
	}
	var out []Ref
	for _, id := range ids {
		if id > q.After && len(out) < q.Limit {
			out = append(out, Ref{ID: id})
		}
	}
	return out, nil
}

func (actorRefsTarget) Delete(context.Context, gdprkit.AccountID, gdprkit.SubjectID, []Ref) error {
	return ErrUnsupported
}

func (t actorRefsTarget) Anonymize(ctx context.Context, account gdprkit.AccountID, refs []Ref, a Anon) error {
	if len(refs) == 0 || a.Subject == "" {
		return nil
	}
	label := a.Label
	if label == "" {
		label = string(a.Pseudonym)
	}
	_, err := t.r.AnonymizeActor(ctx, account, a.Subject, gdprkit.ActorID(label))
	return err
}

func (t actorRefsTarget) Export(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []Ref) ([]json.RawMessage, error) {
	_, byID, err := t.records(ctx, account, subject)
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	for _, r := range refs {
		if d, ok := byID[r.ID]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}
