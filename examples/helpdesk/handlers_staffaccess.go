package main

import (
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/staffaccess"
)

// Vendor support access. The vendor's support tool (here: two JSON
// endpoints under /api/vendor/, which use no cookies and so no CSRF token,
// authenticated by a bearer token derived from the app's secret, with the
// staff member named in X-Vendor-Staff) asks for access and, once the
// account's owner approved it on
// /privacy/support-access, reads the account's tickets through
// staffaccess's middleware, which records every request in the trail the
// account reads on the same page.

func (a *App) supportRoutes(m *http.ServeMux) {
	m.Handle("GET /privacy/support-access", a.staff(false, a.supportPage))
	m.Handle("GET /privacy/support-access.json", a.staff(false, func(w http.ResponseWriter, r *http.Request) {
		tr, err := a.Support.Trail(r.Context(), a.acct, staffaccess.TrailQuery{})
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		writeIndentedJSON(w, http.StatusOK, tr)
	}))
	decide := func(do func(r *http.Request, id string, by staffaccess.Actor) error, done string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			u := me(r)
			err := do(r, r.PathValue("id"), staffaccess.Actor{ID: gdprkit.ActorID(u.ID), Role: u.GRole()})
			switch {
			case errors.Is(err, gdprkit.ErrForbidden):
				a.fail(w, r, http.StatusForbidden, "Only the account's owner or an admin decides on support access.")
			case errors.Is(err, gdprkit.ErrNotFound):
				a.fail(w, r, http.StatusNotFound, "No such request.")
			case errors.Is(err, gdprkit.ErrConflict), errors.Is(err, gdprkit.ErrInvalid):
				a.refuse(w, r, "/privacy/support-access", err.Error())
			case err != nil:
				a.serverError(w, r, err)
			default:
				a.done(w, r, "/privacy/support-access", done)
			}
		}
	}
	m.Handle("POST /privacy/support-access/{id}/approve", a.staff(false, decide(func(r *http.Request, id string, by staffaccess.Actor) error {
		_, err := a.Support.Approve(r.Context(), a.acct, id, by, r.PostFormValue("note"))
		return err
	}, "Approved.")))
	m.Handle("POST /privacy/support-access/{id}/refuse", a.staff(false, decide(func(r *http.Request, id string, by staffaccess.Actor) error {
		_, err := a.Support.Refuse(r.Context(), a.acct, id, by, r.PostFormValue("note"))
		return err
	}, "Refused.")))
	m.Handle("POST /privacy/support-access/{id}/revoke", a.staff(false, decide(func(r *http.Request, id string, by staffaccess.Actor) error {
		_, err := a.Support.Revoke(r.Context(), a.acct, id, by)
		return err
	}, "Revoked: access ends now.")))

	// The vendor's side.
	m.Handle("POST /api/vendor/access-requests", a.vendor(func(w http.ResponseWriter, r *http.Request, staff gdprkit.ActorID) {
		hours, err := strconv.Atoi(r.PostFormValue("hours"))
		if err != nil || hours <= 0 {
			http.Error(w, "hours: a positive whole number", http.StatusBadRequest)
			return
		}
		g, err := a.Support.Request(r.Context(), a.acct, staffaccess.Request{Staff: staff, Purpose: r.PostFormValue("purpose"),
			Until: a.now().Add(time.Duration(hours) * time.Hour)})
		if errors.Is(err, gdprkit.ErrInvalid) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		writeIndentedJSON(w, http.StatusCreated, g)
	}))
	guard := a.Support.Middleware(staffaccess.HTTP{
		Staff: a.vendorStaff,
		Account: func(r *http.Request) (gdprkit.AccountID, bool) {
			return gdprkit.AccountID(r.PathValue("account")), r.PathValue("account") != ""
		},
	})
	m.Handle("GET /api/vendor/accounts/{account}/tickets", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gdprkit.AccountID(r.PathValue("account")) != a.acct {
			http.NotFound(w, r) // this app serves one account
			return
		}
		ts, _, err := a.host.Tickets(r.Context(), a.acct, hostdb.TicketFilter{Folder: hostdb.FolderAll, Limit: 1000})
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		type row struct {
			ID        int64  `json:"id"`
			Subject   string `json:"subject"`
			Requester string `json:"requester"`
			Status    string `json:"status"`
		}
		out := []row{}
		for _, t := range ts {
			out = append(out, row{ID: t.ID, Subject: t.Subject, Requester: t.RequesterName, Status: t.Status})
		}
		writeIndentedJSON(w, http.StatusOK, out)
	})))
}

// vendorToken is the bearer token of the vendor's support tool.
func (a *App) vendorToken() string { return hex.EncodeToString(subkey(a.cfg.Secret, "vendor-support")) }

// vendorStaff authenticates the vendor's tool and names the staff member.
func (a *App) vendorStaff(r *http.Request) (gdprkit.ActorID, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(a.vendorToken())) != 1 {
		return "", false
	}
	staff := strings.TrimSpace(r.Header.Get("X-Vendor-Staff"))
	if staff == "" || gdprkit.ActorID("vendor:"+staff).Validate() != nil {
		return "", false
	}
	return gdprkit.ActorID("vendor:" + staff), true
}

func (a *App) vendor(h func(http.ResponseWriter, *http.Request, gdprkit.ActorID)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		staff, ok := a.vendorStaff(r)
		if !ok {
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			return
		}
		h(w, r, staff)
	})
}

func (a *App) supportPage(w http.ResponseWriter, r *http.Request) {
	tr, err := a.Support.Trail(r.Context(), a.acct, staffaccess.TrailQuery{})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "support", "Vendor support access", tr)
}
