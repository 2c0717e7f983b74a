package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/retention"
)

func (a *App) privacyRoutes(m *http.ServeMux) {
	m.Handle("GET /privacy", a.staff(false, a.privacy))
	m.Handle("GET /privacy/erase", a.staff(false, a.erasePreview))
	m.Handle("POST /privacy/erase", a.staff(false, a.eraseSubmit))
	m.Handle("GET /privacy/requests/{id}", a.staff(false, a.requestPage))
	m.Handle("POST /privacy/run", a.staff(false, func(w http.ResponseWriter, r *http.Request) {
		if err := a.RunErasureJobs(r.Context()); err != nil {
			a.serverError(w, r, err)
			return
		}
		back := r.PostFormValue("back")
		if !strings.HasPrefix(back, "/privacy") {
			back = "/privacy"
		}
		redirect(w, r, back)
	}))
	m.Handle("POST /privacy/requests/{id}/verify", a.staff(false, func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := a.Erasure.VerifyIdentity(r.Context(), a.acct, id, gdprkit.ActorID(me(r).ID)); err != nil {
			a.fail(w, r, http.StatusConflict, "Could not mark the request verified: "+err.Error())
			return
		}
		redirect(w, r, "/privacy/requests/"+id)
	}))
	m.Handle("POST /privacy/export", a.staff(false, a.export))
	m.Handle("GET /privacy/consent", a.staff(false, a.consentHistory))
	m.Handle("POST /privacy/holds", a.staff(false, a.placeHold))
	m.Handle("POST /privacy/holds/{id}/release", a.staff(false, func(w http.ResponseWriter, r *http.Request) {
		if err := a.Erasure.ReleaseHold(r.Context(), a.acct, r.PathValue("id"), gdprkit.ActorID(me(r).ID)); err != nil {
			a.fail(w, r, http.StatusUnprocessableEntity, "Could not release the hold: "+err.Error())
			return
		}
		redirect(w, r, "/privacy?flash=Hold+released.")
	}))
	a.scheduleRoutes(m)
	a.rightsRoutes(m) // handlers_rights.go
	m.Handle("POST /privacy/rules", a.staff(true, a.addRule))
	m.Handle("POST /privacy/rules/{id}/delete", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		if err := a.Schedules.RemoveRule(r.Context(), a.acct, r.PathValue("id"), gdprkit.ActorID(me(r).ID)); err != nil {
			a.fail(w, r, http.StatusNotFound, "No such rule.")
			return
		}
		redirect(w, r, "/privacy?flash=Rule+removed.")
	}))
	m.Handle("POST /privacy/rules/run", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		rep, err := a.Schedules.Run(r.Context(), a.acct)
		if err != nil && rep.Run == "" {
			a.fail(w, r, http.StatusConflict, "The rules did not run: "+err.Error())
			return
		}
		msg := "Retention rules ran: " + strconv.FormatInt(rep.Removed, 10) + " tickets removed, " + strconv.FormatInt(rep.Held, 10) + " held."
		if err != nil {
			msg += " Some rules failed; see the schedules page."
		}
		redirect(w, r, "/privacy?flash="+url.QueryEscape(msg))
	}))
}

// privacyData feeds the privacy page.
type privacyData struct {
	Users    []User
	Open     []erasure.Request
	Receipts []erasure.Receipt
	Holds    []erasure.Hold
	Rules    []retention.Rule
	Chain    string
}

func (a *App) privacy(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var d privacyData
	var err error
	if d.Users, err = a.users(ctx, ""); err != nil {
		a.serverError(w, r, err)
		return
	}
	if d.Open, err = a.store.Erasure().Requests(ctx, a.acct, erasure.RequestFilter{OpenOnly: true, Limit: 100}); err != nil {
		a.serverError(w, r, err)
		return
	}
	if d.Receipts, err = a.store.Erasure().Receipts(ctx, a.acct, 0, 50); err != nil {
		a.serverError(w, r, err)
		return
	}
	if d.Holds, err = a.Erasure.ActiveHolds(ctx, a.acct); err != nil {
		a.serverError(w, r, err)
		return
	}
	if d.Rules, err = a.Schedules.Rules(ctx, a.acct); err != nil {
		a.serverError(w, r, err)
		return
	}
	if v, err := a.Erasure.VerifyReceipts(ctx, a.acct); err != nil {
		d.Chain = "BROKEN: " + err.Error()
	} else {
		d.Chain = "intact (" + strconv.FormatInt(v.Receipts, 10) + " receipts)"
	}
	a.render(w, r, http.StatusOK, "privacy", "Privacy", d)
}

// previewData feeds the erasure preview.
type previewData struct {
	Subject User
	Plan    erasure.Plan
	Denied  string
}

func (a *App) erasePreview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := r.URL.Query().Get("subject")
	u, err := a.user(ctx, a.acct, sub)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "No such person.")
		return
	}
	d := previewData{Subject: u}
	if _, err := a.Erasure.Authorize(ctx, a.acct, gdprkit.ActorID(me(r).ID), gdprkit.SubjectID(u.ID), erasure.ScopeFull); err != nil {
		d.Denied = "You may not erase this person: " + err.Error()
	}
	if d.Plan, err = a.Erasure.Plan(ctx, a.acct, gdprkit.SubjectID(u.ID), erasure.ScopeFull, nil); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "erase", "Erase "+u.Name+"?", d)
}

func (a *App) eraseSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := r.PostFormValue("subject")
	if _, err := a.user(ctx, a.acct, sub); err != nil {
		a.fail(w, r, http.StatusNotFound, "No such person.")
		return
	}
	// The agent confirms the identity check in the form; the job waits
	// until it is verified.
	req, err := a.Erasure.Submit(ctx, a.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: gdprkit.SubjectID(sub),
		By: gdprkit.ActorID(me(r).ID), Verified: r.PostFormValue("verified") == "yes"})
	if errors.Is(err, gdprkit.ErrForbidden) {
		a.fail(w, r, http.StatusForbidden, "You may not erase this person: "+err.Error())
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	redirect(w, r, "/privacy/requests/"+req.ID)
}

// requestData feeds the request page: the request, its job and receipt.
type requestData struct {
	Request erasure.Request
	Job     *erasure.Job
	Receipt *erasure.Receipt
	Done    bool
}

func (a *App) requestPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := a.Erasure.Request(ctx, a.acct, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "No such request.")
		return
	}
	d := requestData{Request: req, Done: req.Status != erasure.StatusOpen}
	if req.JobID != "" {
		if j, err := a.store.Erasure().Job(ctx, a.acct, req.JobID); err == nil {
			d.Job = &j
		}
	}
	if rc, err := a.Erasure.Receipt(ctx, a.acct, req.ID); err == nil {
		d.Receipt = &rc
	}
	a.render(w, r, http.StatusOK, "request", "Request "+req.ID, d)
}

func (a *App) export(w http.ResponseWriter, r *http.Request) {
	sub := r.PostFormValue("subject")
	if _, err := a.user(r.Context(), a.acct, sub); err != nil {
		a.fail(w, r, http.StatusNotFound, "No such person.")
		return
	}
	// File the access request as the staff member: Submit applies the role
	// rules (an agent may not export the owner or another agent) and keeps
	// a record of who exported whom.
	req, err := a.Erasure.Submit(r.Context(), a.acct, erasure.Submission{Type: erasure.TypeAccess, Subject: gdprkit.SubjectID(sub),
		By: gdprkit.ActorID(me(r).ID), Verified: true})
	if errors.Is(err, gdprkit.ErrForbidden) {
		a.fail(w, r, http.StatusForbidden, "You may not export this person's data.")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="access-export-`+safeName(sub)+`.json"`)
	if err := a.Erasure.Export(r.Context(), a.acct, req.ID, w); err != nil {
		a.log.Error("export", "err", err)
	}
}

// consentData feeds the consent history page.
type consentData struct {
	Subject string
	Records []consent.Record
	Chain   string
}

func (a *App) consentHistory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := consentData{Subject: r.URL.Query().Get("subject")}
	var err error
	if d.Records, err = a.Consent.History(ctx, a.acct, gdprkit.SubjectID(d.Subject)); err != nil {
		a.fail(w, r, http.StatusUnprocessableEntity, "Could not read the history: "+err.Error())
		return
	}
	if v, err := a.Consent.Verify(ctx, a.acct); err != nil {
		d.Chain = "BROKEN: " + err.Error()
	} else {
		d.Chain = "intact (" + strconv.FormatInt(v.Records, 10) + " records in the account's chain)"
	}
	a.render(w, r, http.StatusOK, "consent", "Consent history", d)
}

func (a *App) placeHold(w http.ResponseWriter, r *http.Request) {
	spec := erasure.HoldSpec{Ground: strings.TrimSpace(r.PostFormValue("ground")), Reason: strings.TrimSpace(r.PostFormValue("reason")), By: gdprkit.ActorID(me(r).ID)}
	if spec.Ground == "" {
		spec.Ground = "Art. 17(3)(e): defence of legal claims"
	}
	if t := strings.TrimSpace(r.PostFormValue("ticket")); t != "" {
		spec.Kind, spec.RecordID = erasure.KindTicket, t
	} else {
		spec.Subject = gdprkit.SubjectID(r.PostFormValue("subject"))
	}
	if days, _ := strconv.Atoi(r.PostFormValue("days")); days > 0 {
		spec.ExpiresAt = a.now().Add(time.Duration(days) * 24 * time.Hour)
	}
	if _, err := a.Erasure.PlaceHold(r.Context(), a.acct, spec); err != nil {
		a.fail(w, r, http.StatusUnprocessableEntity, "Could not place the hold: "+err.Error())
		return
	}
	redirect(w, r, "/privacy?flash=Legal+hold+placed.")
}

func (a *App) addRule(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PostFormValue("n"))
	if err != nil || n <= 0 || n > 1200 {
		a.fail(w, r, http.StatusUnprocessableEntity, "Give a positive number.")
		return
	}
	var rule retention.Rule
	switch r.PostFormValue("kind") {
	case "closed":
		rule = retention.ClosedTickets(n)
	case "spam":
		rule = retention.Rule{Name: "spam after " + strconv.Itoa(n) + " days", Target: retention.KindHeldSpam,
			Condition: retention.Condition{Status: "spam", Field: "created_at", OlderThanDays: n}}
	default:
		a.fail(w, r, http.StatusUnprocessableEntity, "Unknown rule.")
		return
	}
	if _, err := a.Schedules.AddRule(r.Context(), a.acct, rule, gdprkit.ActorID(me(r).ID)); err != nil {
		a.fail(w, r, http.StatusUnprocessableEntity, "Could not add the rule: "+err.Error())
		return
	}
	redirect(w, r, "/privacy?flash=Retention+rule+added.")
}
