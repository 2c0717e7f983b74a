package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
)

// Customers reach the portal through a signed link (a real deployment
// e-mails it; the demo shows it after the contact form and prints the demo
// customers' links at start). The link is valid for 30 days and only while
// the customer's portal profile exists.
const portalLinkTTL = 30 * 24 * time.Hour

func (a *App) portalToken(customerID string) string {
	payload := customerID + "|" + strconv.FormatInt(a.now().Add(portalLinkTTL).Unix(), 10)
	m := hmac.New(sha256.New, a.portalKey)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + hex.EncodeToString(m.Sum(nil))
}

func (a *App) parsePortalToken(tok string) (string, bool) {
	p64, mac, ok := strings.Cut(tok, ".")
	if !ok {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(p64)
	if err != nil {
		return "", false
	}
	m := hmac.New(sha256.New, a.portalKey)
	m.Write(payload)
	if !hmac.Equal([]byte(mac), []byte(hex.EncodeToString(m.Sum(nil)))) {
		return "", false
	}
	id, exp, ok := strings.Cut(string(payload), "|")
	n, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || a.now().Unix() > n {
		return "", false
	}
	return id, true
}

// portalCustomer returns the customer of the portal cookie, if the link is
// valid, the account allows portal access and the portal profile exists.
func (a *App) portalCustomer(r *http.Request) (User, bool) {
	c, err := r.Cookie(portalCookie)
	if err != nil {
		return User{}, false
	}
	id, ok := a.parsePortalToken(c.Value)
	if !ok || a.Life.CheckSurface(r.Context(), a.acct, gdprkit.SurfacePortal) != nil {
		return User{}, false
	}
	u, err := a.user(r.Context(), a.acct, id)
	if err != nil || u.Role != roleCustomer {
		return User{}, false
	}
	if _, err := a.portalProfile(r, id); err != nil {
		return User{}, false
	}
	return u, true
}

func (a *App) portalProfile(r *http.Request, id string) (string, error) {
	var lang string
	err := a.db.QueryRowContext(r.Context(), a.q("SELECT language FROM hd_portal_profiles WHERE account_id = ? AND user_id = ?"), string(a.acct), id).Scan(&lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "", gdprkit.ErrNotFound
	}
	return lang, err
}

// portalData feeds the portal page.
type portalData struct {
	Customer User
	Language string
	Tickets  []Ticket
	Consent  []consent.Record
	Deleted  bool
}

func (a *App) portalRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /portal/login", func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("t")
		if _, ok := a.parsePortalToken(tok); !ok {
			a.fail(w, r, http.StatusForbidden, "This portal link is invalid or has expired.")
			return
		}
		http.SetCookie(w, a.cookie(portalCookie, tok, int(portalLinkTTL/time.Second)))
		redirect(w, r, "/portal")
	})
	m.HandleFunc("GET /portal", func(w http.ResponseWriter, r *http.Request) {
		u, ok := a.portalCustomer(r)
		if !ok {
			a.fail(w, r, http.StatusForbidden, "Open the portal with the link you were given.")
			return
		}
		d := portalData{Customer: u}
		var err error
		if d.Language, err = a.portalProfile(r, u.ID); err != nil {
			a.serverError(w, r, err)
			return
		}
		if d.Tickets, err = a.tickets(r.Context(), u.ID); err != nil {
			a.serverError(w, r, err)
			return
		}
		if d.Consent, err = a.Consent.History(r.Context(), a.acct, gdprkit.SubjectID(u.ID)); err != nil {
			a.serverError(w, r, err)
			return
		}
		a.render(w, r, http.StatusOK, "portal", "Your portal", d)
	})
	m.HandleFunc("POST /portal/withdraw", func(w http.ResponseWriter, r *http.Request) {
		u, ok := a.portalCustomer(r)
		if !ok {
			a.fail(w, r, http.StatusForbidden, "Open the portal with the link you were given.")
			return
		}
		_, err := a.Consent.Withdraw(r.Context(), a.acct, consent.Decision{Subject: gdprkit.SubjectID(u.ID), Purpose: r.PostFormValue("purpose"),
			Source: consent.SourcePortal, IP: a.clientIP(r), UserAgent: r.UserAgent(), RecordedBy: gdprkit.ActorID(u.ID)})
		if err != nil {
			a.fail(w, r, http.StatusUnprocessableEntity, "Could not withdraw: "+err.Error())
			return
		}
		redirect(w, r, "/portal?flash=Consent+withdrawn.")
	})
	m.HandleFunc("POST /portal/export", func(w http.ResponseWriter, r *http.Request) {
		u, ok := a.portalCustomer(r)
		if !ok {
			a.fail(w, r, http.StatusForbidden, "Open the portal with the link you were given.")
			return
		}
		// An access request filed by the subject themself, verified by
		// the signed link, answered at once.
		req, err := a.Erasure.Submit(r.Context(), a.acct, erasure.Submission{Type: erasure.TypeAccess, Subject: gdprkit.SubjectID(u.ID), By: gdprkit.ActorID(u.ID), Verified: true})
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="my-data.json"`)
		if err := a.Erasure.Export(r.Context(), a.acct, req.ID, w); err != nil {
			a.log.Error("portal export", "err", err)
		}
	})
	m.HandleFunc("POST /portal/delete", func(w http.ResponseWriter, r *http.Request) {
		u, ok := a.portalCustomer(r)
		if !ok {
			a.fail(w, r, http.StatusForbidden, "Open the portal with the link you were given.")
			return
		}
		if r.PostFormValue("confirm") != "yes" {
			redirect(w, r, "/portal?error=Tick+the+box+to+confirm.")
			return
		}
		// A customer may erase their own portal profile (ScopePortal); the
		// engine authorises it by the role hierarchy.
		if _, err := a.Erasure.Submit(r.Context(), a.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: gdprkit.SubjectID(u.ID),
			Scope: erasure.ScopePortal, By: gdprkit.ActorID(u.ID), Verified: true}); err != nil {
			a.serverError(w, r, err)
			return
		}
		if err := a.RunErasureJobs(r.Context()); err != nil {
			a.serverError(w, r, err)
			return
		}
		http.SetCookie(w, a.cookie(portalCookie, "", -1))
		a.render(w, r, http.StatusOK, "portal", "Portal profile deleted", portalData{Deleted: true})
	})
}
