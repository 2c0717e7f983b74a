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

func toAPI(t Ticket, full bool) apiTicket {
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

func (a *App) api(scope string, h func(http.ResponseWriter, *http.Request, User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, secret, ok := r.BasicAuth()
		if !ok {
			apiError(w, http.StatusUnauthorized, "use HTTP Basic authentication: username and password or API token")
			return
		}
		p, err := a.Auth.AuthenticateAPI(r.Context(), authn.APIRequest{Account: a.acct, Username: user, Secret: secret, IP: a.clientIP(r)})
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
		u, err := a.user(r.Context(), a.acct, p.UserID)
		if err != nil || !u.IsStaff() {
			apiError(w, http.StatusForbidden, "only agents use the API")
			return
		}
		h(w, r, u)
	})
}

func (a *App) apiList(w http.ResponseWriter, r *http.Request, _ User) {
	ts, err := a.tickets(r.Context(), "")
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal error")
		return
	}
	out := make([]apiTicket, 0, len(ts))
	for _, t := range ts {
		out = append(out, toAPI(t, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *App) apiGet(w http.ResponseWriter, r *http.Request, _ User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		apiError(w, http.StatusNotFound, "no such ticket")
		return
	}
	t, err := a.ticket(r.Context(), id)
	if err != nil {
		apiError(w, http.StatusNotFound, "no such ticket")
		return
	}
	writeJSON(w, http.StatusOK, toAPI(t, true))
}

// apiCreate opens a ticket on a customer's behalf (an agent typing in a
// phone call, say): no consent record, as the agent, not the customer,
// submits it.
func (a *App) apiCreate(w http.ResponseWriter, r *http.Request, _ User) {
	var in struct {
		Email   string `json:"email"`
		Name    string `json:"name"`
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "body must be JSON: {email, name, subject, body}")
		return
	}
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if addr, err := mail.ParseAddress(in.Email); err != nil || addr.Address != in.Email || in.Name == "" || in.Subject == "" || in.Body == "" ||
		len(in.Name) > 200 || len(in.Subject) > 200 {
		apiError(w, http.StatusUnprocessableEntity, "email, name, subject and body are required")
		return
	}
	ctx := r.Context()
	cust, err := a.customerByEmail(ctx, in.Email)
	if errors.Is(err, gdprkit.ErrNotFound) {
		cust = User{ID: "c-" + gdprkit.NewID(), Role: roleCustomer, Name: in.Name, Email: in.Email}
		err = a.addUser(ctx, cust)
	}
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal error")
		return
	}
	id, err := a.createTicket(ctx, NewTicket{Requester: cust, Subject: in.Subject, Body: in.Body})
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal error")
		return
	}
	t, err := a.ticket(ctx, id)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal error")
		return
	}
	writeJSON(w, http.StatusCreated, toAPI(t, true))
}
