package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

//go:embed templates/*.html
var templateFS embed.FS

const (
	sessionCookie = "hd_session"
	portalCookie  = "hd_portal"
	csrfCookie    = "hd_csrf"
	csrfField     = "csrf"
)

func (a *App) parseTemplates() error {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04")
		},
		"day":     func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"pct":     func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"prob":    func(f float64) string { return fmt.Sprintf("%.2f", f) },
		"b64":     func(b []byte) string { return base64.StdEncoding.EncodeToString(b) },
		"jsonfmt": func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
	}
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		return err
	}
	a.pages = map[string]*template.Template{}
	for _, e := range entries {
		name := e.Name()
		if name == "layout.html" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err != nil {
			return err
		}
		a.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return nil
}

// page is what every template gets.
type page struct {
	Title   string
	Me      *User
	CSRF    string
	Demo    bool
	Now     time.Time
	Flash   string
	Error   string
	Account gdprkit.AccountID
	D       any
}

type ctxKey int

const (
	keyCSRF ctxKey = iota
	keyUser
	keyPrincipal
)

func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name, title string, d any) {
	p := page{Title: title, CSRF: csrfFrom(r), Demo: a.fake != nil, Now: a.now(), Account: a.acct, D: d,
		Flash: r.URL.Query().Get("flash"), Error: r.URL.Query().Get("error")}
	if u, ok := r.Context().Value(keyUser).(*User); ok {
		p.Me = u
	}
	if e, ok := d.(errorData); ok {
		p.Error, p.D = e.msg, e.D
	}
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		a.log.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorData makes render show an error message.
type errorData struct {
	msg string
	D   any
}

func (a *App) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	a.render(w, r, status, "message", "Error", errorData{msg: msg})
}

// serverError logs err (never personal data: only the error) and answers 500.
func (a *App) serverError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("request failed", "path", r.URL.Path, "err", err)
	a.fail(w, r, http.StatusInternalServerError, "Something went wrong.")
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// cookie builds a session-style cookie with the security attributes a
// reviewer expects.
func (a *App) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: a.cfg.TLS, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
}

// clientIP is the client address as ipfilter sees it.
func (a *App) clientIP(r *http.Request) netip.Addr {
	ip, _ := a.IPs.ClientIP(r)
	return ip
}

// ---- middleware ----

func (a *App) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'none'; form-action 'self'; frame-ancestors 'none'")
		if a.cfg.TLS {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// csrf implements signed double-submit tokens: a random HttpOnly cookie,
// and in every form its HMAC under the app's CSRF key. Every unsafe request
// outside the API (which uses no cookies) must carry it.
func (a *App) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		c, err := r.Cookie(csrfCookie)
		seed := ""
		if err == nil && len(c.Value) == 32 {
			seed = c.Value
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
			got := r.PostFormValue(csrfField)
			if seed == "" || !hmac.Equal([]byte(got), []byte(a.csrfToken(seed))) {
				a.fail(w, r, http.StatusForbidden, "The form expired or did not come from this site. Go back, reload and try again.")
				return
			}
		}
		if seed == "" {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			seed = hex.EncodeToString(b)
			http.SetCookie(w, a.cookie(csrfCookie, seed, 0))
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyCSRF, a.csrfToken(seed))))
	})
}

func (a *App) csrfToken(seed string) string {
	m := hmac.New(sha256.New, a.csrfKey)
	m.Write([]byte(seed))
	return hex.EncodeToString(m.Sum(nil))
}

func csrfFrom(r *http.Request) string { s, _ := r.Context().Value(keyCSRF).(string); return s }

// staff requires a logged-in agent or owner (minRole owner: the owner
// only). Authentication goes through authn, which asks retention's gate and
// ipfilter's allow list on every request.
func (a *App) staff(owner bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			redirect(w, r, "/login")
			return
		}
		p, err := a.Auth.AuthenticateSession(r.Context(), authn.SessionRequest{Account: a.acct, Token: c.Value, IP: a.clientIP(r)})
		if errors.Is(err, gdprkit.ErrUnavailable) {
			// The database is down or restarting: the session may be fine,
			// so the user stays logged in and is asked to retry.
			w.Header().Set("Retry-After", "5")
			a.fail(w, r, http.StatusServiceUnavailable, "The service is busy or restarting. Please try again in a few seconds.")
			return
		}
		if err != nil {
			http.SetCookie(w, a.cookie(sessionCookie, "", -1))
			redirect(w, r, "/login?error="+urlQuery(loginError(err)))
			return
		}
		u, err := a.user(r.Context(), a.acct, p.UserID)
		if err != nil || !u.IsStaff() {
			http.SetCookie(w, a.cookie(sessionCookie, "", -1))
			redirect(w, r, "/login")
			return
		}
		if owner && u.Role != roleOwner {
			a.fail(w, r, http.StatusForbidden, "Only the account owner may do this.")
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), keyUser, &u), keyPrincipal, p)
		h(w, r.WithContext(ctx))
	})
}

func me(r *http.Request) User { return *r.Context().Value(keyUser).(*User) }

// loginError turns an authn error into words for the login page.
func loginError(err error) string {
	switch {
	case errors.Is(err, gdprkit.ErrAccountSuspended):
		return "This helpdesk account is suspended: nobody can log in until it is reinstated."
	case errors.Is(err, gdprkit.ErrAccountTerminated):
		return "This helpdesk account has been terminated."
	case errors.Is(err, gdprkit.ErrForbidden):
		return "Your IP address is not on this account's allow list."
	case errors.Is(err, gdprkit.ErrLocked):
		// The same words for every username, real or not: authn counts
		// unknown names like real ones.
		var te *authn.ThrottledError
		if errors.As(err, &te) && te.Locked {
			return "Too many failed attempts: sign-in from this browser is blocked. Sign in from a browser you have used before, or ask the account owner to unlock your login."
		}
		if errors.As(err, &te) {
			return "Too many attempts. Try again after " + te.Until.UTC().Format("15:04:05") + " UTC."
		}
		return "Too many attempts. Try again in a minute."
	case errors.Is(err, gdprkit.ErrUnavailable):
		return "The service is busy or restarting; nothing was held against you. Please try again in a few seconds."
	case errors.Is(err, gdprkit.ErrUnauthenticated):
		return "Wrong username, password or code, or your session ended."
	}
	return "Login failed."
}

func urlQuery(s string) string { return url.QueryEscape(s) }

func (a *App) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", a.home)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	a.authRoutes(m)
	a.ticketRoutes(m)
	a.portalRoutes(m)
	a.privacyRoutes(m)
	a.processingRoutes(m)
	a.accountRoutes(m)
	a.apiRoutes(m)
	a.breachRoutes(m)
	a.supportRoutes(m)
	return a.securityHeaders(a.csrf(m))
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(sessionCookie); err == nil {
		redirect(w, r, "/inbox")
		return
	}
	a.render(w, r, http.StatusOK, "home", "gdprkit Helpdesk", nil)
}
