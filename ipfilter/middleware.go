package ipfilter

import (
	"net/http"
	"net/netip"

	"github.com/gdprkit/gdprkit"
)

// Resolver tells the middleware which account and surface a request is
// for. ok false means the request is not subject to IP rules (a public page,
// a health check) and passes through.
type Resolver func(r *http.Request) (account gdprkit.AccountID, surface gdprkit.Surface, ok bool)

// ClientIP returns r's client address according to Config.Proxy (see
// Extractor.ClientIP).
func (f *Filter) ClientIP(r *http.Request) (netip.Addr, error) { return f.extractor.ClientIP(r) }

// Middleware returns net/http middleware that lets a request through only
// when the rules of the account and surface resolve names allow its client
// address (Filter.ClientIP).
//
// A denied request gets 403 with the body "Forbidden" and nothing about the
// rules or the address seen; the denial is audited (EventDenied, rate
// limited). When the rules cannot be read and nothing is cached, or resolve
// names an invalid account or surface (see Decide), the answer is 503 and
// the error is logged, failing closed. An unusable client address counts as unknown:
// allowed only where the surface has no rules at all.
func (f *Filter) Middleware(resolve Resolver) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			account, surface, ok := resolve(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			ip, _ := f.extractor.ClientIP(r) // an error leaves ip invalid: unknown
			d, err := f.Decide(r.Context(), account, surface, ip)
			if err != nil {
				f.log.Warn("ipfilter: cannot decide; refusing the request", "err", err)
				http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
				return
			}
			if !d.Allowed() {
				f.reportDenial(r.Context(), account, surface, d, ip)
				http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
