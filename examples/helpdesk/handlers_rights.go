package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
)

// The data-subject rights other than erasure and access (issue 18), on
// the privacy screens: rectification, restriction, objection and
// portability are filed through the same erasure.Service intake, carried
// out by the same job worker (rectification, restriction, objection) or
// answered at once (portability), and shown on the same request page
// with their receipt.

func (a *App) rightsRoutes(m *http.ServeMux) {
	m.Handle("GET /privacy/rights", a.staff(false, a.rightsPage))
	m.Handle("POST /privacy/rights", a.staff(false, a.rightsSubmit))
	m.Handle("POST /privacy/rights/portability", a.staff(false, a.portability))
	m.Handle("POST /privacy/restrictions/{id}/lift", a.staff(false, a.liftRestriction))
}

// rightsData feeds the rights page of one person.
type rightsData struct {
	Subject      hostdb.User
	Purposes     []consent.Purpose
	Restrictions []erasure.Restriction
}

func (a *App) rightsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := a.host.User(ctx, a.acct, r.URL.Query().Get("subject"))
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "No such person.")
		return
	}
	d := rightsData{Subject: u}
	if d.Purposes, err = a.kit.Consent.Purposes(ctx, a.acct); err != nil {
		a.serverError(w, r, err)
		return
	}
	if d.Restrictions, err = a.kit.Erasure.Restrictions(ctx, a.acct, gdprkit.SubjectID(u.ID)); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "rights", "Rights of "+u.Name, d)
}

// rightsSubmit files a rectification, restriction or objection for the
// person, by the staff member, and shows the request.
func (a *App) rightsSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := r.PostFormValue("subject")
	u, err := a.host.User(ctx, a.acct, sub)
	if err != nil {
		a.failOr(w, r, err, "/people", "There is no such person.")
		return
	}
	s := erasure.Submission{Type: erasure.RequestType(r.PostFormValue("type")), Subject: gdprkit.SubjectID(sub),
		By: gdprkit.ActorID(me(r).ID), Verified: r.PostFormValue("verified") == "yes"}
	switch s.Type {
	case erasure.TypeRectification:
		if f, v := r.PostFormValue("field"), r.PostFormValue("value"); f != "" {
			s.Corrections = append(s.Corrections, erasure.Correction{Kind: erasure.KindEndUser, Field: f, Value: strings.TrimSpace(v)})
		}
		if t := strings.TrimSpace(r.PostFormValue("text")); t != "" {
			s.Corrections = append(s.Corrections, erasure.Correction{Text: t})
		}
	case erasure.TypeObjection:
		s.Purposes = r.PostForm["purpose"]
	case erasure.TypeRestriction:
	default:
		a.fail(w, r, http.StatusUnprocessableEntity, "Unknown request type.")
		return
	}
	req, err := a.kit.Erasure.Submit(ctx, a.acct, s)
	switch {
	case errors.Is(err, gdprkit.ErrForbidden):
		a.fail(w, r, http.StatusForbidden, "You may not file this for this person: "+err.Error())
		return
	case errors.Is(err, gdprkit.ErrInvalid):
		a.fail(w, r, http.StatusUnprocessableEntity, "The request is not complete: "+err.Error())
		return
	case err != nil:
		a.serverError(w, r, err)
		return
	}
	id, err := a.host.LogRequest(ctx, a.acct, hostdb.Request{Type: string(s.Type), Channel: channelOf(r), SubjectID: sub, SubjectName: u.Name,
		Contact: u.Email, Details: strings.TrimSpace(r.PostFormValue("text")), ReceivedAt: req.ReceivedAt, DueAt: req.DueAt, GDPRRequestID: req.ID, LoggedBy: me(r).ID})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	redirect(w, r, "/privacy/requests/"+strconv.FormatInt(id, 10))
}

// channelOf is the form's channel, e-mail when it names none.
func channelOf(r *http.Request) string {
	if c := r.PostFormValue("channel"); contains(hostdb.Channels, c) {
		return c
	}
	return hostdb.ChannelEmail
}

// portability files a portability request and answers it at once with
// the download, as the access export does.
func (a *App) portability(w http.ResponseWriter, r *http.Request) {
	sub := r.PostFormValue("subject")
	u, err := a.host.User(r.Context(), a.acct, sub)
	if err != nil {
		a.failOr(w, r, err, "/people", "There is no such person.")
		return
	}
	req, err := a.kit.Erasure.Submit(r.Context(), a.acct, erasure.Submission{Type: erasure.TypePortability, Subject: gdprkit.SubjectID(sub),
		By: gdprkit.ActorID(me(r).ID), Verified: true})
	if errors.Is(err, gdprkit.ErrForbidden) {
		a.fail(w, r, http.StatusForbidden, "You may not export this person's data.")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	logID, err := a.host.LogRequest(r.Context(), a.acct, hostdb.Request{Type: hostdb.RightPortability, Channel: channelOf(r), SubjectID: sub,
		SubjectName: u.Name, Contact: u.Email, Evidence: "confirmed by " + me(r).Name, ReceivedAt: req.ReceivedAt, DueAt: req.DueAt,
		GDPRRequestID: req.ID, LoggedBy: me(r).ID})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="portability-`+safeName(sub)+`.json"`)
	if err := a.kit.Erasure.Export(r.Context(), a.acct, req.ID, w); err != nil {
		a.log.Error("portability export", "err", err)
		return
	}
	_ = a.host.CloseRequest(r.Context(), a.acct, logID, hostdb.RequestDone, "The export was handed out.")
}

func (a *App) liftRestriction(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := a.kit.Erasure.LiftRestriction(r.Context(), a.acct, id, gdprkit.ActorID(me(r).ID), strings.TrimSpace(r.PostFormValue("reason")))
	if err != nil {
		a.fail(w, r, http.StatusUnprocessableEntity, "Could not lift the restriction: "+err.Error())
		return
	}
	back := "/privacy"
	if s := r.PostFormValue("subject"); s != "" {
		back = "/privacy/rights?subject=" + url.QueryEscape(s)
	}
	a.done(w, r, back, "Restriction lifted.")
}
