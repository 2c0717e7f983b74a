package main

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/retention"
)

func (a *App) authRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, r, http.StatusOK, "login", "Staff sign-in", nil)
	})
	m.HandleFunc("GET /reinstate", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, r, http.StatusOK, "reinstate", "Reinstate this helpdesk", reinstateData{})
	})
	m.HandleFunc("POST /reinstate", a.reinstate)
	m.HandleFunc("POST /login", a.login)
	m.HandleFunc("POST /login/2fa", a.login2FA)
	m.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil {
			_ = a.kit.Auth.Logout(r.Context(), a.acct, c.Value)
		}
		http.SetCookie(w, a.cookie(sessionCookie, "", -1))
		a.done(w, r, "/login", "You are signed out.")
	})
	m.Handle("GET /security", a.staff(false, a.security))
	m.Handle("POST /stepup", a.staff(false, a.stepUp))
	m.Handle("POST /security/totp", a.staff(false, a.beginTOTP))
	m.Handle("POST /security/totp/confirm", a.staff(false, a.confirmTOTP))
	m.Handle("POST /security/recovery", a.staff(false, a.newRecoveryCodes))
	m.Handle("POST /security/tokens", a.staff(false, a.createToken))
	m.Handle("POST /security/tokens/{id}/revoke", a.staff(false, func(w http.ResponseWriter, r *http.Request) {
		if err := a.kit.Auth.RevokeToken(r.Context(), a.acct, me(r).ID, r.PathValue("id")); err != nil {
			if errors.Is(err, gdprkit.ErrNotFound) {
				a.fail(w, r, http.StatusNotFound, "There is no such token.")
				return
			}
			a.serverError(w, r, err)
			return
		}
		a.done(w, r, "/security", "The token was revoked: it no longer works.")
	}))
}

// deviceCookie keeps the trusted-device token authn hands out at a
// successful login: attempts from this browser are then counted apart from
// everyone else's, so nobody else's failed guesses can lock its user out.
const deviceCookie = "hd_device"

// loginData is the login page's state: a second-factor challenge, if any.
type loginData struct {
	Challenge string
	Username  string
}

func device(r *http.Request) string {
	if c, err := r.Cookie(deviceCookie); err == nil {
		return c.Value
	}
	return ""
}

// loginFailed answers a failed login: 503 with Retry-After when the store
// is unavailable (nothing was held against the user), 429 when throttled,
// 401 otherwise. The words depend only on the error, never on whether the
// username exists.
func (a *App) loginFailed(w http.ResponseWriter, r *http.Request, title string, err error, d loginData) {
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, gdprkit.ErrUnavailable):
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	case errors.Is(err, gdprkit.ErrLocked):
		status = http.StatusTooManyRequests
	}
	a.render(w, r, status, "login", title, errorData{msg: loginError(err), D: d})
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	username := strings.TrimSpace(r.PostFormValue("username"))
	res, err := a.kit.Auth.Login(r.Context(), authn.LoginRequest{Account: a.acct, Username: username, Password: r.PostFormValue("password"),
		IP: a.clientIP(r), Device: device(r)})
	if err != nil {
		a.loginFailed(w, r, "Staff sign-in", err, loginData{Username: username})
		return
	}
	if res.NeedsSecondFactor() {
		a.render(w, r, http.StatusOK, "login", "Two-factor code", loginData{Challenge: res.Challenge, Username: username})
		return
	}
	a.startSession(w, r, res)
}

func (a *App) login2FA(w http.ResponseWriter, r *http.Request) {
	challenge := r.PostFormValue("challenge")
	res, err := a.kit.Auth.CompleteLogin(r.Context(), authn.SecondFactorRequest{Account: a.acct, Challenge: challenge,
		Code: strings.TrimSpace(r.PostFormValue("code")), IP: a.clientIP(r), Device: device(r)})
	if err != nil {
		a.loginFailed(w, r, "Two-factor code", err, loginData{Challenge: challenge})
		return
	}
	a.startSession(w, r, res)
}

func (a *App) startSession(w http.ResponseWriter, r *http.Request, res authn.LoginResult) {
	http.SetCookie(w, a.cookie(sessionCookie, res.SessionToken, 0))
	if res.DeviceToken != "" {
		http.SetCookie(w, a.cookie(deviceCookie, res.DeviceToken, 90*24*3600))
	}
	redirect(w, r, "/inbox")
}

// principal is the authn principal of the staff request (see staff).
func principal(r *http.Request) authn.Principal {
	p, _ := r.Context().Value(keyPrincipal).(authn.Principal)
	return p
}

// stepUpNeeded reports whether a security change would now ask the user to
// confirm it is them.
func (a *App) stepUpNeeded(r *http.Request) bool {
	return errors.Is(a.kit.Auth.RequireStepUp(r.Context(), principal(r)), authn.ErrStepUpRequired)
}

// stepUpMsg is shown when a security change was refused for want of a
// recent step-up.
const stepUpMsg = "For your safety, confirm it is you (your password or a code) before changing security settings, then try again."

// stepUp confirms the user's password or a code for the current session,
// then goes back to the page that asked (security or account).
func (a *App) stepUp(w http.ResponseWriter, r *http.Request) {
	next := "/security"
	if r.PostFormValue("next") == "/account" {
		next = "/account"
	}
	req := authn.StepUpRequest{Principal: principal(r), IP: a.clientIP(r), Device: device(r)}
	if code := strings.TrimSpace(r.PostFormValue("code")); code != "" {
		req.Code = code
	} else {
		req.Password = r.PostFormValue("password")
	}
	if req.Password == "" && req.Code == "" {
		a.refuse(w, r, next, "Enter your password or a code.")
		return
	}
	up, err := a.kit.Auth.StepUp(r.Context(), req)
	if err != nil {
		if errors.Is(err, gdprkit.ErrUnavailable) {
			w.Header().Set("Retry-After", "5")
			a.fail(w, r, http.StatusServiceUnavailable, "The service is busy or restarting; nothing was changed. Please try again in a few seconds.")
			return
		}
		a.refuse(w, r, next, loginError(err))
		return
	}
	// The step-up replaced the session: a new token, as after a login.
	http.SetCookie(w, a.cookie(sessionCookie, up.SessionToken, 0))
	if up.DeviceToken != "" {
		http.SetCookie(w, a.cookie(deviceCookie, up.DeviceToken, 90*24*3600))
	}
	a.done(w, r, next, "Confirmed. You can change security settings for the next few minutes.")
}

// securityData feeds the security page.
type securityData struct {
	HasTOTP       bool
	RecoveryLeft  int
	Tokens        []authn.APIToken
	Sessions      []authn.Session
	NewToken      string
	Enrolment     *authn.Enrolment
	QR            []byte
	RecoveryCodes []string
	Relogin       bool
	StepUp        bool
}

func (a *App) securityData(r *http.Request) (securityData, error) {
	ctx, id := r.Context(), me(r).ID
	var d securityData
	var err error
	if d.HasTOTP, err = a.kit.Auth.HasTOTP(ctx, a.acct, id); err != nil {
		return d, err
	}
	if d.RecoveryLeft, err = a.kit.Auth.RecoveryCodesLeft(ctx, a.acct, id); err != nil {
		return d, err
	}
	if d.Tokens, err = a.kit.Auth.Tokens(ctx, a.acct, id); err != nil {
		return d, err
	}
	d.StepUp = a.stepUpNeeded(r)
	d.Sessions, err = a.kit.Auth.Sessions(ctx, a.acct, id)
	return d, err
}

func (a *App) security(w http.ResponseWriter, r *http.Request) {
	d, err := a.securityData(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "security", "Security", d)
}

// securityRefused shows the security page again with why a change was
// refused: a step-up is needed (403), or msg.
func (a *App) securityRefused(w http.ResponseWriter, r *http.Request, err error, msg string) {
	d, derr := a.securityData(r)
	if derr != nil {
		a.serverError(w, r, derr)
		return
	}
	status := http.StatusUnprocessableEntity
	if errors.Is(err, authn.ErrStepUpRequired) {
		status, msg, d.StepUp = http.StatusForbidden, stepUpMsg, true
	}
	a.render(w, r, status, "security", "Security", errorData{msg: msg, D: d})
}

func (a *App) beginTOTP(w http.ResponseWriter, r *http.Request) {
	u := me(r)
	enr, err := a.kit.Auth.BeginTOTP(r.Context(), principal(r), strings.ReplaceAll(u.Email, ":", ""))
	if errors.Is(err, authn.ErrStepUpRequired) {
		a.securityRefused(w, r, err, "")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	png, err := enr.Key.QRCode()
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d, err := a.securityData(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d.Enrolment, d.QR = &enr, png
	a.render(w, r, http.StatusOK, "security", "Set up two-factor login", d)
}

func (a *App) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	codes, err := a.kit.Auth.ConfirmTOTP(r.Context(), principal(r), strings.TrimSpace(r.PostFormValue("code")))
	if err != nil {
		msg := "That code did not match. Scan the QR code again (Set up) and enter the current code."
		if errors.Is(err, gdprkit.ErrLocked) {
			msg = loginError(err)
		}
		a.securityRefused(w, r, err, msg)
		return
	}
	// ConfirmTOTP revoked every session of the user: the second factor
	// changed, so they log in again, this time with a code. It returned
	// the first set of recovery codes.
	http.SetCookie(w, a.cookie(sessionCookie, "", -1))
	a.render(w, r, http.StatusOK, "security", "Two-factor login is on", securityData{HasTOTP: true, RecoveryCodes: codes, Relogin: true})
}

func (a *App) newRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	codes, err := a.kit.Auth.GenerateRecoveryCodes(r.Context(), principal(r))
	if errors.Is(err, authn.ErrStepUpRequired) {
		a.securityRefused(w, r, err, "")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d, err := a.securityData(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d.RecoveryCodes = codes
	a.render(w, r, http.StatusOK, "security", "New recovery codes", d)
}

func (a *App) createToken(w http.ResponseWriter, r *http.Request) {
	spec := authn.TokenSpec{Name: strings.TrimSpace(r.PostFormValue("name")), Scopes: []string{"tickets:read"}}
	if r.PostFormValue("write") == "yes" {
		spec.Scopes = append(spec.Scopes, "tickets:write")
	}
	if days := r.PostFormValue("days"); days != "" && days != "0" {
		n, err := time.ParseDuration(days + "h")
		if err == nil {
			spec.ExpiresAt = a.now().Add(24 * n)
		}
	}
	tok, _, err := a.kit.Auth.CreateToken(r.Context(), principal(r), spec)
	if err != nil {
		a.securityRefused(w, r, err, "Could not create the token: "+err.Error())
		return
	}
	d, err := a.securityData(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d.NewToken = tok
	a.render(w, r, http.StatusOK, "security", "API token created", d)
}

// reinstateData feeds the reinstatement page.
type reinstateData struct {
	Username  string
	Challenge string
	Event     string
	Done      string
}

// reinstate lets the owner of a suspended account, who cannot sign in
// (nobody can while it is suspended), prove who they are with their
// password (and code) and either pay (the demo stands in for the billing
// system: the account is reinstated at once) or ask for the suspension to
// be lifted, which stops the countdown to termination. The check goes through
// authn without the lifecycle gate (Kit.OwnerAuth); no session is kept.
func (a *App) reinstate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := reinstateData{Username: strings.TrimSpace(r.PostFormValue("username")), Event: r.PostFormValue("event")}
	ev := retention.Event(d.Event)
	if ev != retention.EventReinstate && ev != retention.EventRequestLift {
		a.render(w, r, http.StatusUnprocessableEntity, "reinstate", "Reinstate this helpdesk", errorData{msg: "Choose what ends the suspension.", D: d})
		return
	}
	var res authn.LoginResult
	var err error
	if ch := r.PostFormValue("challenge"); ch != "" {
		res, err = a.kit.OwnerAuth.CompleteLogin(ctx, authn.SecondFactorRequest{Account: a.acct, Challenge: ch,
			Code: strings.TrimSpace(r.PostFormValue("code")), IP: a.clientIP(r), Device: device(r)})
	} else {
		res, err = a.kit.OwnerAuth.Login(ctx, authn.LoginRequest{Account: a.acct, Username: d.Username, Password: r.PostFormValue("password"),
			IP: a.clientIP(r), Device: device(r)})
	}
	if err != nil {
		if errors.Is(err, gdprkit.ErrUnavailable) {
			a.serverError(w, r, err)
			return
		}
		a.render(w, r, http.StatusUnauthorized, "reinstate", "Reinstate this helpdesk", errorData{msg: loginError(err), D: d})
		return
	}
	if res.NeedsSecondFactor() {
		d.Challenge = res.Challenge
		a.render(w, r, http.StatusOK, "reinstate", "Reinstate this helpdesk", d)
		return
	}
	_ = a.kit.OwnerAuth.Logout(ctx, a.acct, res.SessionToken)
	u, err := a.host.User(ctx, a.acct, res.Session.UserID)
	if err != nil || u.Role != hostdb.RoleOwner {
		a.render(w, r, http.StatusForbidden, "reinstate", "Reinstate this helpdesk", errorData{msg: "Only the account owner can reinstate the helpdesk. Ask them to.", D: d})
		return
	}
	if _, err := a.kit.Life.Apply(ctx, a.acct, ev, gdprkit.ActorID(u.ID)); err != nil {
		if errors.Is(err, gdprkit.ErrUnavailable) {
			a.serverError(w, r, err)
			return
		}
		a.render(w, r, http.StatusConflict, "reinstate", "Reinstate this helpdesk", errorData{msg: "That does not apply to the account as it stands: " + err.Error(), D: d})
		return
	}
	if ev == retention.EventRequestLift {
		a.done(w, r, "/reinstate", "Your request to lift the suspension is recorded; the account will not be closed while it is looked at.")
		return
	}
	a.done(w, r, "/login", "The helpdesk is reinstated. Everyone can sign in again.")
}
