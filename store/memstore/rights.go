package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// rightsAcct holds one account's restriction marks (Art. 18), by
// (request ID, record pseudonym), and the requests marking each record.
type rightsAcct struct {
	marks    map[[2]string]erasure.Restriction
	byRecord map[gdprkit.Pseudonym][]string // record pseudonym -> request IDs
}

// rightsOf returns the account's marks; m.mu must be held.
func (m *erasureMem) rightsOf(a gdprkit.AccountID) *rightsAcct {
	if m.rights == nil {
		m.rights = map[gdprkit.AccountID]*rightsAcct{}
	}
	r := m.rights[a]
	if r == nil {
		r = &rightsAcct{marks: map[[2]string]erasure.Restriction{}, byRecord: map[gdprkit.Pseudonym][]string{}}
		m.rights[a] = r
	}
	return r
}

func cloneRights(r erasure.RightsResult) erasure.RightsResult {
	r.Corrections = slices.Clone(r.Corrections)
	for i := range r.Corrections {
		r.Corrections[i].RecordPS = slices.Clone(r.Corrections[i].RecordPS)
	}
	r.Restricted = slices.Clone(r.Restricted)
	r.Objections = slices.Clone(r.Objections)
	r.Exported = slices.Clone(r.Exported)
	return r
}

func (m *erasureMem) CompleteRequest(ctx context.Context, a gdprkit.AccountID, id string, f erasure.Finish) (erasure.Receipt, error) {
	if err := live(ctx); err != nil {
		return erasure.Receipt{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	req, err := m.openRequest(a, id)
	if err != nil {
		return erasure.Receipt{}, err
	}
	if req.JobID != "" {
		return erasure.Receipt{}, fmt.Errorf("erasure request %q has a job: %w", id, gdprkit.ErrConflict)
	}
	c := m.acct(a)
	r := cloneReceipt(f.Receipt)
	if r.RequestID != id {
		return erasure.Receipt{}, fmt.Errorf("the receipt is for request %q, not %q: %w", r.RequestID, id, gdprkit.ErrInvalid)
	}
	for _, x := range c.receipts {
		if x.RequestID == id {
			return erasure.Receipt{}, fmt.Errorf("request %q has a receipt: %w", id, gdprkit.ErrConflict)
		}
	}
	if err := f.Seal(receiptHead(c), &r); err != nil {
		return erasure.Receipt{}, err
	}
	if r.Seq != int64(len(c.receipts))+1 {
		return erasure.Receipt{}, fmt.Errorf("seal returned seq %d: %w", r.Seq, gdprkit.ErrConflict)
	}
	c.receipts = append(c.receipts, r)
	req.Status, req.ClosedAt, req.Subject = erasure.StatusCompleted, erUTC(f.At), ""
	c.requests[id] = req
	return cloneReceipt(r), nil
}

func (m *erasureMem) PutRestrictions(ctx context.Context, a gdprkit.AccountID, marks []erasure.Restriction) error {
	if err := live(ctx); err != nil {
		return err
	}
	for _, x := range marks {
		if x.RequestID == "" || x.SubjectPS == "" || (x.Kind == "") != (x.RecordPS == "") {
			return fmt.Errorf("memstore: a restriction mark needs a request, a subject, and a kind with a record or neither: %w", gdprkit.ErrInvalid)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rightsOf(a)
	for _, x := range marks {
		k := [2]string{x.RequestID, string(x.RecordPS)}
		if _, ok := r.marks[k]; ok {
			continue
		}
		x.At, x.LiftedAt = erUTC(x.At), erUTC(x.LiftedAt)
		r.marks[k] = x
		if x.RecordPS != "" {
			r.byRecord[x.RecordPS] = append(r.byRecord[x.RecordPS], x.RequestID)
		}
	}
	return nil
}

func (m *erasureMem) RestrictedRecords(ctx context.Context, a gdprkit.AccountID, records []gdprkit.Pseudonym) ([]gdprkit.Pseudonym, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rightsOf(a)
	var out []gdprkit.Pseudonym
	for _, ps := range records {
		if ps == "" {
			continue
		}
		for _, req := range r.byRecord[ps] {
			if r.marks[[2]string{req, string(ps)}].Active() {
				out = append(out, ps)
				break
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (m *erasureMem) SubjectRestrictions(ctx context.Context, a gdprkit.AccountID, ps gdprkit.Pseudonym) ([]erasure.Restriction, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []erasure.Restriction
	for k, x := range m.rightsOf(a).marks {
		if k[1] == "" && x.SubjectPS == ps {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].At.Compare(out[j].At); c != 0 {
			return c < 0
		}
		return out[i].RequestID < out[j].RequestID
	})
	return out, nil
}

func (m *erasureMem) LiftRestrictions(ctx context.Context, a gdprkit.AccountID, requestID string, l erasure.Lift) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rightsOf(a)
	found, n := false, 0
	for k, x := range r.marks {
		if k[0] != requestID {
			continue
		}
		found = true
		if x.Active() {
			x.LiftedAt, x.LiftedBy, x.LiftReason = erUTC(l.At), l.By, l.Reason
			r.marks[k] = x
			n++
		}
	}
	switch {
	case !found:
		return 0, fmt.Errorf("restriction %q: %w", requestID, gdprkit.ErrNotFound)
	case n == 0:
		return 0, fmt.Errorf("restriction %q was already lifted: %w", requestID, gdprkit.ErrConflict)
	}
	return n, nil
}
