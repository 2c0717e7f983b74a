package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
	"github.com/stretchr/testify/require"
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
	// lastURL is where the last request ended, after redirects.
	lastURL string
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
	b.last, b.lastURL = string(body), resp.Request.URL.String()
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
	b.last, b.lastURL = string(body), resp.Request.URL.String()
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
	require.NoError(e.t, e.db.QueryRow(e.app.host.Dialect().Rebind(q), args...).Scan(&n))
	return n
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
	b.last, b.lastURL = string(body), resp.Request.URL.String()
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

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// errorRE finds the error message the layout shows.
var errorRE = regexp.MustCompile(`class="error"[^>]*>([^<]*)<`)

func pageError(body string) string {
	if m := errorRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// events returns the audit log as the app stored it, newest first.
func (e *env) events() []hostdb.AuditEntry {
	e.t.Helper()
	require.NoError(e.t, e.app.audit.Flush(context.Background()))
	var out []hostdb.AuditEntry
	var before int64
	for {
		page, next, err := e.app.host.Audit(context.Background(), e.app.acct, hostdb.AuditFilter{Before: before, Limit: 500})
		require.NoError(e.t, err)
		out = append(out, page...)
		if next == 0 {
			return out
		}
		before = next
	}
}
