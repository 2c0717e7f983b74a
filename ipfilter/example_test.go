package ipfilter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

// An admin restricts the agent panel to the office network; the filter then
// decides every request on it.
func Example() {
	ctx := context.Background()
	f, _ := ipfilter.New(ipfilter.Config{Store: newFakeStore()})
	res, err := f.SetRules(ctx, ipfilter.Change{
		Account: "acme", Surface: gdprkit.SurfaceAgentPanel,
		Allow: []ipfilter.Input{{Value: "192.0.2.0/24", Note: "office"}, {Value: "2001:db8::/32", Note: "office v6"}},
		Deny:  []ipfilter.Input{{Value: "192.0.2.66", Note: "kiosk"}},
		Actor: "admin-1", ActorIP: netip.MustParseAddr("192.0.2.10"),
	})
	fmt.Println("version", res.Version, err)
	for _, ip := range []string{"192.0.2.10", "::ffff:192.0.2.11", "192.0.2.66", "198.51.100.1"} {
		d, _ := f.Decide(ctx, "acme", gdprkit.SurfaceAgentPanel, netip.MustParseAddr(ip))
		fmt.Println(ip, d)
	}
	d, _ := f.Decide(ctx, "acme", gdprkit.SurfaceAPI, netip.MustParseAddr("198.51.100.1"))
	fmt.Println("api", d)
	// Output:
	// version 1 <nil>
	// 192.0.2.10 allowed
	// ::ffff:192.0.2.11 allowed
	// 192.0.2.66 deny_list
	// 198.51.100.1 not_in_allow_list
	// api allowed
}

func ExampleParsePrefix() {
	for _, s := range []string{"10.0.0.0/8", "2001:db8::1", "10.1.2.3/8", "010.0.0.1", "fe80::1%eth0"} {
		p, err := ipfilter.ParsePrefix(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(p)
	}
	// Output:
	// 10.0.0.0/8
	// 2001:db8::1/128
	// ipfilter: entry "10.1.2.3/8": host bits are set under the mask; did you mean 10.0.0.0/8?
	// ipfilter: entry "010.0.0.1": not an IP address: IPv4 field has octet with leading zero
	// ipfilter: entry "fe80::1%eth0": zones are not allowed
}

// A change that would shut out the admin making it is refused unless forced.
func ExampleFilter_SetRules_selfLockout() {
	f, _ := ipfilter.New(ipfilter.Config{Store: newFakeStore()})
	_, err := f.SetRules(context.Background(), ipfilter.Change{
		Account: "acme", Surface: gdprkit.SurfaceAgentPanel,
		Allow: []ipfilter.Input{{Value: "198.51.100.0/24"}},
		Actor: "admin-1", ActorIP: netip.MustParseAddr("192.0.2.10"),
	})
	fmt.Println(errors.Is(err, ipfilter.ErrSelfLockout), errors.Is(err, gdprkit.ErrForbidden))
	// Output: true true
}

// Behind a load balancer at 10.0.0.0/8, X-Forwarded-For is believed only
// from it.
func ExampleExtractor_ClientIP() {
	e, _ := ipfilter.NewExtractor(ipfilter.ProxyConfig{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Forwarded-For", "127.0.0.1, 203.0.113.9")

	r.RemoteAddr = "10.0.0.5:41000" // the load balancer
	ip, _ := e.ClientIP(r)
	fmt.Println(ip)

	r.RemoteAddr = "198.51.100.7:41000" // a client forging the header
	ip, _ = e.ClientIP(r)
	fmt.Println(ip)
	// Output:
	// 203.0.113.9
	// 198.51.100.7
}

func ExampleFilter_Middleware() {
	ctx := context.Background()
	f, _ := ipfilter.New(ipfilter.Config{Store: newFakeStore()})
	_, _ = f.SetRules(ctx, ipfilter.Change{Account: "acme", Surface: gdprkit.SurfaceAgentPanel,
		Allow: []ipfilter.Input{{Value: "192.0.2.0/24"}}, Actor: "admin-1", ActorIP: netip.MustParseAddr("192.0.2.10")})

	resolve := func(r *http.Request) (gdprkit.AccountID, gdprkit.Surface, bool) {
		return "acme", gdprkit.SurfaceAgentPanel, true // a real host reads the subdomain and path
	}
	panel := f.Middleware(resolve)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "tickets")
	}))
	for _, remote := range []string{"192.0.2.44:5000", "198.51.100.1:5000"} {
		r := httptest.NewRequest("GET", "/agent/", nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		panel.ServeHTTP(w, r)
		fmt.Printf("%d %q\n", w.Code, w.Body.String())
	}
	// Output:
	// 200 "tickets"
	// 403 "Forbidden\n"
}

// Login code asks the same question through AllowIP; a denial wraps
// gdprkit.ErrForbidden and says nothing about the rules.
func ExampleFilter_AllowIP() {
	ctx := context.Background()
	f, _ := ipfilter.New(ipfilter.Config{Store: newFakeStore()})
	_, _ = f.SetRules(ctx, ipfilter.Change{Account: "acme", Surface: gdprkit.SurfaceAPI,
		Deny: []ipfilter.Input{{Value: "203.0.113.0/24", Note: "abuse"}}, Actor: "admin-1", ActorIP: netip.MustParseAddr("192.0.2.10")})
	err := f.AllowIP(ctx, "acme", gdprkit.SurfaceAPI, netip.MustParseAddr("203.0.113.50"))
	fmt.Println(errors.Is(err, gdprkit.ErrForbidden), err)
	fmt.Println(f.AllowIP(ctx, "acme", gdprkit.SurfaceAPI, netip.MustParseAddr("198.51.100.1")))
	// Output:
	// true gdprkit: forbidden: ipfilter: address not allowed on api
	// <nil>
}
