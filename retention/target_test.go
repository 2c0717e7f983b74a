package retention_test

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

// memTarget is a host's table of one kind of record, per account, with
// legal holds. holdsVisible makes Find report holds (holds visible to the
// selector); otherwise only Delete declines held records.
type memTarget struct {
	mu           sync.Mutex
	recs         map[gdprkit.AccountID]map[string]memRec
	holdsVisible bool
	// onDelete, when set, runs at the start of every Delete (outside the
	// lock): tests use it to cancel, disable or fail mid-run.
	onDelete func(ctx context.Context, ids []string) error
	deletes  int
}

type memRec struct {
	status string
	times  map[string]time.Time
	held   bool
}

func newMemTarget() *memTarget { return &memTarget{recs: map[gdprkit.AccountID]map[string]memRec{}} }

var memFields = []string{"trashed_at", "closed_at", "created_at", "last_active_at", "held_at"}

func (m *memTarget) Schema() retention.TargetSchema { return retention.TargetSchema{Fields: memFields} }

func (m *memTarget) add(a gdprkit.AccountID, id, status, field string, at time.Time) {
	m.addTimes(a, id, status, map[string]time.Time{field: at})
}

func (m *memTarget) addTimes(a gdprkit.AccountID, id, status string, times map[string]time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs[a] == nil {
		m.recs[a] = map[string]memRec{}
	}
	m.recs[a][id] = memRec{status: status, times: times}
}

func (m *memTarget) hold(a gdprkit.AccountID, id string, held bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.recs[a][id]
	r.held = held
	m.recs[a][id] = r
}

func (m *memTarget) Find(_ context.Context, a gdprkit.AccountID, sel retention.Selector, limit int) ([]retention.Candidate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []retention.Candidate
	for id, r := range m.recs[a] {
		at, ok := r.times[sel.Field]
		if !ok || (sel.Status != "" && r.status != sel.Status) || !at.Before(sel.Before) {
			continue
		}
		if !sel.After.IsZero() && (at.Before(sel.After.At) || at.Equal(sel.After.At) && id <= sel.After.ID) {
			continue
		}
		c := retention.Candidate{ID: id, At: at, Held: r.held && m.holdsVisible}
		for _, k := range sel.Keep {
			kt, ok := r.times[k.Field]
			if k.Keeps(r.status, kt, ok) {
				c.Kept = true
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].At.Before(out[j].At) || out[i].At.Equal(out[j].At) && out[i].ID < out[j].ID
	})
	return out[:min(limit, len(out))], nil
}

func (m *memTarget) Delete(ctx context.Context, a gdprkit.AccountID, ids []string) (retention.DeleteResult, error) {
	if m.onDelete != nil {
		if err := m.onDelete(ctx, ids); err != nil {
			return retention.DeleteResult{}, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deletes++
	var res retention.DeleteResult
	for _, id := range ids {
		r, ok := m.recs[a][id]
		switch {
		case !ok:
		case r.held:
			res.Held = append(res.Held, id)
		default:
			delete(m.recs[a], id)
			res.Removed = append(res.Removed, id)
		}
	}
	return res, nil
}

func (m *memTarget) len(a gdprkit.AccountID) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs[a])
}

func (m *memTarget) has(a gdprkit.AccountID, id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.recs[a][id]
	return ok
}
