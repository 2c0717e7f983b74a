package kitdata

import (
	"context"
	"errors"
	"fmt"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
)

// ConsentWithdrawer is what the objection adapter needs; *consent.Service
// has it.
type ConsentWithdrawer interface {
	// Purpose returns a purpose, or an error wrapping gdprkit.ErrNotFound.
	Purpose(ctx context.Context, account gdprkit.AccountID, key string) (consent.Purpose, error)
	// Check answers whether the subject's consent to purpose is in force.
	Check(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, purpose string) (consent.Status, error)
	// Record appends one record per decision, atomically.
	Record(ctx context.Context, account gdprkit.AccountID, ds []consent.Decision, action consent.Action) ([]consent.Record, error)
}

// SourceObjection is the consent.Source of the withdrawals Objector
// records.
const SourceObjection consent.Source = "objection"

// Objector returns an erasure.Objector over package consent: an objection
// (Art. 21) to a consent purpose withdraws the subject's consent to it,
// in one atomic append for all the purposes of a request, each record
// carrying the evidence — source "objection", the wording "Objection to
// processing (Art. 21 GDPR), request <id>" and who filed it — and its
// record ID as the receipt's evidence. A purpose whose consent is already
// withdrawn is left as it is (AlreadyWithdrawn), which also makes a call
// repeated after a crash change nothing more; so is a purpose never
// consented to that has no published policy, under which nothing can be
// processed. A purpose that does not exist is answered Overridden with
// the ground "no such consent purpose". Consent never given under a
// published policy is recorded as withdrawn, so that the objection is on
// the record.
func Objector(c ConsentWithdrawer) erasure.Objector { return objector{c} }

type objector struct{ c ConsentWithdrawer }

func (o objector) Object(ctx context.Context, account gdprkit.AccountID, ob erasure.Objection) ([]erasure.Objected, error) {
	out := make([]erasure.Objected, len(ob.Purposes))
	var ds []consent.Decision
	var at []int
	for i, p := range ob.Purposes {
		out[i].Purpose = p
		pu, err := o.c.Purpose(ctx, account, p)
		if errors.Is(err, gdprkit.ErrNotFound) {
			out[i].Outcome, out[i].Ground = erasure.Overridden, "no such consent purpose"
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("kitdata: objection: purpose %q: %w", p, err)
		}
		st, err := o.c.Check(ctx, account, ob.Subject, p)
		if err != nil {
			return nil, fmt.Errorf("kitdata: objection: check %q: %w", p, err)
		}
		if st == consent.StatusWithdrawn || (st == consent.StatusNeverGiven && pu.CurrentVersion == 0) {
			out[i].Outcome = erasure.AlreadyWithdrawn
			continue
		}
		by := ob.By
		if by == "" {
			by = "subject"
		}
		ds = append(ds, consent.Decision{Subject: ob.Subject, Purpose: p, Source: SourceObjection, RecordedBy: by,
			Wording: "Objection to processing (Art. 21 GDPR), request " + ob.RequestID})
		at = append(at, i)
	}
	if len(ds) == 0 {
		return out, nil
	}
	rs, err := o.c.Record(ctx, account, ds, consent.Withdraw)
	if err != nil {
		return nil, fmt.Errorf("kitdata: objection: withdraw consent: %w", err)
	}
	for j, r := range rs {
		out[at[j]].Outcome, out[at[j]].Evidence = erasure.Withdrawn, "consent record "+r.ID
	}
	return out, nil
}
