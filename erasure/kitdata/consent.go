package kitdata

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
)

// ConsentRecords is what the consent target needs; *consent.Service has
// it.
type ConsentRecords interface {
	// History returns the subject's records, oldest first.
	History(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID) ([]consent.Record, error)
	// Pseudonymize strips the subject's identifiers from their records,
	// keeping the proof, and returns how many records changed.
	Pseudonymize(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, by gdprkit.ActorID) (int, error)
	// DeleteAccount removes all of an account's consent data.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID) (int, error)
}

// ConsentTarget returns the target of the subject's consent records
// (erasure.KindConsent, a root). It can only anonymise: the records are
// pseudonymised, keeping the proof that consent was given (Art. 7(1)).
// Find lists the records not yet pseudonymised; EraseAccount deletes the
// account's consent data, proof included.
func ConsentTarget(c ConsentRecords) erasure.Target { return consentTarget{c: c} }

type consentTarget struct {
	erasure.Base
	c ConsentRecords
}

func (consentTarget) Info() erasure.TargetInfo {
	return erasure.TargetInfo{Kind: erasure.KindConsent, Default: erasure.Rule{Action: erasure.Anonymize, Ground: "Art. 7(1): proof of consent is kept, pseudonymised"},
		Actions: []erasure.Action{erasure.Anonymize}, Description: "consent grants and withdrawals (pseudonymised, proof kept)",
		Caps: erasure.Caps{EraseAccount: true}}
}

func (t consentTarget) live(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID) ([]consent.Record, error) {
	rs, err := t.c.History(ctx, account, subject)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		if !r.Pseudonymized {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (t consentTarget) Find(ctx context.Context, account gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	if q.Subject == "" {
		return nil, nil
	}
	rs, err := t.live(ctx, account, q.Subject)
	if err != nil {
		return nil, err
	}
	var out []erasure.Ref
	for _, r := range rs {
		if r.ID > q.After && len(out) < q.Limit {
			out = append(out, erasure.Ref{ID: r.ID})
		}
	}
	return out, nil
}

func (consentTarget) Delete(context.Context, gdprkit.AccountID, gdprkit.SubjectID, []erasure.Ref) (erasure.Change, error) {
	return erasure.Change{}, erasure.ErrUnsupported
}

func (t consentTarget) Anonymize(ctx context.Context, account gdprkit.AccountID, refs []erasure.Ref, a erasure.Anon) (erasure.Change, error) {
	if len(refs) == 0 || a.Subject == "" {
		return erasure.Change{}, nil
	}
	n, err := t.c.Pseudonymize(ctx, account, a.Subject, "system:erasure")
	return erasure.Change{Records: int64(min(n, len(refs)))}, err
}

func (t consentTarget) Export(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
	rs, err := t.c.History(ctx, account, subject)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(refs))
	for _, r := range refs {
		want[r.ID] = true
	}
	var out []json.RawMessage
	for _, r := range rs {
		if !want[r.ID] {
			continue
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (t consentTarget) EraseAccount(ctx context.Context, account gdprkit.AccountID) (erasure.Change, error) {
	n, err := t.c.DeleteAccount(ctx, account, "system:erasure")
	return erasure.Change{Records: int64(n)}, err
}
