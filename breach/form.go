package breach

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Form holds the fields a supervisory authority's breach notification form
// asks for (Art. 33(3) and the national forms built on it: nature and
// type of the breach, when it happened and became known, categories and
// approximate numbers of subjects and records, the DPO's contact, likely
// consequences, measures taken and proposed, whether subjects are told,
// and the reasons for a late notification). Its JSON is the export.
type Form struct {
	// Account is the controller's account.
	Account gdprkit.AccountID `json:"account"`
	// Breach is the register entry's ID.
	Breach string `json:"breach"`
	// Incident is the incident reference shared across accounts.
	Incident string `json:"incident,omitempty"`
	// Authority is the supervisory authority addressed.
	Authority string `json:"authority,omitempty"`
	// Title names the breach.
	Title string `json:"title"`
	// Nature describes it (Art. 33(3)(a)).
	Nature string `json:"nature"`
	// Types: confidentiality, integrity and/or availability.
	Types []Type `json:"types,omitempty"`
	// OccurredAt is when it began.
	OccurredAt time.Time `json:"occurred_at"`
	// OccurredUntil is when it ended (zero: unknown or ongoing).
	OccurredUntil time.Time `json:"occurred_until,omitzero"`
	// AwareAt is when the controller became aware of it.
	AwareAt time.Time `json:"aware_at"`
	// Deadline is AwareAt + 72 h.
	Deadline time.Time `json:"deadline"`
	// NotifiedAt is when the authority's notification was sent (zero: not
	// yet).
	NotifiedAt time.Time `json:"notified_at,omitzero"`
	// Late: notified (or to be notified) after the deadline.
	Late bool `json:"late"`
	// DelayReason says why (Art. 33(1)).
	DelayReason string `json:"delay_reason,omitempty"`
	// SubjectCategories are the categories of data subjects concerned
	// (Art. 33(3)(a)).
	SubjectCategories []string `json:"subject_categories,omitempty"`
	// ApproxSubjects is their approximate number.
	ApproxSubjects int64 `json:"approx_subjects"`
	// DataCategories are the categories of personal data concerned.
	DataCategories []string `json:"data_categories,omitempty"`
	// ApproxRecords is the approximate number of records concerned.
	ApproxRecords int64 `json:"approx_records"`
	// DPO is the contact point for more information (Art. 33(3)(b)).
	DPO Contact `json:"dpo"`
	// Consequences are the likely consequences (Art. 33(3)(c)).
	Consequences string `json:"consequences,omitempty"`
	// MeasuresTaken are the measures taken (Art. 33(3)(d)).
	MeasuresTaken string `json:"measures_taken,omitempty"`
	// MeasuresProposed are the measures proposed.
	MeasuresProposed string `json:"measures_proposed,omitempty"`
	// HighRisk: subjects must be told (Art. 34(1)).
	HighRisk bool `json:"high_risk"`
	// State of the breach when the form was produced.
	State State `json:"state"`
}

func formOf(b Breach) Form {
	return Form{Account: b.Account, Breach: b.ID, Incident: b.Incident, Authority: b.Authority, Title: b.Title, Nature: b.Nature,
		Types: b.Types, OccurredAt: b.OccurredAt, OccurredUntil: b.OccurredUntil, AwareAt: b.AwareAt, Deadline: b.Deadline,
		NotifiedAt: b.AuthorityNotifiedAt, Late: b.AuthorityNotifiedAt.After(b.Deadline), DelayReason: b.DelayReason,
		SubjectCategories: b.SubjectCategories, ApproxSubjects: b.ApproxSubjects, DataCategories: b.DataCategories,
		ApproxRecords: b.ApproxRecords, DPO: b.DPO, Consequences: b.Consequences, MeasuresTaken: b.MeasuresTaken,
		MeasuresProposed: b.MeasuresProposed, HighRisk: b.HighRisk, State: b.State}
}

// Form returns the authority's form fields of a breach, as of now (Late is
// judged against the clock while the authority is not yet notified).
func (s *Service) Form(ctx context.Context, account gdprkit.AccountID, id string) (Form, error) {
	b, err := s.Breach(ctx, account, id)
	if err != nil {
		return Form{}, err
	}
	f := formOf(b)
	f.Late = b.Late(s.now())
	return f, nil
}

// FormJSON is Form encoded as indented JSON: the export an authority's
// portal or a DPO reads.
func (s *Service) FormJSON(ctx context.Context, account gdprkit.AccountID, id string) ([]byte, error) {
	f, err := s.Form(ctx, account, id)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(f, "", "  ")
}
