package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

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

// providedKinds marks the kinds of the helpdesk graph whose records the
// person provided (TargetInfo.Provided): what a portability export holds.
var providedKinds = map[erasure.Kind]bool{erasure.KindEndUser: true, erasure.KindPortalProfile: true, erasure.KindTicket: true,
	erasure.KindMessage: true, erasure.KindAttachment: true, erasure.KindBlob: true, erasure.KindAuthoredMessage: true}

// markProvided wraps the provided kinds' targets with erasure.MarkProvided.
func markProvided(ts []erasure.Target) []erasure.Target {
	out := make([]erasure.Target, len(ts))
	for i, t := range ts {
		out[i] = t
		if providedKinds[t.Info().Kind] {
			out[i] = erasure.MarkProvided(t)
		}
	}
	return out
}

// rightsData feeds the rights page of one person.
type rightsData struct {
	Subject      User
	Purposes     []consent.Purpose
	Restrictions []erasure.Restriction
}

func (a *App) rightsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := a.user(ctx, a.acct, r.URL.Query().Get("subject"))
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "No such person.")
		return
	}
	d := rightsData{Subject: u}
	if d.Purposes, err = a.Consent.Purposes(ctx, a.acct); err != nil {
		a.serverError(w, r, err)
		return
	}
	if d.Restrictions, err = a.Erasure.Restrictions(ctx, a.acct, gdprkit.SubjectID(u.ID)); err != nil {
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
	if _, err := a.user(ctx, a.acct, sub); err != nil {
		a.fail(w, r, http.StatusNotFound, "No such person.")
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
	req, err := a.Erasure.Submit(ctx, a.acct, s)
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
	redirect(w, r, "/privacy/requests/"+req.ID)
}

// portability files a portability request and answers it at once with
// the download, as the access export does.
func (a *App) portability(w http.ResponseWriter, r *http.Request) {
	sub := r.PostFormValue("subject")
	if _, err := a.user(r.Context(), a.acct, sub); err != nil {
		a.fail(w, r, http.StatusNotFound, "No such person.")
		return
	}
	req, err := a.Erasure.Submit(r.Context(), a.acct, erasure.Submission{Type: erasure.TypePortability, Subject: gdprkit.SubjectID(sub),
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
	w.Header().Set("Content-Disposition", `attachment; filename="portability-`+safeName(sub)+`.json"`)
	if err := a.Erasure.Export(r.Context(), a.acct, req.ID, w); err != nil {
		a.log.Error("portability export", "err", err)
	}
}

func (a *App) liftRestriction(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := a.Erasure.LiftRestriction(r.Context(), a.acct, id, gdprkit.ActorID(me(r).ID), strings.TrimSpace(r.PostFormValue("reason")))
	if err != nil {
		a.fail(w, r, http.StatusUnprocessableEntity, "Could not lift the restriction: "+err.Error())
		return
	}
	back := "/privacy?flash=" + url.QueryEscape("Restriction lifted.")
	if s := r.PostFormValue("subject"); s != "" {
		back = "/privacy/rights?subject=" + url.QueryEscape(s)
	}
	redirect(w, r, back)
}

// userRectifier is the helpdesk's erasure.Rectifier: it corrects the
// name and e-mail of hd_users. Other fields and statements are declined
// (the helpdesk keeps no supplementary statements). Records counts rows
// whose value changed, so a repeated call changes nothing more.
type userRectifier struct{ a *App }

func (u userRectifier) Rectify(ctx context.Context, acct gdprkit.AccountID, r erasure.Rectification) ([]erasure.Rectified, error) {
	out := make([]erasure.Rectified, len(r.Items))
	for i, it := range r.Items {
		c := it.Correction
		col := map[string]string{"name": "name", "email": "email"}[c.Field]
		if c.Kind != erasure.KindEndUser || col == "" {
			out[i] = erasure.Rectified{Outcome: erasure.Declined, Ground: "this helpdesk corrects only a person's name and e-mail"}
			continue
		}
		out[i].Outcome = erasure.Corrected
		for _, id := range it.Records {
			res, err := u.a.db.ExecContext(ctx, u.a.q("UPDATE hd_users SET "+col+" = ? WHERE account_id = ? AND id = ? AND ("+col+" IS NULL OR "+col+" <> ?)"),
				c.Value, string(acct), id, c.Value)
			if err != nil {
				return nil, err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return nil, err
			}
			out[i].Records += n
		}
	}
	return out, nil
}
