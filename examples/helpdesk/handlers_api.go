package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
)

// The REST API: JSON over HTTP Basic authentication, where the password is
// either the user's password (refused by authn for users with TOTP) or an
// API token. Every call goes through authn, so the account's lifecycle and
// the API surface's IP allow list apply.
func (a *App) apiRoutes(m *http.ServeMux) {
	m.Handle("GET /api/tickets", a.api("tickets:read", a.apiList))
	m.Handle("GET /api/tickets/{id}", a.api("tickets:read", a.apiGet))
	m.Handle("POST /api/tickets", a.api("tickets:write", a.apiCreate))
}

type apiTicket struct {
	ID        int64        `json:"id"`
	Subject   string       `json:"subject"`
	Status    string       `json:"status"`
	Requester string       `json:"requester"`
	CreatedAt time.Time    `json:"created_at"`
	Messages  []apiMessage `json:"messages,omitempty"`
}

type apiMessage struct {
	Author string    `json:"author"`
	Body   string    `json:"body"`
	At     time.Time `json:"at"`
}

func toAPI(t hostdb.Ticket, full bool) apiTicket {
	out := apiTicket{ID: t.ID, Subject: t.Subject, Status: t.Status, Requester: t.RequesterName, CreatedAt: t.CreatedAt}
	if full {
		for _, m := range t.Messages {
			out.Messages = append(out.Messages, apiMessage{Author: m.AuthorName, Body: m.Body, At: m.CreatedAt})
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="helpdesk API", charset="UTF-8"`)
	}
	writeJSON(w, status, map[string]string{"error": msg})
}

func (a *App) api(scope string, h func(http.ResponseWriter, *http.Request, hostdb.User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, secret, ok := r.BasicAuth()
		if !ok {
			apiError(w, http.StatusUnauthorized, "use HTTP Basic authentication: username and password or API token")
			return
		}
		p, err := a.kit.Auth.AuthenticateAPI(r.Context(), authn.APIRequest{Account: a.acct, Username: user, Secret: secret, IP: a.clientIP(r)})
		// One answer per kind of refusal, never per credential: a right and
		// a wrong password of a user with two-factor login, an unknown
		// user and a bad token all get the same 401.
		switch {
		case errors.Is(err, gdprkit.ErrAccountSuspended), errors.Is(err, gdprkit.ErrAccountTerminated):
			apiError(w, http.StatusForbidden, loginError(err))
			return
		case errors.Is(err, gdprkit.ErrForbidden):
			apiError(w, http.StatusForbidden, "forbidden: your IP address is not on the API allow list")
			return
		case errors.Is(err, gdprkit.ErrLocked):
			var te *authn.ThrottledError
			if errors.As(err, &te) && !te.Locked {
				if secs := int(te.Until.Sub(a.now()).Seconds()) + 1; secs > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(secs))
				}
			}
			apiError(w, http.StatusTooManyRequests, loginError(err))
			return
		case errors.Is(err, gdprkit.ErrUnavailable):
			w.Header().Set("Retry-After", "5")
			apiError(w, http.StatusServiceUnavailable, "temporarily unavailable; try again")
			return
		case err != nil:
			apiError(w, http.StatusUnauthorized, "wrong username, password or API token (accounts with two-factor login must use an API token)")
			return
		}
		if !p.HasScope(scope) {
			apiError(w, http.StatusForbidden, "the token lacks the scope "+scope)
			return
		}
		u, err := a.host.User(r.Context(), a.acct, p.UserID)
		if err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
			a.apiServerError(w, r, err)
			return
		}
		if err != nil || !u.IsStaff() || !u.DisabledAt.IsZero() {
			apiError(w, http.StatusForbidden, "only agents use the API")
			return
		}
		h(w, r, u)
	})
}

// apiServerError answers a failed API call: 503 with Retry-After when the
// database is unavailable (never 401: the credentials may be fine), 500
// otherwise.
func (a *App) apiServerError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, gdprkit.ErrUnavailable) || r.Context().Err() != nil {
		a.log.Warn("api: database unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", retryAfter)
		apiError(w, http.StatusServiceUnavailable, "temporarily unavailable; try again")
		return
	}
	a.log.Error("api: request failed", "path", r.URL.Path, "err", err)
	apiError(w, http.StatusInternalServerError, "internal error")
}

// apiList returns a page of tickets, newest first (?before=<id> for the
// next page; the Link header names it), one query per page.
func (a *App) apiList(w http.ResponseWriter, r *http.Request, _ hostdb.User) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	folder := r.URL.Query().Get("folder")
	if folder == "" {
		folder = hostdb.FolderAll
	}
	ts, next, err := a.host.Tickets(r.Context(), a.acct, hostdb.TicketFilter{Folder: folder, Before: before, Limit: 50})
	if errors.Is(err, gdprkit.ErrInvalid) {
		apiError(w, http.StatusBadRequest, "folder is one of inbox, closed, spam, all")
		return
	}
	if err != nil {
		a.apiServerError(w, r, err)
		return
	}
	out := make([]apiTicket, 0, len(ts))
	for _, t := range ts {
		out = append(out, toAPI(t, false))
	}
	if next > 0 {
		w.Header().Set("Link", "</api/tickets?folder="+folder+"&before="+strconv.FormatInt(next, 10)+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *App) apiGet(w http.ResponseWriter, r *http.Request, _ hostdb.User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		apiError(w, http.StatusNotFound, "no such ticket")
		return
	}
	t, err := a.host.Ticket(r.Context(), a.acct, id)
	if errors.Is(err, gdprkit.ErrNotFound) {
		apiError(w, http.StatusNotFound, "no such ticket")
		return
	}
	if err != nil {
		a.apiServerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAPI(t, true))
}

// apiCreate opens a ticket on a customer's behalf (an agent typing in a
// phone call, say): no consent record, as the agent, not the customer,
// submits it. The customer and the ticket are written in one transaction;
// an Idempotency-Key header (up to 64 characters) makes a retried call
// answer 200 with the ticket the first call opened instead of opening
// another.
func (a *App) apiCreate(w http.ResponseWriter, r *http.Request, _ hostdb.User) {
	var in struct {
		Email   string `json:"email"`
		Name    string `json:"name"`
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			apiError(w, http.StatusRequestEntityTooLarge, "body larger than 1 MiB")
			return
		}
		apiError(w, http.StatusBadRequest, "body must be JSON: {email, name, subject, body}")
		return
	}
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if addr, err := mail.ParseAddress(in.Email); err != nil || addr.Address != in.Email || in.Name == "" || in.Subject == "" || in.Body == "" ||
		len(in.Name) > 200 || len(in.Subject) > 200 || len(in.Body) > maxMessage {
		apiError(w, http.StatusUnprocessableEntity, "email, name, subject and body are required (body at most 20,000 bytes)")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 60 {
		apiError(w, http.StatusBadRequest, "Idempotency-Key is at most 60 characters")
		return
	}
	if key != "" {
		key = "api:" + key
	}
	ctx := r.Context()
	var c hostdb.Created
	err := a.host.InTx(ctx, func(tx *hostdb.DB) error {
		cust, _, err := tx.UpsertCustomer(ctx, a.acct, hostdb.User{ID: "c-" + gdprkit.NewID(), Name: in.Name, Email: in.Email})
		if err == nil {
			c, err = tx.CreateTicket(ctx, a.acct, hostdb.NewTicket{Requester: cust, RequesterName: in.Name, Subject: in.Subject, Body: in.Body,
				Origin: hostdb.OriginAPI, SubmissionKey: key})
		}
		return err
	})
	status := http.StatusCreated
	var again *hostdb.AlreadyReceivedError
	if errors.As(err, &again) {
		c.Ticket, status, err = again.Ticket, http.StatusOK, nil
	}
	if err != nil {
		a.apiServerError(w, r, err)
		return
	}
	t, err := a.host.Ticket(ctx, a.acct, c.Ticket)
	if err != nil {
		a.apiServerError(w, r, err)
		return
	}
	writeJSON(w, status, toAPI(t, true))
}
