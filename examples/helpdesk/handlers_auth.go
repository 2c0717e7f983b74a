package main

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

func (a *App) authRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, r, http.StatusOK, "login", "Agent login", nil)
	})
	m.HandleFunc("POST /login", a.login)
	m.HandleFunc("POST /login/2fa", a.login2FA)
	m.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil {
			_ = a.Auth.Logout(r.Context(), a.acct, c.Value)
		}
		http.SetCookie(w, a.cookie(sessionCookie, "", -1))
		redirect(w, r, "/login?flash=Logged+out.")
	})
	m.Handle("GET /security", a.staff(false, a.security))
	m.Handle("POST /security/totp", a.staff(false, a.beginTOTP))
	m.Handle("POST /security/totp/confirm", a.staff(false, a.confirmTOTP))
	m.Handle("POST /security/recovery", a.staff(false, a.newRecoveryCodes))
	m.Handle("POST /security/tokens", a.staff(false, a.createToken))
	m.Handle("POST /security/tokens/{id}/revoke", a.staff(false, func(w http.ResponseWriter, r *http.Request) {
		if err := a.Auth.RevokeToken(r.Context(), a.acct, me(r).ID, r.PathValue("id")); err != nil {
			a.fail(w, r, http.StatusNotFound, "No such token.")
			return
		}
		redirect(w, r, "/security?flash=Token+revoked.")
	}))
}

// loginData is the login page's state: a second-factor challenge, if any.
type loginData struct {
	Challenge string
	Username  string
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	username := strings.TrimSpace(r.PostFormValue("username"))
	res, err := a.Auth.Login(r.Context(), authn.LoginRequest{Account: a.acct, Username: username, Password: r.PostFormValue("password"), IP: a.clientIP(r)})
	if err != nil {
		a.render(w, r, http.StatusUnauthorized, "login", "Agent login", errorData{msg: loginError(err), D: loginData{Username: username}})
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
	res, err := a.Auth.CompleteLogin(r.Context(), authn.SecondFactorRequest{Account: a.acct, Challenge: challenge,
		Code: strings.TrimSpace(r.PostFormValue("code")), IP: a.clientIP(r)})
	if err != nil {
		a.render(w, r, http.StatusUnauthorized, "login", "Two-factor code", errorData{msg: loginError(err), D: loginData{Challenge: challenge}})
		return
	}
	a.startSession(w, r, res)
}

func (a *App) startSession(w http.ResponseWriter, r *http.Request, res authn.LoginResult) {
	http.SetCookie(w, a.cookie(sessionCookie, res.SessionToken, 0))
	redirect(w, r, "/inbox")
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
}

func (a *App) securityData(r *http.Request) (securityData, error) {
	ctx, id := r.Context(), me(r).ID
	var d securityData
	var err error
	if d.HasTOTP, err = a.Auth.HasTOTP(ctx, a.acct, id); err != nil {
		return d, err
	}
	if d.RecoveryLeft, err = a.Auth.RecoveryCodesLeft(ctx, a.acct, id); err != nil {
		return d, err
	}
	if d.Tokens, err = a.Auth.Tokens(ctx, a.acct, id); err != nil {
		return d, err
	}
	d.Sessions, err = a.Auth.Sessions(ctx, a.acct, id)
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

func (a *App) beginTOTP(w http.ResponseWriter, r *http.Request) {
	u := me(r)
	enr, err := a.Auth.BeginTOTP(r.Context(), a.acct, u.ID, strings.ReplaceAll(u.Email, ":", ""))
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
	u := me(r)
	if err := a.Auth.ConfirmTOTP(r.Context(), a.acct, u.ID, strings.TrimSpace(r.PostFormValue("code"))); err != nil {
		d, _ := a.securityData(r)
		msg := "That code did not match. Scan the QR code again (Set up) and enter the current code."
		if errors.Is(err, gdprkit.ErrLocked) {
			msg = loginError(err)
		}
		a.render(w, r, http.StatusUnprocessableEntity, "security", "Security", errorData{msg: msg, D: d})
		return
	}
	codes, err := a.Auth.GenerateRecoveryCodes(r.Context(), a.acct, u.ID)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	// ConfirmTOTP revoked every session of the user: the second factor
	// changed, so they log in again, this time with a code.
	http.SetCookie(w, a.cookie(sessionCookie, "", -1))
	a.render(w, r, http.StatusOK, "security", "Two-factor login is on", securityData{HasTOTP: true, RecoveryCodes: codes, Relogin: true})
}

func (a *App) newRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	codes, err := a.Auth.GenerateRecoveryCodes(r.Context(), a.acct, me(r).ID)
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
	tok, _, err := a.Auth.CreateToken(r.Context(), a.acct, me(r).ID, spec)
	if err != nil {
		d, _ := a.securityData(r)
		a.render(w, r, http.StatusUnprocessableEntity, "security", "Security", errorData{msg: "Could not create the token: " + err.Error(), D: d})
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
