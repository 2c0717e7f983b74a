package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

func retCloneRule(r retention.Rule) retention.Rule {
	r.Created, r.Updated, r.LastRun = retUTC(r.Created), retUTC(r.Updated), retUTC(r.LastRun)
	r.Cursor.At = retUTC(r.Cursor.At)
	return r
}

func (m *retentionMem) CreateRule(ctx context.Context, account gdprkit.AccountID, r retention.Rule) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	if r.ID == "" || r.Account != account {
		return fmt.Errorf("%w: retention: rule needs an ID and the account", gdprkit.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rules[account] == nil {
		m.rules[account] = map[string]retention.Rule{}
	}
	if _, ok := m.rules[account][r.ID]; ok {
		return fmt.Errorf("retention: rule exists: %w", gdprkit.ErrConflict)
	}
	m.rules[account][r.ID] = retCloneRule(r)
	return nil
}

func (m *retentionMem) UpdateRule(ctx context.Context, account gdprkit.AccountID, expect int64, r retention.Rule) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	if r.ID == "" || r.Account != account || r.Version != expect+1 {
		return fmt.Errorf("%w: retention: rule update needs the ID, the account and version expect+1", gdprkit.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.rules[account][r.ID]
	if !ok {
		return fmt.Errorf("retention: rule: %w", gdprkit.ErrNotFound)
	}
	if cur.Version != expect {
		return fmt.Errorf("retention: rule changed (version %d, expected %d): %w", cur.Version, expect, gdprkit.ErrConflict)
	}
	r = retCloneRule(r)
	cur.Name, cur.Target, cur.Condition, cur.Action, cur.Disabled = r.Name, r.Target, r.Condition, r.Action, r.Disabled
	cur.Updated, cur.UpdatedBy, cur.Version, cur.Cursor = r.Updated, r.UpdatedBy, r.Version, r.Cursor
	m.rules[account][r.ID] = cur
	return nil
}

func (m *retentionMem) Rule(ctx context.Context, account gdprkit.AccountID, id string) (retention.Rule, error) {
	if err := live(ctx); err != nil {
		return retention.Rule{}, err
	}
	if err := account.Validate(); err != nil {
		return retention.Rule{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rules[account][id]
	if !ok {
		return retention.Rule{}, fmt.Errorf("retention: rule: %w", gdprkit.ErrNotFound)
	}
	return retCloneRule(r), nil
}

func (m *retentionMem) Rules(ctx context.Context, account gdprkit.AccountID) ([]retention.Rule, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := account.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]retention.Rule, 0, len(m.rules[account]))
	for _, r := range m.rules[account] {
		out = append(out, retCloneRule(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *retentionMem) DeleteRule(ctx context.Context, account gdprkit.AccountID, id string) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rules[account][id]; !ok {
		return fmt.Errorf("retention: rule: %w", gdprkit.ErrNotFound)
	}
	delete(m.rules[account], id)
	return nil
}

func (m *retentionMem) FinishRuleRun(ctx context.Context, account gdprkit.AccountID, id string, o retention.RuleRunOutcome) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rules[account][id]
	if !ok {
		return fmt.Errorf("retention: rule: %w", gdprkit.ErrNotFound)
	}
	r.LastRun, r.LastRemoved, r.LastHeld, r.LastKept = retUTC(o.At), o.Removed, o.Held, o.Kept
	r.Backlog, r.BacklogRuns, r.LastError = o.Backlog, o.BacklogRuns, o.Error
	if r.Version == o.RuleVersion {
		r.Cursor = retention.Cursor{At: retUTC(o.Cursor.At), ID: o.Cursor.ID}
	}
	m.rules[account][id] = r
	return nil
}

func retCloneBatch(b retention.Batch) retention.Batch {
	b.IDs, b.Removed = slices.Clone(b.IDs), slices.Clone(b.Removed)
	b.Cutoff, b.Started, b.Committed, b.Expires = retUTC(b.Cutoff), retUTC(b.Started), retUTC(b.Committed), retUTC(b.Expires)
	return b
}

func (m *retentionMem) BeginBatch(ctx context.Context, account gdprkit.AccountID, b retention.Batch) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	if b.ID == "" || b.Account != account || b.State != retention.BatchPending {
		return fmt.Errorf("%w: retention: a batch needs an ID, the account and state pending", gdprkit.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.batches[account] == nil {
		m.batches[account] = map[string]retention.Batch{}
	}
	if _, ok := m.batches[account][b.ID]; ok {
		return fmt.Errorf("retention: batch exists: %w", gdprkit.ErrConflict)
	}
	m.batches[account][b.ID] = retCloneBatch(b)
	return nil
}

func (m *retentionMem) CommitBatch(ctx context.Context, account gdprkit.AccountID, id string, o retention.BatchOutcome) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.batches[account][id]
	if !ok {
		return fmt.Errorf("retention: batch: %w", gdprkit.ErrNotFound)
	}
	if b.State != retention.BatchPending {
		return fmt.Errorf("retention: batch already committed: %w", gdprkit.ErrConflict)
	}
	b.State, b.Removed, b.Held, b.Recovered = retention.BatchCommitted, slices.Clone(o.Removed), o.Held, o.Recovered
	b.Committed, b.Expires = retUTC(o.Committed), retUTC(o.Expires)
	m.batches[account][id] = b
	if r, ok := m.rules[account][b.Rule]; ok {
		r.TotalRemoved += int64(len(o.Removed))
		if r.Version == b.RuleVersion && !o.Cursor.IsZero() {
			r.Cursor = retention.Cursor{At: retUTC(o.Cursor.At), ID: o.Cursor.ID}
		}
		m.rules[account][b.Rule] = r
	}
	return nil
}

func (m *retentionMem) MarkBatchAudited(ctx context.Context, account gdprkit.AccountID, id string) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.batches[account][id]
	if !ok {
		return fmt.Errorf("retention: batch: %w", gdprkit.ErrNotFound)
	}
	b.Audited = true
	m.batches[account][id] = b
	return nil
}

func (m *retentionMem) sortedBatches(account gdprkit.AccountID, keep func(retention.Batch) bool, byCommit bool) []retention.Batch {
	var out []retention.Batch
	for _, b := range m.batches[account] {
		if keep(b) {
			out = append(out, retCloneBatch(b))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i].Started, out[j].Started
		if byCommit {
			x, y = out[i].Committed, out[j].Committed
		}
		if !x.Equal(y) {
			return x.Before(y)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (m *retentionMem) OpenBatches(ctx context.Context, account gdprkit.AccountID) ([]retention.Batch, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := account.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sortedBatches(account, func(b retention.Batch) bool {
		return b.State == retention.BatchPending || !b.Audited
	}, false), nil
}

func (m *retentionMem) Batches(ctx context.Context, account gdprkit.AccountID, from, to time.Time, limit int) ([]retention.Batch, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := account.Validate(); err != nil {
		return nil, err
	}
	from, to = retUTC(from), retUTC(to)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sortedBatches(account, func(b retention.Batch) bool {
		return b.State == retention.BatchCommitted && (from.IsZero() || !b.Committed.Before(from)) && (to.IsZero() || b.Committed.Before(to))
	}, true)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *retentionMem) PruneBatches(ctx context.Context, account gdprkit.AccountID, now time.Time) (int64, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	if err := account.Validate(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for id, b := range m.batches[account] {
		if b.State == retention.BatchCommitted && b.Audited && !b.Expires.After(now) {
			delete(m.batches[account], id)
			n++
		}
	}
	return n, nil
}

func retCloneSched(s retention.ScheduleState) retention.ScheduleState {
	s.NextRun, s.LastRun, s.LastClock, s.LeaseUntil = retUTC(s.NextRun), retUTC(s.LastRun), retUTC(s.LastClock), retUTC(s.LeaseUntil)
	return s
}

func (m *retentionMem) ScheduleState(ctx context.Context, account gdprkit.AccountID) (retention.ScheduleState, error) {
	if err := live(ctx); err != nil {
		return retention.ScheduleState{}, err
	}
	if err := account.Validate(); err != nil {
		return retention.ScheduleState{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sched[account]
	if !ok {
		return retention.ScheduleState{}, fmt.Errorf("retention: schedule state: %w", gdprkit.ErrNotFound)
	}
	return retCloneSched(s), nil
}

func (m *retentionMem) SaveScheduleState(ctx context.Context, account gdprkit.AccountID, expect int64, st retention.ScheduleState) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	if st.Account != account || st.Version != expect+1 {
		return fmt.Errorf("%w: retention: schedule state must be of the account at version expect+1", gdprkit.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.sched[account]
	switch {
	case !ok && expect != 0:
		return fmt.Errorf("retention: schedule state: %w", gdprkit.ErrNotFound)
	case ok && cur.Version != expect:
		return fmt.Errorf("retention: schedule state changed (version %d, expected %d): %w", cur.Version, expect, gdprkit.ErrConflict)
	}
	m.sched[account] = retCloneSched(st)
	return nil
}

func (m *retentionMem) DeleteScheduleState(ctx context.Context, account gdprkit.AccountID) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sched, account)
	return nil
}

func (m *retentionMem) ClaimSchedulesDue(ctx context.Context, now time.Time, limit int, owner string, leaseFor time.Duration) ([]gdprkit.AccountID, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 || owner == "" || leaseFor <= 0 {
		return nil, fmt.Errorf("%w: retention: ClaimSchedulesDue needs a positive limit and lease and an owner", gdprkit.ErrInvalid)
	}
	now = retUTC(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []retention.ScheduleState
	for _, s := range m.sched {
		if !s.NextRun.IsZero() && !s.NextRun.After(now) && !s.Paused && (s.LeaseOwner == "" || !s.LeaseUntil.After(now)) {
			due = append(due, s)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].NextRun.Equal(due[j].NextRun) {
			return due[i].NextRun.Before(due[j].NextRun)
		}
		return due[i].Account < due[j].Account
	})
	var out []gdprkit.AccountID
	for _, s := range due[:min(limit, len(due))] {
		s.LeaseOwner, s.LeaseUntil = owner, retUTC(now.Add(leaseFor))
		s.Fence++
		s.Version++
		m.sched[s.Account] = s
		out = append(out, s.Account)
	}
	return out, nil
}

func (m *retentionMem) SchedulesPaused(ctx context.Context) (retention.Pause, error) {
	if err := live(ctx); err != nil {
		return retention.Pause{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pause, nil
}

func (m *retentionMem) SetSchedulesPaused(ctx context.Context, p retention.Pause) error {
	if err := live(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p.At = retUTC(p.At)
	m.pause = p
	return nil
}
