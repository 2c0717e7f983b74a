package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/staffaccess"
)

// StaffAccess returns the support access grants and trail store.
func (s *Store) StaffAccess() staffaccess.Store { return domain(s, "staffaccess", newStaffAccessMem) }

type staffAccessMem struct {
	mu       sync.Mutex
	accounts map[gdprkit.AccountID]*staffAccessAcct
}

type staffAccessAcct struct {
	grants map[string]staffaccess.Grant
	trail  []staffaccess.Entry
	head   staffaccess.Head
}

func newStaffAccessMem() *staffAccessMem {
	return &staffAccessMem{accounts: map[gdprkit.AccountID]*staffAccessAcct{}}
}

func cloneSAEntry(e staffaccess.Entry) staffaccess.Entry {
	e.Data = bytes.Clone(e.Data)
	return e
}

func (m *staffAccessMem) Mutate(ctx context.Context, a gdprkit.AccountID, id string, fn func(staffaccess.Grant, bool) (staffaccess.Write, error), seal func(staffaccess.Head, *staffaccess.Entry) error) ([]staffaccess.Entry, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.accounts[a]
	if c == nil {
		c = &staffAccessAcct{grants: map[string]staffaccess.Grant{}}
	}
	cur, found := c.grants[id]
	w, err := fn(cur, found)
	if err != nil {
		return nil, err
	}
	if w.Grant != nil && (w.Grant.ID != id || id == "") {
		return nil, fmt.Errorf("grant write: ID %q is not %q: %w", w.Grant.ID, id, gdprkit.ErrInvalid)
	}
	head := c.head
	sealed := make([]staffaccess.Entry, len(w.Entries))
	for i, e := range w.Entries {
		e = cloneSAEntry(e)
		if err := seal(head, &e); err != nil {
			return nil, err
		}
		if e.Seq != head.Seq+1 {
			return nil, fmt.Errorf("seal returned seq %d after head %d: %w", e.Seq, head.Seq, gdprkit.ErrConflict)
		}
		sealed[i] = e
		head = staffaccess.Head{Seq: e.Seq, Hash: e.Hash}
	}
	m.accounts[a] = c
	if w.Grant != nil {
		g := *w.Grant
		g.Account = a
		c.grants[id] = g
	}
	for _, e := range sealed {
		c.trail = append(c.trail, cloneSAEntry(e))
	}
	c.head = head
	return sealed, nil
}

func (m *staffAccessMem) Grant(ctx context.Context, a gdprkit.AccountID, id string) (staffaccess.Grant, error) {
	if err := live(ctx); err != nil {
		return staffaccess.Grant{}, err
	}
	if err := a.Validate(); err != nil {
		return staffaccess.Grant{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.accounts[a]; c != nil {
		if g, ok := c.grants[id]; ok {
			return g, nil
		}
	}
	return staffaccess.Grant{}, fmt.Errorf("grant %q: %w", id, gdprkit.ErrNotFound)
}

func (m *staffAccessMem) Grants(ctx context.Context, a gdprkit.AccountID, staff gdprkit.ActorID) ([]staffaccess.Grant, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []staffaccess.Grant
	if c := m.accounts[a]; c != nil {
		for _, g := range c.grants {
			if staff == "" || g.Staff == staff {
				out = append(out, g)
			}
		}
	}
	slices.SortFunc(out, func(x, y staffaccess.Grant) int {
		if c := y.RequestedAt.Compare(x.RequestedAt); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	return out, nil
}

func (m *staffAccessMem) Trail(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]staffaccess.Entry, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []staffaccess.Entry
	if c := m.accounts[a]; c != nil {
		for _, e := range c.trail {
			if e.Seq > afterSeq && (limit <= 0 || len(out) < limit) {
				out = append(out, cloneSAEntry(e))
			}
		}
	}
	return out, nil
}

func (m *staffAccessMem) Head(ctx context.Context, a gdprkit.AccountID) (staffaccess.Head, error) {
	if err := live(ctx); err != nil {
		return staffaccess.Head{}, err
	}
	if err := a.Validate(); err != nil {
		return staffaccess.Head{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.accounts[a]; c != nil {
		return c.head, nil
	}
	return staffaccess.Head{}, nil
}

func (m *staffAccessMem) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int, error) {
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
	return len(c.grants), nil
}
