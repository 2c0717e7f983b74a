package main

import (
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
)

func (a *App) peopleRoutes(m *http.ServeMux) {
	m.Handle("GET /people", a.staff(false, a.people))
	m.Handle("GET /people/{id}", a.staff(false, a.person))
	m.Handle("POST /people/invite", a.staff(true, a.invite))
	m.Handle("POST /people/{id}/reset-password", a.staff(true, a.staffAction(a.resetPassword)))
	m.Handle("POST /people/{id}/unlock", a.staff(true, a.staffAction(func(w http.ResponseWriter, r *http.Request, u hostdb.User) {
		if err := a.kit.Auth.Unlock(r.Context(), a.acct, u.ID); err != nil {
			a.serverError(w, r, err)
			return
		}
		a.done(w, r, "/people/"+u.ID, "The sign-in of "+u.Name+" is unlocked.")
	})))
	m.Handle("POST /people/{id}/revoke", a.staff(true, a.staffAction(func(w http.ResponseWriter, r *http.Request, u hostdb.User) {
		c, err := a.kit.Auth.RevokeUser(r.Context(), a.acct, u.ID)
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		a.done(w, r, "/people/"+u.ID, "Signed "+u.Name+" out everywhere: "+plural(int64(c.Sessions), "session", "sessions")+" ended, "+
			plural(int64(c.Tokens), "API token", "API tokens")+" revoked.")
	})))
	m.Handle("POST /people/{id}/disable", a.staff(true, a.staffAction(func(w http.ResponseWriter, r *http.Request, u hostdb.User) {
		disable := r.PostFormValue("disable") == "yes"
		err := a.host.SetDisabled(r.Context(), a.acct, u.ID, disable)
		if err == nil && disable {
			err = a.kit.Auth.DisableUser(r.Context(), a.acct, u.ID)
		} else if err == nil {
			err = a.kit.Auth.EnableUser(r.Context(), a.acct, u.ID)
		}
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		if disable {
			a.done(w, r, "/people/"+u.ID, u.Name+" can no longer sign in. Their work stays as it is.")
			return
		}
		a.done(w, r, "/people/"+u.ID, u.Name+" can sign in again.")
	})))
	m.Handle("POST /people/{id}/reset-2fa", a.staff(true, a.staffAction(func(w http.ResponseWriter, r *http.Request, u hostdb.User) {
		err := a.kit.Auth.ResetTOTP(r.Context(), principal(r), u.ID)
		switch {
		case errors.Is(err, authn.ErrStepUpRequired):
			a.refuse(w, r, "/people/"+u.ID, stepUpMsg)
		case err != nil:
			a.serverError(w, r, err)
		default:
			a.done(w, r, "/people/"+u.ID, "Two-factor sign-in of "+u.Name+" is removed; they set it up again after signing in with their password.")
		}
	})))
}

// peopleData feeds the people list.
type peopleData struct {
	People []hostdb.User
	Role   string
	Search string
	Next   string
	Owner  bool
	Invite *invited
}

// invited is a staff member just invited, with their first password
// (shown once).
type invited struct {
	Name, Username, Password string
}

// people lists customers and staff, filtered by role and searched by
// name or e-mail address, a page at a time.
func (a *App) people(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := hostdb.PeopleFilter{Role: q.Get("role"), Search: strings.TrimSpace(q.Get("q")), After: q.Get("after")}
	switch f.Role {
	case "staff", hostdb.RoleCustomer, hostdb.RoleAgent, hostdb.RoleOwner:
	default:
		f.Role = ""
	}
	ps, next, err := a.host.People(r.Context(), a.acct, f)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "people", "People", peopleData{People: ps, Role: f.Role, Search: f.Search, Next: next, Owner: me(r).Role == hostdb.RoleOwner})
}

// personData feeds a person's page.
type personData struct {
	Person   hostdb.User
	Tickets  []hostdb.Ticket
	Requests []hostdb.Request
	Lock     *authn.LockStatus
	Sessions []authn.Session
	HasTOTP  bool
	Owner    bool
	Self     bool
	StepUp   bool
}

func (a *App) person(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := a.host.User(ctx, a.acct, r.PathValue("id"))
	if err != nil {
		if errors.Is(err, gdprkit.ErrNotFound) {
			a.fail(w, r, http.StatusNotFound, "There is no such person. They may have been erased.")
			return
		}
		a.serverError(w, r, err)
		return
	}
	d := personData{Person: u, Owner: me(r).Role == hostdb.RoleOwner, Self: me(r).ID == u.ID}
	if u.Role == hostdb.RoleCustomer {
		d.Tickets, _, err = a.host.Tickets(ctx, a.acct, hostdb.TicketFilter{Requester: u.ID, Limit: 50})
	}
	if err == nil {
		d.Requests, err = a.host.Requests(ctx, a.acct, hostdb.RequestFilter{Subject: u.ID})
	}
	if err == nil && u.IsStaff() && d.Owner {
		var st authn.LockStatus
		if st, err = a.kit.Auth.LockStatus(ctx, a.acct, u.ID); err == nil {
			d.Lock = &st
			d.Sessions, err = a.kit.Auth.Sessions(ctx, a.acct, u.ID)
		}
		if err == nil {
			d.HasTOTP, err = a.kit.Auth.HasTOTP(ctx, a.acct, u.ID)
		}
		d.StepUp = a.stepUpNeeded(r)
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "person", u.Name, d)
}

// staffAction runs an owner's action on a staff member (never on
// themself: their own security page does that).
func (a *App) staffAction(h func(http.ResponseWriter, *http.Request, hostdb.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := a.host.User(r.Context(), a.acct, r.PathValue("id"))
		switch {
		case err != nil && !errors.Is(err, gdprkit.ErrNotFound):
			a.serverError(w, r, err)
		case err != nil || !u.IsStaff():
			a.fail(w, r, http.StatusNotFound, "There is no such staff member.")
		case u.ID == me(r).ID:
			a.refuse(w, r, "/people/"+u.ID, "Manage your own sign-in on your security page.")
		default:
			h(w, r, u)
		}
	}
}

// resetPassword gives a staff member a new random password, shown once to
// the owner to hand over; it also clears the lock and signs them out.
func (a *App) resetPassword(w http.ResponseWriter, r *http.Request, u hostdb.User) {
	pw, err := randomPassword()
	if err == nil {
		err = a.kit.Auth.SetPassword(r.Context(), a.acct, u.ID, pw)
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "people", "New password for "+u.Name, peopleData{Owner: true, Invite: &invited{Name: u.Name, Password: pw}})
}

// invite adds an agent with a random first password, shown once.
func (a *App) invite(w http.ResponseWriter, r *http.Request) {
	name, email, username := strings.TrimSpace(r.PostFormValue("name")), strings.ToLower(strings.TrimSpace(r.PostFormValue("email"))), strings.TrimSpace(r.PostFormValue("username"))
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || name == "" || len(name) > 200 || username == "" || len(username) > 64 {
		a.refuse(w, r, "/people?role=staff", "Give the new agent's name, e-mail address and a username.")
		return
	}
	pw, err := randomPassword()
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	u := hostdb.User{ID: "u-" + gdprkit.NewID(), Role: hostdb.RoleAgent, Name: name, Email: email}
	err = a.kit.Auth.CreateUser(r.Context(), a.acct, u.ID, username, pw)
	if err == nil {
		if err = a.host.AddUser(r.Context(), a.acct, u); err != nil {
			_, _ = a.kit.Auth.EraseUser(r.Context(), a.acct, u.ID)
		}
	}
	if errors.Is(err, gdprkit.ErrConflict) {
		a.refuse(w, r, "/people?role=staff", "That username or e-mail address is taken.")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "people", "Agent invited", peopleData{Owner: true, Invite: &invited{Name: name, Username: username, Password: pw}})
}

// auditData feeds the audit log viewer.
type auditData struct {
	Entries []auditRow
	Type    string
	Actor   string
	Next    int64
	Types   []string
	// TypeNames are the kinds of event in words.
	TypeNames map[string]string
	People    []hostdb.User
}

// auditRow is an audit entry in words.
type auditRow struct {
	hostdb.AuditEntry
	What  string
	Actor string
}

// auditPage shows the audit log, newest first, filtered by kind of event
// and by who acted.
func (a *App) auditPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := a.audit.Flush(ctx); err != nil {
		a.serverError(w, r, err)
		return
	}
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	d := auditData{Type: q.Get("type"), Actor: q.Get("actor"), Types: []string{"authn.", "consent.", "erasure.", "ipfilter.", "retention.", "spam."},
		TypeNames: map[string]string{"authn.": "sign-ins and security", "consent.": "consent", "erasure.": "privacy requests and erasures",
			"ipfilter.": "IP allow lists", "retention.": "account lifecycle and retention", "spam.": "spam filter"}}
	ps := string(a.kit.Erasure.SubjectPseudonym(a.acct, gdprkit.SubjectID(d.Actor)))
	entries, next, err := a.host.Audit(ctx, a.acct, hostdb.AuditFilter{Type: d.Type, Actor: d.Actor, SubjectPS: ps, Before: before})
	if err == nil {
		d.People, _, err = a.host.People(ctx, a.acct, hostdb.PeopleFilter{Role: "staff", Limit: 200})
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	names := map[string]string{}
	for _, p := range d.People {
		names[p.ID] = p.Name
		names[string(a.kit.Erasure.SubjectPseudonym(a.acct, gdprkit.SubjectID(p.ID)))] = p.Name
	}
	d.Next = next
	for _, e := range entries {
		row := auditRow{AuditEntry: e, What: eventWords(e.Type), Actor: names[e.Actor]}
		if e.Actor == "" {
			row.Actor = names[e.SubjectPS] // authn names the user by pseudonym only
		}
		switch {
		case row.Actor != "":
		case strings.HasPrefix(e.Actor, "system"):
			row.Actor = "the helpdesk itself"
		case strings.HasPrefix(e.Actor, "ps_"):
			row.Actor = "a person since erased"
		case strings.HasPrefix(e.Actor, "c-"):
			row.Actor = "a customer"
		case e.Actor == "":
			row.Actor = "—"
		default:
			row.Actor = e.Actor
		}
		d.Entries = append(d.Entries, row)
	}
	a.render(w, r, http.StatusOK, "audit", "Audit log", d)
}

// eventWords says what an audit event type means.
func eventWords(t string) string {
	if s, ok := eventNames[t]; ok {
		return s
	}
	pkg, what, _ := strings.Cut(t, ".")
	return strings.ToUpper(words(what)[:1]) + words(what)[1:] + " (" + pkg + ")"
}

var eventNames = map[string]string{
	"authn.login_succeeded": "Signed in", "authn.login_failed": "Failed sign-in", "authn.second_factor_required": "Asked for a two-factor code",
	"authn.locked": "Sign-in locked after failed attempts", "authn.account_denied": "Sign-in refused: account suspended or closed",
	"authn.ip_denied": "Sign-in refused: address not allowed", "authn.user_created": "Staff login created", "authn.password_changed": "Password changed",
	"authn.user_disabled": "Staff login disabled", "authn.user_enabled": "Staff login enabled again", "authn.user_erased": "Login data erased",
	"authn.unlocked": "Sign-in unlocked", "authn.totp_enrolled": "Two-factor sign-in turned on", "authn.totp_removed": "Two-factor sign-in removed",
	"authn.totp_failed": "Wrong two-factor code", "authn.recovery_codes_generated": "New recovery codes", "authn.recovery_code_used": "Recovery code used",
	"authn.token_created": "API token created", "authn.token_revoked": "API token revoked", "authn.token_authenticated": "API call with a token",
	"authn.token_failed": "API call refused", "authn.sessions_revoked": "Signed out everywhere", "authn.logout": "Signed out",
	"authn.session_rejected": "Session ended (expired or revoked)", "authn.step_up": "Confirmed identity for a security change",
	"consent.granted": "Consent given", "consent.withdrawn": "Consent withdrawn", "consent.pseudonymized": "Consent records pseudonymised",
	"erasure.requested": "Privacy request filed", "erasure.completed": "Erasure completed", "erasure.failed": "Erasure failed",
	"erasure.run_failed": "Erasure run failed; it will retry", "erasure.hold_placed": "Legal hold placed", "erasure.hold_released": "Legal hold released",
	"ipfilter.denied": "Access refused by the IP allow list", "ipfilter.rules_changed": "IP allow lists changed",
	"consent.policy_published": "New policy text published", "consent.account_deleted": "Account's consent records deleted",
	"erasure.access_exported": "Data export handed out", "erasure.extended": "Due date extended", "erasure.rejected": "Privacy request rejected",
	"erasure.retried": "Failed erasure retried", "erasure.verified": "Identity verified for a request", "erasure.record_deleted": "Record deleted permanently",
	"erasure.account_erased": "Account's data erased", "erasure.re_erased": "Erasure repeated after a restore", "erasure.recipient_notified": "Recipient told of an erasure",
	"spam.pruned": "Spam filter pruned", "spam.reset": "Spam filter reset",
	"retention.transition": "Account lifecycle changed", "retention.step": "Lifecycle step carried out", "retention.rule_run": "Retention rule ran",
}
