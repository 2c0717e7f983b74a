package kitdata

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
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
	// DeleteAccount removes every record of the account.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID, actor gdprkit.ActorID) error
}

// ActorRecordRefs is ActorRefs that can anonymise record by record, what
// ActorRefsTarget needs to act on exactly the records the engine hands it
// (*ipfilter.Filter has it).
type ActorRecordRefs interface {
	ActorRefs
	// AnonymizeActorRecords replaces user by replacement as the author of
	// the records with the given IDs (as ActorRecords returns them) that
	// name user, leaves every other record as it is, and returns how many
	// changed. It must be idempotent.
	AnonymizeActorRecords(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID, ids []string, replacement gdprkit.ActorID) (int, error)
}

// ActorRefsTarget returns a root target of kind k over records whose
// authorship names the subject: it can only anonymise (the records stay,
// authored by the erasure's label "Former user …"), and exports the
// records for access requests. Find pages through the subject's records
// by ID.
//
// When r is an ActorRecordRefs (*ipfilter.Filter is), Anonymize changes
// exactly the records it is given and reports how many changed, so the
// plan, the receipt and what changed agree. Otherwise Anonymize changes
// every such record of the subject at once, whatever refs it is given,
// and reports at most as many as the refs: a subject with more records
// than the erasure's batch size is then under-counted.
func ActorRefsTarget(k erasure.Kind, description string, r ActorRefs) erasure.Target {
	t := actorRefsTarget{kind: k, desc: description, r: r}
	t.byRecord, _ = r.(ActorRecordRefs)
	return t
}

type actorRefsTarget struct {
	erasure.Base
	kind     erasure.Kind
	desc     string
	r        ActorRefs
	byRecord ActorRecordRefs // r, when it anonymises record by record
}

func (t actorRefsTarget) Info() erasure.TargetInfo {
	return erasure.TargetInfo{Kind: t.kind, Default: erasure.Rule{Action: erasure.Anonymize}, Actions: []erasure.Action{erasure.Anonymize},
		Description: t.desc, Categories: []string{erasure.CategoryIdentity, erasure.CategoryUsage}, Caps: erasure.Caps{EraseAccount: true}}
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

func (t actorRefsTarget) Find(ctx context.Context, account gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	if q.Subject == "" {
		return nil, nil
	}
	ids, _, err := t.records(ctx, account, q.Subject)
	if err != nil {
		return nil, err
	}
	var out []erasure.Ref
	for _, id := range ids {
		if id > q.After && len(out) < q.Limit {
			out = append(out, erasure.Ref{ID: id})
		}
	}
	return out, nil
}

func (actorRefsTarget) Delete(context.Context, gdprkit.AccountID, gdprkit.SubjectID, []erasure.Ref) (erasure.Change, error) {
	return erasure.Change{}, erasure.ErrUnsupported
}

func (t actorRefsTarget) Anonymize(ctx context.Context, account gdprkit.AccountID, refs []erasure.Ref, a erasure.Anon) (erasure.Change, error) {
	if len(refs) == 0 || a.Subject == "" {
		return erasure.Change{}, nil
	}
	label := a.Label
	if label == "" {
		label = string(a.Pseudonym)
	}
	if t.byRecord != nil {
		n, err := t.byRecord.AnonymizeActorRecords(ctx, account, a.Subject, refIDs(refs), gdprkit.ActorID(label))
		return erasure.Change{Records: int64(n)}, err
	}
	n, err := t.r.AnonymizeActor(ctx, account, a.Subject, gdprkit.ActorID(label))
	return erasure.Change{Records: int64(min(n, len(refs)))}, err
}

func (t actorRefsTarget) EraseAccount(ctx context.Context, account gdprkit.AccountID) (erasure.Change, error) {
	return erasure.Change{}, t.r.DeleteAccount(ctx, account, "system:erasure")
}

func (t actorRefsTarget) Export(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
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
