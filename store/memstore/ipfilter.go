package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

// IPFilter returns the IP rules store.
func (s *Store) IPFilter() ipfilter.Store { return domain(s, "ipfilter", newIPFilterMem) }

type ipfilterMem struct {
	mu       sync.RWMutex
	accounts map[gdprkit.AccountID]*ipfilterAcct
}

type ipfilterAcct struct {
	version  int64
	surfaces map[gdprkit.Surface]ipfilter.SurfaceRules
}

func newIPFilterMem() *ipfilterMem {
	return &ipfilterMem{accounts: map[gdprkit.AccountID]*ipfilterAcct{}}
}

func cloneSurfaceRules(r ipfilter.SurfaceRules) ipfilter.SurfaceRules {
	return ipfilter.SurfaceRules{Surface: r.Surface, Allow: slices.Clone(r.Allow), Deny: slices.Clone(r.Deny)}
}

func (m *ipfilterMem) Rules(ctx context.Context, a gdprkit.AccountID) (ipfilter.RuleSet, error) {
	if err := live(ctx); err != nil {
		return ipfilter.RuleSet{}, err
	}
	if err := a.Validate(); err != nil {
		return ipfilter.RuleSet{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	rs := ipfilter.RuleSet{Account: a}
	c := m.accounts[a]
	if c == nil {
		return rs, nil
	}
	rs.Version = c.version
	for _, r := range c.surfaces {
		rs.Surfaces = append(rs.Surfaces, cloneSurfaceRules(r))
	}
	slices.SortFunc(rs.Surfaces, func(x, y ipfilter.SurfaceRules) int { return strings.Compare(string(x.Surface), string(y.Surface)) })
	return rs, nil
}

func (m *ipfilterMem) Version(ctx context.Context, a gdprkit.AccountID) (int64, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	if err := a.Validate(); err != nil {
		return 0, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c := m.accounts[a]; c != nil {
		return c.version, nil
	}
	return 0, nil
}

func (m *ipfilterMem) ReplaceRules(ctx context.Context, a gdprkit.AccountID, r ipfilter.SurfaceRules, expected int64) (int64, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	if err := a.Validate(); err != nil {
		return 0, err
	}
	if r.Surface == "" {
		return 0, fmt.Errorf("ipfilter rules: empty surface: %w", gdprkit.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.accounts[a]
	var cur int64
	if c != nil {
		cur = c.version
	}
	if cur != expected {
		return 0, fmt.Errorf("ipfilter rules: version is %d, not %d: %w", cur, expected, gdprkit.ErrConflict)
	}
	if c == nil {
		c = &ipfilterAcct{surfaces: map[gdprkit.Surface]ipfilter.SurfaceRules{}}
		m.accounts[a] = c
	}
	c.version++
	if r.Empty() {
		delete(c.surfaces, r.Surface)
	} else {
		c.surfaces[r.Surface] = cloneSurfaceRules(r)
	}
	return c.version, nil
}

func (m *ipfilterMem) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int64, error) {
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
		c = &ipfilterAcct{}
		m.accounts[a] = c
	}
	c.version++
	c.surfaces = map[gdprkit.Surface]ipfilter.SurfaceRules{}
	return c.version, nil
}
