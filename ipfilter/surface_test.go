package ipfilter_test

import (
	"errors"
	"net/http"
	"net/netip"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

// A surface that fails ValidateSurface ("API" for "api") must not match
// "no rules" and be allowed: Decide, AllowIP and the middleware refuse it.
func TestInvalidSurfaceNeverBypassesTheRules(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	h.set(t, gdprkit.SurfaceAPI, []string{"192.0.2.0/24"}, nil)
	outsider := netip.MustParseAddr("198.51.100.7")
	if d, _ := h.f.Decide(ctx, acct, gdprkit.SurfaceAPI, outsider); d.Allowed() {
		t.Fatal("setup: outsider allowed on api")
	}
	for _, s := range []gdprkit.Surface{"API", "", "api ", "a/b", gdprkit.Surface(make([]byte, 65))} {
		d, err := h.f.Decide(ctx, acct, s, outsider)
		if !errors.Is(err, gdprkit.ErrInvalid) || d.Allowed() {
			t.Errorf("Decide(surface %q) = %v, %v; want a not-Allowed decision and ErrInvalid", s, d, err)
		}
		if err := h.f.AllowIP(ctx, acct, s, outsider); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("AllowIP(surface %q) = %v; want ErrInvalid", s, err)
		}
	}
	mw := h.f.Middleware(func(*http.Request) (gdprkit.AccountID, gdprkit.Surface, bool) { return acct, "API", true })(okHandler)
	if w := serve(mw, "198.51.100.7:1000", "/api/x"); w.Code != http.StatusServiceUnavailable {
		t.Errorf("middleware with surface \"API\": %d, want 503", w.Code)
	}
	// An invalid ActorSurface cannot skip the self-lockout guard.
	_, err := h.f.SetRules(ctx, ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAPI, ActorSurface: "API", Actor: admin,
		Allow: inputs("203.0.113.0/24"), ActorIP: adminIP, ExpectedVersion: ipfilter.AnyVersion})
	if !errors.Is(err, gdprkit.ErrInvalid) {
		t.Errorf("SetRules with ActorSurface \"API\": %v; want ErrInvalid", err)
	}
}
