package staffaccess

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// HTTP tells the middleware who is asking and for which account.
type HTTP struct {
	// Staff returns the vendor staff member making the request (from the
	// host's own authentication of its support tool); ok false answers
	// 401. Required.
	Staff func(r *http.Request) (staff gdprkit.ActorID, ok bool)
	// Account returns the account whose data the request would show; ok
	// false answers 400. Required.
	Account func(r *http.Request) (account gdprkit.AccountID, ok bool)
	// What describes the access for the trail. Default: the method and
	// the URL path ("GET /support/tickets/42").
	What func(r *http.Request) string
}

type grantKey struct{}

// AccessFrom returns the trail entry of the access the middleware let
// through, from the request's context.
func AccessFrom(ctx context.Context) (Entry, bool) {
	e, ok := ctx.Value(grantKey{}).(Entry)
	return e, ok
}

// Middleware returns net/http middleware for the host's support tooling:
// every request goes through Access, so it is let through only under a
// live grant and is recorded in the account's trail before the handler
// runs (AccessFrom gives the handler the entry). Without a live grant the
// answer is 403 with a body that says so; a request with no staff identity
// gets 401, one with no account 400, bad input 400, and a store that
// cannot be reached 503 (it fails closed). It panics when h.Staff or
// h.Account is nil, a wiring mistake.
func (s *Service) Middleware(h HTTP) func(http.Handler) http.Handler {
	if h.Staff == nil || h.Account == nil {
		panic("staffaccess: Middleware needs HTTP.Staff and HTTP.Account")
	}
	what := h.What
	if what == nil {
		what = func(r *http.Request) string { return r.Method + " " + r.URL.Path }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			staff, ok := h.Staff(r)
			if !ok {
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
				return
			}
			account, ok := h.Account(r)
			if !ok {
				http.Error(w, "no account named", http.StatusBadRequest)
				return
			}
			d := what(r)
			if len(d) > MaxWhat {
				d = strings.ToValidUTF8(d[:MaxWhat], "")
			}
			e, err := s.Access(r.Context(), account, staff, d)
			switch {
			case errors.Is(err, gdprkit.ErrForbidden):
				http.Error(w, "Forbidden: no live support access grant for this account; ask the account's owner or an admin to approve one.", http.StatusForbidden)
				return
			case errors.Is(err, gdprkit.ErrInvalid):
				http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
				return
			case err != nil:
				s.log.Warn("staffaccess: cannot check access; refusing the request", "err", err)
				http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), grantKey{}, e)))
		})
	}
}
