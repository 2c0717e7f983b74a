package ipfilter_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/ipfilter"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

const (
	acct  gdprkit.AccountID = "acct-1"
	admin gdprkit.ActorID   = "admin-1"
)

var adminIP = netip.MustParseAddr("192.0.2.10")

type harness struct {
	store *fakeStore
	clock *fakeclock.Clock
	audit *gdprkit.MemoryAudit
	f     *ipfilter.Filter
}

func newHarness(t testing.TB, mod ...func(*ipfilter.Config)) *harness {
	t.Helper()
	h := &harness{store: newFakeStore(), clock: fakeclock.New(t0), audit: &gdprkit.MemoryAudit{}}
	h.f = h.filter(t, mod...)
	return h
}

// filter returns another Filter on the same store and clock: another
// process of the same deployment.
func (h *harness) filter(t testing.TB, mod ...func(*ipfilter.Config)) *ipfilter.Filter {
	t.Helper()
	cfg := ipfilter.Config{Store: h.store, Clock: h.clock, Audit: h.audit}
	for _, m := range mod {
		m(&cfg)
	}
	f, err := ipfilter.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func inputs(ss ...string) []ipfilter.Input {
	out := make([]ipfilter.Input, len(ss))
	for i, s := range ss {
		out[i] = ipfilter.Input{Value: s}
	}
	return out
}

func (h *harness) set(t testing.TB, surface gdprkit.Surface, allow, deny []string) ipfilter.Result {
	t.Helper()
	res, err := h.f.SetRules(context.Background(), ipfilter.Change{
		Account: acct, Surface: surface, Allow: inputs(allow...), Deny: inputs(deny...),
		Actor: admin, ActorIP: adminIP, ExpectedVersion: ipfilter.AnyVersion,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func decide(t testing.TB, f *ipfilter.Filter, surface gdprkit.Surface, ip string) ipfilter.Decision {
	t.Helper()
	d, err := f.Decide(context.Background(), acct, surface, netip.MustParseAddr(ip))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDecideRules(t *testing.T) {
	h := newHarness(t)
	h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24", "2001:db8::/32"}, []string{"192.0.2.66"})
	h.set(t, gdprkit.SurfaceAPI, nil, []string{"203.0.113.0/24"})
	for _, c := range []struct {
		name    string
		surface gdprkit.Surface
		ip      string
		want    ipfilter.Decision
	}{
		{"address in the allow list is allowed", gdprkit.SurfaceAgentPanel, "192.0.2.1", ipfilter.Allowed},
		{"address outside the allow list is denied", gdprkit.SurfaceAgentPanel, "198.51.100.1", ipfilter.DeniedNotListed},
		{"deny wins over allow", gdprkit.SurfaceAgentPanel, "192.0.2.66", ipfilter.DeniedListed},
		{"IPv6 in the allow list", gdprkit.SurfaceAgentPanel, "2001:db8:1::5", ipfilter.Allowed},
		{"IPv6 outside", gdprkit.SurfaceAgentPanel, "2001:db9::5", ipfilter.DeniedNotListed},
		{"IPv4-mapped IPv6 matches IPv4 rules", gdprkit.SurfaceAgentPanel, "::ffff:192.0.2.1", ipfilter.Allowed},
		{"IPv4-mapped IPv6 hits the deny list", gdprkit.SurfaceAgentPanel, "::ffff:192.0.2.66", ipfilter.DeniedListed},
		{"zone is stripped", gdprkit.SurfaceAgentPanel, "2001:db8::1%eth0", ipfilter.Allowed},
		{"empty allow list means the restriction is off", gdprkit.SurfaceAPI, "198.51.100.1", ipfilter.Allowed},
		{"deny list applies without an allow list", gdprkit.SurfaceAPI, "203.0.113.9", ipfilter.DeniedListed},
		{"a surface without rules is open", gdprkit.SurfacePortal, "203.0.113.9", ipfilter.Allowed},
		{"host-defined surface without rules is open", "mobile", "203.0.113.9", ipfilter.Allowed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := decide(t, h.f, c.surface, c.ip); got != c.want {
				t.Errorf("Decide(%s, %s) = %v, want %v", c.surface, c.ip, got, c.want)
			}
		})
	}
	t.Run("unknown address is denied where rules exist", func(t *testing.T) {
		for _, s := range []gdprkit.Surface{gdprkit.SurfaceAgentPanel, gdprkit.SurfaceAPI} {
			if d, _ := h.f.Decide(context.Background(), acct, s, netip.Addr{}); d != ipfilter.DeniedNoAddress {
				t.Errorf("%s: %v", s, d)
			}
		}
		if d, _ := h.f.Decide(context.Background(), acct, gdprkit.SurfacePortal, netip.Addr{}); d != ipfilter.Allowed {
			t.Errorf("portal without rules: %v", d)
		}
	})
	t.Run("other accounts are unaffected", func(t *testing.T) {
		d, err := h.f.Decide(context.Background(), "acct-2", gdprkit.SurfaceAgentPanel, netip.MustParseAddr("198.51.100.1"))
		if err != nil || d != ipfilter.Allowed {
			t.Errorf("Decide = %v, %v", d, err)
		}
	})
}

func TestAllowIPWrapsErrForbidden(t *testing.T) {
	h := newHarness(t)
	h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24"}, nil)
	ctx := context.Background()
	if err := h.f.AllowIP(ctx, acct, gdprkit.SurfaceAgentPanel, netip.MustParseAddr("192.0.2.3")); err != nil {
		t.Errorf("allowed address: %v", err)
	}
	err := h.f.AllowIP(ctx, acct, gdprkit.SurfaceAgentPanel, netip.MustParseAddr("198.51.100.3"))
	if !errors.Is(err, gdprkit.ErrForbidden) {
		t.Errorf("denied address: %v", err)
	}
	if strings.Contains(err.Error(), "192.0.2") || strings.Contains(err.Error(), "198.51") {
		t.Errorf("error reveals rules or address: %v", err)
	}
	if n := len(h.audit.OfType(ipfilter.EventDenied)); n != 1 {
		t.Errorf("%d denial events, want 1", n)
	}
}

func TestSetRulesRejectsBadEntriesAndSavesNothing(t *testing.T) {
	h := newHarness(t)
	h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24"}, nil)
	_, err := h.f.SetRules(context.Background(), ipfilter.Change{
		Account: acct, Surface: gdprkit.SurfaceAgentPanel, Actor: admin, ActorIP: adminIP,
		Allow: inputs("192.0.2.0/24", "10.1.2.3/8"), Deny: inputs("fe80::1%eth0"), ExpectedVersion: ipfilter.AnyVersion,
	})
	if !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{`allow entry 2 "10.1.2.3/8"`, `deny entry 1 "fe80::1%eth0"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if h.store.replaceCalls.Load() != 1 {
		t.Errorf("store written %d times, want only the first change", h.store.replaceCalls.Load())
	}
	rs, _ := h.f.Rules(context.Background(), acct)
	if rs.Version != 1 || len(rs.Surface(gdprkit.SurfaceAgentPanel).Allow) != 1 {
		t.Errorf("rules changed: %+v", rs)
	}
}

func TestSetRulesLimitsAndIDs(t *testing.T) {
	h := newHarness(t, func(c *ipfilter.Config) { c.MaxEntries = 2 })
	ctx := context.Background()
	base := ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAPI, Actor: admin, Force: true}
	for name, c := range map[string]ipfilter.Change{
		"too many entries": func() ipfilter.Change { c := base; c.Deny = inputs("192.0.2.1", "192.0.2.2", "192.0.2.3"); return c }(),
		"bad surface":      func() ipfilter.Change { c := base; c.Surface = "Agent Panel"; return c }(),
		"empty account":    func() ipfilter.Change { c := base; c.Account = ""; return c }(),
		"empty actor":      func() ipfilter.Change { c := base; c.Actor = ""; return c }(),
		"no actor IP, not forced": func() ipfilter.Change {
			c := base
			c.Force = false
			c.Allow = inputs("192.0.2.0/24")
			return c
		}(),
	} {
		if _, err := h.f.SetRules(ctx, c); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if h.store.replaceCalls.Load() != 0 {
		t.Error("store was written")
	}
}

func TestSelfLockoutGuard(t *testing.T) {
	ctx := context.Background()
	change := func(allow, deny []string) ipfilter.Change {
		return ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAgentPanel, Actor: admin, ActorIP: adminIP,
			Allow: inputs(allow...), Deny: inputs(deny...), ExpectedVersion: ipfilter.AnyVersion}
	}
	for _, c := range []struct {
		name        string
		allow, deny []string
	}{
		{"allow list without the admin", []string{"198.51.100.0/24"}, nil},
		{"deny list with the admin", nil, []string{"192.0.2.0/24"}},
		{"deny wins over the admin's allow entry", []string{"192.0.2.10"}, []string{"192.0.2.0/28"}},
	} {
		t.Run(c.name+" is refused", func(t *testing.T) {
			h := newHarness(t)
			_, err := h.f.SetRules(ctx, change(c.allow, c.deny))
			if !errors.Is(err, ipfilter.ErrSelfLockout) || !errors.Is(err, gdprkit.ErrForbidden) {
				t.Fatalf("err = %v, want ErrSelfLockout", err)
			}
			if h.store.replaceCalls.Load() != 0 {
				t.Error("the change was stored")
			}
			if d := decide(t, h.f, gdprkit.SurfaceAgentPanel, adminIP.String()); d != ipfilter.Allowed {
				t.Errorf("admin now %v", d)
			}
		})
		t.Run(c.name+" is applied when forced", func(t *testing.T) {
			h := newHarness(t)
			ch := change(c.allow, c.deny)
			ch.Force = true
			if _, err := h.f.SetRules(ctx, ch); err != nil {
				t.Fatal(err)
			}
			if d := decide(t, h.f, gdprkit.SurfaceAgentPanel, adminIP.String()); d.Allowed() {
				t.Error("admin still allowed after a forced lockout")
			}
			ev := h.audit.OfType(ipfilter.EventRulesChanged)
			if len(ev) != 1 || ev[0].Attrs["lockout_forced"] != "true" {
				t.Errorf("events: %+v", ev)
			}
		})
	}
	t.Run("the admin's mapped address counts as IPv4", func(t *testing.T) {
		h := newHarness(t)
		ch := change([]string{"192.0.2.0/24"}, nil)
		ch.ActorIP = netip.MustParseAddr("::ffff:192.0.2.10")
		if _, err := h.f.SetRules(ctx, ch); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("restricting another surface than the admin's is not a lockout", func(t *testing.T) {
		h := newHarness(t)
		ch := change([]string{"198.51.100.0/24"}, nil)
		ch.Surface = gdprkit.SurfaceAPI
		ch.ActorSurface = gdprkit.SurfaceAgentPanel
		if _, err := h.f.SetRules(ctx, ch); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSetRulesCompareAndSet(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ch := ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAPI, Actor: admin, ActorIP: adminIP, Deny: inputs("203.0.113.1"), ExpectedVersion: 0}
	res, err := h.f.SetRules(ctx, ch)
	if err != nil || res.Version != 1 {
		t.Fatalf("first change: %v, %v", res, err)
	}
	// A second admin still editing from version 0 loses.
	ch.Deny = inputs("203.0.113.2")
	if _, err := h.f.SetRules(ctx, ch); !errors.Is(err, gdprkit.ErrConflict) {
		t.Fatalf("stale change: %v, want ErrConflict", err)
	}
	if d := decide(t, h.f, gdprkit.SurfaceAPI, "203.0.113.2"); d != ipfilter.Allowed {
		t.Errorf("stale change applied: %v", d)
	}
	ch.ExpectedVersion = 1
	if res, err := h.f.SetRules(ctx, ch); err != nil || res.Version != 2 {
		t.Fatalf("fresh change: %v, %v", res, err)
	}
}

func TestSetRulesKeepsWhoAddedAnEntry(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24"}, nil)
	first := h.clock.Now()
	h.clock.Advance(time.Hour)
	res, err := h.f.SetRules(ctx, ipfilter.Change{
		Account: acct, Surface: gdprkit.SurfaceAgentPanel, Actor: "admin-2", ActorIP: adminIP, ExpectedVersion: 1,
		Allow: []ipfilter.Input{{Value: "192.0.2.0/24", Note: "office"}, {Value: "198.51.100.0/24", Note: "VPN"}, {Value: "198.51.100.7"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Kind != "covered" {
		t.Errorf("warnings: %v", res.Warnings)
	}
	rs, _ := h.f.Rules(ctx, acct)
	got := rs.Surface(gdprkit.SurfaceAgentPanel).Allow
	if len(got) != 3 {
		t.Fatalf("entries: %+v", got)
	}
	if got[0].AddedBy != admin || !got[0].AddedAt.Equal(first) || got[0].Note != "office" {
		t.Errorf("kept entry: %+v", got[0])
	}
	if got[1].AddedBy != "admin-2" || !got[1].AddedAt.Equal(h.clock.Now()) || got[1].Note != "VPN" {
		t.Errorf("new entry: %+v", got[1])
	}
}

func TestOtherProcessPicksUpChangesWithinRefreshInterval(t *testing.T) {
	h := newHarness(t, func(c *ipfilter.Config) { c.RefreshInterval = 5 * time.Second })
	other := h.filter(t, func(c *ipfilter.Config) { c.RefreshInterval = 5 * time.Second })
	const ip = "198.51.100.1"
	if d := decide(t, other, gdprkit.SurfaceAgentPanel, ip); d != ipfilter.Allowed {
		t.Fatal(d)
	}
	h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24"}, nil)
	if d := decide(t, h.f, gdprkit.SurfaceAgentPanel, ip); d != ipfilter.DeniedNotListed {
		t.Errorf("the writing process: %v", d)
	}
	h.clock.Advance(4 * time.Second)
	if d := decide(t, other, gdprkit.SurfaceAgentPanel, ip); d != ipfilter.Allowed {
		t.Errorf("other process re-read before the interval: %v", d)
	}
	h.clock.Advance(time.Second)
	if d := decide(t, other, gdprkit.SurfaceAgentPanel, ip); d != ipfilter.DeniedNotListed {
		t.Errorf("other process after the interval: %v", d)
	}
	// Unchanged version: only Version is read, not the rules.
	rules := h.store.rulesCalls.Load()
	h.clock.Advance(5 * time.Second)
	decide(t, other, gdprkit.SurfaceAgentPanel, ip)
	if h.store.rulesCalls.Load() != rules {
		t.Error("rules reloaded although the version did not move")
	}
	// Deleting the account is a new version too.
	if err := h.f.DeleteAccount(context.Background(), acct, "system:retention"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5 * time.Second)
	if d := decide(t, other, gdprkit.SurfaceAgentPanel, ip); d != ipfilter.Allowed {
		t.Errorf("after DeleteAccount: %v", d)
	}
}

func TestStoreFailure(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24"}, nil)
	cold := h.filter(t)
	h.store.fail.Store(true)
	t.Run("nothing cached: error, not allowed", func(t *testing.T) {
		d, err := cold.Decide(ctx, acct, gdprkit.SurfaceAgentPanel, netip.MustParseAddr("192.0.2.1"))
		if !errors.Is(err, gdprkit.ErrUnavailable) || d.Allowed() {
			t.Errorf("Decide = %v, %v", d, err)
		}
		if err := cold.AllowIP(ctx, acct, gdprkit.SurfaceAgentPanel, netip.MustParseAddr("192.0.2.1")); err == nil {
			t.Error("AllowIP let a request in without rules")
		}
	})
	t.Run("cached: the last rules keep applying", func(t *testing.T) {
		h.clock.Advance(time.Minute)
		if d := decide(t, h.f, gdprkit.SurfaceAgentPanel, "198.51.100.1"); d != ipfilter.DeniedNotListed {
			t.Errorf("Decide = %v", d)
		}
		calls := h.store.versionCalls.Load()
		decide(t, h.f, gdprkit.SurfaceAgentPanel, "198.51.100.1")
		if h.store.versionCalls.Load() != calls {
			t.Error("failing store is asked on every request")
		}
	})
	h.store.fail.Store(false)
	if d := decide(t, cold, gdprkit.SurfaceAgentPanel, "198.51.100.1"); d != ipfilter.DeniedNotListed {
		t.Errorf("after recovery: %v", d)
	}
}

func TestDecideIsFreeOfAllocations(t *testing.T) {
	h := newHarness(t)
	h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24", "2001:db8::/32"}, []string{"192.0.2.66"})
	ctx := context.Background()
	ips := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8::1")}
	if n := testing.AllocsPerRun(200, func() {
		for _, ip := range ips {
			_, _ = h.f.Decide(ctx, acct, gdprkit.SurfaceAgentPanel, ip)
		}
	}); n != 0 {
		t.Errorf("Decide allocates %v times per run", n)
	}
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]ipfilter.Config{
		"no store":         {},
		"negative refresh": {Store: newFakeStore(), RefreshInterval: -1},
		"bad proxy":        {Store: newFakeStore(), Proxy: ipfilter.ProxyConfig{Trusted: []netip.Prefix{{}}}},
	} {
		if _, err := ipfilter.New(cfg); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestConcurrentDecisionsDuringChanges decides from several goroutines
// while an admin flips the rules back and forth; under -race it proves the
// lock-free snapshot swap is sound, and every decision is one the rules
// allow for.
func TestConcurrentDecisionsDuringChanges(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := []string{"192.0.2.0/24"} // office: 192.0.2.5 allowed, 198.51.100.5 denied
	b := []string{"198.51.100.0/24", "192.0.2.10"}
	h.set(t, gdprkit.SurfaceAgentPanel, a, nil)
	office, vpn := netip.MustParseAddr("192.0.2.5"), netip.MustParseAddr("198.51.100.5")
	done := make(chan struct{})
	errs := make(chan string, 8)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- ""
					return
				default:
				}
				d1, _ := h.f.Decide(ctx, acct, gdprkit.SurfaceAgentPanel, office)
				d2, _ := h.f.Decide(ctx, acct, gdprkit.SurfaceAgentPanel, vpn)
				if d1 != ipfilter.Allowed && d1 != ipfilter.DeniedNotListed || d2 != ipfilter.Allowed && d2 != ipfilter.DeniedNotListed {
					errs <- "impossible decision"
					return
				}
			}
		}()
	}
	for i := range 200 {
		rules := a
		if i%2 == 0 {
			rules = b
		}
		h.set(t, gdprkit.SurfaceAgentPanel, rules, nil)
	}
	close(done)
	for range 4 {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
	// The last change (i = 199, rules a) is what every decision sees now.
	if decide(t, h.f, gdprkit.SurfaceAgentPanel, "198.51.100.5") != ipfilter.DeniedNotListed {
		t.Error("final rules not applied")
	}
}
