package authn

import (
	"net/netip"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
)

// budgets holds the in-memory failure budgets of ThrottlePolicy: one per
// account and source network, one per account. Each is a leaky bucket of
// failures: a failure adds one, and one leaks out every refill interval.
// Memory is bounded by MaxSources: buckets that have leaked empty are
// dropped when the map is full, and when it is still full new sources share
// their account's overflow bucket (the zero prefix, which unknown addresses
// use too).
type budgets struct {
	p ThrottlePolicy

	mu      sync.Mutex
	sources map[sourceKey]*bucket
	global  map[gdprkit.AccountID]*bucket
	swept   time.Time
}

type sourceKey struct {
	account gdprkit.AccountID
	net     netip.Prefix
}

// bucket is a level of failures as of at.
type bucket struct {
	level float64
	at    time.Time
}

// now returns the level at t after leaking one failure per refill.
func (b *bucket) now(t time.Time, refill time.Duration) float64 {
	if b == nil {
		return 0
	}
	if refill <= 0 {
		return 0
	}
	l := b.level - float64(t.Sub(b.at))/float64(refill)
	return max(l, 0)
}

func (b *bucket) add(t time.Time, refill time.Duration) {
	b.level, b.at = b.now(t, refill)+1, t
}

// waitUntil is when a bucket at level l drops below limit.
func waitUntil(now time.Time, l float64, limit int, refill time.Duration) time.Time {
	over := l - float64(limit) + 1e-9
	return now.Add(time.Duration(over * float64(refill))).Add(time.Millisecond).Truncate(time.Millisecond)
}

func newBudgets(p ThrottlePolicy) *budgets {
	return &budgets{p: p, sources: map[sourceKey]*bucket{}, global: map[gdprkit.AccountID]*bucket{}}
}

// allow refuses an attempt from src on account with a *ThrottledError when
// the source has spent its budget, or, while the account's budget is spent,
// when the source has any failure left in its own.
func (b *budgets) allow(account gdprkit.AccountID, src netip.Prefix, f Factor, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	limit := b.p.SourceBudget
	if b.global[account].now(now, b.p.GlobalRefill) >= float64(b.p.GlobalBudget) {
		limit = 1 // under a spraying attack only clean sources may try
	}
	k := sourceKey{account, src}
	s, ok := b.sources[k]
	if !ok {
		s = b.sources[sourceKey{account: account}] // a source past MaxSources shares the overflow bucket
		if s != nil && len(b.sources) < b.p.MaxSources {
			s = nil
		}
	}
	if l := s.now(now, b.p.SourceRefill); l >= float64(limit) {
		return &ThrottledError{Factor: f, Until: waitUntil(now, l, limit, b.p.SourceRefill)}
	}
	return nil
}

// failed counts a failure from src on account.
func (b *budgets) failed(account gdprkit.AccountID, src netip.Prefix, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.global[account]
	if g == nil {
		g = &bucket{}
		b.global[account] = g
	}
	g.add(now, b.p.GlobalRefill)
	k := sourceKey{account, src}
	s := b.sources[k]
	if s == nil {
		if len(b.sources) >= b.p.MaxSources {
			b.sweep(now)
		}
		if len(b.sources) >= b.p.MaxSources {
			k = sourceKey{account: account}
		}
		if s = b.sources[k]; s == nil {
			s = &bucket{}
			b.sources[k] = s
		}
	}
	s.add(now, b.p.SourceRefill)
}

// sweep drops buckets that have leaked empty, at most once per refill
// interval so a full map of busy sources does not cost a scan per failure.
func (b *budgets) sweep(now time.Time) {
	if now.Sub(b.swept) < b.p.SourceRefill {
		return
	}
	b.swept = now
	for k, s := range b.sources {
		if s.now(now, b.p.SourceRefill) == 0 {
			delete(b.sources, k)
		}
	}
	for a, g := range b.global {
		if g.now(now, b.p.GlobalRefill) == 0 {
			delete(b.global, a)
		}
	}
}

// size returns how many buckets are held, for tests and load reports.
func (b *budgets) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sources) + len(b.global)
}
