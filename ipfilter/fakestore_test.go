package ipfilter_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

// fakeStore is a minimal ipfilter.Store for this package's tests (the real
// adapters live in store/... and run the conformance suite). It counts
// calls and can be told to fail.
type fakeStore struct {
	mu       sync.Mutex
	accounts map[gdprkit.AccountID]*fakeAccount

	fail         atomic.Bool
	rulesCalls   atomic.Int64
	versionCalls atomic.Int64
	replaceCalls atomic.Int64
}

type fakeAccount struct {
	version  int64
	surfaces map[gdprkit.Surface]ipfilter.SurfaceRules
}

func newFakeStore() *fakeStore { return &fakeStore{accounts: map[gdprkit.AccountID]*fakeAccount{}} }

var errDown = fmt.Errorf("fake store down: %w", gdprkit.ErrUnavailable)

func (s *fakeStore) Rules(ctx context.Context, account gdprkit.AccountID) (ipfilter.RuleSet, error) {
	s.rulesCalls.Add(1)
	if err := account.Validate(); err != nil {
		return ipfilter.RuleSet{}, err
	}
	if s.fail.Load() {
		return ipfilter.RuleSet{}, errDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := ipfilter.RuleSet{Account: account}
	a := s.accounts[account]
	if a == nil {
		return rs, nil
	}
	rs.Version = a.version
	for _, r := range a.surfaces {
		r.Allow = slices.Clone(r.Allow)
		r.Deny = slices.Clone(r.Deny)
		rs.Surfaces = append(rs.Surfaces, r)
	}
	slices.SortFunc(rs.Surfaces, func(a, b ipfilter.SurfaceRules) int {
		if a.Surface < b.Surface {
			return -1
		}
		return 1
	})
	return rs, nil
}

func (s *fakeStore) Version(ctx context.Context, account gdprkit.AccountID) (int64, error) {
	s.versionCalls.Add(1)
	if s.fail.Load() {
		return 0, errDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[account]; a != nil {
		return a.version, nil
	}
	return 0, nil
}

func (s *fakeStore) ReplaceRules(ctx context.Context, account gdprkit.AccountID, r ipfilter.SurfaceRules, expected int64) (int64, error) {
	s.replaceCalls.Add(1)
	if s.fail.Load() {
		return 0, errDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		a = &fakeAccount{surfaces: map[gdprkit.Surface]ipfilter.SurfaceRules{}}
		s.accounts[account] = a
	}
	if a.version != expected {
		return 0, fmt.Errorf("version %d, expected %d: %w", a.version, expected, gdprkit.ErrConflict)
	}
	a.version++
	if r.Empty() {
		delete(a.surfaces, r.Surface)
	} else {
		a.surfaces[r.Surface] = ipfilter.SurfaceRules{Surface: r.Surface, Allow: slices.Clone(r.Allow), Deny: slices.Clone(r.Deny)}
	}
	return a.version, nil
}

func (s *fakeStore) DeleteAccount(ctx context.Context, account gdprkit.AccountID) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		a = &fakeAccount{}
		s.accounts[account] = a
	}
	a.version++
	a.surfaces = map[gdprkit.Surface]ipfilter.SurfaceRules{}
	return a.version, nil
}
