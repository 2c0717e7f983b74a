package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
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
	m.Handle("POST /tickets/{id}/close", a.staff(false, a.closeTicket))
	m.Handle("GET /attachments/{id}", a.staff(false, a.attachment))
}

// contactData feeds the contact form.
type contactData struct {
	Consent                    template.HTML
	Name, Email, Subject, Body string
	// Submission is the form's idempotency key: sending the same form
	// twice (a double click, a retry) opens one ticket.
	Submission string
	PortalLink string
	LinkSent   bool // the portal link went by e-mail
	TicketID   int64
	Again      bool // this form had been received before
	Closed     bool // the helpdesk is not accepting messages
	Existing   bool // the address belongs to a customer: optional boxes go through the portal
}

func newSubmissionKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validKey reports whether s looks like a key newSubmissionKey made.
func validKey(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func (a *App) contactForm(w http.ResponseWriter, r *http.Request) {
	a.renderContact(w, r, http.StatusOK, contactData{}, "")
}

// prechat is the contact form's consent boxes, recording through svc.
func (a *App) prechat(svc *consent.Service) *consent.PreChat {
	return &consent.PreChat{Consent: svc, Purposes: []string{purposeSupport, purposeNewsletter}, Required: []string{purposeSupport}}
}

func (a *App) renderContact(w http.ResponseWriter, r *http.Request, status int, d contactData, msg string) {
	if err := a.kit.Life.CheckSurface(r.Context(), a.acct, gdprkit.SurfacePortal); err != nil {
		if errors.Is(err, gdprkit.ErrUnavailable) {
			a.serverError(w, r, err)
			return
		}
		a.render(w, r, http.StatusServiceUnavailable, "contact", "Contact us", errorData{msg: "This helpdesk is not accepting messages right now.", D: contactData{Closed: true}})
		return
	}
	fields, err := a.prechat(a.kit.Consent).Fields(r.Context(), a.acct)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d.Consent = fields
	if d.Submission == "" {
		d.Submission = newSubmissionKey()
	}
	if msg != "" {
		a.render(w, r, status, "contact", "Contact us", errorData{msg: msg, D: d})
		return
	}
	a.render(w, r, status, "contact", "Contact us", d)
}

// contactSubmit turns the contact form into a ticket. Everything it
// stores — the customer (created once per address: an upsert on a unique
// key), the ticket, its message, the attachment row and file, the consent
// grants — is written in one transaction of the host's, so a failure, a
// database restart or a client that gives up leaves nothing half-written.
// The form carries a submission key: sending it twice (a double click, a
// retry after a timeout) opens one ticket, and the second sending is told
// "we already received this message" with the same ticket number.
func (a *App) contactSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if ok, wait := a.contact.Allow(a.clientIP(r).String()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		a.renderContact(w, r, http.StatusTooManyRequests, contactData{}, "You have sent several messages in a short time. Please wait a minute and send again.")
		return
	}
	if err := a.kit.Life.CheckSurface(ctx, a.acct, gdprkit.SurfacePortal); err != nil {
		a.renderContact(w, r, http.StatusServiceUnavailable, contactData{}, "")
		return
	}
	d := contactData{Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.ToLower(strings.TrimSpace(r.PostFormValue("email"))),
		Subject: strings.TrimSpace(r.PostFormValue("subject")), Body: strings.TrimSpace(r.PostFormValue("message")), Submission: r.PostFormValue("submission")}
	if !validKey(d.Submission) {
		d.Submission = ""
	}
	addr, err := mail.ParseAddress(d.Email)
	switch {
	case err != nil || addr.Address != d.Email || d.Name == "" || d.Body == "" || len(d.Name) > 200 || len(d.Email) > 200 || len(d.Subject) > 200:
		a.renderContact(w, r, http.StatusUnprocessableEntity, d, "Please give your name, a valid e-mail address and a message.")
		return
	case len(d.Body) > maxMessage || !utf8.ValidString(d.Body+d.Name+d.Subject):
		a.renderContact(w, r, http.StatusUnprocessableEntity, d, "Your message is too long: at most 20,000 characters. Please shorten it, or attach it as a file.")
		return
	case r.PostFormValue("consent."+purposeSupport) != "yes":
		a.renderContact(w, r, http.StatusUnprocessableEntity, d, "Please tick the box to agree that we store your message so we can answer it.")
		return
	}
	if d.Subject == "" {
		d.Subject = "Message from the contact form"
	}
	file, err := a.formFile(r)
	if err != nil {
		a.renderContact(w, r, http.StatusUnprocessableEntity, d, err.Error())
		return
	}
	var created hostdb.Created
	var cust hostdb.User
	var isNew bool
	var held *HeldAudit
	// Once the form is accepted it is stored whether or not the visitor
	// waits for the answer: a client that gives up mid-commit must not
	// leave the outcome unknown (a commit the driver reports as cancelled
	// may still have happened). The request's time limit still applies.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.writeTimeout(ctx))
	defer cancel()
	err = a.consentTurn(wctx, func(ctx context.Context) error {
		return a.host.InTx(ctx, func(tx *hostdb.DB) error {
			var err error
			if cust, isNew, err = tx.UpsertCustomer(ctx, a.acct, hostdb.User{ID: "c-" + gdprkit.NewID(), Name: d.Name, Email: d.Email}); err != nil {
				return err
			}
			nt := hostdb.NewTicket{Requester: cust, RequesterName: d.Name, Subject: d.Subject, Body: d.Body, Origin: hostdb.OriginForm,
				SubmissionKey: d.Submission, File: file}
			if created, err = tx.CreateTicket(ctx, a.acct, nt); err != nil {
				return err
			}
			// Consent last: its append locks the account's chain head
			// until this transaction commits.
			var svc *consent.Service
			if svc, held, err = a.kit.ConsentIn(tx.Tx()); err != nil {
				return err
			}
			return a.recordContactConsent(ctx, svc, r, cust, isNew)
		})
	})
	if err == nil {
		if aerr := held.Release(wctx); aerr != nil {
			a.log.Warn("cannot queue the contact form's consent audit events", "err", aerr)
		}
	}
	var again *hostdb.AlreadyReceivedError
	switch {
	case errors.As(err, &again):
		a.render(w, r, http.StatusOK, "contact", "Already received", contactData{TicketID: again.Ticket, Again: true})
		return
	case errors.Is(err, gdprkit.ErrInvalid) || errors.Is(err, gdprkit.ErrNotFound) && r.Context().Err() == nil && !errors.Is(err, gdprkit.ErrUnavailable):
		// The consent boxes did not match the policies shown (a policy
		// changed while the form was open): nothing was stored.
		a.renderContact(w, r, http.StatusUnprocessableEntity, d, "The consent text changed while the form was open. Please read it again and send once more.")
		return
	case err != nil:
		if file != nil && created.BlobKey != "" {
			_, _ = a.kit.Blobs.Delete(context.WithoutCancel(ctx), a.acct, []string{created.BlobKey})
		}
		a.serverError(w, r, err)
		return
	}
	done := contactData{TicketID: created.Ticket, Existing: !isNew}
	link := "/portal/login?t=" + a.portalToken(cust.ID)
	switch {
	case isNew && a.cfg.Demo:
		done.PortalLink = link // the demo's shortcut: a new customer's own link, shown on the page
	case a.cfg.SendPortalLink != nil:
		if err := a.cfg.SendPortalLink(ctx, cust.Email, link); err != nil {
			a.log.Warn("cannot e-mail a portal link", "err", err)
		} else {
			done.LinkSent = true
		}
	}
	a.render(w, r, http.StatusOK, "contact", "Thank you", done)
}

// consentTurn runs record, a contact form's transaction, which ends by
// appending to the account's consent chain, in the contact forms' arrival
// order. Every append locks the chain's head row until its transaction
// commits, so appends run one at a time in the database anyway; queued
// there, each waiting form held a pooled connection (on PostgreSQL the
// load test saw most of the 16 in "Lock tuple" on gdpr_consent_heads, and
// the pages starved for connections). Queued here, in arrival order, a
// waiting form holds nothing. A few (consentAppendsAtOnce) go to the
// database at once, so that the next form writes its customer and ticket
// and already waits at the row lock when the one before commits. The turn
// is taken before the transaction begins (and, on SQLite, before the
// writer's turn of hostdb.DB.Writing), never inside it, so a transaction
// never holds locks while it waits here.
func (a *App) consentTurn(ctx context.Context, record func(context.Context) error) error {
	select {
	case a.consentQueue <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait to record consent: %w: %w", gdprkit.ErrUnavailable, ctx.Err())
	}
	defer func() { <-a.consentQueue }()
	return record(ctx)
}

// consentAppendsAtOnce is how many contact forms run their transaction,
// which appends to the consent chain, at once (consentTurn).
const consentAppendsAtOnce = 3

// writeTimeout is how long a write the client may abandon still has: what
// is left of the request's time limit, or 30 s.
func (a *App) writeTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return 30 * time.Second
}

// recordContactConsent records what the contact form's boxes grant. A new
// customer's ticked boxes are recorded, with the form's evidence. For an
// address that already belongs to a customer the form proves nothing
// about who sent it: only the purpose of answering the message is
// recorded, and only if the customer has not granted it already; other
// purposes (product news) are opted into from the customer's portal,
// whose link goes to their address.
func (a *App) recordContactConsent(ctx context.Context, svc *consent.Service, r *http.Request, cust hostdb.User, isNew bool) error {
	if isNew {
		_, err := a.prechat(svc).Record(ctx, a.acct, r, consent.Submission{Subject: gdprkit.SubjectID(cust.ID), IP: a.clientIP(r), RecordedBy: gdprkit.ActorID(cust.ID)})
		return err
	}
	st, err := svc.Check(ctx, a.acct, gdprkit.SubjectID(cust.ID), purposeSupport)
	if err != nil || st.Granted() {
		return err
	}
	version, _ := strconv.Atoi(r.PostFormValue("consent." + purposeSupport + ".version"))
	_, err = svc.Grant(ctx, a.acct, consent.Decision{Subject: gdprkit.SubjectID(cust.ID), Purpose: purposeSupport, PolicyVersion: version,
		Source: consent.SourcePreChat, IP: a.clientIP(r), UserAgent: r.UserAgent(), RecordedBy: "contact-form"})
	return err
}

// formProblem is what is wrong with a form, in words for the page.
type formProblem string

func (p formProblem) Error() string { return string(p) }

// formFile reads the optional attachment of a form (at most maxFile).
func (a *App) formFile(r *http.Request) (*hostdb.NewFile, error) {
	f, hdr, err := r.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return nil, nil
	}
	if err != nil {
		return nil, formProblem("The attachment could not be read. Please attach it again.")
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil || len(content) > maxFile {
		return nil, formProblem("Attachments may be at most 2 MiB.")
	}
	if len(content) == 0 && hdr.Filename == "" {
		return nil, nil
	}
	return a.newFile(hdr, content), nil
}

func (a *App) newFile(hdr *multipart.FileHeader, content []byte) *hostdb.NewFile {
	name := hdr.Filename
	if len(name) > 100 {
		name = name[:100]
	}
	return &hostdb.NewFile{Name: name, Size: int64(len(content)),
		Key:   func(id int64) string { return "attachments/" + strconv.FormatInt(id, 10) + "/" + safeName(name) },
		Store: func(ctx context.Context, key string) error { return a.kit.Blobs.Put(ctx, a.acct, key, content) }}
}

// inboxRow is one ticket in a list with the filter's verdict.
type inboxRow struct {
	hostdb.Ticket
	Result spam.Result
}

// inboxData feeds the inbox and the spam folder.
type inboxData struct {
	Folder string
	Rows   []inboxRow
	Next   int64
	// Counts are the folder tabs' counts by status, "1000+" past
	// folderCountCap.
	Counts map[string]string
}

// folderCountCap is how far the inbox's folder tabs count: past it they
// say "1000+", so a page view reads at most this many index entries per
// folder however many tickets there are.
const folderCountCap = 1000

func spamMessage(t hostdb.Ticket) spam.Message {
	body := t.FirstBody
	if len(t.Messages) > 0 {
		body = t.Messages[0].Body
	}
	return hostdb.SpamExample(t.ID, t.Subject, body).Message
}

// inbox lists a page of one folder (open tickets by default; closed;
// spam), newest first, one query per page. Every ticket is classified as
// it is shown, so a lesson from the buttons changes the next page view.
func (a *App) inbox(w http.ResponseWriter, r *http.Request) {
	folder := r.URL.Query().Get("folder")
	switch folder {
	case hostdb.FolderClosed, hostdb.FolderSpam, hostdb.FolderAll:
	default:
		folder = hostdb.FolderInbox
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	ts, next, err := a.host.Tickets(r.Context(), a.acct, hostdb.TicketFilter{Folder: folder, Before: before})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d := inboxData{Folder: folder, Next: next, Rows: make([]inboxRow, 0, len(ts))}
	counts, err := a.host.CountTickets(r.Context(), a.acct, folderCountCap)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d.Counts = map[string]string{}
	for _, st := range []string{hostdb.StatusOpen, hostdb.StatusClosed, hostdb.StatusSpam} {
		d.Counts[st] = strconv.Itoa(min(counts[st], folderCountCap))
		if counts[st] > folderCountCap {
			d.Counts[st] += "+"
		}
	}
	for _, t := range ts {
		res, err := a.kit.Spam.Explain(r.Context(), a.acct, spamMessage(t), 3)
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		d.Rows = append(d.Rows, inboxRow{Ticket: t, Result: res})
	}
	title := map[string]string{hostdb.FolderInbox: "Inbox", hostdb.FolderClosed: "Closed tickets", hostdb.FolderSpam: "Spam", hostdb.FolderAll: "All tickets"}[folder]
	a.render(w, r, http.StatusOK, "inbox", title, d)
}

func (a *App) pathTicket(w http.ResponseWriter, r *http.Request) (hostdb.Ticket, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "There is no such ticket.")
		return hostdb.Ticket{}, false
	}
	t, err := a.host.Ticket(r.Context(), a.acct, id)
	if errors.Is(err, gdprkit.ErrNotFound) {
		a.fail(w, r, http.StatusNotFound, "There is no such ticket. It may have been deleted.")
		return hostdb.Ticket{}, false
	}
	if err != nil {
		a.serverError(w, r, err)
		return hostdb.Ticket{}, false
	}
	return t, true
}

func (a *App) ticketPage(w http.ResponseWriter, r *http.Request) {
	t, ok := a.pathTicket(w, r)
	if !ok {
		return
	}
	res, err := a.kit.Spam.Explain(r.Context(), a.acct, spamMessage(t), 8)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "ticket", "#"+strconv.FormatInt(t.ID, 10)+" "+t.Subject, inboxRow{Ticket: t, Result: res})
}

// trainHandler is the "spam" / "not spam" button: the filter learns at
// once (a correction moves an earlier lesson) and the ticket moves to the
// spam folder or back to the inbox.
func (a *App) trainHandler(c spam.Class) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := a.pathTicket(w, r)
		if !ok {
			return
		}
		if _, err := a.kit.Spam.Train(r.Context(), a.acct, hostdb.SpamExample(t.ID, t.Subject, t.Messages[0].Body).ID, spamMessage(t), c); err != nil {
			a.serverError(w, r, err)
			return
		}
		status, label, msg := hostdb.StatusOpen, "ham", "Ticket #"+strconv.FormatInt(t.ID, 10)+" is back in the inbox. The spam filter learned from it."
		if c == spam.Spam {
			status, label, msg = hostdb.StatusSpam, "spam", "Ticket #"+strconv.FormatInt(t.ID, 10)+" moved to the spam folder. The spam filter learned from it."
		}
		if t.Status == hostdb.StatusClosed && c == spam.Ham {
			status = hostdb.StatusClosed
		}
		if err := a.host.SetStatus(r.Context(), a.acct, t.ID, status, label); err != nil {
			a.serverError(w, r, err)
			return
		}
		back := "/inbox"
		if t.Status == hostdb.StatusSpam {
			back = "/inbox?folder=spam"
		}
		a.done(w, r, back, msg)
	}
}

func (a *App) reply(w http.ResponseWriter, r *http.Request) {
	t, ok := a.pathTicket(w, r)
	if !ok {
		return
	}
	back := "/tickets/" + strconv.FormatInt(t.ID, 10)
	body := strings.TrimSpace(r.PostFormValue("body"))
	switch {
	case body == "":
		a.refuse(w, r, back, "Write a reply first.")
		return
	case len(body) > maxMessage:
		a.refuse(w, r, back, "The reply is too long: at most 20,000 characters.")
		return
	}
	if _, err := a.host.AddMessage(r.Context(), a.acct, t.ID, me(r), body); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.done(w, r, back, "Reply sent.")
}

func (a *App) closeTicket(w http.ResponseWriter, r *http.Request) {
	t, ok := a.pathTicket(w, r)
	if !ok {
		return
	}
	if err := a.host.SetStatus(r.Context(), a.acct, t.ID, hostdb.StatusClosed, t.SpamLabel); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.done(w, r, "/inbox", "Ticket #"+strconv.FormatInt(t.ID, 10)+" closed.")
}

func (a *App) attachment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	a.serveAttachment(w, r, id, "")
}

// serveAttachment sends an attachment's file; requester, when set, must
// have opened the ticket (the portal).
func (a *App) serveAttachment(w http.ResponseWriter, r *http.Request, id int64, requester string) {
	x, err := a.host.Attachment(r.Context(), a.acct, id, requester)
	if errors.Is(err, gdprkit.ErrNotFound) {
		a.fail(w, r, http.StatusNotFound, "There is no such attachment.")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	b, err := a.kit.Blobs.Read(r.Context(), a.acct, x.BlobKey)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "The file is gone.")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeName(x.Filename)+`"`)
	_, _ = w.Write(b)
}

func safeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteRune('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		out = "file"
	}
	return out
}
