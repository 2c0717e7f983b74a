package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/breach"
)

// Breach returns the breach register store.
func (s *Store) Breach() breach.Store { return domain(s, "breach", newBreachMem) }

type breachMem struct {
	mu       sync.Mutex
	accounts map[gdprkit.AccountID]*breachAcct
}

type breachAcct struct {
	breaches map[string]breach.Breach
	subjects map[string]map[gdprkit.Pseudonym]bool
	notices  map[string]breach.Notice
	history  []breach.Entry
	head     breach.Head
}

func newBreachMem() *breachMem { return &breachMem{accounts: map[gdprkit.AccountID]*breachAcct{}} }

func (m *breachMem) acct(a gdprkit.AccountID) *breachAcct {
	c := m.accounts[a]
	if c == nil {
		c = &breachAcct{breaches: map[string]breach.Breach{}, subjects: map[string]map[gdprkit.Pseudonym]bool{}, notices: map[string]breach.Notice{}}
		m.accounts[a] = c
	}
	return c
}

func cloneBreach(b breach.Breach) breach.Breach {
	b.Types = slices.Clone(b.Types)
	b.DataCategories = slices.Clone(b.DataCategories)
	b.SubjectCategories = slices.Clone(b.SubjectCategories)
	b.Kinds = slices.Clone(b.Kinds)
	b.By = "" // not stored, as in every adapter
	return b
}

func cloneEntry(e breach.Entry) breach.Entry {
	e.Data = bytes.Clone(e.Data)
	return e
}

func (m *breachMem) Mutate(ctx context.Context, a gdprkit.AccountID, id string, fn func(breach.Breach, bool) (breach.Write, error), seal func(breach.Head, *breach.Entry) error) ([]breach.Entry, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a)
	cur, found := c.breaches[id]
	w, err := fn(cloneBreach(cur), found)
	if err != nil {
		return nil, err
	}
	// Check everything before changing anything.
	if w.Breach != nil {
		if w.Breach.ID != id || id == "" {
			return nil, fmt.Errorf("breach write: ID %q is not %q: %w", w.Breach.ID, id, gdprkit.ErrInvalid)
		}
		if inc := w.Breach.Incident; inc != "" {
			for _, o := range c.breaches {
				if o.ID != id && o.Incident == inc {
					return nil, fmt.Errorf("breach incident exists: %w", gdprkit.ErrConflict)
				}
			}
		}
	}
	if (len(w.Subjects) > 0 || len(w.Notices) > 0 || w.Settle != nil) && !found && w.Breach == nil {
		return nil, fmt.Errorf("breach %q: %w", id, gdprkit.ErrNotFound)
	}
	seenPS := map[gdprkit.Pseudonym]bool{}
	for _, p := range w.Subjects {
		if c.subjects[id][p] || seenPS[p] {
			return nil, fmt.Errorf("breach subject exists: %w", gdprkit.ErrConflict)
		}
		seenPS[p] = true
	}
	subjNotice := map[gdprkit.Pseudonym]bool{}
	for _, n := range c.notices {
		if n.Breach == id && n.To == breach.ToSubject {
			subjNotice[n.Subject] = true
		}
	}
	newIDs := map[string]bool{}
	for _, n := range w.Notices {
		if _, dup := c.notices[n.ID]; dup || newIDs[n.ID] || n.ID == "" {
			return nil, fmt.Errorf("breach notice exists: %w", gdprkit.ErrConflict)
		}
		newIDs[n.ID] = true
		if n.To == breach.ToSubject {
			if subjNotice[n.Subject] {
				return nil, fmt.Errorf("breach subject notice exists: %w", gdprkit.ErrConflict)
			}
			subjNotice[n.Subject] = true
		}
	}
	if w.Settle != nil {
		n, ok := c.notices[w.Settle.ID]
		if !ok || n.Breach != id || n.State != breach.NoticeSending || n.LeaseToken == "" || n.LeaseToken != w.Token {
			return nil, fmt.Errorf("breach notice %q: %w", w.Settle.ID, gdprkit.ErrLeaseLost)
		}
	}
	head := c.head
	sealed := make([]breach.Entry, len(w.Entries))
	for i, e := range w.Entries {
		e = cloneEntry(e)
		if err := seal(head, &e); err != nil {
			return nil, err
		}
		if e.Seq != head.Seq+1 {
			return nil, fmt.Errorf("seal returned seq %d after head %d: %w", e.Seq, head.Seq, gdprkit.ErrConflict)
		}
		sealed[i] = e
		head = breach.Head{Seq: e.Seq, Hash: e.Hash}
	}
	// Apply.
	if w.Breach != nil {
		c.breaches[id] = cloneBreach(*w.Breach)
	}
	if len(w.Subjects) > 0 {
		if c.subjects[id] == nil {
			c.subjects[id] = map[gdprkit.Pseudonym]bool{}
		}
		for _, p := range w.Subjects {
			c.subjects[id][p] = true
		}
	}
	for _, n := range w.Notices {
		n.Account, n.Breach = a, id
		c.notices[n.ID] = n
	}
	if w.Settle != nil {
		n := *w.Settle
		n.Account, n.Breach = a, id
		c.notices[n.ID] = n
	}
	for _, e := range sealed {
		c.history = append(c.history, cloneEntry(e))
	}
	c.head = head
	return sealed, nil
}

func (m *breachMem) Breach(ctx context.Context, a gdprkit.AccountID, id string) (breach.Breach, error) {
	if err := live(ctx); err != nil {
		return breach.Breach{}, err
	}
	if err := a.Validate(); err != nil {
		return breach.Breach{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.accounts[a]; c != nil {
		if b, ok := c.breaches[id]; ok {
			return cloneBreach(b), nil
		}
	}
	return breach.Breach{}, fmt.Errorf("breach %q: %w", id, gdprkit.ErrNotFound)
}

func (m *breachMem) Breaches(ctx context.Context, a gdprkit.AccountID) ([]breach.Breach, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []breach.Breach
	if c := m.accounts[a]; c != nil {
		for _, b := range c.breaches {
			out = append(out, cloneBreach(b))
		}
	}
	slices.SortFunc(out, func(x, y breach.Breach) int {
		if c := y.AwareAt.Compare(x.AwareAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out, nil
}

func (m *breachMem) Subjects(ctx context.Context, a gdprkit.AccountID, id string, after gdprkit.Pseudonym, limit int) ([]gdprkit.Pseudonym, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gdprkit.Pseudonym
	if c := m.accounts[a]; c != nil {
		for p := range c.subjects[id] {
			if p > after {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *breachMem) Notices(ctx context.Context, a gdprkit.AccountID, id string) ([]breach.Notice, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []breach.Notice
	if c := m.accounts[a]; c != nil {
		for _, n := range c.notices {
			if n.Breach == id {
				out = append(out, n)
			}
		}
	}
	slices.SortFunc(out, func(x, y breach.Notice) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

func (m *breachMem) ClaimNotice(ctx context.Context, now time.Time, owner, token string, until time.Time) (breach.Notice, error) {
	if err := live(ctx); err != nil {
		return breach.Notice{}, err
	}
	if owner == "" || token == "" {
		return breach.Notice{}, fmt.Errorf("claim notice: empty owner or token: %w", gdprkit.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *breach.Notice
	var bestAt time.Time
	var bestAcct gdprkit.AccountID
	for a, c := range m.accounts {
		for _, n := range c.notices {
			var at time.Time
			switch {
			case n.State == breach.NoticePending && !n.NextAt.After(now):
				at = n.NextAt
			case n.State == breach.NoticeSending && !n.LeaseUntil.After(now):
				at = n.LeaseUntil
			default:
				continue
			}
			if best == nil || at.Before(bestAt) || at.Equal(bestAt) && n.ID < best.ID {
				n := n
				best, bestAt, bestAcct = &n, at, a
			}
		}
	}
	if best == nil {
		return breach.Notice{}, fmt.Errorf("no notice due: %w", gdprkit.ErrNotFound)
	}
	n := *best
	n.State, n.LeaseOwner, n.LeaseToken, n.LeaseUntil = breach.NoticeSending, owner, token, until.UTC()
	m.accounts[bestAcct].notices[n.ID] = n
	return n, nil
}

func (m *breachMem) History(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]breach.Entry, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []breach.Entry
	if c := m.accounts[a]; c != nil {
		for _, e := range c.history {
			if e.Seq > afterSeq && (limit <= 0 || len(out) < limit) {
				out = append(out, cloneEntry(e))
			}
		}
	}
	return out, nil
}

func (m *breachMem) Head(ctx context.Context, a gdprkit.AccountID) (breach.Head, error) {
	if err := live(ctx); err != nil {
		return breach.Head{}, err
	}
	if err := a.Validate(); err != nil {
		return breach.Head{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.accounts[a]; c != nil {
		return c.head, nil
	}
	return breach.Head{}, nil
}

func (m *breachMem) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	if err := a.Validate(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.accounts[a]
	if c == nil {
		return 0, nil
	}
	delete(m.accounts, a)
	return len(c.breaches), nil
}
