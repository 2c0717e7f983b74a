package ipfilter_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/gdprkit/gdprkit/ipfilter"
)

func request(remote string, headers ...string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func mustExtractor(t testing.TB, cfg ipfilter.ProxyConfig) *ipfilter.Extractor {
	t.Helper()
	e, err := ipfilter.NewExtractor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	xff := mustExtractor(t, ipfilter.ProxyConfig{Trusted: proxies})
	fwd := mustExtractor(t, ipfilter.ProxyConfig{Trusted: proxies, Header: ipfilter.HeaderForwarded})
	real := mustExtractor(t, ipfilter.ProxyConfig{Trusted: proxies, Header: ipfilter.HeaderXRealIP})
	none := mustExtractor(t, ipfilter.ProxyConfig{})
	long := strings.Repeat("1.1.1.1, ", 20000) // ~180 KB of attacker text on the left
	for _, c := range []struct {
		name string
		e    *ipfilter.Extractor
		r    *http.Request
		want string // "" means ErrNoClientAddress
	}{
		{"no proxy configured: the connection", none, request("198.51.100.1:1234", "X-Forwarded-For", "192.0.2.1"), "198.51.100.1"},
		{"forged X-Forwarded-For from an untrusted peer changes nothing", xff, request("198.51.100.1:1234", "X-Forwarded-For", "127.0.0.1"), "198.51.100.1"},
		{"forged Forwarded from an untrusted peer changes nothing", fwd, request("198.51.100.1:1234", "Forwarded", "for=127.0.0.1"), "198.51.100.1"},
		{"forged X-Real-IP from an untrusted peer changes nothing", real, request("198.51.100.1:1234", "X-Real-IP", "127.0.0.1"), "198.51.100.1"},
		{"trusted proxy without header: the proxy", xff, request("10.0.0.1:1234"), "10.0.0.1"},
		{"trusted proxy: last address", xff, request("10.0.0.1:1234", "X-Forwarded-For", "192.0.2.1"), "192.0.2.1"},
		{"client-supplied left part is skipped", xff, request("10.0.0.1:1234", "X-Forwarded-For", "127.0.0.1, 192.0.2.1"), "192.0.2.1"},
		{"trusted hops skipped right to left", xff, request("10.0.0.1:1234", "X-Forwarded-For", "127.0.0.1, 192.0.2.1, 10.9.9.9, 10.8.8.8"), "192.0.2.1"},
		{"all trusted: leftmost", xff, request("10.0.0.1:1234", "X-Forwarded-For", "10.2.2.2, 10.3.3.3"), "10.2.2.2"},
		{"repeated headers read as one list", xff, request("10.0.0.1:1234", "X-Forwarded-For", "127.0.0.1, 192.0.2.9", "X-Forwarded-For", "192.0.2.1, 10.4.4.4"), "192.0.2.1"},
		{"empty elements ignored", xff, request("10.0.0.1:1234", "X-Forwarded-For", "192.0.2.1,, ,"), "192.0.2.1"},
		{"port accepted", xff, request("10.0.0.1:1234", "X-Forwarded-For", "192.0.2.1:5555"), "192.0.2.1"},
		{"IPv6 with port", xff, request("10.0.0.1:1234", "X-Forwarded-For", "[2001:db8::1]:443"), "2001:db8::1"},
		{"mapped address unmapped", xff, request("10.0.0.1:1234", "X-Forwarded-For", "::ffff:192.0.2.1"), "192.0.2.1"},
		{"zone stripped", xff, request("10.0.0.1:1234", "X-Forwarded-For", "fe80::1%eth0"), "fe80::1"},
		{"mapped trusted peer", xff, request("[::ffff:10.0.0.1]:1234", "X-Forwarded-For", "192.0.2.1"), "192.0.2.1"},
		{"IPv6 trusted peer", xff, request("[fd00::1]:1234", "X-Forwarded-For", "2001:db8::7"), "2001:db8::7"},
		{"garbage where the client should be", xff, request("10.0.0.1:1234", "X-Forwarded-For", "192.0.2.1, nonsense"), ""},
		{"garbage left of the client is never read", xff, request("10.0.0.1:1234", "X-Forwarded-For", "nonsense, 192.0.2.1"), "192.0.2.1"},
		{"oversized header: only the right end is read", xff, request("10.0.0.1:1234", "X-Forwarded-For", long+"192.0.2.1"), "192.0.2.1"},
		{"too many trusted hops", mustExtractor(t, ipfilter.ProxyConfig{Trusted: proxies, MaxHops: 2}), request("10.0.0.1:1234", "X-Forwarded-For", "192.0.2.1, 10.1.1.1, 10.1.1.2, 10.1.1.3"), ""},
		{"Forwarded", fwd, request("10.0.0.1:1234", "Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43"), "192.0.2.60"},
		{"Forwarded IPv6 quoted with port", fwd, request("10.0.0.1:1234", "Forwarded", `for="[2001:db8:cafe::17]:4711"`), "2001:db8:cafe::17"},
		{"Forwarded chain", fwd, request("10.0.0.1:1234", "Forwarded", `for=127.0.0.1, for=192.0.2.43;proto=https, for="10.5.5.5"`), "192.0.2.43"},
		{"Forwarded case-insensitive name", fwd, request("10.0.0.1:1234", "Forwarded", "For=192.0.2.60"), "192.0.2.60"},
		{"Forwarded comma in quoted string", fwd, request("10.0.0.1:1234", "Forwarded", `for=192.0.2.60;ext="a,b"`), "192.0.2.60"},
		{"Forwarded IPv4 with port", fwd, request("10.0.0.1:1234", "Forwarded", `for="192.0.2.60:8080"`), "192.0.2.60"},
		{"Forwarded obfuscated port", fwd, request("10.0.0.1:1234", "Forwarded", `for="[2001:db8::9]:_abc"`), "2001:db8::9"},
		{"Forwarded bad port", fwd, request("10.0.0.1:1234", "Forwarded", `for="192.0.2.60:123456"`), ""},
		{"Forwarded unclosed bracket", fwd, request("10.0.0.1:1234", "Forwarded", `for="[2001:db8::9"`), ""},
		{"Forwarded IPv4 in brackets", fwd, request("10.0.0.1:1234", "Forwarded", `for="[192.0.2.60]"`), ""},
		{"Forwarded unknown", fwd, request("10.0.0.1:1234", "Forwarded", "for=unknown"), ""},
		{"Forwarded obfuscated", fwd, request("10.0.0.1:1234", "Forwarded", "for=_hidden"), ""},
		{"Forwarded without for", fwd, request("10.0.0.1:1234", "Forwarded", "proto=https"), ""},
		{"Forwarded unbracketed IPv6", fwd, request("10.0.0.1:1234", "Forwarded", `for="2001:db8::1"`), ""},
		{"Forwarded ignores X-Forwarded-For", fwd, request("10.0.0.1:1234", "X-Forwarded-For", "192.0.2.1"), "10.0.0.1"},
		{"X-Forwarded-For mode ignores Forwarded", xff, request("10.0.0.1:1234", "Forwarded", "for=192.0.2.1"), "10.0.0.1"},
		{"X-Real-IP", real, request("10.0.0.1:1234", "X-Real-IP", "192.0.2.5"), "192.0.2.5"},
		{"X-Real-IP repeated is not believed", real, request("10.0.0.1:1234", "X-Real-IP", "127.0.0.1", "X-Real-IP", "192.0.2.5"), ""},
		{"X-Real-IP garbage", real, request("10.0.0.1:1234", "X-Real-IP", "x"), ""},
		{"unix socket peer", xff, request("@"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.e.ClientIP(c.r)
			if c.want == "" {
				if !errors.Is(err, ipfilter.ErrNoClientAddress) || got.IsValid() {
					t.Fatalf("ClientIP = %v, %v; want ErrNoClientAddress", got, err)
				}
				return
			}
			if err != nil || got != netip.MustParseAddr(c.want) {
				t.Fatalf("ClientIP = %v, %v; want %s", got, err, c.want)
			}
		})
	}
}

func TestClientIPDoesNotAllocate(t *testing.T) {
	e := mustExtractor(t, ipfilter.ProxyConfig{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	r := request("10.0.0.1:1234", "X-Forwarded-For", "127.0.0.1, 192.0.2.1, 10.9.9.9")
	if n := testing.AllocsPerRun(100, func() { _, _ = e.ClientIP(r) }); n != 0 {
		t.Errorf("ClientIP allocates %v times", n)
	}
}

// referenceXFF is a deliberately naive right-to-left walk.
func referenceXFF(trusted []netip.Prefix, peer netip.Addr, vals []string, maxHops int) (netip.Addr, bool) {
	in := func(ip netip.Addr) bool { return linearContains(trusted, ip) }
	if !in(peer) {
		return peer, true
	}
	var elems []string
	for _, v := range vals {
		elems = append(elems, strings.Split(v, ",")...)
	}
	last, hops := peer, 0
	for i := len(elems) - 1; i >= 0; i-- {
		s := strings.TrimSpace(elems[i])
		if s == "" {
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil || len(s) > 64 {
			ap, err2 := netip.ParseAddrPort(s)
			if err2 != nil || len(s) > 64 {
				return netip.Addr{}, false
			}
			ip = ap.Addr()
		}
		ip = ip.Unmap().WithZone("")
		if !in(ip) {
			return ip, true
		}
		if hops++; hops > maxHops {
			return netip.Addr{}, false
		}
		last = ip
	}
	return last, true
}

// FuzzForwardingHeaders feeds arbitrary header values: the extractor must
// not panic, must ignore headers from untrusted peers, must return
// normalised addresses, and for X-Forwarded-For must agree with a naive
// reference walk. Forwarded parsing must never return an address that is
// not in the header.
func FuzzForwardingHeaders(f *testing.F) {
	f.Add("10.0.0.1:1", "127.0.0.1, 192.0.2.1", "10.0.0.2")
	f.Add("192.0.2.9:1", "127.0.0.1", "")
	f.Add("10.0.0.1:1", `for="[2001:db8::1]:80";proto=https, for=10.1.1.1`, "x")
	f.Add("[fd00::1]:1", `for=192.0.2.1;ext="a,\"b"`, "fe80::1%eth0")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	xff := mustExtractor(f, ipfilter.ProxyConfig{Trusted: trusted, MaxHops: 4})
	fwd := mustExtractor(f, ipfilter.ProxyConfig{Trusted: trusted, MaxHops: 4, Header: ipfilter.HeaderForwarded})
	real := mustExtractor(f, ipfilter.ProxyConfig{Trusted: trusted, Header: ipfilter.HeaderXRealIP})
	f.Fuzz(func(t *testing.T, remote, h1, h2 string) {
		peer, perr := ipfilter.PeerAddr(remote)
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
			r.Header[h] = []string{h1, h2}
		}
		for _, e := range []*ipfilter.Extractor{xff, fwd, real} {
			got, err := e.ClientIP(r)
			if perr != nil {
				if err == nil {
					t.Fatalf("bad peer %q yielded %v", remote, got)
				}
				continue
			}
			if !linearContains(trusted, peer) && (err != nil || got != peer) {
				t.Fatalf("untrusted peer %v: got %v, %v", peer, got, err)
			}
			if err == nil && (got.Is4In6() || got.Zone() != "" || !got.IsValid()) {
				t.Fatalf("not normalised: %v", got)
			}
			// Without a '[' every address Forwarded yields was an IPv4
			// literal, whose text netip only accepts in canonical form.
			if err == nil && e == fwd && got != peer && !strings.Contains(h1+h2, "[") && !strings.Contains(h1+h2, got.String()) {
				t.Fatalf("Forwarded gave %v, not in %q %q", got, h1, h2)
			}
		}
		if perr != nil {
			return
		}
		got, err := xff.ClientIP(r)
		want, ok := referenceXFF(trusted, peer, []string{h1, h2}, 4)
		if ok != (err == nil) || got != want {
			t.Fatalf("X-Forwarded-For %q %q from %v: got %v, %v; reference %v, %v", h1, h2, peer, got, err, want, ok)
		}
	})
}
