package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type env struct {
	t      *testing.T
	app    *App
	srv    *httptest.Server
	clock  *fakeclock.Clock
	db     *sql.DB
	blobs  string
	logins []DemoLogin
}

// newEnv builds the app on a fresh SQLite file with the demo data, served
// by an httptest server.
func newEnv(t *testing.T, tlsOn bool) *env {
	t.Helper()
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "hd.db")))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return newEnvDB(t, db, sqlstore.SQLite, tlsOn)
}

// newEnvDB is newEnv on a given database.
func newEnvDB(t *testing.T, db *sql.DB, dialect sqldb.Dialect, tlsOn bool) *env {
	t.Helper()
	dir := t.TempDir()
	clock := fakeclock.New(t0)
	app, err := NewApp(context.Background(), Config{DB: db, Dialect: dialect, BlobDir: filepath.Join(dir, "files"),
		Secret: bytes.Repeat([]byte("s"), 32), Demo: true, Clock: clock, TLS: tlsOn, Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	require.NoError(t, err)
	logins, err := app.Seed(context.Background())
	require.NoError(t, err)
	var srv *httptest.Server
	if tlsOn {
		srv = httptest.NewTLSServer(app)
	} else {
		srv = httptest.NewServer(app)
	}
	t.Cleanup(srv.Close)
	return &env{t: t, app: app, srv: srv, clock: clock, db: db, blobs: filepath.Join(dir, "files"), logins: logins}
}

// browser is a cookie-keeping client that follows redirects.
type browser struct {
	e    *env
	c    *http.Client
	last string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := *e.srv.Client() // a copy: the server's client is shared
	c.Jar = jar
	return &browser{e: e, c: &c}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *browser) get(path string) (int, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	require.NoError(b.e.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return resp.StatusCode, b.last
}

func (b *browser) csrf() string {
	if m := csrfRE.FindStringSubmatch(b.last); m != nil {
		return m[1]
	}
	_, body := b.get("/login")
	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(b.e.t, m, "no CSRF token on the page")
	return m[1]
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf())
	}
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	require.NoError(b.e.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return resp.StatusCode, b.last
}

func (b *browser) login(user, pass string) string {
	b.e.t.Helper()
	b.get("/login")
	_, body := b.post("/login", url.Values{"username": {user}, "password": {pass}})
	return body
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.db.QueryRow(e.app.q(q), args...).Scan(&n))
	return n
}

func TestLoginEnrolTOTPAndLoginWithCode(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	body := b.login(agentUser, "wrong password here!")
	assert.Contains(t, body, "Wrong username, password or code")
	body = b.login(agentUser, agentPass)
	require.Contains(t, body, "<h1>Inbox</h1>", "a password is enough before TOTP is set up")

	b.get("/security")
	assert.Contains(t, b.last, `id="totp-off"`)
	_, body = b.post("/security/totp", nil)
	require.Contains(t, body, `src="data:image/png;base64,`, "the QR code is shown")
	secret := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(body)
	require.NotNil(t, secret)
	key, err := authn.DecodeSecret(secret[1])
	require.NoError(t, err)

	_, body = b.post("/security/totp/confirm", url.Values{"code": {"000000"}})
	assert.Contains(t, body, "That code did not match")
	_, body = b.post("/security/totp/confirm", url.Values{"code": {authn.TOTP(key, e.clock.Now(), authn.TOTPParams{})}})
	require.Contains(t, body, `id="recovery-codes"`)
	codes := regexp.MustCompile(`[a-z2-7]{4}(?:-[a-z2-7]{4}){5}`).FindAllString(body, -1)
	require.Len(t, codes, 10, "ten recovery codes are shown once")
	status, _ := b.get("/inbox")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, b.last, "Agent login", "enrolling ended every session: the agent logs in again")

	e.clock.Advance(30 * time.Second)
	body = b.login(agentUser, agentPass)
	require.Contains(t, body, `name="challenge"`, "the password alone no longer logs in")
	challenge := regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindStringSubmatch(body)[1]
	_, body = b.post("/login/2fa", url.Values{"challenge": {challenge}, "code": {"123456"}})
	assert.Contains(t, body, "Wrong username, password or code")
	_, body = b.post("/login/2fa", url.Values{"challenge": {challenge}, "code": {authn.TOTP(key, e.clock.Now(), authn.TOTPParams{})}})
	require.Contains(t, body, "<h1>Inbox</h1>")

	// A recovery code works once instead of the TOTP code.
	b2 := e.browser()
	body = b2.login(agentUser, agentPass)
	challenge = regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindStringSubmatch(body)[1]
	_, body = b2.post("/login/2fa", url.Values{"challenge": {challenge}, "code": {codes[0]}})
	require.Contains(t, body, "<h1>Inbox</h1>")
	_, body = b2.get("/security")
	assert.Contains(t, body, "9 recovery codes left")
}

func TestSecurityBasics(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	resp, err := b.c.PostForm(e.srv.URL+"/login", url.Values{"username": {agentUser}, "password": {agentPass}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a form without its CSRF token is refused")

	b.get("/login")
	resp, err = b.c.PostForm(e.srv.URL+"/login", url.Values{"username": {agentUser}, "password": {agentPass}, "csrf": {strings.Repeat("0", 64)}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a forged CSRF token is refused")

	// Cookie attributes, without following the redirect.
	c := *e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/login", nil)
	resp, err = c.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrfC := resp.Cookies()[0]
	assert.True(t, csrfC.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, csrfC.SameSite)
	assert.False(t, csrfC.Secure, "plain HTTP: not Secure")
	assert.Empty(t, resp.Header.Get("Strict-Transport-Security"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	form := url.Values{"username": {agentUser}, "password": {agentPass}, "csrf": {csrfRE.FindStringSubmatch(string(body))[1]}}
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrfC)
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	require.NotNil(t, sess)
	assert.True(t, sess.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, sess.SameSite)

	// On TLS: Secure cookies and HSTS.
	et := newEnv(t, true)
	resp, err = et.srv.Client().Get(et.srv.URL + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, resp.Cookies()[0].Secure)
	assert.Contains(t, resp.Header.Get("Strict-Transport-Security"), "max-age=")
}

// contact submits the contact form as a visitor, with an attachment.
func (b *browser) contact(name, email, msg string, consentBox bool) (int, string) {
	b.e.t.Helper()
	b.get("/contact")
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields := map[string]string{"csrf": b.csrf(), "name": name, "email": email, "subject": "Help with " + name, "message": msg,
		"consent.support.version": "1", "consent.newsletter.version": "1"}
	if consentBox {
		fields["consent.support"] = "yes"
	}
	for k, v := range fields {
		require.NoError(b.e.t, w.WriteField(k, v))
	}
	fw, err := w.CreateFormFile("file", "passport scan.txt")
	require.NoError(b.e.t, err)
	_, _ = fw.Write([]byte("secret scan of " + name))
	require.NoError(b.e.t, w.Close())
	resp, err := b.c.Post(b.e.srv.URL+"/contact", w.FormDataContentType(), &buf)
	require.NoError(b.e.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return resp.StatusCode, b.last
}

func (e *env) files() []string {
	var out []string
	_ = filepath.WalkDir(e.blobs, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestContactFormRecordsConsentAndOpensTicket(t *testing.T) {
	e := newEnv(t, false)
	visitor := e.browser()
	status, body := visitor.contact("Dana Doe", "dana@example.org", "My order never arrived.", false)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "Please tick the box")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE email = 'dana@example.org'"), "without consent nothing is stored")
	filesBefore := len(e.files())

	status, body = visitor.contact("Dana Doe", "dana@example.org", "My order never arrived.", true)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `id="thanks"`)
	assert.Contains(t, body, "/portal/login?t=")
	assert.Len(t, e.files(), filesBefore+1, "the attachment is stored as a file")

	agent := e.browser()
	agent.login(agentUser, agentPass)
	_, body = agent.get("/inbox")
	assert.Contains(t, body, "Help with Dana Doe")
	assert.Contains(t, body, "passport scan.txt")
	var id string
	require.NoError(t, e.db.QueryRow("SELECT id FROM hd_users WHERE email = 'dana@example.org'").Scan(&id))
	_, body = agent.get("/privacy/consent?subject=" + id)
	assert.Contains(t, body, "support")
	assert.Contains(t, body, "grant")
	assert.Contains(t, body, "intact")
	assert.NotContains(t, body, "newsletter", "the optional box was not ticked")
}

func TestSpamButtonsTrainTheFilterAtOnce(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.get("/inbox")
	rowRE := func(id string) *regexp.Regexp {
		return regexp.MustCompile(`(?s)<tr id="ticket-` + id + `">.*?class="badge (\w+)">\w+</span> <span class="muted">(\d+)%`)
	}
	prize := rowRE("3").FindStringSubmatch(body)
	require.NotNil(t, prize, body)
	assert.Equal(t, "spam", prize[1], "the seeded prize ticket looks like spam")
	assert.Contains(t, body, `class="clue"`, "the strongest clues are shown")
	ben := rowRE("2").FindStringSubmatch(body)
	require.NotNil(t, ben)
	assert.NotEqual(t, "spam", ben[1])

	_, body = b.post("/tickets/2/spam", nil)
	assert.Contains(t, body, "Marked as spam")
	after := rowRE("2").FindStringSubmatch(body)
	require.NotNil(t, after)
	assert.Greater(t, atoi(after[2]), atoi(ben[2]), "one lesson raises the score of the same message at once")
	assert.Contains(t, body, "(agent: spam)")
	_, body = b.post("/tickets/2/ham", nil)
	back := rowRE("2").FindStringSubmatch(body)
	assert.Less(t, atoi(back[2]), atoi(after[2]), "a correction moves the lesson back")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 2 AND status = 'open' AND spam_label = 'ham'"))
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestEraseCustomerPreviewRunReceiptExport(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			var e *env
			if d == sqlstore.SQLite {
				e = newEnv(t, false)
			} else {
				e = newEnvDB(t, testdb.Open(t, d).DB, d, false)
			}
			testEraseCustomer(t, e)
		})
	}
}

func testEraseCustomer(t *testing.T, e *env) {
	b := e.browser()
	b.login(agentUser, agentPass)
	require.Equal(t, 1, len(e.files()), "Carla's invoice is on disk")
	_, body := b.post("/tickets/1/ham", nil) // an agent marks her ticket "not spam"
	require.Contains(t, body, "Marked as not spam")
	ls, err := e.app.Spam.Lessons(context.Background(), e.app.acct, []string{"ticket-1"})
	require.NoError(t, err)
	require.Len(t, ls, 1, "the filter learned from Carla's ticket")

	// The access export first: it holds Carla's data.
	_, body = b.post("/privacy/export", url.Values{"subject": {"c-carla"}})
	var exp struct {
		Format string                       `json:"format"`
		Data   map[string][]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &exp), body)
	assert.Equal(t, "gdprkit-access-v1", exp.Format)
	assert.Contains(t, body, "Carla Customer")
	assert.Len(t, exp.Data["ticket"], 1)
	assert.Len(t, exp.Data["spam_lesson"], 1, "and what the spam filter learned from her ticket")

	_, body = b.get("/privacy/erase?subject=c-carla")
	assert.Contains(t, body, "Dry run for <strong id=\"erase-subject\">Carla Customer</strong>")
	for _, kind := range []string{"end_user", "ticket", "message", "attachment", "blob", "consent", "portal_profile", "spam_lesson"} {
		assert.Contains(t, body, "<strong>"+kind+"</strong>")
	}
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-carla'"), "the preview changes nothing")

	_, body = b.post("/privacy/erase", url.Values{"subject": {"c-carla"}, "verified": {"yes"}})
	assert.Contains(t, body, `id="request-status">open`)
	_, body = b.get("/privacy")
	assert.Contains(t, body, "<td>erasure</td>", "the open request is listed with its due date")
	assert.Contains(t, body, "2026-04-02", "due one calendar month after receipt")
	require.NoError(t, e.app.RunErasureJobs(context.Background()))

	reqID := regexp.MustCompile(`/privacy/requests/([0-9a-f-]+)`).FindStringSubmatch(body)[1]
	_, body = b.get("/privacy/requests/" + reqID)
	assert.Contains(t, body, `id="job-status">done`)
	assert.Contains(t, body, `id="receipt"`)
	assert.NotContains(t, body, "Carla")

	for _, page := range []string{"/inbox", "/privacy", "/tickets/1"} {
		_, body = b.get(page)
		assert.NotContains(t, body, "Carla", page)
		assert.NotContains(t, body, "Invoice 2291", page)
	}
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-carla' OR name LIKE '%Carla%' OR email LIKE '%carla%'"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets WHERE requester_name LIKE '%Carla%' OR subject LIKE '%2291%'"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_messages WHERE body LIKE '%invoice%'"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_attachments"))
	assert.Empty(t, e.files(), "the attachment file is gone")
	ls, err = e.app.Spam.Lessons(context.Background(), e.app.acct, []string{"ticket-1"})
	require.NoError(t, err)
	assert.Empty(t, ls, "the filter has forgotten her ticket")
	_, body = b.get("/privacy/consent?subject=c-carla")
	assert.Contains(t, body, "pseudonymised", "consent records keep the proof without her identifiers")
	assert.NotContains(t, body, "I agree")
	assert.Contains(t, body, "intact", "the pseudonymised chain still verifies")
	_, body = b.get("/privacy")
	assert.Contains(t, body, "intact (1 receipts)")
}

func TestEraseAgentReassignsAndAnonymises(t *testing.T) {
	e := newEnv(t, false)
	owner := e.browser()
	owner.login(ownerUser, ownerPass)
	_, body := owner.get("/privacy/erase?subject=u-agent")
	assert.Contains(t, body, "<strong>assigned_ticket</strong>")
	assert.Contains(t, body, `class="anon">1</span>`, "authorship and assignment are anonymised, not deleted")
	owner.post("/privacy/erase", url.Values{"subject": {"u-agent"}, "verified": {"yes"}})
	require.NoError(t, e.app.RunErasureJobs(context.Background()))

	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'u-agent'"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_agent_profiles WHERE user_id = 'u-agent'"))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 2 AND assignee_id IS NULL"), "Ben's ticket went back to the queue")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_messages WHERE ticket_id = 2 AND author_id IS NULL AND author_name LIKE 'Former user %'"), "authorship reads as a label")
	_, body = owner.get("/tickets/2")
	assert.NotContains(t, body, "Alex Agent")
	assert.Contains(t, body, "Ben Baker", "the customer's thread still reads")

	agent := e.browser()
	assert.Contains(t, agent.login(agentUser, agentPass), "Wrong username, password", "an erased agent's credentials are gone")
}

func TestAgentCannotEraseTheOwner(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.get("/privacy/erase?subject=u-owner")
	assert.Contains(t, body, "You may not erase this person")
	assert.NotContains(t, body, `id="erase-run"`)
	status, _ := b.post("/privacy/erase", url.Values{"subject": {"u-owner"}, "verified": {"yes"}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'u-owner'"))
}

func TestLegalHoldKeepsDataAndReceiptSaysPartial(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(ownerUser, ownerPass)
	_, body := b.post("/privacy/holds", url.Values{"subject": {"c-ben"}, "ground": {"Art. 17(3)(e): defence of legal claims"}, "reason": {"dispute"}})
	assert.Contains(t, body, "Legal hold placed")
	_, body = b.get("/privacy/erase?subject=c-ben")
	assert.Contains(t, body, "Legal holds apply")
	b.post("/privacy/erase", url.Values{"subject": {"c-ben"}, "verified": {"yes"}})
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE requester_id = 'c-ben'"), "held data is kept")
	_, body = b.get("/privacy")
	id := regexp.MustCompile(`<td>1</td><td><a href="/privacy/requests/([0-9a-f-]+)"`).FindStringSubmatch(body)
	require.NotNil(t, id, body)
	_, body = b.get("/privacy/requests/" + id[1])
	assert.Contains(t, body, "partial: true")
}

func TestRetentionRuleDeletesOldClosedTickets(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(ownerUser, ownerPass)
	b.post("/account/event", url.Values{"event": {"upgrade"}})
	assert.Contains(t, b.last, "Recorded: upgrade")
	b.post("/tickets/2/close", nil)
	_, body := b.post("/privacy/rules", url.Values{"kind": {"closed"}, "n": {"1"}})
	assert.Contains(t, body, "closed tickets")
	_, body = b.post("/privacy/rules/run", nil)
	assert.Contains(t, body, "0 tickets removed", "a fresh closed ticket is kept")
	e.clock.Advance(32 * 24 * time.Hour)
	b.login(ownerUser, ownerPass) // the session timed out meanwhile
	_, body = b.post("/privacy/rules/run", nil)
	assert.Contains(t, body, "1 tickets removed")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 2"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_messages WHERE ticket_id = 2"), "its messages went with it")
}

func TestLifecycleDemoClock(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			if d == sqlstore.SQLite {
				testLifecycle(t, newEnv(t, false))
			} else {
				testLifecycle(t, newEnvDB(t, testdb.Open(t, d).DB, d, false))
			}
		})
	}
}

func testLifecycle(t *testing.T, e *env) {
	agent := e.browser()
	agent.login(agentUser, agentPass)
	_, body := agent.get("/account")
	assert.Contains(t, body, `id="state">trial`)

	visitor := e.browser()
	visitor.get("/demo")
	_, body = visitor.post("/demo/advance", url.Values{"days": {"15"}})
	assert.Contains(t, body, `id="state">suspended`)
	assert.Contains(t, body, "<td>trial</td><td>suspended</td>", "the history shows the transition")

	_, body = agent.get("/inbox")
	assert.Contains(t, body, "suspended", "a live session ends when the account is suspended")
	assert.NotContains(t, body, "<h1>Inbox</h1>")
	assert.Contains(t, e.browser().login(ownerUser, ownerPass), "This helpdesk account is suspended")
	status, _ := visitor.get("/contact")
	assert.Equal(t, http.StatusServiceUnavailable, status)

	_, body = visitor.post("/demo/advance", url.Values{"days": {"61"}})
	assert.Contains(t, body, `id="state">terminated`)
	assert.Contains(t, e.browser().login(ownerUser, ownerPass), "terminated")
	assert.Equal(t, 5, e.count("SELECT COUNT(*) FROM hd_users"), "terminated: configuration removed, data kept")

	_, body = visitor.post("/demo/advance", url.Values{"days": {"31"}})
	assert.Contains(t, body, `id="state">deleted`)
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users"), "deleted: the live data is gone")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets"))
	assert.Empty(t, e.files())
	_, body = visitor.post("/demo/advance", url.Values{"days": {"31"}})
	assert.Contains(t, body, `id="state">purged`)
}

func TestAPITokensAndPasswords(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.post("/security/tokens", url.Values{"name": {"CI"}, "days": {"30"}})
	tok := regexp.MustCompile(`id="new-token">(gdk_[A-Za-z0-9]+)<`).FindStringSubmatch(body)
	require.NotNil(t, tok, body)

	call := func(method, path, user, secret, in string) (int, string) {
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(in))
		if user != "" {
			req.SetBasicAuth(user, secret)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	status, out := call("GET", "/api/tickets", agentUser, tok[1], "")
	require.Equal(t, http.StatusOK, status, out)
	var list []apiTicket
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	assert.Len(t, list, 3)
	status, _ = call("GET", "/api/tickets", "", "", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = call("GET", "/api/tickets", agentUser, "gdk_wrongwrongwrongwrongwrongwrong000000", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, out = call("GET", "/api/tickets/2", agentUser, agentPass, "")
	assert.Equal(t, http.StatusOK, status, "username + password works for a user without TOTP")
	assert.Contains(t, out, "Export button")
	status, _ = call("POST", "/api/tickets", agentUser, tok[1], `{"email":"eve@example.net","name":"Eve","subject":"Phone call","body":"Called about billing"}`)
	assert.Equal(t, http.StatusForbidden, status, "a read-only token cannot create tickets")
	status, out = call("POST", "/api/tickets", agentUser, agentPass, `{"email":"eve@example.net","name":"Eve","subject":"Phone call","body":"Called about billing"}`)
	assert.Equal(t, http.StatusCreated, status, out)

	tokID := regexp.MustCompile(`action="/security/tokens/([^/]+)/revoke"`).FindStringSubmatch(b.last)
	require.NotNil(t, tokID)
	b.post("/security/tokens/"+tokID[1]+"/revoke", nil)
	assert.Contains(t, b.last, "Token revoked")
	status, _ = call("GET", "/api/tickets", agentUser, tok[1], "")
	assert.Equal(t, http.StatusUnauthorized, status, "a revoked token no longer works")
}

func TestIPAllowListGuardsAgainstSelfLockout(t *testing.T) {
	e := newEnv(t, false)
	owner := e.browser()
	owner.login(ownerUser, ownerPass)
	agent := e.browser()
	agent.login(agentUser, agentPass)
	status, _ := agent.post("/account/ips", url.Values{"panel": {"10.0.0.0/8"}, "version": {"0"}})
	assert.Equal(t, http.StatusForbidden, status, "only the owner sets the allow lists")

	_, body := owner.get("/account")
	assert.Contains(t, body, `id="my-ip">127.0.0.1<`)
	status, body = owner.post("/account/ips", url.Values{"panel": {"10.0.0.0/8 office"}, "version": {"0"}})
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, body, "would lock you out")
	assert.Contains(t, body, `id="force"`)
	_, body = owner.get("/inbox")
	assert.Contains(t, body, "<h1>Inbox</h1>", "nothing changed")

	status, body = owner.post("/account/ips", url.Values{"panel": {"127.0.0.1 this machine\n10.0.0.0/8 office"}, "api": {"10.0.0.0/8"}, "version": {"0"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "IP allow lists saved")
	assert.Contains(t, body, "127.0.0.1/32 this machine")
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/tickets", nil)
	req.SetBasicAuth(agentUser, agentPass)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the API's allow list excludes this address")

	status, body = owner.post("/account/ips", url.Values{"panel": {"10.0.0.0/8"}, "version": {regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(body)[1]}, "force": {"yes"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "not on this account&#39;s allow list", "after forcing, the owner is locked out")
}

func TestPortalShowsAndDeletesOwnProfile(t *testing.T) {
	e := newEnv(t, false)
	var link string
	for _, l := range e.logins {
		if l.Name == "Ben Baker" {
			link = l.PortalLink
		}
	}
	require.NotEmpty(t, link)
	c := e.browser()
	_, body := c.get(link)
	assert.Contains(t, body, `id="profile-name">Ben Baker<`)
	assert.Contains(t, body, "How do I export my reports?")
	_, body = c.post("/portal/withdraw", url.Values{"purpose": {"support"}})
	assert.Contains(t, body, "Consent withdrawn")
	assert.Contains(t, body, "withdraw")
	_, body = c.post("/portal/export", nil)
	assert.Contains(t, body, "gdprkit-access-v1")
	assert.Contains(t, body, "ben@example.com")

	_, body = c.post("/portal/delete", url.Values{"confirm": {"yes"}})
	assert.Contains(t, body, `id="portal-deleted"`)
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_portal_profiles WHERE user_id = 'c-ben'"))
	status, _ := e.browser().get(link)
	assert.Equal(t, http.StatusForbidden, status, "the portal link no longer works")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE requester_id = 'c-ben'"), "portal scope reaches only the portal profile")
	status, _ = e.browser().get("/portal/login?t=forged.00")
	assert.Equal(t, http.StatusForbidden, status)
}

func TestUnverifiedErasureWaitsForIdentityCheck(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.post("/privacy/erase", url.Values{"subject": {"c-ben"}})
	assert.Contains(t, body, `id="job-status">waiting`)
	assert.Contains(t, body, `id="verify-identity"`)
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-ben'"), "an unverified request does not run")
	id := regexp.MustCompile(`/privacy/requests/([0-9a-f-]+)/verify`).FindStringSubmatch(body)[1]
	_, body = b.post("/privacy/requests/"+id+"/verify", nil)
	assert.Contains(t, body, `id="job-status">queued`)
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-ben'"))
}

func TestDemoClockOnlyInDemoMode(t *testing.T) {
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "hd.db")))
	require.NoError(t, err)
	defer db.Close()
	app, err := NewApp(context.Background(), Config{DB: db, Dialect: sqlstore.SQLite, BlobDir: t.TempDir(), Secret: bytes.Repeat([]byte("k"), 32),
		Clock: fakeclock.New(t0), Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	require.NoError(t, err)
	for _, path := range []string{"/demo"} {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		assert.Equal(t, http.StatusNotFound, rec.Code)
		assert.NotContains(t, rec.Body.String(), "Demo clock")
	}
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	assert.NotContains(t, rec.Body.String(), "Demo clock")
}
