package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// While the database cannot be reached (here: its only connection is
// held, and every request waits for it until the request's time is up),
// every surface says so — 503 with Retry-After and a "try again" page —
// instead of something else (issue #25 item 4): staff keep their session
// cookie and are not sent to the login page, the API does not answer 401
// to a valid token, a correct password is not "wrong", the contact form
// does not say it is not accepting messages, and the log names the cause.
// Once the database is back, the same session works.
func TestDatabaseOutageIsAnsweredAsAnOutage(t *testing.T) {
	e := newEnv(t, false)
	var logs lockedBuffer
	e.app.log = slog.New(slog.NewTextHandler(&logs, nil))
	staff := e.browser()
	staff.login(agentUser, agentPass)
	_, body := staff.post("/security/tokens", url.Values{"name": {"monitor"}, "days": {"30"}})
	tok := regexp.MustCompile(`id="new-token">(gdk_[A-Za-z0-9]+)<`).FindStringSubmatch(body)
	require.NotNil(t, tok)
	visitor := e.browser()
	f := visitor.contactForm("Olga Outage", "olga@example.org")
	fresh := e.browser()
	fresh.get("/login")

	e.app.cfg.RequestTimeout = 300 * time.Millisecond
	e.db.SetMaxOpenConns(1)
	conn, err := e.db.Conn(context.Background()) // the outage: nobody else gets a connection
	require.NoError(t, err)

	noRedirect := *staff.c
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Get(e.srv.URL + "/inbox")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))
	assert.Contains(t, string(page), "Please try again in a few seconds")
	assert.Contains(t, string(page), "you are still signed in")
	for _, c := range resp.Cookies() {
		assert.NotEqual(t, sessionCookie, c.Name, "the session cookie is left alone")
	}

	req, _ := http.NewRequest("GET", e.srv.URL+"/api/tickets", nil)
	req.SetBasicAuth(agentUser, tok[1])
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "not 401: the token is fine")
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))

	status, body := fresh.post("/login", url.Values{"username": {agentUser}, "password": {agentPass}})
	assert.Equal(t, http.StatusServiceUnavailable, status, "a correct password is not called wrong")
	assert.NotContains(t, body, "Wrong username")

	status, body, err = visitor.send(f)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.NotContains(t, body, "not accepting messages")
	assert.Contains(t, body, "safe to send it twice")

	require.NoError(t, conn.Close())
	e.app.cfg.RequestTimeout = 30 * time.Second
	status, body = staff.get("/inbox")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "<h1>Inbox</h1>", "the same session works again")
	status, body, err = visitor.send(f)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "the form sent again goes through")
	assert.Contains(t, body, `id="thanks"`)

	log := logs.String()
	assert.Contains(t, log, "database did not answer in time")
	for _, wrong := range []string{"unknown purpose", "no policy version", "not found", "Login failed"} {
		assert.NotContains(t, log, wrong, "the log names the real cause")
	}
	assert.False(t, strings.Contains(log, "olga@example.org"), "logs hold no personal data")
}
