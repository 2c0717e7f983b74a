package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/retention"
)

func (a *App) privacyRoutes(m *http.ServeMux) {
	m.Handle("GET /privacy", a.staff(false, a.privacy))
	m.Handle("GET /privacy/requests/new", a.staff(false, a.newRequestForm))
	m.Handle("POST /privacy/requests", a.staff(false, a.logRequest))
	m.Handle("GET /privacy/requests/{id}", a.staff(false, a.requestPage))
	m.Handle("POST /privacy/requests/{id}/verify", a.staff(false, a.verifyRequest))
	m.Handle("POST /privacy/requests/{id}/extend", a.staff(false, a.extendRequest))
	m.Handle("POST /privacy/requests/{id}/close", a.staff(false, a.closeRequest))
	m.Handle("POST /privacy/requests/{id}/export", a.staff(false, a.exportRequest))
	m.Handle("POST /privacy/requests/{id}/retry", a.staff(false, a.retryRequest))
	m.Handle("GET /privacy/erase", a.staff(false, a.erasePreview))
	m.Handle("POST /privacy/erase", a.staff(false, a.eraseSubmit))
	m.Handle("POST /privacy/run", a.staff(false, func(w http.ResponseWriter, r *http.Request) {
		if err := a.RunErasureJobs(r.Context()); err != nil && errors.Is(err, gdprkit.ErrUnavailable) {
			a.serverError(w, r, err)
			return
		}
		back := r.PostFormValue("back")
		if !strings.HasPrefix(back, "/privacy") {
			back = "/privacy"
		}
		redirect(w, r, back)
	}))
	m.Handle("POST /privacy/export", a.staff(false, a.export))
	m.Handle("GET /privacy/consent", a.staff(false, a.consentPage))
	m.Handle("GET /privacy/holds", a.staff(false, a.holdsPage))
	m.Handle("POST /privacy/holds", a.staff(true, a.placeHold))
	m.Handle("POST /privacy/holds/{id}/release", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		if err := a.kit.Erasure.ReleaseHold(r.Context(), a.acct, r.PathValue("id"), gdprkit.ActorID(me(r).ID)); err != nil {
			a.failOr(w, r, err, "/privacy/holds", "That hold could not be released: it may have ended already.")
			return
		}
		a.done(w, r, "/privacy/holds", "Hold released. What it kept back is erased now if an erasure was waiting for it.")
	}))
	m.Handle("GET /privacy/retention", a.staff(false, a.retentionPage))
	a.scheduleRoutes(m) // handlers_schedules.go
	a.rightsRoutes(m)   // handlers_rights.go
	m.Handle("POST /privacy/rules", a.staff(true, a.addRule))
	m.Handle("POST /privacy/rules/{id}/delete", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		if err := a.kit.Schedules.RemoveRule(r.Context(), a.acct, r.PathValue("id"), gdprkit.ActorID(me(r).ID)); err != nil {
			a.failOr(w, r, err, "/privacy/retention", "There is no such rule.")
			return
		}
		a.done(w, r, "/privacy/retention", "Rule removed.")
	}))
	m.Handle("POST /privacy/rules/run", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		rep, err := a.kit.Schedules.Run(r.Context(), a.acct)
		if err != nil && rep.Run == "" {
			a.failOr(w, r, err, "/privacy/retention", "The rules did not run: "+err.Error())
			return
		}
		msg := "Retention rules ran: " + plural(rep.Removed, "ticket", "tickets") + " removed, " + strconv.FormatInt(rep.Held, 10) + " held."
		if err != nil {
			msg += " Some rules failed; see the schedules page."
		}
		a.done(w, r, "/privacy/retention", msg)
	}))
	m.Handle("GET /privacy/audit", a.staff(true, a.auditPage))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// failOr answers an error: 503 for an outage, otherwise back to a page
// with msg.
func (a *App) failOr(w http.ResponseWriter, r *http.Request, err error, back, msg string) {
	if errors.Is(err, gdprkit.ErrUnavailable) {
		a.serverError(w, r, err)
		return
	}
	a.refuse(w, r, back, msg)
}

// gdprTypes are the rights gdprkit carries out, by the log's type.
var gdprTypes = map[string]erasure.RequestType{hostdb.RightAccess: erasure.TypeAccess, hostdb.RightErasure: erasure.TypeErasure,
	hostdb.RightPortability: erasure.TypePortability, hostdb.RightRectification: erasure.TypeRectification, hostdb.RightRestriction: erasure.TypeRestriction}

// rightNames are the rights in words.
var rightNames = map[string]string{
	hostdb.RightAccess: "access", hostdb.RightRectification: "rectification", hostdb.RightErasure: "erasure",
	hostdb.RightRestriction: "restriction", hostdb.RightPortability: "portability", hostdb.RightObjection: "objection",
}

// logRow is a logged request with what the privacy pages show beside it.
type logRow struct {
	hostdb.Request
	Overdue, DueSoon bool
	Job              *erasure.JobInfo
}

// privacyData feeds the privacy overview.
type privacyData struct {
	Open     []logRow
	Closed   []logRow
	Failed   []logRow
	Receipts []erasure.Receipt
	Chain    string
	Status   string
}

func (a *App) logRows(r *http.Request, reqs []hostdb.Request) ([]logRow, error) {
	now := a.now()
	out := make([]logRow, len(reqs))
	for i, q := range reqs {
		out[i] = logRow{Request: q}
		if q.Status == hostdb.RequestOpen {
			out[i].Overdue = now.After(q.DueAt)
			out[i].DueSoon = !out[i].Overdue && q.DueAt.Sub(now) < 7*24*time.Hour
		}
		if q.GDPRRequestID != "" && q.Type == hostdb.RightErasure {
			j, err := a.kit.Erasure.Job(r.Context(), a.acct, q.GDPRRequestID)
			if err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
				return nil, err
			}
			if err == nil {
				out[i].Job = &j
			}
		}
	}
	return out, nil
}

// privacy is the intake log of data-subject requests — open ones by due
// date with reminders of what is overdue or due within a week — with the
// erasure jobs that failed and the receipts.
func (a *App) privacy(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var d privacyData
	d.Status = r.URL.Query().Get("status")
	open, err := a.host.Requests(ctx, a.acct, hostdb.RequestFilter{Status: hostdb.RequestOpen})
	if err == nil {
		d.Open, err = a.logRows(r, open)
	}
	var closed []hostdb.Request
	if err == nil {
		closed, err = a.host.Requests(ctx, a.acct, hostdb.RequestFilter{Status: hostdb.RequestDone, Limit: 50})
	}
	if err == nil {
		var rejected []hostdb.Request
		rejected, err = a.host.Requests(ctx, a.acct, hostdb.RequestFilter{Status: hostdb.RequestRejected, Limit: 50})
		closed = append(closed, rejected...)
	}
	if err == nil {
		d.Closed, err = a.logRows(r, closed)
	}
	for _, q := range d.Open {
		if q.Job != nil && q.Job.Status == erasure.JobFailed {
			d.Failed = append(d.Failed, q)
		}
	}
	if err == nil {
		d.Receipts, err = a.kit.Store.Erasure().Receipts(ctx, a.acct, 0, 50)
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if v, err := a.kit.Erasure.VerifyReceipts(ctx, a.acct); err != nil {
		d.Chain = "BROKEN: a receipt was changed or removed (" + err.Error() + ")"
	} else {
		d.Chain = "intact (" + plural(v.Receipts, "receipt", "receipts") + ")"
	}
	a.render(w, r, http.StatusOK, "privacy", "Privacy requests", d)
}

// newRequestData feeds the "log a request" form.
type newRequestData struct {
	People   []hostdb.User
	Subject  string
	Rights   []string
	Channels []string
	Names    map[string]string
	Today    string
}

func (a *App) newRequestForm(w http.ResponseWriter, r *http.Request) {
	people, _, err := a.host.People(r.Context(), a.acct, hostdb.PeopleFilter{Limit: 500})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "request_new", "Log a privacy request", newRequestData{People: people, Subject: r.URL.Query().Get("subject"),
		Rights: hostdb.Rights, Channels: hostdb.Channels, Names: rightNames, Today: a.now().Format("2006-01-02")})
}

// logRequest logs a request that arrived by e-mail, phone, letter or in
// person. Access and erasure requests are filed with gdprkit too (its
// role rules apply; an erasure waits for the identity check).
func (a *App) logRequest(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := hostdb.Request{Type: r.PostFormValue("type"), Channel: r.PostFormValue("channel"), SubjectID: r.PostFormValue("subject"),
		SubjectName: strings.TrimSpace(r.PostFormValue("name")), Contact: strings.TrimSpace(r.PostFormValue("contact")),
		Evidence: strings.TrimSpace(r.PostFormValue("evidence")), Details: strings.TrimSpace(r.PostFormValue("details")), LoggedBy: me(r).ID}
	if _, ok := rightNames[q.Type]; !ok || !contains(hostdb.Channels, q.Channel) || len(q.Details) > 5000 || len(q.Evidence) > 500 || len(q.SubjectName) > 200 || len(q.Contact) > 200 {
		a.refuse(w, r, "/privacy/requests/new", "Choose the right and the channel, and keep the notes short.")
		return
	}
	q.ReceivedAt = a.now()
	if day, err := time.Parse("2006-01-02", r.PostFormValue("received")); err == nil && !day.After(q.ReceivedAt) && q.ReceivedAt.Sub(day) < 365*24*time.Hour {
		q.ReceivedAt = day.Add(12 * time.Hour) // received that day; the due date counts from it
	}
	q.DueAt = erasure.DueDate(q.ReceivedAt, 0)
	if q.SubjectID != "" {
		u, err := a.host.User(ctx, a.acct, q.SubjectID)
		if err != nil {
			a.failOr(w, r, err, "/privacy/requests/new", "There is no such person.")
			return
		}
		if q.SubjectName == "" {
			q.SubjectName = u.Name
		}
		if q.Contact == "" {
			q.Contact = u.Email
		}
	} else if q.SubjectName == "" {
		a.refuse(w, r, "/privacy/requests/new", "Say who asked: choose the person, or give their name.")
		return
	}
	// Every right but objection (which names purposes: the rights page
	// files it) is filed with gdprkit too, which carries it out and keeps
	// its receipt; the role rules apply, and an erasure or correction
	// waits for the identity check.
	if typ, ok := gdprTypes[q.Type]; ok && q.SubjectID != "" {
		s := erasure.Submission{Type: typ, Subject: gdprkit.SubjectID(q.SubjectID), By: gdprkit.ActorID(me(r).ID), ReceivedAt: q.ReceivedAt,
			Verified: q.Evidence != "" && (typ == erasure.TypeAccess || typ == erasure.TypePortability)}
		if typ == erasure.TypeRectification {
			if q.Details == "" {
				a.refuse(w, r, "/privacy/requests/new", "Say what should be corrected.")
				return
			}
			s.Corrections = []erasure.Correction{{Text: q.Details}}
		}
		req, err := a.kit.Erasure.Submit(ctx, a.acct, s)
		if errors.Is(err, gdprkit.ErrForbidden) {
			a.refuse(w, r, "/privacy/requests/new", "You may not file this request for this person: "+err.Error()+". Ask the account owner.")
			return
		}
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		q.GDPRRequestID, q.DueAt = req.ID, req.DueAt
	}
	id, err := a.host.LogRequest(ctx, a.acct, q)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.done(w, r, "/privacy/requests/"+strconv.FormatInt(id, 10), "Request logged. It is due on "+q.DueAt.Format("2 Jan 2006")+".")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// requestData feeds the request page.
type requestData struct {
	Log       hostdb.Request
	Subject   *hostdb.User
	Request   *erasure.Request
	Job       *erasure.JobInfo
	Receipt   *erasure.Receipt
	Logger    string
	Overdue   bool
	StatusURL string
}

func (a *App) pathRequest(w http.ResponseWriter, r *http.Request) (hostdb.Request, bool) {
	var q hostdb.Request
	var err error
	if id, perr := strconv.ParseInt(r.PathValue("id"), 10, 64); perr == nil {
		q, err = a.host.Request(r.Context(), a.acct, id)
	} else {
		q, err = a.host.RequestFor(r.Context(), a.acct, r.PathValue("id")) // a gdprkit request's ID
	}
	if errors.Is(err, gdprkit.ErrNotFound) {
		a.fail(w, r, http.StatusNotFound, "There is no such request in the log.")
		return q, false
	}
	if err != nil {
		a.serverError(w, r, err)
		return q, false
	}
	return q, true
}

func (a *App) requestPage(w http.ResponseWriter, r *http.Request) {
	q, ok := a.pathRequest(w, r)
	if !ok {
		return
	}
	if r.PathValue("id") != strconv.FormatInt(q.ID, 10) {
		redirect(w, r, "/privacy/requests/"+strconv.FormatInt(q.ID, 10))
		return
	}
	ctx := r.Context()
	d := requestData{Log: q, Overdue: q.Status == hostdb.RequestOpen && a.now().After(q.DueAt), StatusURL: "/status/" + a.statusToken(q.ID)}
	if q.SubjectID != "" {
		if u, err := a.host.User(ctx, a.acct, q.SubjectID); err == nil {
			d.Subject = &u
		}
	}
	if q.LoggedBy != "" {
		if u, err := a.host.User(ctx, a.acct, q.LoggedBy); err == nil {
			d.Logger = u.Name
		}
	}
	if q.GDPRRequestID != "" {
		req, err := a.kit.Erasure.Request(ctx, a.acct, q.GDPRRequestID)
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		d.Request = &req
		if j, err := a.kit.Erasure.Job(ctx, a.acct, req.ID); err == nil {
			d.Job = &j
		}
		if rc, err := a.kit.Erasure.Receipt(ctx, a.acct, req.ID); err == nil {
			d.Receipt = &rc
		}
		a.syncLog(ctx, &d.Log, req, d.Receipt)
	}
	a.render(w, r, http.StatusOK, "request", rightNames[q.Type]+" request #"+strconv.FormatInt(q.ID, 10), d)
}

// syncLog closes a logged request whose gdprkit request has finished, so
// the log says what gdprkit did.
func (a *App) syncLog(ctx context.Context, q *hostdb.Request, req erasure.Request, rc *erasure.Receipt) {
	if q.Status != hostdb.RequestOpen || req.Status == erasure.StatusOpen || req.Status == erasure.StatusFailed {
		return
	}
	outcome := "Carried out; receipt #" + strconv.FormatInt(receiptSeq(rc), 10) + "."
	switch {
	case req.Status == erasure.StatusRejected || req.Status == erasure.StatusCancelled:
		outcome = "Closed without being carried out."
	case req.Type == erasure.TypeAccess:
		outcome = "The export was handed out."
	}
	if err := a.host.CloseRequest(ctx, a.acct, q.ID, hostdb.RequestDone, outcome); err == nil {
		q.Status, q.Outcome, q.ClosedAt = hostdb.RequestDone, outcome, a.now()
	}
}

func receiptSeq(rc *erasure.Receipt) int64 {
	if rc == nil {
		return 0
	}
	return rc.Seq
}

func (a *App) verifyRequest(w http.ResponseWriter, r *http.Request) {
	q, ok := a.pathRequest(w, r)
	if !ok {
		return
	}
	back := "/privacy/requests/" + strconv.FormatInt(q.ID, 10)
	if q.GDPRRequestID == "" {
		a.refuse(w, r, back, "This request has nothing to verify in gdprkit.")
		return
	}
	if err := a.kit.Erasure.VerifyIdentity(r.Context(), a.acct, q.GDPRRequestID, gdprkit.ActorID(me(r).ID)); err != nil {
		a.failOr(w, r, err, back, "The request could not be marked verified: it is no longer open.")
		return
	}
	a.done(w, r, back, "Identity verified. The erasure runs now.")
}

// extendRequest extends the due date once, by one or two months, with a
// reason (Art. 12(3)); gdprkit's request moves with the log's.
func (a *App) extendRequest(w http.ResponseWriter, r *http.Request) {
	q, ok := a.pathRequest(w, r)
	if !ok {
		return
	}
	back := "/privacy/requests/" + strconv.FormatInt(q.ID, 10)
	months, _ := strconv.Atoi(r.PostFormValue("months"))
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if (months != 1 && months != 2) || reason == "" || len(reason) > 500 {
		a.refuse(w, r, back, "Choose one or two months and give the reason the person will be told.")
		return
	}
	due := erasure.DueDate(q.ReceivedAt, months)
	if q.GDPRRequestID != "" {
		req, err := a.kit.Erasure.Extend(r.Context(), a.acct, q.GDPRRequestID, months, reason, gdprkit.ActorID(me(r).ID))
		if err != nil {
			a.failOr(w, r, err, back, "The due date can be extended only once, while the request is open.")
			return
		}
		due = req.DueAt
	}
	if err := a.host.ExtendRequest(r.Context(), a.acct, q.ID, due, reason); err != nil {
		a.failOr(w, r, err, back, "The due date can be extended only once, while the request is open.")
		return
	}
	a.done(w, r, back, "Extended: now due on "+due.Format("2 Jan 2006")+". Tell the person why, within the first month.")
}

// closeRequest records the outcome of a request staff carried out by hand
// (rectification, restriction, objection) or rejected.
func (a *App) closeRequest(w http.ResponseWriter, r *http.Request) {
	q, ok := a.pathRequest(w, r)
	if !ok {
		return
	}
	back := "/privacy/requests/" + strconv.FormatInt(q.ID, 10)
	status, outcome := r.PostFormValue("status"), strings.TrimSpace(r.PostFormValue("outcome"))
	if (status != hostdb.RequestDone && status != hostdb.RequestRejected) || outcome == "" || len(outcome) > 500 {
		a.refuse(w, r, back, "Say what was done (or why it was rejected).")
		return
	}
	if q.GDPRRequestID != "" && status == hostdb.RequestRejected {
		if err := a.kit.Erasure.Reject(r.Context(), a.acct, q.GDPRRequestID, gdprkit.ActorID(me(r).ID)); err != nil && !errors.Is(err, gdprkit.ErrConflict) {
			a.serverError(w, r, err)
			return
		}
	}
	if err := a.host.CloseRequest(r.Context(), a.acct, q.ID, status, outcome); err != nil {
		a.failOr(w, r, err, back, "This request is already closed.")
		return
	}
	a.done(w, r, back, "Request closed.")
}

// exportRequest answers a logged access request with the export.
func (a *App) exportRequest(w http.ResponseWriter, r *http.Request) {
	q, ok := a.pathRequest(w, r)
	if !ok {
		return
	}
	back := "/privacy/requests/" + strconv.FormatInt(q.ID, 10)
	if q.GDPRRequestID == "" {
		a.refuse(w, r, back, "This request has no export.")
		return
	}
	req, err := a.kit.Erasure.Request(r.Context(), a.acct, q.GDPRRequestID)
	if err == nil && !req.Verified {
		err = a.kit.Erasure.VerifyIdentity(r.Context(), a.acct, req.ID, gdprkit.ActorID(me(r).ID))
	}
	if err != nil {
		a.failOr(w, r, err, back, "The export is no longer available: the request is closed.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="access-export-`+strconv.FormatInt(q.ID, 10)+`.json"`)
	if err := a.kit.Erasure.Export(r.Context(), a.acct, req.ID, w); err != nil {
		a.log.Error("export", "err", err)
		return
	}
	_ = a.host.CloseRequest(r.Context(), a.acct, q.ID, hostdb.RequestDone, "The export was handed out.")
}

// retryRequest queues a failed erasure job again, from where it stopped.
func (a *App) retryRequest(w http.ResponseWriter, r *http.Request) {
	q, ok := a.pathRequest(w, r)
	if !ok {
		return
	}
	back := "/privacy/requests/" + strconv.FormatInt(q.ID, 10)
	if err := a.kit.Erasure.Retry(r.Context(), a.acct, q.GDPRRequestID, gdprkit.ActorID(me(r).ID)); err != nil {
		a.failOr(w, r, err, back, "Only a failed erasure can be retried.")
		return
	}
	a.done(w, r, back, "The erasure is queued again and continues from where it stopped.")
}

// previewData feeds the erasure preview.
type previewData struct {
	Subject  hostdb.User
	Plan     erasure.Plan
	Denied   string
	Channels []string
}

func (a *App) erasePreview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := a.host.User(ctx, a.acct, r.URL.Query().Get("subject"))
	if err != nil {
		a.failOr(w, r, err, "/people", "There is no such person.")
		return
	}
	d := previewData{Subject: u, Channels: hostdb.Channels}
	if _, err := a.kit.Erasure.Authorize(ctx, a.acct, gdprkit.ActorID(me(r).ID), gdprkit.SubjectID(u.ID), erasure.ScopeFull); err != nil {
		d.Denied = "You may not erase " + u.Name + ": only someone above them in the account's roles may (" + deniedWords(u) + ")."
	}
	if d.Plan, err = a.kit.Erasure.Plan(ctx, a.acct, gdprkit.SubjectID(u.ID), erasure.ScopeFull, nil); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "erase", "Erase "+u.Name+"?", d)
}

func deniedWords(u hostdb.User) string {
	if u.Role == hostdb.RoleOwner {
		return "the account owner cannot be erased while the account lives"
	}
	return "agents erase customers; the owner erases agents"
}

// eraseSubmit files the erasure with gdprkit and logs it. The job waits
// until someone confirms the person's identity (the box is not ticked
// for you).
func (a *App) eraseSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := a.host.User(ctx, a.acct, r.PostFormValue("subject"))
	if err != nil {
		a.failOr(w, r, err, "/people", "There is no such person.")
		return
	}
	channel := r.PostFormValue("channel")
	if !contains(hostdb.Channels, channel) {
		channel = hostdb.ChannelEmail
	}
	verified := r.PostFormValue("verified") == "yes"
	req, err := a.kit.Erasure.Submit(ctx, a.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: gdprkit.SubjectID(u.ID),
		By: gdprkit.ActorID(me(r).ID), Verified: verified})
	if errors.Is(err, gdprkit.ErrForbidden) {
		a.fail(w, r, http.StatusForbidden, "You may not erase "+u.Name+" ("+deniedWords(u)+").")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	ev := strings.TrimSpace(r.PostFormValue("evidence"))
	if verified && ev == "" {
		ev = "confirmed by " + me(r).Name
	}
	id, err := a.host.LogRequest(ctx, a.acct, hostdb.Request{Type: hostdb.RightErasure, Channel: channel, SubjectID: u.ID, SubjectName: u.Name,
		Contact: u.Email, Evidence: ev, ReceivedAt: req.ReceivedAt, DueAt: req.DueAt, GDPRRequestID: req.ID, LoggedBy: me(r).ID})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	redirect(w, r, "/privacy/requests/"+strconv.FormatInt(id, 10))
}

// export hands a staff member a person's access export at once: an access
// request filed as them (the role rules apply) and logged.
func (a *App) export(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := a.host.User(ctx, a.acct, r.PostFormValue("subject"))
	if err != nil {
		a.failOr(w, r, err, "/people", "There is no such person.")
		return
	}
	req, err := a.kit.Erasure.Submit(ctx, a.acct, erasure.Submission{Type: erasure.TypeAccess, Subject: gdprkit.SubjectID(u.ID), By: gdprkit.ActorID(me(r).ID), Verified: true})
	if errors.Is(err, gdprkit.ErrForbidden) {
		a.fail(w, r, http.StatusForbidden, "You may not export "+u.Name+"'s data ("+deniedWords(u)+").")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	id, err := a.host.LogRequest(ctx, a.acct, hostdb.Request{Type: hostdb.RightAccess, Channel: hostdb.ChannelEmail, SubjectID: u.ID, SubjectName: u.Name,
		Contact: u.Email, Evidence: "confirmed by " + me(r).Name, ReceivedAt: req.ReceivedAt, DueAt: req.DueAt, GDPRRequestID: req.ID, LoggedBy: me(r).ID})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="access-export-`+safeName(u.ID)+`.json"`)
	if err := a.kit.Erasure.Export(ctx, a.acct, req.ID, w); err != nil {
		a.log.Error("export", "err", err)
		return
	}
	_ = a.host.CloseRequest(ctx, a.acct, id, hostdb.RequestDone, "The export was handed out.")
}

// consentData feeds a person's consent page.
type consentData struct {
	Subject  hostdb.User
	Purposes []purposeState
	Names    map[string]string
	Records  []consent.Record
	Chain    string
	Erased   bool
}

// consentPage shows a person's current consent per purpose and its
// history, and whether the account's consent chain verifies.
func (a *App) consentPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.URL.Query().Get("subject")
	d := consentData{Subject: hostdb.User{ID: id}}
	u, err := a.host.User(ctx, a.acct, id)
	switch {
	case err == nil:
		d.Subject = u
	case errors.Is(err, gdprkit.ErrNotFound):
		d.Erased, d.Subject.Name = true, "A person who was erased"
	default:
		a.serverError(w, r, err)
		return
	}
	if d.Purposes, d.Names, err = a.purposeStates(r, gdprkit.SubjectID(id)); err == nil {
		d.Records, err = a.kit.Consent.History(ctx, a.acct, gdprkit.SubjectID(id))
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if v, err := a.kit.Consent.Verify(ctx, a.acct); err != nil {
		d.Chain = "BROKEN: a record was changed or removed (" + err.Error() + ")"
	} else {
		d.Chain = "intact (" + plural(v.Records, "record", "records") + " in the account's chain)"
	}
	a.render(w, r, http.StatusOK, "consent", "Consent of "+d.Subject.Name, d)
}

// holdRow is a legal hold with the person and matter it concerns.
type holdRow struct {
	erasure.Hold
	Person *hostdb.User
	Matter string
	Ticket int64
}

// holdsData feeds the legal holds page.
type holdsData struct {
	Holds  []holdRow
	People []hostdb.User
	Owner  bool
}

// holdsPage lists the holds in force by the person and matter they
// concern. Agents see what is held and why in law; the internal reason is
// the owner's.
func (a *App) holdsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	holds, err := a.kit.Erasure.ActiveHolds(ctx, a.acct)
	var matters map[string]hostdb.HoldMatter
	if err == nil {
		matters, err = a.host.HoldMatters(ctx, a.acct)
	}
	var people []hostdb.User
	if err == nil {
		people, _, err = a.host.People(ctx, a.acct, hostdb.PeopleFilter{Limit: 1000})
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	byPS := map[gdprkit.Pseudonym]*hostdb.User{}
	for i := range people {
		byPS[a.kit.Erasure.SubjectPseudonym(a.acct, gdprkit.SubjectID(people[i].ID))] = &people[i]
	}
	d := holdsData{People: people, Owner: me(r).Role == hostdb.RoleOwner}
	for _, h := range holds {
		row := holdRow{Hold: h, Person: byPS[h.SubjectPS], Matter: matters[h.ID].Matter}
		if h.Kind == erasure.KindTicket {
			row.Ticket, _ = strconv.ParseInt(h.RecordID, 10, 64)
			if t, err := a.host.Ticket(ctx, a.acct, row.Ticket); err == nil {
				if u, err := a.host.User(ctx, a.acct, t.RequesterID); err == nil {
					row.Person = &u
				}
			}
		}
		if !d.Owner {
			row.Reason = ""
		}
		d.Holds = append(d.Holds, row)
	}
	a.render(w, r, http.StatusOK, "holds", "Legal holds", d)
}

func (a *App) placeHold(w http.ResponseWriter, r *http.Request) {
	spec := erasure.HoldSpec{Ground: strings.TrimSpace(r.PostFormValue("ground")), Reason: strings.TrimSpace(r.PostFormValue("reason")), By: gdprkit.ActorID(me(r).ID)}
	matter := strings.TrimSpace(r.PostFormValue("matter"))
	if matter == "" || len(matter) > 200 || len(spec.Reason) > 500 || len(spec.Ground) > 200 {
		a.refuse(w, r, "/privacy/holds", "Name the matter the hold is for (a dispute, a case number), in at most 200 characters.")
		return
	}
	if spec.Ground == "" {
		spec.Ground = "Art. 17(3)(e): defence of legal claims"
	}
	var ticket int64
	if t := strings.TrimSpace(strings.TrimPrefix(r.PostFormValue("ticket"), "#")); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			a.refuse(w, r, "/privacy/holds", "Give the ticket's number, or leave it empty to hold all of the person's data.")
			return
		}
		if _, err := a.host.Ticket(r.Context(), a.acct, n); err != nil {
			a.failOr(w, r, err, "/privacy/holds", "There is no ticket #"+t+".")
			return
		}
		spec.Kind, spec.RecordID, ticket = erasure.KindTicket, t, n
	} else {
		spec.Subject = gdprkit.SubjectID(r.PostFormValue("subject"))
	}
	if days, _ := strconv.Atoi(r.PostFormValue("days")); days > 0 {
		spec.ExpiresAt = a.now().Add(time.Duration(days) * 24 * time.Hour)
	}
	h, err := a.kit.Erasure.PlaceHold(r.Context(), a.acct, spec)
	if err != nil {
		a.failOr(w, r, err, "/privacy/holds", "The hold could not be placed: choose a person or give a ticket number.")
		return
	}
	if err := a.host.AddHoldMatter(r.Context(), a.acct, hostdb.HoldMatter{HoldID: h.ID, Matter: matter, TicketID: ticket}); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.done(w, r, "/privacy/holds", "Legal hold placed for "+matter+".")
}

// retentionData feeds the retention page.
type retentionData struct {
	Rules []retention.Rule
	Owner bool
}

func (a *App) retentionPage(w http.ResponseWriter, r *http.Request) {
	rules, err := a.kit.Schedules.Rules(r.Context(), a.acct)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "retention", "Retention rules", retentionData{Rules: rules, Owner: me(r).Role == hostdb.RoleOwner})
}

func (a *App) addRule(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PostFormValue("n"))
	if err != nil || n <= 0 || n > 1200 {
		a.refuse(w, r, "/privacy/retention", "Give a positive number.")
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
		a.refuse(w, r, "/privacy/retention", "Choose a rule.")
		return
	}
	if _, err := a.kit.Schedules.AddRule(r.Context(), a.acct, rule, gdprkit.ActorID(me(r).ID)); err != nil {
		a.failOr(w, r, err, "/privacy/retention", "Could not add the rule: "+err.Error())
		return
	}
	a.done(w, r, "/privacy/retention", "Retention rule added: "+rule.Name+".")
}
