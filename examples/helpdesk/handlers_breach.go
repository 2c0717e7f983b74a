package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/staffaccess"
)

// The breach register screens (Art. 33/34): the register with its verified
// history, recording a breach, finding the people it reached in this
// helpdesk's own tables, queueing the notifications, sending them, the
// authority's form as JSON, and closing. Notices are "sent" to the outbox
// below, which stands in for the e-mail and authority portal a real host
// would call.

// initAccountability builds the breach register and the support access
// services on the app's store, clock and audit log.
func (a *App) initAccountability(ps *gdprkit.Pseudonymizer) error {
	a.outbox = &noticeOutbox{a: a, ps: ps}
	var err error
	if a.Breaches, err = breach.New(breach.Config{Store: a.kit.Store.Breach(), Pseudonymizer: ps, Clock: a.clock, Audit: a.audit,
		Logger: a.log, Finder: affectedFinder{a}, Notifier: a.outbox, Authority: "Demo Data Protection Authority"}); err != nil {
		return err
	}
	a.Support, err = staffaccess.New(staffaccess.Config{Store: a.kit.Store.StaffAccess(), Clock: a.clock, Audit: a.audit, Logger: a.log})
	return err
}

func (a *App) breachRoutes(m *http.ServeMux) {
	m.Handle("GET /privacy/breaches", a.staff(true, a.breaches))
	m.Handle("GET /privacy/breaches.json", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		reg, err := a.Breaches.Register(r.Context(), a.acct)
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		writeIndentedJSON(w, http.StatusOK, reg)
	}))
	m.Handle("POST /privacy/breaches", a.staff(true, a.recordBreach))
	m.Handle("GET /privacy/breaches/{id}", a.staff(true, a.breachPage))
	m.Handle("GET /privacy/breaches/{id}/form.json", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		b, err := a.Breaches.FormJSON(r.Context(), a.acct, r.PathValue("id"))
		if err != nil {
			a.fail(w, r, http.StatusNotFound, "No such breach.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="breach-notification.json"`)
		_, _ = w.Write(b)
	}))
	m.Handle("POST /privacy/breaches/{id}/subjects", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		c := breach.Criteria{Where: strings.TrimSpace(r.PostFormValue("where"))}
		if k := r.PostFormValue("kind"); k != "" {
			c.Kinds = []string{k}
		}
		var err error
		if c.From, err = formTime(r, "from"); err == nil {
			c.Until, err = formTime(r, "until")
		}
		if err != nil {
			a.fail(w, r, http.StatusUnprocessableEntity, err.Error())
			return
		}
		n, err := a.Breaches.FindSubjects(r.Context(), a.acct, id, c, gdprkit.ActorID(me(r).ID))
		if err != nil {
			a.breachError(w, r, id, "Could not search: ", err)
			return
		}
		a.done(w, r, "/privacy/breaches/"+url.PathEscape(id), strconv.Itoa(n)+" affected people added.")
	}))
	m.Handle("POST /privacy/breaches/{id}/notify", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		q, err := a.Breaches.Notify(r.Context(), a.acct, id, breach.NotifyRequest{Authority: r.PostFormValue("authority") != "",
			DPO: r.PostFormValue("dpo") != "", Subjects: r.PostFormValue("subjects") != "",
			DelayReason: strings.TrimSpace(r.PostFormValue("delay_reason")), By: gdprkit.ActorID(me(r).ID)})
		if err != nil {
			a.breachError(w, r, id, "Could not queue the notifications: ", err)
			return
		}
		msg := fmt.Sprintf("Queued: %d to the authority, %d to the DPO, %d to affected people.", q.Authority, q.DPO, q.Subjects)
		a.done(w, r, "/privacy/breaches/"+url.PathEscape(id), msg)
	}))
	m.Handle("POST /privacy/breaches/{id}/send", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		n, errs := a.Breaches.RunUntilIdle(r.Context(), "helpdesk-web")
		msg := fmt.Sprintf("Sent %d notices.", n)
		if len(errs) > 0 {
			msg += fmt.Sprintf(" %d failed and will be retried or were given up on.", len(errs))
		}
		a.done(w, r, "/privacy/breaches/"+url.PathEscape(r.PathValue("id")), msg)
	}))
	m.Handle("POST /privacy/breaches/{id}/close", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := a.Breaches.Close(r.Context(), a.acct, id, strings.TrimSpace(r.PostFormValue("reason")), gdprkit.ActorID(me(r).ID)); err != nil {
			a.breachError(w, r, id, "Could not close: ", err)
			return
		}
		a.done(w, r, "/privacy/breaches/"+url.PathEscape(id), "Closed.")
	}))
}

// writeIndentedJSON answers with v as indented JSON.
func writeIndentedJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// breachError answers a refused action with its reason (bad input, a
// missing delay reason, a closed breach) and anything else as a 500.
func (a *App) breachError(w http.ResponseWriter, r *http.Request, id, prefix string, err error) {
	switch {
	case errors.Is(err, gdprkit.ErrNotFound):
		a.fail(w, r, http.StatusNotFound, "No such breach.")
	case errors.Is(err, gdprkit.ErrInvalid), errors.Is(err, gdprkit.ErrConflict):
		a.refuse(w, r, "/privacy/breaches/"+url.PathEscape(id), prefix+err.Error())
	default:
		a.serverError(w, r, err)
	}
}

// formTime reads a datetime-local field as UTC; empty is the zero time.
func formTime(r *http.Request, name string) (time.Time, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: not a date and time (YYYY-MM-DDTHH:MM, UTC)", name)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// breachesData feeds breaches.html.
type breachesData struct {
	Register breach.Register
	Now      string
}

func (a *App) breaches(w http.ResponseWriter, r *http.Request) {
	reg, err := a.Breaches.Register(r.Context(), a.acct)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "breaches", "Breach register", breachesData{Register: reg, Now: a.now().Format("2006-01-02T15:04")})
}

func (a *App) recordBreach(w http.ResponseWriter, r *http.Request) {
	occurred, err1 := formTime(r, "occurred_at")
	until, err2 := formTime(r, "occurred_until")
	aware, err3 := formTime(r, "aware_at")
	var records int64
	var err4 error
	if v := strings.TrimSpace(r.PostFormValue("approx_records")); v != "" {
		records, err4 = strconv.ParseInt(v, 10, 64)
	}
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		a.fail(w, r, http.StatusUnprocessableEntity, "Check the dates and numbers: "+err.Error())
		return
	}
	rep := breach.Report{Title: r.PostFormValue("title"), Nature: r.PostFormValue("nature"), OccurredAt: occurred, OccurredUntil: until, AwareAt: aware,
		DataCategories: splitList(r.PostFormValue("data_categories")), SubjectCategories: splitList(r.PostFormValue("subject_categories")),
		Kinds: splitList(r.PostFormValue("kinds")), ApproxRecords: records, Consequences: r.PostFormValue("consequences"),
		MeasuresTaken: r.PostFormValue("measures_taken"), MeasuresProposed: r.PostFormValue("measures_proposed"),
		HighRisk: r.PostFormValue("high_risk") != "", By: gdprkit.ActorID(me(r).ID),
		DPO: breach.Contact{Name: r.PostFormValue("dpo_name"), Email: r.PostFormValue("dpo_email")}}
	for _, t := range r.PostForm["types"] {
		rep.Types = append(rep.Types, breach.Type(t))
	}
	b, err := a.Breaches.Record(r.Context(), a.acct, rep)
	if errors.Is(err, gdprkit.ErrInvalid) || errors.Is(err, gdprkit.ErrConflict) {
		a.fail(w, r, http.StatusUnprocessableEntity, "Could not record the breach: "+err.Error())
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.done(w, r, "/privacy/breaches/"+url.PathEscape(b.ID), "Breach recorded.")
}

// breachData feeds breach.html.
type breachData struct {
	Breach   breach.Breach
	Late     bool
	Left     string
	Notices  []breach.Notice
	Subjects int
	Outbox   []sentNotice
}

func (a *App) breachPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	b, err := a.Breaches.Breach(ctx, a.acct, id)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "No such breach.")
		return
	}
	ns, err := a.Breaches.Notices(ctx, a.acct, id)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d := breachData{Breach: b, Late: b.Late(a.now()), Notices: ns, Subjects: int(b.SubjectsFound), Outbox: a.outbox.of(id)}
	if left := b.Deadline.Sub(a.now()); left > 0 && b.AuthorityNotifiedAt.IsZero() {
		d.Left = left.Round(time.Minute).String()
	}
	a.render(w, r, http.StatusOK, "breach", "Breach: "+b.Title, d)
}

// affectedFinder answers "whose data of these kinds, in this place, in this
// window" from the helpdesk's own tables: attachments (Where matches the
// file's storage key prefix), messages or tickets, by the time their
// message or ticket was written; the people are the ticket's requester and
// the message's author.
type affectedFinder struct{ a *App }

func (f affectedFinder) FindAffected(ctx context.Context, acct gdprkit.AccountID, c breach.Criteria) ([]gdprkit.SubjectID, error) {
	kinds := c.Kinds
	if len(kinds) == 0 {
		kinds = []string{"attachment"}
	}
	seen := map[gdprkit.SubjectID]bool{}
	var out []gdprkit.SubjectID
	for _, k := range kinds {
		ids, err := f.a.host.AffectedPeople(ctx, acct, k, c.Where, c.From, c.Until)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !seen[gdprkit.SubjectID(id)] {
				seen[gdprkit.SubjectID(id)] = true
				out = append(out, gdprkit.SubjectID(id))
			}
		}
	}
	return out, nil
}

// sentNotice is one notice as the demo outbox delivered it.
type sentNotice struct {
	Key    string
	Breach string
	To     string
	At     time.Time
}

// noticeOutbox is the demo's Notifier: it resolves a subject's pseudonym to
// the person's e-mail address through hd_users (breach.Resolve) and "sends"
// by keeping the message in memory, once per idempotency key. A real host
// e-mails the person and the DPO and files the authority's form on its
// portal, keyed on the same idempotency key.
type noticeOutbox struct {
	a    *App
	ps   *gdprkit.Pseudonymizer
	mu   sync.Mutex
	sent []sentNotice
	keys map[string]bool
}

func (o *noticeOutbox) Send(ctx context.Context, m breach.Message) (string, error) {
	to := string(m.Notice.To)
	switch m.Notice.To {
	case breach.ToAuthority:
		to = "authority: " + m.Form.Authority
	case breach.ToDPO:
		to = "DPO: " + m.Form.DPO.Email
	case breach.ToSubject:
		id, err := breach.Resolve(ctx, o.ps, o.a.host.Directory(), m.Notice.Account, m.Notice.Subject)
		if err != nil {
			return "", err // not found: erased since; the notice fails
		}
		u, err := o.a.host.User(ctx, m.Notice.Account, string(id))
		if err != nil {
			return "", err
		}
		if u.Email == "" {
			return "", fmt.Errorf("%w: the person has no e-mail address", gdprkit.ErrNotFound)
		}
		to = "person: " + u.Email
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keys == nil {
		o.keys = map[string]bool{}
	}
	if !o.keys[m.IdempotencyKey] {
		o.keys[m.IdempotencyKey] = true
		o.sent = append(o.sent, sentNotice{Key: m.IdempotencyKey, Breach: m.Notice.Breach, To: to, At: o.a.now()})
	}
	return "demo-" + m.IdempotencyKey[len(m.IdempotencyKey)-8:], nil
}

func (o *noticeOutbox) of(breachID string) []sentNotice {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []sentNotice
	for _, s := range o.sent {
		if s.Breach == breachID {
			out = append(out, s)
		}
	}
	return out
}
