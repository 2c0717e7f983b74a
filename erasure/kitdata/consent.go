package kitdata

import (
	"context"
	"encoding/json"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
)

// ConsentRecords is what the consent target needs; *consent.Service has
// it.
type ConsentRecords interface {
	// LiveRecordIDs pages through the IDs of the subject's records not yet
	// pseudonymised, ascending.
	LiveRecordIDs(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, afterID string, limit int) ([]string, error)
	// PseudonymizeRecords strips the identifiers from exactly the given
	// records of the subject, keeping the proof, and returns how many
	// changed.
	PseudonymizeRecords(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, ids []string, by gdprkit.ActorID) (int, error)
	// RecordsByID returns the subject's records among ids.
	RecordsByID(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, ids []string) ([]consent.Record, error)
	// DeleteAccount removes all of an account's consent data.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID) (int, error)
}

// ConsentTarget returns the target of the subject's consent records
// (erasure.KindConsent, a root). It can only anonymise: the records are
// pseudonymised, keeping the proof that consent was given (Art. 7(1)).
// Find pages through the records not yet pseudonymised; Anonymize
// pseudonymises exactly the records it is given and counts those that
// changed; EraseAccount deletes the account's consent data, proof
// included.
func ConsentTarget(c ConsentRecords) erasure.Target { return consentTarget{c: c} }

type consentTarget struct {
	erasure.Base
	c ConsentRecords
}

func (consentTarget) Info() erasure.TargetInfo {
	return erasure.TargetInfo{Kind: erasure.KindConsent, Default: erasure.Rule{Action: erasure.Anonymize, Ground: "Art. 7(1): proof of consent is kept, pseudonymised"},
		Actions: []erasure.Action{erasure.Anonymize}, Description: "consent grants and withdrawals (pseudonymised, proof kept)",
		Categories: []string{erasure.CategoryConsent, erasure.CategoryIdentity, erasure.CategoryOnlineIdentifiers},
		Caps:       erasure.Caps{EraseAccount: true}}
}

// maxConsentBatch is the consent service's largest batch.
const maxConsentBatch = consent.MaxBatch

func (t consentTarget) Find(ctx context.Context, account gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	if q.Subject == "" || q.All {
		return nil, nil
	}
	ids, err := t.c.LiveRecordIDs(ctx, account, q.Subject, q.After, min(q.Limit, maxConsentBatch))
	if err != nil {
		return nil, err
	}
	out := make([]erasure.Ref, len(ids))
	for i, id := range ids {
		out[i] = erasure.Ref{ID: id}
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
	var n int64
	for i := 0; i < len(refs); i += maxConsentBatch {
		part := refs[i:min(i+maxConsentBatch, len(refs))]
		ids := make([]string, len(part))
		for j, r := range part {
			ids[j] = r.ID
		}
		c, err := t.c.PseudonymizeRecords(ctx, account, a.Subject, ids, "system:erasure")
		n += int64(c)
		if err != nil {
			return erasure.Change{Records: n}, err
		}
	}
	return erasure.Change{Records: n}, nil
}

func (t consentTarget) Export(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for i := 0; i < len(refs); i += maxConsentBatch {
		part := refs[i:min(i+maxConsentBatch, len(refs))]
		ids := make([]string, len(part))
		for j, r := range part {
			ids[j] = r.ID
		}
		rs, err := t.c.RecordsByID(ctx, account, subject, ids)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			b, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

func (t consentTarget) EraseAccount(ctx context.Context, account gdprkit.AccountID) (erasure.Change, error) {
	n, err := t.c.DeleteAccount(ctx, account, "system:erasure")
	return erasure.Change{Records: int64(n)}, err
}
