package main

import (
	"crypto/hmac"
	"crypto/sha256"
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
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
)

// Customers reach the portal through a signed link (a real deployment
// e-mails it; the demo shows it after the contact form and prints the demo
// customers' links at start). The link is valid for 30 days and only while
// the customer's portal profile exists.
const portalLinkTTL = 30 * 24 * time.Hour

// sign makes a signed token "payload.mac" under the portal key.
func (a *App) sign(payload string) string {
	m := hmac.New(sha256.New, a.portalKey)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + hex.EncodeToString(m.Sum(nil))
}

// verify returns the payload of a token sign made.
func (a *App) verify(tok string) (string, bool) {
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
	return string(payload), true
}

func (a *App) portalToken(customerID string) string {
	return a.sign(customerID + "|" + strconv.FormatInt(a.now().Add(portalLinkTTL).Unix(), 10))
}

func (a *App) parsePortalToken(tok string) (string, bool) {
	payload, ok := a.verify(tok)
	id, exp, found := strings.Cut(payload, "|")
	n, err := strconv.ParseInt(exp, 10, 64)
	if !ok || !found || err != nil || a.now().Unix() > n || strings.HasPrefix(id, "r:") {
		return "", false
	}
	return id, true
}

// statusToken is the link to a privacy request's status page: the
// customer keeps it after their portal profile is gone.
func (a *App) statusToken(logID int64) string { return a.sign("r:" + strconv.FormatInt(logID, 10)) }

// portalCustomer returns the customer of the portal cookie. When there is
// none it has answered the request with why: a link that is invalid or
// expired, a portal profile that was deleted, a suspended account, or an
// outage (503).
func (a *App) portalCustomer(w http.ResponseWriter, r *http.Request) (hostdb.User, bool) {
	c, err := r.Cookie(portalCookie)
	if err != nil {
		a.fail(w, r, http.StatusForbidden, "Open your customer portal with the link we sent you. If you have lost it, write to us through the contact form and we will send a new one.")
		return hostdb.User{}, false
	}
	id, ok := a.parsePortalToken(c.Value)
	if !ok {
		a.fail(w, r, http.StatusForbidden, "This portal link is invalid or has expired. Write to us through the contact form and we will send a new one.")
		return hostdb.User{}, false
	}
	if err := a.kit.Life.CheckSurface(r.Context(), a.acct, gdprkit.SurfacePortal); err != nil {
		if errors.Is(err, gdprkit.ErrUnavailable) {
			a.serverError(w, r, err)
		} else {
			a.fail(w, r, http.StatusServiceUnavailable, "This helpdesk's customer portal is closed for now. Your data is kept; please come back later.")
		}
		return hostdb.User{}, false
	}
	u, err := a.host.User(r.Context(), a.acct, id)
	if err == nil && u.Role == hostdb.RoleCustomer {
		_, err = a.host.PortalLanguage(r.Context(), a.acct, id)
	}
	switch {
	case errors.Is(err, gdprkit.ErrNotFound) || err == nil && u.Role != hostdb.RoleCustomer:
		http.SetCookie(w, a.cookie(portalCookie, "", -1))
		a.fail(w, r, http.StatusGone, "Your portal profile has been deleted, so this link no longer works. Your tickets are still answered by e-mail.")
		return hostdb.User{}, false
	case err != nil:
		a.serverError(w, r, err)
		return hostdb.User{}, false
	}
	return u, true
}

// purposeState is one consent purpose as the portal shows it.
type purposeState struct {
	Key, Name, Label string
	Granted          bool
}

// portalData feeds the portal pages.
type portalData struct {
	Customer   hostdb.User
	Language   string
	Tickets    []hostdb.Ticket
	Ticket     *hostdb.Ticket
	Purposes   []purposeState
	History    []consent.Record
	Names      map[string]string
	Requests   []hostdb.Request
	Submission string
}

func (a *App) portalRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /portal/login", func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("t")
		if _, ok := a.parsePortalToken(tok); !ok {
			a.fail(w, r, http.StatusForbidden, "This portal link is invalid or has expired. Write to us through the contact form and we will send a new one.")
			return
		}
		http.SetCookie(w, a.cookie(portalCookie, tok, int(portalLinkTTL/time.Second)))
		redirect(w, r, "/portal")
	})
	m.HandleFunc("GET /portal", a.portal)
	m.HandleFunc("GET /portal/tickets/{id}", a.portalTicket)
	m.HandleFunc("POST /portal/tickets", a.portalNewTicket)
	m.HandleFunc("POST /portal/tickets/{id}/reply", a.portalReply)
	m.HandleFunc("GET /portal/attachments/{id}", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := a.portalCustomer(w, r); ok {
			id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
			a.serveAttachment(w, r, id, u.ID)
		}
	})
	m.HandleFunc("POST /portal/consent", a.portalConsent)
	m.HandleFunc("POST /portal/export", a.portalExport)
	m.HandleFunc("POST /portal/delete", a.portalDelete)
	m.HandleFunc("POST /portal/erasure-request", a.portalErasureRequest)
	m.HandleFunc("GET /status/{token}", a.statusPage)
}

func (a *App) portal(w http.ResponseWriter, r *http.Request) {
	u, ok := a.portalCustomer(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	d := portalData{Customer: u, Submission: newSubmissionKey()}
	var err error
	if d.Language, err = a.host.PortalLanguage(ctx, a.acct, u.ID); err == nil {
		d.Tickets, _, err = a.host.Tickets(ctx, a.acct, hostdb.TicketFilter{Requester: u.ID, Limit: 100})
	}
	if err == nil {
		d.Purposes, d.Names, err = a.purposeStates(r, gdprkit.SubjectID(u.ID))
	}
	if err == nil {
		d.History, err = a.kit.Consent.History(ctx, a.acct, gdprkit.SubjectID(u.ID))
	}
	if err == nil {
		d.Requests, err = a.host.Requests(ctx, a.acct, hostdb.RequestFilter{Subject: u.ID})
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "portal", "Your customer portal", d)
}

// purposeStates returns every consent purpose with the subject's current
// answer, and the purposes' names by key.
func (a *App) purposeStates(r *http.Request, subject gdprkit.SubjectID) ([]purposeState, map[string]string, error) {
	ps, err := a.kit.Consent.Purposes(r.Context(), a.acct)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	var out []purposeState
	for _, p := range ps {
		st, err := a.kit.Consent.Check(r.Context(), a.acct, subject, p.Key)
		if err != nil {
			return nil, nil, err
		}
		names[p.Key] = p.Name
		out = append(out, purposeState{Key: p.Key, Name: p.Name, Label: p.Label, Granted: st.Granted()})
	}
	return out, names, nil
}

func (a *App) portalTicket(w http.ResponseWriter, r *http.Request) {
	u, ok := a.portalCustomer(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	t, err := a.host.Ticket(r.Context(), a.acct, id)
	if errors.Is(err, gdprkit.ErrNotFound) || err == nil && t.RequesterID != u.ID {
		a.fail(w, r, http.StatusNotFound, "There is no such ticket in your portal.")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "portal_ticket", "#"+strconv.FormatInt(t.ID, 10)+" "+t.Subject, portalData{Customer: u, Ticket: &t})
}

// portalNewTicket opens a ticket from the portal: the customer is known
// by their link, so no consent box is needed beyond the one they gave.
// The form's submission key makes a double click open one ticket.
func (a *App) portalNewTicket(w http.ResponseWriter, r *http.Request) {
	u, ok := a.portalCustomer(w, r)
	if !ok {
		return
	}
	subject, body := strings.TrimSpace(r.PostFormValue("subject")), strings.TrimSpace(r.PostFormValue("message"))
	if subject == "" || body == "" || len(subject) > 200 || len(body) > maxMessage {
		a.refuse(w, r, "/portal", "Give a subject and a message (at most 20,000 characters).")
		return
	}
	file, err := a.formFile(r)
	if err != nil {
		a.refuse(w, r, "/portal", err.Error())
		return
	}
	key := r.PostFormValue("submission")
	if !validKey(key) {
		key = ""
	}
	c, err := a.host.CreateTicket(r.Context(), a.acct, hostdb.NewTicket{Requester: u, RequesterName: u.Name, Subject: subject, Body: body,
		Origin: hostdb.OriginPortal, SubmissionKey: key, File: file})
	var again *hostdb.AlreadyReceivedError
	switch {
	case errors.As(err, &again):
		a.done(w, r, "/portal/tickets/"+strconv.FormatInt(again.Ticket, 10), "We already received this message as ticket #"+strconv.FormatInt(again.Ticket, 10)+".")
	case err != nil:
		if c.BlobKey != "" {
			_, _ = a.kit.Blobs.Delete(r.Context(), a.acct, []string{c.BlobKey})
		}
		a.serverError(w, r, err)
	default:
		a.done(w, r, "/portal/tickets/"+strconv.FormatInt(c.Ticket, 10), "Thank you: your message is ticket #"+strconv.FormatInt(c.Ticket, 10)+".")
	}
}

func (a *App) portalReply(w http.ResponseWriter, r *http.Request) {
	u, ok := a.portalCustomer(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	back := "/portal/tickets/" + strconv.FormatInt(id, 10)
	t, err := a.host.Ticket(r.Context(), a.acct, id)
	if errors.Is(err, gdprkit.ErrNotFound) || err == nil && t.RequesterID != u.ID {
		a.fail(w, r, http.StatusNotFound, "There is no such ticket in your portal.")
		return
	}
	body := strings.TrimSpace(r.PostFormValue("body"))
	switch {
	case err != nil:
		a.serverError(w, r, err)
	case body == "" || len(body) > maxMessage:
		a.refuse(w, r, back, "Write your answer first (at most 20,000 characters).")
	default:
		if _, err := a.host.AddMessage(r.Context(), a.acct, id, u, body); err != nil {
			a.serverError(w, r, err)
			return
		}
		a.done(w, r, back, "Your answer was added to the ticket.")
	}
}

// portalConsent grants or withdraws one purpose. Only a change is
// recorded: withdrawing what is not granted, or granting what is, records
// nothing (and says so).
func (a *App) portalConsent(w http.ResponseWriter, r *http.Request) {
	u, ok := a.portalCustomer(w, r)
	if !ok {
		return
	}
	ctx, sub, purpose := r.Context(), gdprkit.SubjectID(u.ID), r.PostFormValue("purpose")
	p, err := a.kit.Consent.Purpose(ctx, a.acct, purpose)
	if errors.Is(err, gdprkit.ErrNotFound) {
		a.refuse(w, r, "/portal", "There is no such purpose.")
		return
	}
	var st consent.Status
	if err == nil {
		st, err = a.kit.Consent.Check(ctx, a.acct, sub, purpose)
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	grant := r.PostFormValue("action") == "grant"
	if grant == st.Granted() {
		a.done(w, r, "/portal", "Nothing to change: "+p.Name+" was already "+map[bool]string{true: "on", false: "off"}[grant]+".")
		return
	}
	dec := consent.Decision{Subject: sub, Purpose: purpose, Source: consent.SourcePortal, IP: a.clientIP(r), UserAgent: r.UserAgent(), RecordedBy: gdprkit.ActorID(u.ID)}
	if grant {
		_, err = a.kit.Consent.Grant(ctx, a.acct, dec)
	} else {
		_, err = a.kit.Consent.Withdraw(ctx, a.acct, dec)
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if grant {
		a.done(w, r, "/portal", "Thank you: "+p.Name+" is on.")
		return
	}
	a.done(w, r, "/portal", p.Name+" is off. You can turn it on again here at any time.")
}

// portalExport answers the customer's access request at once: it is
// filed as a request by the customer themself (verified by the signed
// link), logged, and answered with the export.
func (a *App) portalExport(w http.ResponseWriter, r *http.Request) {
	u, ok := a.portalCustomer(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	req, err := a.kit.Erasure.Submit(ctx, a.acct, erasure.Submission{Type: erasure.TypeAccess, Subject: gdprkit.SubjectID(u.ID), By: gdprkit.ActorID(u.ID), Verified: true})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	logID, err := a.host.LogRequest(ctx, a.acct, hostdb.Request{Type: hostdb.RightAccess, Channel: hostdb.ChannelPortal, SubjectID: u.ID, SubjectName: u.Name,
		Contact: u.Email, Evidence: "signed portal link", ReceivedAt: req.ReceivedAt, DueAt: req.DueAt, GDPRRequestID: req.ID})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="my-data.json"`)
	if err := a.kit.Erasure.Export(ctx, a.acct, req.ID, w); err != nil {
		a.log.Error("portal export", "err", err)
		return
	}
	if err := a.host.CloseRequest(ctx, a.acct, logID, hostdb.RequestDone, "Export downloaded from the customer portal."); err != nil {
		a.log.Warn("portal export: closing the log entry failed", "err", err)
	}
}

// portalDelete erases the customer's portal profile (ScopePortal, which a
// customer may do on their own) and shows the finished request's page.
func (a *App) portalDelete(w http.ResponseWriter, r *http.Request) {
	u, ok := a.portalCustomer(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		a.refuse(w, r, "/portal", "Tick the box to confirm.")
		return
	}
	ctx := r.Context()
	req, err := a.kit.Erasure.Submit(ctx, a.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: gdprkit.SubjectID(u.ID),
		Scope: erasure.ScopePortal, By: gdprkit.ActorID(u.ID), Verified: true})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	logID, err := a.host.LogRequest(ctx, a.acct, hostdb.Request{Type: hostdb.RightErasure, Channel: hostdb.ChannelPortal, SubjectID: u.ID, SubjectName: u.Name,
		Details: "Delete my customer-portal profile.", Evidence: "signed portal link", ReceivedAt: req.ReceivedAt, DueAt: req.DueAt, GDPRRequestID: req.ID})
	if err == nil {
		err = a.RunErasureJobs(ctx)
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	http.SetCookie(w, a.cookie(portalCookie, "", -1))
	redirect(w, r, "/status/"+a.statusToken(logID))
}

// portalErasureRequest asks for everything to be erased: a request in
// the intake log that staff carry out (only staff may erase tickets), with
// a status page the customer keeps.
func (a *App) portalErasureRequest(w http.ResponseWriter, r *http.Request) {
	u, ok := a.portalCustomer(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		a.refuse(w, r, "/portal", "Tick the box to confirm.")
		return
	}
	now := a.now()
	id, err := a.host.LogRequest(r.Context(), a.acct, hostdb.Request{Type: hostdb.RightErasure, Channel: hostdb.ChannelPortal, SubjectID: u.ID,
		SubjectName: u.Name, Contact: u.Email, Evidence: "signed portal link", Details: strings.TrimSpace(r.PostFormValue("details")),
		ReceivedAt: now, DueAt: erasure.DueDate(now, 0)})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	redirect(w, r, "/status/"+a.statusToken(id))
}

// statusData feeds the customer-facing status page of a request.
type statusData struct {
	Request hostdb.Request
	Receipt *erasure.Receipt
	Job     *erasure.JobInfo
}

// statusPage shows a data subject where their request stands, and, once
// an erasure is finished, its receipt in words: what was deleted, what
// was anonymised, what was kept and why. It needs no login (the link is
// signed), and it names nobody, so it works after the erasure too.
func (a *App) statusPage(w http.ResponseWriter, r *http.Request) {
	payload, ok := a.verify(r.PathValue("token"))
	id, err := strconv.ParseInt(strings.TrimPrefix(payload, "r:"), 10, 64)
	if !ok || !strings.HasPrefix(payload, "r:") || err != nil {
		a.fail(w, r, http.StatusNotFound, "This status link is not valid.")
		return
	}
	req, err := a.host.Request(r.Context(), a.acct, id)
	if errors.Is(err, gdprkit.ErrNotFound) {
		a.fail(w, r, http.StatusNotFound, "This status link is not valid.")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d := statusData{Request: req}
	if req.GDPRRequestID != "" {
		if rc, err := a.kit.Erasure.Receipt(r.Context(), a.acct, req.GDPRRequestID); err == nil {
			d.Receipt = &rc
		}
		if j, err := a.kit.Erasure.Job(r.Context(), a.acct, req.GDPRRequestID); err == nil {
			d.Job = &j
		}
		if g, err := a.kit.Erasure.Request(r.Context(), a.acct, req.GDPRRequestID); err == nil {
			a.syncLog(r.Context(), &req, g, d.Receipt)
		}
	}
	req.Contact, req.Evidence, req.SubjectName = "", "", "" // the page shows no identifier
	d.Request = req
	a.render(w, r, http.StatusOK, "status", "Your "+rightNames[req.Type]+" request", d)
}
