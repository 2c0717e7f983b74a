package main

import (
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/spam"
)

func (a *App) ticketRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /contact", a.contactForm)
	m.HandleFunc("POST /contact", a.contactSubmit)
	m.Handle("GET /inbox", a.staff(false, a.inbox))
	m.Handle("GET /tickets/{id}", a.staff(false, a.ticketPage))
	m.Handle("POST /tickets/{id}/spam", a.staff(false, a.trainHandler(spam.Spam)))
	m.Handle("POST /tickets/{id}/ham", a.staff(false, a.trainHandler(spam.Ham)))
	m.Handle("POST /tickets/{id}/reply", a.staff(false, a.reply))
	m.Handle("POST /tickets/{id}/close", a.staff(false, func(w http.ResponseWriter, r *http.Request) {
		t, ok := a.pathTicket(w, r)
		if ok {
			if err := a.setTicketStatus(r.Context(), t.ID, "closed", t.Label); err != nil {
				a.serverError(w, r, err)
				return
			}
			redirect(w, r, "/inbox?flash=Ticket+closed.")
		}
	}))
	m.Handle("GET /attachments/{id}", a.staff(false, a.attachment))
}

// contactData feeds the contact form.
type contactData struct {
	Consent                    template.HTML
	Name, Email, Subject, Body string
	PortalLink                 string
	LinkSent                   bool // the portal link went by e-mail (or would have)
	TicketID                   int64
	Unavailable                bool
}

func (a *App) contactForm(w http.ResponseWriter, r *http.Request) {
	a.renderContact(w, r, http.StatusOK, contactData{}, "")
}

func (a *App) renderContact(w http.ResponseWriter, r *http.Request, status int, d contactData, msg string) {
	if err := a.Life.CheckSurface(r.Context(), a.acct, gdprkit.SurfacePortal); err != nil {
		a.render(w, r, http.StatusServiceUnavailable, "contact", "Contact us", errorData{msg: "This helpdesk is not accepting messages right now.", D: contactData{Unavailable: true}})
		return
	}
	fields, err := a.prechat.Fields(r.Context(), a.acct)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d.Consent = fields
	if msg != "" {
		a.render(w, r, status, "contact", "Contact us", errorData{msg: msg, D: d})
		return
	}
	a.render(w, r, status, "contact", "Contact us", d)
}

func (a *App) contactSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := a.Life.CheckSurface(ctx, a.acct, gdprkit.SurfacePortal); err != nil {
		a.renderContact(w, r, http.StatusServiceUnavailable, contactData{}, "")
		return
	}
	d := contactData{Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.ToLower(strings.TrimSpace(r.PostFormValue("email"))),
		Subject: strings.TrimSpace(r.PostFormValue("subject")), Body: strings.TrimSpace(r.PostFormValue("message"))}
	addr, err := mail.ParseAddress(d.Email)
	if err != nil || addr.Address != d.Email || d.Name == "" || d.Body == "" || len(d.Name) > 200 || len(d.Email) > 200 || len(d.Subject) > 200 {
		a.renderContact(w, r, http.StatusUnprocessableEntity, d, "Please give your name, a valid e-mail address and a message.")
		return
	}
	if d.Subject == "" {
		d.Subject = "Message from the contact form"
	}
	var fname string
	var content []byte
	if f, hdr, err := r.FormFile("file"); err == nil {
		defer f.Close()
		content, err = io.ReadAll(io.LimitReader(f, 2<<20+1))
		if err != nil || len(content) > 2<<20 {
			a.renderContact(w, r, http.StatusUnprocessableEntity, d, "Attachments may be at most 2 MiB.")
			return
		}
		fname = hdr.Filename
		if len(fname) > 100 {
			fname = fname[:100]
		}
	}
	cust, err := a.customerByEmail(ctx, d.Email)
	isNew := errors.Is(err, gdprkit.ErrNotFound)
	switch {
	case isNew:
		cust = User{ID: "c-" + gdprkit.NewID(), Role: roleCustomer, Name: d.Name, Email: d.Email}
	case err != nil:
		a.serverError(w, r, err)
		return
	}
	// Consent first: without the required box nothing is stored.
	if _, err := a.prechat.Record(ctx, a.acct, r, consent.Submission{Subject: gdprkit.SubjectID(cust.ID), IP: a.clientIP(r), RecordedBy: gdprkit.ActorID(cust.ID)}); err != nil {
		if errors.Is(err, gdprkit.ErrInvalid) || errors.Is(err, gdprkit.ErrConflict) {
			a.renderContact(w, r, http.StatusUnprocessableEntity, d, "Please tick the box to agree that we store your message so we can answer it.")
			return
		}
		a.serverError(w, r, err)
		return
	}
	if isNew {
		if err := a.addUser(ctx, cust); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	tid, err := a.createTicket(ctx, NewTicket{Requester: cust, Subject: d.Subject, Body: d.Body, Filename: fname, File: content})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	done := contactData{TicketID: tid}
	link := "/portal/login?t=" + a.portalToken(cust.ID)
	switch {
	case isNew && a.cfg.Demo:
		// The demo shortcut: a new customer's own link, shown on the page.
		done.PortalLink = link
	case a.cfg.SendPortalLink != nil:
		if err := a.cfg.SendPortalLink(ctx, cust.Email, link); err != nil {
			a.log.Warn("helpdesk: cannot e-mail a portal link", "err", err)
		}
		done.LinkSent = true
	default:
		done.LinkSent = true // said alike either way, so the page tells nobody whether the address is known
		a.log.Warn("helpdesk: no SendPortalLink configured; the customer gets no portal link")
	}
	a.render(w, r, http.StatusOK, "contact", "Thank you", done)
}

// inboxRow is one ticket in the inbox with the filter's verdict.
type inboxRow struct {
	Ticket
	Result spam.Result
}

func ticketMessage(t Ticket) spam.Message {
	m := spam.Message{Subject: t.Subject}
	if len(t.Messages) > 0 {
		m.Text = t.Messages[0].Body
	}
	return m
}

func trainingID(t Ticket) string { return "ticket-" + strconv.FormatInt(t.ID, 10) }

// inbox classifies every ticket as it is shown, so a lesson from the
// buttons changes the verdicts of the next page view at once.
func (a *App) inbox(w http.ResponseWriter, r *http.Request) {
	ts, err := a.tickets(r.Context(), "")
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	rows := make([]inboxRow, 0, len(ts))
	for _, t := range ts {
		res, err := a.Spam.Explain(r.Context(), a.acct, ticketMessage(t), 3)
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		rows = append(rows, inboxRow{Ticket: t, Result: res})
	}
	a.render(w, r, http.StatusOK, "inbox", "Inbox", rows)
}

func (a *App) pathTicket(w http.ResponseWriter, r *http.Request) (Ticket, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "No such ticket.")
		return Ticket{}, false
	}
	t, err := a.ticket(r.Context(), id)
	if errors.Is(err, gdprkit.ErrNotFound) {
		a.fail(w, r, http.StatusNotFound, "No such ticket.")
		return Ticket{}, false
	}
	if err != nil {
		a.serverError(w, r, err)
		return Ticket{}, false
	}
	return t, true
}

func (a *App) ticketPage(w http.ResponseWriter, r *http.Request) {
	t, ok := a.pathTicket(w, r)
	if !ok {
		return
	}
	res, err := a.Spam.Explain(r.Context(), a.acct, ticketMessage(t), 8)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "ticket", t.Subject, inboxRow{Ticket: t, Result: res})
}

// trainHandler is the "spam" / "not spam" button: the filter learns at
// once (a correction moves an earlier lesson) and the ticket moves.
func (a *App) trainHandler(c spam.Class) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := a.pathTicket(w, r)
		if !ok {
			return
		}
		if _, err := a.Spam.Train(r.Context(), a.acct, trainingID(t), ticketMessage(t), c); err != nil {
			a.serverError(w, r, err)
			return
		}
		status, label, flash := "open", "ham", "Marked+as+not+spam.+The+filter+learned+from+it."
		if c == spam.Spam {
			status, label, flash = "spam", "spam", "Marked+as+spam.+The+filter+learned+from+it."
		}
		if t.Status == "closed" {
			status = "closed"
		}
		if err := a.setTicketStatus(r.Context(), t.ID, status, label); err != nil {
			a.serverError(w, r, err)
			return
		}
		redirect(w, r, "/inbox?flash="+flash)
	}
}

func (a *App) reply(w http.ResponseWriter, r *http.Request) {
	t, ok := a.pathTicket(w, r)
	if !ok {
		return
	}
	body := strings.TrimSpace(r.PostFormValue("body"))
	if body == "" {
		redirect(w, r, "/tickets/"+strconv.FormatInt(t.ID, 10)+"?error=Write+a+reply+first.")
		return
	}
	if err := a.addReply(r.Context(), t.ID, me(r), body); err != nil {
		a.serverError(w, r, err)
		return
	}
	redirect(w, r, "/tickets/"+strconv.FormatInt(t.ID, 10)+"?flash=Reply+sent.")
}

func (a *App) attachment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var key, fname string
	err := a.db.QueryRowContext(r.Context(), a.q("SELECT blob_key, filename FROM hd_attachments WHERE account_id = ? AND id = ?"), string(a.acct), id).Scan(&key, &fname)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "No such attachment.")
		return
	}
	b, err := a.Blobs.Read(r.Context(), a.acct, key)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "The file is gone.")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeName(fname)+`"`)
	_, _ = w.Write(b)
}
