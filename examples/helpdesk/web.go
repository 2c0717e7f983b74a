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
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
)

//go:embed templates/*.html
var templateFS embed.FS

const (
	sessionCookie = "hd_session"
	portalCookie  = "hd_portal"
	csrfCookie    = "hd_csrf"
	flashCookie   = "hd_flash"
	csrfField     = "csrf"
)

// Body limits, applied before a form is read: the contact form and the
// portal carry an attachment of up to maxFile; every other form is small.
const (
	maxFile       = 2 << 20
	maxUploadBody = maxFile + 1<<20
	maxFormBody   = 256 << 10
	maxAPIBody    = 1 << 20
	// maxMessage is the longest message text accepted, in bytes.
	maxMessage = 20_000
)

func (a *App) parseTemplates() error {
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
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name)
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
	Me      *hostdb.User
	CSRF    string
	Demo    bool
	Now     time.Time
	Flash   string
	Error   string
	Account gdprkit.AccountID
	Path    string
	D       any
}

type ctxKey int

const (
	keyCSRF ctxKey = iota
	keyUser
	keyPrincipal
)

func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name, title string, d any) {
	p := page{Title: title, CSRF: csrfFrom(r), Demo: a.fake != nil, Now: a.now(), Account: a.acct, D: d, Path: r.URL.Path}
	if u, ok := r.Context().Value(keyUser).(*hostdb.User); ok {
		p.Me = u
	}
	if kind, msg, ok := a.readFlash(r); ok {
		if kind == "e" {
			p.Error = msg
		} else {
			p.Flash = msg
		}
		http.SetCookie(w, a.cookie(flashCookie, "", -1))
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
	a.render(w, r, status, "message", "Sorry", errorData{msg: msg})
}

// retryAfter is what a 503 tells clients to wait, in seconds.
const retryAfter = "5"

// unavailable answers 503 with Retry-After and a "try again" page: the
// database cannot be reached just now. Nothing was lost, and nobody is
// logged out.
func (a *App) unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", retryAfter)
	a.render(w, r, http.StatusServiceUnavailable, "unavailable", "Please try again", r.Method)
}

// serverError answers a failed request: 503 when the database is
// unavailable or the request ended (nothing happened; try again), 500
// otherwise. It logs the cause, which never holds personal data.
func (a *App) serverError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(r.Context().Err(), context.DeadlineExceeded):
		a.log.Warn("database did not answer in time", "path", r.URL.Path, "err", err)
		a.unavailable(w, r)
	case r.Context().Err() != nil:
		a.log.Info("client went away before the answer", "path", r.URL.Path, "err", err)
		a.unavailable(w, r)
	case errors.Is(err, gdprkit.ErrUnavailable):
		a.log.Warn("database unavailable", "path", r.URL.Path, "err", err)
		a.unavailable(w, r)
	default:
		a.log.Error("request failed", "path", r.URL.Path, "err", err)
		a.fail(w, r, http.StatusInternalServerError, "Something went wrong on our side. It has been logged.")
	}
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// done redirects to a page that shows msg as a confirmation.
func (a *App) done(w http.ResponseWriter, r *http.Request, to, msg string) {
	http.SetCookie(w, a.cookie(flashCookie, a.signFlash("i", msg), 60))
	redirect(w, r, to)
}

// refuse redirects to a page that shows msg as an error.
func (a *App) refuse(w http.ResponseWriter, r *http.Request, to, msg string) {
	http.SetCookie(w, a.cookie(flashCookie, a.signFlash("e", msg), 60))
	redirect(w, r, to)
}

// Flash messages travel in a short-lived signed cookie, never in the URL:
// a link cannot make the app show words it did not write.
func (a *App) signFlash(kind, msg string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(kind + msg))
	m := hmac.New(sha256.New, a.flashKey)
	m.Write([]byte(payload))
	return payload + "." + hex.EncodeToString(m.Sum(nil)[:16])
}

func (a *App) readFlash(r *http.Request) (kind, msg string, ok bool) {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return "", "", false
	}
	payload, mac, found := strings.Cut(c.Value, ".")
	m := hmac.New(sha256.New, a.flashKey)
	m.Write([]byte(payload))
	if !found || !hmac.Equal([]byte(mac), []byte(hex.EncodeToString(m.Sum(nil)[:16]))) {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || len(b) < 1 {
		return "", "", false
	}
	return string(b[:1]), string(b[1:]), true
}

// cookie builds a session-style cookie with the security attributes a
// reviewer expects.
func (a *App) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: a.cfg.TLS, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
}

// clientIP is the client address as ipfilter sees it.
func (a *App) clientIP(r *http.Request) netip.Addr {
	ip, _ := a.kit.IPs.ClientIP(r)
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

// bodyLimit is the largest body a request to path may send.
func bodyLimit(path string) int64 {
	switch {
	case strings.HasPrefix(path, "/api/"):
		return maxAPIBody
	case path == "/contact", strings.HasPrefix(path, "/portal/"):
		return maxUploadBody
	}
	return maxFormBody
}

// tooLarge answers 413 with a page that says what the limit is.
func (a *App) tooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	w.Header().Set("Connection", "close")
	msg := fmt.Sprintf("That was too much to send at once: at most %d KiB, an attachment included. Go back, shorten the message or attach a smaller file, and send again.", limit>>10)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": msg})
		return
	}
	a.fail(w, r, http.StatusRequestEntityTooLarge, msg)
}

// csrf limits request bodies and checks signed double-submit tokens: a
// random HttpOnly cookie, and in every form its HMAC under the app's CSRF
// key. Every unsafe request outside the API (which uses no cookies) must
// carry it. The body limit applies before anything is read, so an
// oversized form is answered 413, never mistaken for a forged one.
func (a *App) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead
		if unsafe {
			limit := bodyLimit(r.URL.Path)
			if r.ContentLength > limit {
				a.tooLarge(w, r, limit)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		c, err := r.Cookie(csrfCookie)
		seed := ""
		if err == nil && len(c.Value) == 32 {
			seed = c.Value
		}
		if unsafe {
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				err = r.ParseMultipartForm(1 << 20)
			} else {
				err = r.ParseForm()
			}
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &mbe):
				a.tooLarge(w, r, mbe.Limit)
				return
			case err != nil && r.Context().Err() != nil:
				return // the client went away mid-upload
			case err != nil:
				a.fail(w, r, http.StatusBadRequest, "The form could not be read. Go back, reload and try again.")
				return
			}
			if seed == "" || !hmac.Equal([]byte(r.PostFormValue(csrfField)), []byte(a.csrfToken(seed))) {
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

// staff requires a logged-in agent or owner (owner: the owner only).
// Authentication goes through authn, which asks retention's gate and
// ipfilter's allow list on every request. A database outage answers 503
// and keeps the session: the user stays logged in.
func (a *App) staff(owner bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			redirect(w, r, "/login")
			return
		}
		p, err := a.kit.Auth.AuthenticateSession(r.Context(), authn.SessionRequest{Account: a.acct, Token: c.Value, IP: a.clientIP(r)})
		if errors.Is(err, gdprkit.ErrUnavailable) {
			a.serverError(w, r, err)
			return
		}
		if err != nil {
			http.SetCookie(w, a.cookie(sessionCookie, "", -1))
			a.refuse(w, r, "/login", loginError(err))
			return
		}
		u, err := a.host.User(r.Context(), a.acct, p.UserID)
		if err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
			a.serverError(w, r, err)
			return
		}
		if err != nil || !u.IsStaff() || !u.DisabledAt.IsZero() {
			http.SetCookie(w, a.cookie(sessionCookie, "", -1))
			redirect(w, r, "/login")
			return
		}
		if owner && u.Role != hostdb.RoleOwner {
			a.fail(w, r, http.StatusForbidden, "Only the account owner may do this.")
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), keyUser, &u), keyPrincipal, p)
		h(w, r.WithContext(ctx))
	})
}

func me(r *http.Request) hostdb.User { return *r.Context().Value(keyUser).(*hostdb.User) }

// loginError turns an authn error into words for the login page.
func loginError(err error) string {
	switch {
	case errors.Is(err, gdprkit.ErrAccountSuspended):
		return "This helpdesk account is suspended: nobody can sign in until it is reinstated. The account owner can reinstate it on the reinstatement page."
	case errors.Is(err, gdprkit.ErrAccountTerminated):
		return "This helpdesk account has been closed."
	case errors.Is(err, gdprkit.ErrForbidden):
		return "Your network address is not on this account's allow list. Ask the account owner to add it."
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
		return "The helpdesk is busy or restarting; nothing was held against you. Please try again in a few seconds."
	case errors.Is(err, gdprkit.ErrUnauthenticated):
		return "Wrong username, password or code, or your session ended."
	}
	return "Sign-in failed."
}

func (a *App) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", a.home)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	a.authRoutes(m)
	a.ticketRoutes(m)
	a.portalRoutes(m)
	a.privacyRoutes(m)
	a.peopleRoutes(m)
	a.processingRoutes(m)
	a.accountRoutes(m)
	a.apiRoutes(m)
	a.breachRoutes(m)
	a.supportRoutes(m)
	a.residueRoutes(m)
	return a.securityHeaders(a.timeout(a.csrf(a.admit(m))))
}

// timeout bounds the request's wait for the database: a pool that is
// exhausted or a database that does not answer ends in a 503 with
// Retry-After, never in a request hanging on.
func (a *App) timeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.RequestTimeout < 0 {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(sessionCookie); err == nil {
		redirect(w, r, "/inbox")
		return
	}
	a.render(w, r, http.StatusOK, "home", "gdprkit Helpdesk", nil)
}

// ---- template helpers: human words for gdprkit's identifiers ----

var templateFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006, 15:04")
	},
	"day": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	// left rounds an erasure job's estimate of the time left for people.
	"left": func(d time.Duration) string {
		if d < time.Minute {
			return fmt.Sprintf("%d s", max(1, int(d.Round(time.Second)/time.Second)))
		}
		return d.Round(time.Minute).String()
	},
	"prob":    func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"b64":     func(b []byte) string { return base64.StdEncoding.EncodeToString(b) },
	"jsonfmt": func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
	"kind":    kindName,
	"why": func(s string) string {
		r := strings.NewReplacer("default rule of the target: delete", "deleted: the usual rule for this data",
			"default rule of the target: anonymize", "kept without the person: the usual rule for this data",
			"default rule of the target: keep", "kept: the usual rule for this data")
		return r.Replace(s)
	},
	"language": func(code string) string {
		if n, ok := map[string]string{"en": "English", "de": "German", "fr": "French"}[code]; ok {
			return n
		}
		return code
	},
	"table": func(t string) string {
		if n, ok := tableNames[t]; ok {
			return n
		}
		return words(strings.TrimPrefix(t, "hd_"))
	},
	"words": words,
	"yesno": func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	},
	"plural": func(n any, one, many string) string {
		if fmt.Sprint(n) == "1" {
			return "1 " + one
		}
		return fmt.Sprint(n) + " " + many
	},
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
		}
		return strconv.FormatInt(n, 10) + " bytes"
	},
	"short": func(s string) string {
		if len(s) > 8 {
			return s[:8]
		}
		return s
	},
	"article": func(s string) string {
		if s != "" && strings.ContainsRune("aeiouAEIOU", rune(s[0])) {
			return "an " + s
		}
		return "a " + s
	},
}

// kindNames are the erasure kinds in words a data subject reads.
var kindNames = map[string]string{
	"end_user": "Profile (name, e-mail address)", "portal_profile": "Customer-portal profile", "ticket": "Tickets",
	"message": "Messages", "attachment": "Attachment records", "blob": "Attached files", "agent_profile": "Agent profile and signature",
	"assigned_ticket": "Tickets assigned to them", "authored_message": "Messages they wrote in others' tickets",
	"consent": "Consent records", "credentials": "Passwords, two-factor secrets, API tokens and sessions",
	"spam_lesson": "What the spam filter learned from their messages", "ip_rule_author": "IP allow-list entries they added",
	"request_log": "Their privacy requests", "request_logger": "Privacy requests they logged", "audit_actor": "Audit-log entries of their actions",
	"named_in_message": "Other people's messages that name them", "named_in_ticket": "Other people's ticket subjects that name them",
	"named_in_request": "Notes on other requests that name them", "named_in_hold": "Legal-hold notes that name them",
}

// tableNames are the hd_ tables in words.
var tableNames = map[string]string{"hd_hold_matters": "legal-hold notes (the note stays, the ticket goes)", "hd_messages": "messages",
	"hd_attachments": "attachment records", "hd_tickets": "tickets", "hd_portal_profiles": "portal profiles", "hd_agent_profiles": "agent profiles"}

func kindName(k any) string {
	s := fmt.Sprint(k)
	if n, ok := kindNames[s]; ok {
		return n
	}
	return words(s)
}

// words turns a snake_case key into lower-case words.
func words(k any) string { return strings.ReplaceAll(fmt.Sprint(k), "_", " ") }
