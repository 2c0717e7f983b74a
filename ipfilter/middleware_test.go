package ipfilter_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

// resolveByPath maps /agent/… to the agent panel and /api/… to the API of
// acct; everything else is public.
func resolveByPath(r *http.Request) (gdprkit.AccountID, gdprkit.Surface, bool) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/agent/"):
		return acct, gdprkit.SurfaceAgentPanel, true
	case strings.HasPrefix(r.URL.Path, "/api/"):
		return acct, gdprkit.SurfaceAPI, true
	}
	return "", "", false
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "secret panel") })

func serve(h http.Handler, remote, path string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	h := newHarness(t, func(c *ipfilter.Config) {
		c.Proxy = ipfilter.ProxyConfig{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	})
	h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24"}, []string{"192.0.2.66"})
	mw := h.f.Middleware(resolveByPath)(okHandler)
	for _, c := range []struct {
		name    string
		remote  string
		path    string
		headers []string
		want    int
	}{
		{"allowed address passes", "192.0.2.5:1000", "/agent/tickets", nil, 200},
		{"unlisted address gets 403", "198.51.100.5:1000", "/agent/tickets", nil, 403},
		{"denied address gets 403", "192.0.2.66:1000", "/agent/tickets", nil, 403},
		{"public path passes", "198.51.100.5:1000", "/public", nil, 200},
		{"unrestricted surface passes", "198.51.100.5:1000", "/api/tickets", nil, 200},
		{"forged X-Forwarded-For from an untrusted peer changes nothing", "198.51.100.5:1000", "/agent/", []string{"X-Forwarded-For", "192.0.2.5"}, 403},
		{"forged loopback changes nothing", "198.51.100.5:1000", "/agent/", []string{"X-Forwarded-For", "127.0.0.1"}, 403},
		{"trusted proxy forwards an allowed client", "10.0.0.1:1000", "/agent/", []string{"X-Forwarded-For", "192.0.2.5"}, 200},
		{"trusted proxy forwards a denied client", "10.0.0.1:1000", "/agent/", []string{"X-Forwarded-For", "192.0.2.5, 198.51.100.5"}, 403},
		{"client-supplied allowed address behind the proxy is ignored", "10.0.0.1:1000", "/agent/", []string{"X-Forwarded-For", "192.0.2.5, 198.51.100.5"}, 403},
		{"garbage from the proxy fails closed", "10.0.0.1:1000", "/agent/", []string{"X-Forwarded-For", "bogus"}, 403},
		{"the proxy itself is not in the allow list", "10.0.0.1:1000", "/agent/", nil, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := serve(mw, c.remote, c.path, c.headers...)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d", w.Code, c.want)
			}
			if c.want == 403 {
				body := w.Body.String()
				if body != "Forbidden\n" {
					t.Errorf("403 body %q reveals more than it should", body)
				}
			}
		})
	}
}

func TestMiddlewareFailsClosedWhenRulesCannotBeRead(t *testing.T) {
	h := newHarness(t)
	h.store.fail.Store(true)
	w := serve(h.f.Middleware(resolveByPath)(okHandler), "192.0.2.5:1", "/agent/")
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("status %d body %q", w.Code, w.Body.String())
	}
}

func TestDenialEventsAreRateLimited(t *testing.T) {
	key := make([]byte, 32)
	ps, err := gdprkit.NewPseudonymizer(key)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *ipfilter.Config) { c.AuditInterval = time.Minute; c.Pseudonymizer = ps })
	h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24"}, nil)
	h.set(t, gdprkit.SurfaceAPI, []string{"192.0.2.0/24"}, nil)
	mw := h.f.Middleware(resolveByPath)(okHandler)
	for range 50 {
		serve(mw, "198.51.100.5:1", "/agent/")
	}
	serve(mw, "198.51.100.5:1", "/api/") // another surface has its own budget
	ev := h.audit.OfType(ipfilter.EventDenied)
	if len(ev) != 2 {
		t.Fatalf("%d events after 50+1 denials in one minute, want 2", len(ev))
	}
	h.clock.Advance(time.Minute)
	serve(mw, "198.51.100.5:1", "/agent/")
	ev = h.audit.OfType(ipfilter.EventDenied)
	if len(ev) != 3 {
		t.Fatalf("%d events, want 3", len(ev))
	}
	last := ev[2]
	if last.Attrs["suppressed"] != "49" || last.Attrs["reason"] != "not_in_allow_list" || last.Attrs["surface"] != "agent_panel" || last.Attrs["family"] != "ipv4" {
		t.Errorf("event attrs %v", last.Attrs)
	}
	if last.Subject != ps.Pseudonym(acct, "ip", "198.51.100.5") || last.Account != acct {
		t.Errorf("event subject %q account %q", last.Subject, last.Account)
	}
	for _, e := range ev {
		for k, v := range e.Attrs {
			if strings.Contains(v, "198.51") || strings.Contains(v, "192.0.2") {
				t.Errorf("event attr %s=%q holds an address", k, v)
			}
		}
	}
}

// BenchmarkMiddleware measures what the middleware adds to a request: the
// same handler is served with and without it (client address from the
// connection, and through a trusted proxy's X-Forwarded-For).
func BenchmarkMiddleware(b *testing.B) {
	h := newHarness(b, func(c *ipfilter.Config) {
		c.Clock = gdprkit.SystemClock{}
		c.Proxy = ipfilter.ProxyConfig{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	})
	var allow []string
	for i := range 200 {
		allow = append(allow, netip.AddrFrom4([4]byte{192, 0, byte(i), 0}).String()+"/24")
	}
	allow = append(allow, adminIP.String())
	h.set(b, gdprkit.SurfaceAgentPanel, allow, []string{"192.0.2.66"})
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	w := httptest.NewRecorder()
	run := func(b *testing.B, handler http.Handler, r *http.Request) {
		b.ReportAllocs()
		for b.Loop() {
			handler.ServeHTTP(w, r)
		}
	}
	direct := httptest.NewRequest("GET", "/agent/", nil)
	direct.RemoteAddr = "192.0.5.9:4000"
	proxied := httptest.NewRequest("GET", "/agent/", nil)
	proxied.RemoteAddr = "10.0.0.1:4000"
	proxied.Header.Set("X-Forwarded-For", "203.0.113.9, 192.0.5.9, 10.0.0.2")
	b.Run("baseline", func(b *testing.B) { run(b, noop, direct) })
	b.Run("direct", func(b *testing.B) { run(b, h.f.Middleware(resolveByPath)(noop), direct) })
	b.Run("proxied", func(b *testing.B) { run(b, h.f.Middleware(resolveByPath)(noop), proxied) })
}

// BenchmarkDecide measures a warm decision through the Filter: account
// lookup, snapshot, surface, deny and allow lists.
func BenchmarkDecide(b *testing.B) {
	h := newHarness(b, func(c *ipfilter.Config) { c.Clock = gdprkit.SystemClock{} })
	h.set(b, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24", "2001:db8::/32"}, []string{"192.0.2.66"})
	ctx := b.Context()
	ip := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		_, _ = h.f.Decide(ctx, acct, gdprkit.SurfaceAgentPanel, ip)
	}
}
