package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Erasure returns the store of the erasure package.
func (s *Store) Erasure() erasure.Store { return domain(s, "erasure", newErasureMem) }

// erasureMem keeps requests, jobs, receipts, tombstones and holds. One
// mutex serialises everything, which makes every method atomic.
type erasureMem struct {
	mu   sync.Mutex
	accs map[gdprkit.AccountID]*erasureAcct
	jobs map[string]*erasure.Job // by job ID, across accounts, for ClaimJob
	// rights holds restriction marks (rights.go), created on first use.
	rights map[gdprkit.AccountID]*rightsAcct
}

type erasureAcct struct {
	requests   map[string]erasure.Request
	receipts   []erasure.Receipt // receipts[i].Seq == i+1
	tombstones map[[2]string]erasure.Tombstone
	holds      map[string]erasure.Hold
}

func newErasureMem() *erasureMem {
	return &erasureMem{accs: map[gdprkit.AccountID]*erasureAcct{}, jobs: map[string]*erasure.Job{}}
}

func (m *erasureMem) acct(a gdprkit.AccountID) *erasureAcct {
	c := m.accs[a]
	if c == nil {
		c = &erasureAcct{requests: map[string]erasure.Request{}, tombstones: map[[2]string]erasure.Tombstone{}, holds: map[string]erasure.Hold{}}
		m.accs[a] = c
	}
	return c
}

func erUTC(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func cloneReq(r erasure.Request) erasure.Request {
	r.ReceivedAt, r.VerifiedAt, r.DueAt, r.ClosedAt = erUTC(r.ReceivedAt), erUTC(r.VerifiedAt), erUTC(r.DueAt), erUTC(r.ClosedAt)
	return r
}

func cloneJob(j erasure.Job) erasure.Job {
	j.State = slices.Clone(j.State)
	j.NextRunAt, j.LeaseUntil, j.CreatedAt, j.UpdatedAt = erUTC(j.NextRunAt), erUTC(j.LeaseUntil), erUTC(j.CreatedAt), erUTC(j.UpdatedAt)
	return j
}

func cloneReceipt(r erasure.Receipt) erasure.Receipt {
	r.Targets = slices.Clone(r.Targets)
	for i := range r.Targets {
		r.Targets[i].Grounds = slices.Clone(r.Targets[i].Grounds)
	}
	r.Holds = slices.Clone(r.Holds)
	r.Recipients = slices.Clone(r.Recipients)
	for i := range r.Recipients {
		r.Recipients[i].At = erUTC(r.Recipients[i].At)
	}
	r.ReceivedAt, r.CompletedAt, r.BackupsExpireBy = erUTC(r.ReceivedAt), erUTC(r.CompletedAt), erUTC(r.BackupsExpireBy)
	r.Rights = cloneRights(r.Rights)
	r.Physical = slices.Clone(r.Physical)
	return r
}

func (m *erasureMem) CreateRequest(ctx context.Context, a gdprkit.AccountID, r erasure.Request, job *erasure.Job) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a)
	if _, ok := c.requests[r.ID]; ok {
		return fmt.Errorf("request %q exists: %w", r.ID, gdprkit.ErrConflict)
	}
	if job != nil {
		if _, ok := m.jobs[job.ID]; ok {
			return fmt.Errorf("job %q exists: %w", job.ID, gdprkit.ErrConflict)
		}
		j := cloneJob(*job)
		j.Account = a
		m.jobs[j.ID] = &j
	}
	c.requests[r.ID] = cloneReq(r)
	return nil
}

func (m *erasureMem) Request(ctx context.Context, a gdprkit.AccountID, id string) (erasure.Request, error) {
	if err := live(ctx); err != nil {
		return erasure.Request{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.acct(a).requests[id]
	if !ok {
		return erasure.Request{}, fmt.Errorf("request %q: %w", id, gdprkit.ErrNotFound)
	}
	return r, nil
}

func (m *erasureMem) Requests(ctx context.Context, a gdprkit.AccountID, f erasure.RequestFilter) ([]erasure.Request, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []erasure.Request
	for _, r := range m.acct(a).requests {
		if f.OpenOnly && r.Status != erasure.StatusOpen {
			continue
		}
		if !f.DueBefore.IsZero() && !r.DueAt.Before(f.DueBefore) {
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].DueAt.Compare(out[j].DueAt); c != 0 {
			return c < 0
		}
		return out[i].ID < out[j].ID
	})
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *erasureMem) openRequest(a gdprkit.AccountID, id string) (erasure.Request, error) {
	r, ok := m.acct(a).requests[id]
	if !ok {
		return r, fmt.Errorf("request %q: %w", id, gdprkit.ErrNotFound)
	}
	if r.Status != erasure.StatusOpen {
		return r, fmt.Errorf("request %q is %s: %w", id, r.Status, gdprkit.ErrConflict)
	}
	return r, nil
}

func (m *erasureMem) VerifyRequest(ctx context.Context, a gdprkit.AccountID, id string, at time.Time, ev erasure.Evidence) error {
	if err := live(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.openRequest(a, id)
	if err != nil || r.Verified {
		return err
	}
	r.Verified, r.VerifiedAt, r.Identity = true, erUTC(at), ev
	m.acct(a).requests[id] = r
	if j := m.jobs[r.JobID]; j != nil && j.Account == a && j.Status == erasure.JobWaiting {
		j.Status, j.NextRunAt, j.UpdatedAt = erasure.JobQueued, erUTC(at), erUTC(at)
	}
	return nil
}

func (m *erasureMem) ExtendRequest(ctx context.Context, a gdprkit.AccountID, id string, due time.Time, reason string) error {
	if err := live(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.openRequest(a, id)
	if err != nil {
		return err
	}
	if r.Extended {
		return fmt.Errorf("request %q was already extended: %w", id, gdprkit.ErrConflict)
	}
	r.DueAt, r.Extended, r.ExtensionReason = erUTC(due), true, reason
	m.acct(a).requests[id] = r
	return nil
}

func (m *erasureMem) CloseRequest(ctx context.Context, a gdprkit.AccountID, id string, status erasure.RequestStatus, at time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.openRequest(a, id)
	if err != nil {
		return err
	}
	r.Status, r.ClosedAt, r.Subject = status, erUTC(at), ""
	m.acct(a).requests[id] = r
	if j := m.jobs[r.JobID]; j != nil && j.Account == a && j.Status != erasure.JobDone && j.Status != erasure.JobFailed {
		j.Status, j.LeaseToken, j.LeaseOwner, j.UpdatedAt = erasure.JobCancelled, "", "", erUTC(at)
	}
	return nil
}

func (m *erasureMem) ClaimJob(ctx context.Context, now time.Time, owner, token string, until time.Time) (erasure.Job, error) {
	if err := live(ctx); err != nil {
		return erasure.Job{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *erasure.Job
	for _, j := range m.jobs {
		due := (j.Status == erasure.JobQueued && !j.NextRunAt.After(now)) ||
			(j.Status == erasure.JobRunning && !j.LeaseUntil.After(now))
		if !due {
			continue
		}
		if best == nil || j.NextRunAt.Before(best.NextRunAt) || (j.NextRunAt.Equal(best.NextRunAt) && j.ID < best.ID) {
			best = j
		}
	}
	if best == nil {
		return erasure.Job{}, fmt.Errorf("no job due: %w", gdprkit.ErrNotFound)
	}
	best.Status, best.LeaseOwner, best.LeaseToken, best.LeaseUntil, best.UpdatedAt = erasure.JobRunning, owner, token, erUTC(until), erUTC(now)
	return cloneJob(*best), nil
}

func (m *erasureMem) Job(ctx context.Context, a gdprkit.AccountID, id string) (erasure.Job, error) {
	if err := live(ctx); err != nil {
		return erasure.Job{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j := m.jobs[id]
	if j == nil || j.Account != a {
		return erasure.Job{}, fmt.Errorf("job %q: %w", id, gdprkit.ErrNotFound)
	}
	return cloneJob(*j), nil
}

func (m *erasureMem) leased(a gdprkit.AccountID, id, token string) (*erasure.Job, error) {
	j := m.jobs[id]
	if j == nil || j.Account != a || j.Status != erasure.JobRunning || j.LeaseToken != token || token == "" {
		return nil, fmt.Errorf("job %q: %w", id, gdprkit.ErrLeaseLost)
	}
	return j, nil
}

func (m *erasureMem) SaveJob(ctx context.Context, a gdprkit.AccountID, id, token string, state []byte, until time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j, err := m.leased(a, id, token)
	if err != nil {
		return err
	}
	j.State, j.LeaseUntil = slices.Clone(state), erUTC(until)
	return nil
}

func (m *erasureMem) RetryJob(ctx context.Context, a gdprkit.AccountID, id, token string, f erasure.Retry) error {
	if err := live(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j, err := m.leased(a, id, token)
	if err != nil {
		return err
	}
	j.State, j.Attempts, j.LastError, j.NextRunAt, j.UpdatedAt = slices.Clone(f.State), f.Attempts, f.LastError, erUTC(f.Next), erUTC(f.At)
	j.LeaseOwner, j.LeaseToken, j.LeaseUntil = "", "", time.Time{}
	j.Status = erasure.JobQueued
	if f.Failed {
		j.Status = erasure.JobFailed
		c := m.acct(a)
		if r, ok := c.requests[j.RequestID]; ok && r.Status == erasure.StatusOpen {
			r.Status, r.ClosedAt = erasure.StatusFailed, erUTC(f.At)
			c.requests[r.ID] = r
		}
	}
	return nil
}

func (m *erasureMem) RequeueJob(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a)
	j, ok := m.jobs[id]
	if !ok || j.Account != a {
		return fmt.Errorf("erasure job %q: %w", id, gdprkit.ErrNotFound)
	}
	if j.Status != erasure.JobFailed {
		return fmt.Errorf("erasure job %q is %s, not failed: %w", id, j.Status, gdprkit.ErrConflict)
	}
	j.Status, j.Attempts, j.NextRunAt, j.UpdatedAt = erasure.JobQueued, 0, erUTC(at), erUTC(at)
	if r, ok := c.requests[j.RequestID]; ok && r.Status == erasure.StatusFailed {
		r.Status, r.ClosedAt = erasure.StatusOpen, time.Time{}
		c.requests[r.ID] = r
	}
	return nil
}

func (m *erasureMem) FinishJob(ctx context.Context, a gdprkit.AccountID, id, token string, f erasure.Finish) (erasure.Receipt, error) {
	if err := live(ctx); err != nil {
		return erasure.Receipt{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j, err := m.leased(a, id, token)
	if err != nil {
		return erasure.Receipt{}, err
	}
	c := m.acct(a)
	r := cloneReceipt(f.Receipt)
	if err := f.Seal(receiptHead(c), &r); err != nil {
		return erasure.Receipt{}, err
	}
	if r.Seq != int64(len(c.receipts))+1 {
		return erasure.Receipt{}, fmt.Errorf("seal returned seq %d: %w", r.Seq, gdprkit.ErrConflict)
	}
	for _, x := range c.receipts {
		if x.RequestID == r.RequestID {
			return erasure.Receipt{}, fmt.Errorf("request %q has a receipt: %w", r.RequestID, gdprkit.ErrConflict)
		}
	}
	c.receipts = append(c.receipts, r)
	for _, t := range f.Tombstones {
		k := [2]string{t.Kind, string(t.Pseudonym)}
		if _, ok := c.tombstones[k]; !ok {
			t.ErasedAt = erUTC(t.ErasedAt)
			c.tombstones[k] = t
		}
	}
	if req, ok := c.requests[j.RequestID]; ok {
		req.Status, req.ClosedAt, req.Subject = erasure.StatusCompleted, erUTC(f.At), ""
		c.requests[req.ID] = req
	}
	j.Status, j.State, j.UpdatedAt = erasure.JobDone, slices.Clone(f.State), erUTC(f.At)
	j.LeaseOwner, j.LeaseToken, j.LeaseUntil = "", "", time.Time{}
	if f.FollowUp != nil {
		fr := cloneReq(*f.FollowUp)
		c.requests[fr.ID] = fr
		if f.FollowUpJob != nil {
			fj := cloneJob(*f.FollowUpJob)
			fj.Account = a
			m.jobs[fj.ID] = &fj
		}
	}
	return cloneReceipt(r), nil
}

func (m *erasureMem) WakeJob(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok || j.Account != a {
		return fmt.Errorf("erasure job %q: %w", id, gdprkit.ErrNotFound)
	}
	if j.Status != erasure.JobQueued {
		return fmt.Errorf("erasure job %q is %s, not queued: %w", id, j.Status, gdprkit.ErrConflict)
	}
	j.NextRunAt, j.UpdatedAt = erUTC(at), erUTC(at)
	return nil
}

func receiptHead(c *erasureAcct) erasure.ChainHead {
	if len(c.receipts) == 0 {
		return erasure.ChainHead{}
	}
	r := c.receipts[len(c.receipts)-1]
	return erasure.ChainHead{Seq: r.Seq, Hash: r.Hash}
}

func (m *erasureMem) ReceiptHead(ctx context.Context, a gdprkit.AccountID) (erasure.ChainHead, error) {
	if err := live(ctx); err != nil {
		return erasure.ChainHead{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return receiptHead(m.acct(a)), nil
}

func (m *erasureMem) Receipts(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]erasure.Receipt, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a)
	if afterSeq < 0 || afterSeq >= int64(len(c.receipts)) || limit <= 0 {
		return nil, nil
	}
	end := min(afterSeq+int64(limit), int64(len(c.receipts)))
	out := make([]erasure.Receipt, 0, end-afterSeq)
	for _, r := range c.receipts[afterSeq:end] {
		out = append(out, cloneReceipt(r))
	}
	return out, nil
}

func (m *erasureMem) ReceiptFor(ctx context.Context, a gdprkit.AccountID, requestID string) (erasure.Receipt, error) {
	if err := live(ctx); err != nil {
		return erasure.Receipt{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.acct(a).receipts {
		if r.RequestID == requestID {
			return cloneReceipt(r), nil
		}
	}
	return erasure.Receipt{}, fmt.Errorf("receipt of %q: %w", requestID, gdprkit.ErrNotFound)
}

func (m *erasureMem) Tombstones(ctx context.Context, a gdprkit.AccountID, since time.Time) ([]erasure.Tombstone, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []erasure.Tombstone
	for _, t := range m.acct(a).tombstones {
		if !t.ErasedAt.Before(since) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].ErasedAt.Compare(out[j].ErasedAt); c != 0 {
			return c < 0
		}
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Pseudonym < out[j].Pseudonym
	})
	return out, nil
}

func (m *erasureMem) PutHold(ctx context.Context, a gdprkit.AccountID, h erasure.Hold) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a)
	if _, ok := c.holds[h.ID]; ok {
		return fmt.Errorf("hold %q exists: %w", h.ID, gdprkit.ErrConflict)
	}
	h.CreatedAt, h.ExpiresAt, h.ReleasedAt = erUTC(h.CreatedAt), erUTC(h.ExpiresAt), erUTC(h.ReleasedAt)
	c.holds[h.ID] = h
	return nil
}

func (m *erasureMem) ReleaseHold(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a)
	h, ok := c.holds[id]
	if !ok {
		return fmt.Errorf("hold %q: %w", id, gdprkit.ErrNotFound)
	}
	if !h.ReleasedAt.IsZero() {
		return fmt.Errorf("hold %q already released: %w", id, gdprkit.ErrConflict)
	}
	h.ReleasedAt = erUTC(at)
	c.holds[id] = h
	return nil
}

func (m *erasureMem) Holds(ctx context.Context, a gdprkit.AccountID) ([]erasure.Hold, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []erasure.Hold
	for _, h := range m.acct(a).holds {
		if h.ReleasedAt.IsZero() {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].CreatedAt.Compare(out[j].CreatedAt); c != 0 {
			return c < 0
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (m *erasureMem) ScrubAccount(ctx context.Context, a gdprkit.AccountID, at time.Time) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a)
	n := 0
	for id, r := range c.requests {
		changed := r.Subject != ""
		r.Subject = ""
		if r.Status == erasure.StatusOpen {
			r.Status, r.ClosedAt, changed = erasure.StatusCancelled, erUTC(at), true
		}
		if j := m.jobs[r.JobID]; j != nil && j.Account == a && j.Status != erasure.JobDone && j.Status != erasure.JobFailed && j.Status != erasure.JobCancelled {
			j.Status, j.LeaseOwner, j.LeaseToken, j.UpdatedAt = erasure.JobCancelled, "", "", erUTC(at)
		}
		if changed {
			c.requests[id] = r
			n++
		}
	}
	delete(m.rights, a) // restriction marks: pseudonyms of the account's people
	return n, nil
}
