package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

// Retention returns the store of the retention package.
func (s *Store) Retention() retention.Store { return domain(s, "retention", newRetentionMem) }

// retentionMem keeps lifecycle records, transitions and rules. ClaimDue
// scans a due index ordered by (NextDue, account), so its cost grows with
// the number of due accounts.
type retentionMem struct {
	mu      sync.Mutex
	records map[gdprkit.AccountID]retention.Record
	trs     map[gdprkit.AccountID][]retention.TransitionRecord
	rules   map[gdprkit.AccountID]map[string]retention.Rule
	due     []retDueKey // sorted by (at, account); accounts with a NextDue only
	batches map[gdprkit.AccountID]map[string]retention.Batch
	sched   map[gdprkit.AccountID]retention.ScheduleState
	pause   retention.Pause
}

type retDueKey struct {
	at      time.Time
	account gdprkit.AccountID
}

func (k retDueKey) cmp(o retDueKey) int {
	if c := k.at.Compare(o.at); c != 0 {
		return c
	}
	return strings.Compare(string(k.account), string(o.account))
}

func newRetentionMem() *retentionMem {
	return &retentionMem{
		records: map[gdprkit.AccountID]retention.Record{},
		trs:     map[gdprkit.AccountID][]retention.TransitionRecord{},
		rules:   map[gdprkit.AccountID]map[string]retention.Rule{},
		batches: map[gdprkit.AccountID]map[string]retention.Batch{},
		sched:   map[gdprkit.AccountID]retention.ScheduleState{},
	}
}

func retCloneRecord(r retention.Record) retention.Record {
	r.Pending = slices.Clone(r.Pending)
	r.Since, r.NextDue, r.StepsAt = retUTC(r.Since), retUTC(r.NextDue), retUTC(r.StepsAt)
	r.LeaseUntil, r.NothingRemainsAt = retUTC(r.LeaseUntil), retUTC(r.NothingRemainsAt)
	r.Created, r.Updated = retUTC(r.Created), retUTC(r.Updated)
	return r
}

func retCloneTransition(t retention.TransitionRecord) retention.TransitionRecord {
	t.Steps = slices.Clone(t.Steps)
	t.At, t.Recorded = retUTC(t.At), retUTC(t.Recorded)
	return t
}

// utc normalises a time as the SQL adapter stores it: UTC, microseconds.
func retUTC(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func (m *retentionMem) dueIndex(k retDueKey) (int, bool) {
	return sort.Find(len(m.due), func(i int) int { return k.cmp(m.due[i]) })
}

func (m *retentionMem) setDue(account gdprkit.AccountID, old, next time.Time) {
	if !old.IsZero() {
		if i, ok := m.dueIndex(retDueKey{old, account}); ok {
			m.due = slices.Delete(m.due, i, i+1)
		}
	}
	if !next.IsZero() {
		k := retDueKey{next, account}
		i, _ := m.dueIndex(k)
		m.due = slices.Insert(m.due, i, k)
	}
}

func retCheckTransitions(account gdprkit.AccountID, trs []retention.TransitionRecord) error {
	for _, t := range trs {
		if t.Account != account {
			return fmt.Errorf("%w: retention: transition for another account", gdprkit.ErrInvalid)
		}
	}
	return nil
}

func (m *retentionMem) CreateRecord(ctx context.Context, account gdprkit.AccountID, rec retention.Record, first retention.TransitionRecord) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	if rec.Account != account || rec.Version != 1 {
		return fmt.Errorf("%w: retention: record must be of the account and at version 1", gdprkit.ErrInvalid)
	}
	if err := retCheckTransitions(account, []retention.TransitionRecord{first}); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.records[account]; ok {
		return fmt.Errorf("retention: account lifecycle exists: %w", gdprkit.ErrConflict)
	}
	rec = retCloneRecord(rec)
	m.records[account] = rec
	m.trs[account] = []retention.TransitionRecord{retCloneTransition(first)}
	m.setDue(account, time.Time{}, rec.NextDue)
	return nil
}

func (m *retentionMem) Record(ctx context.Context, account gdprkit.AccountID) (retention.Record, error) {
	if err := live(ctx); err != nil {
		return retention.Record{}, err
	}
	if err := account.Validate(); err != nil {
		return retention.Record{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[account]
	if !ok {
		return retention.Record{}, fmt.Errorf("retention: lifecycle record: %w", gdprkit.ErrNotFound)
	}
	return retCloneRecord(r), nil
}

func (m *retentionMem) SaveRecord(ctx context.Context, account gdprkit.AccountID, expect int64, rec retention.Record, trs []retention.TransitionRecord) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := account.Validate(); err != nil {
		return err
	}
	if rec.Account != account || rec.Version != expect+1 {
		return fmt.Errorf("%w: retention: record must be of the account at version expect+1", gdprkit.ErrInvalid)
	}
	if err := retCheckTransitions(account, trs); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.records[account]
	if !ok {
		return fmt.Errorf("retention: lifecycle record: %w", gdprkit.ErrNotFound)
	}
	if old.Version != expect {
		return fmt.Errorf("retention: lifecycle record changed (version %d, expected %d): %w", old.Version, expect, gdprkit.ErrConflict)
	}
	seqs := map[int64]bool{}
	for _, t := range m.trs[account] {
		seqs[t.Seq] = true
	}
	for _, t := range trs {
		if seqs[t.Seq] {
			return fmt.Errorf("retention: transition seq %d exists: %w", t.Seq, gdprkit.ErrConflict)
		}
		seqs[t.Seq] = true
	}
	rec = retCloneRecord(rec)
	m.records[account] = rec
	for _, t := range trs {
		m.trs[account] = append(m.trs[account], retCloneTransition(t))
	}
	sort.SliceStable(m.trs[account], func(i, j int) bool { return m.trs[account][i].Seq < m.trs[account][j].Seq })
	m.setDue(account, old.NextDue, rec.NextDue)
	return nil
}

func (m *retentionMem) Transitions(ctx context.Context, account gdprkit.AccountID) ([]retention.TransitionRecord, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := account.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]retention.TransitionRecord, 0, len(m.trs[account]))
	for _, t := range m.trs[account] {
		out = append(out, retCloneTransition(t))
	}
	return out, nil
}

func (m *retentionMem) ClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseFor time.Duration) ([]gdprkit.AccountID, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 || owner == "" || leaseFor <= 0 {
		return nil, fmt.Errorf("%w: retention: ClaimDue needs a positive limit and lease and an owner", gdprkit.ErrInvalid)
	}
	now = retUTC(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gdprkit.AccountID
	for _, k := range m.due {
		if k.at.After(now) || len(out) == limit {
			break
		}
		r := m.records[k.account]
		if r.LeaseOwner != "" && r.LeaseUntil.After(now) {
			continue
		}
		// Bump the version so a write prepared from the record before the
		// claim loses its compare-and-set instead of erasing the lease.
		r.LeaseOwner, r.LeaseUntil = owner, retUTC(now.Add(leaseFor))
		r.Version++
		m.records[k.account] = r
		out = append(out, k.account)
	}
	return out, nil
}
