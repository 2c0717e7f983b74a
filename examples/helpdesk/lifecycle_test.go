package main

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

	portal := e.browser()
	status, body = portal.get(portalLink(e, "Ben Baker"))
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body, "customer portal is closed for now", "the portal says the helpdesk is suspended, not that the link is wrong (issue #17 defect 7)")

	_, body = visitor.post("/demo/advance", url.Values{"days": {"61"}})
	assert.Contains(t, body, `id="state">terminated`)
	assert.Contains(t, e.browser().login(ownerUser, ownerPass), "This helpdesk account has been closed.")
	assert.Equal(t, 5, e.count("SELECT COUNT(*) FROM hd_users"), "terminated: configuration removed, data kept")

	_, body = visitor.post("/demo/advance", url.Values{"days": {"31"}})
	assert.Contains(t, body, `id="state">deleted`)
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users"), "deleted: the live data is gone")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets"))
	assert.Empty(t, e.files())
	_, body = visitor.post("/demo/advance", url.Values{"days": {"31"}})
	assert.Contains(t, body, `id="state">purged`)
}

func TestRetentionRuleDeletesOldClosedTickets(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(ownerUser, ownerPass)
	b.post("/account/event", url.Values{"event": {"upgrade"}})
	assert.Contains(t, b.last, "Upgraded to a paid plan.")
	b.post("/tickets/2/close", nil)
	_, body := b.post("/privacy/rules", url.Values{"kind": {"closed"}, "n": {"1"}})
	assert.Contains(t, body, "Retention rule added: closed tickets after 1 months.")
	_, body = b.post("/privacy/rules/run", nil)
	assert.Contains(t, body, "0 tickets removed", "a fresh closed ticket is kept")
	e.clock.Advance(32 * 24 * time.Hour)
	b.login(ownerUser, ownerPass) // the session timed out meanwhile
	_, body = b.post("/privacy/rules/run", nil)
	assert.Contains(t, body, "1 ticket removed")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 2"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_messages WHERE ticket_id = 2"), "its messages went with it")
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

func TestDemoClockFollowsRealTimeAndJumps(t *testing.T) {
	var c DemoClock
	before := time.Now().UTC()
	got := c.Advance(15 * 24 * time.Hour)
	assert.WithinDuration(t, before.Add(15*24*time.Hour), got, time.Minute)
	a := c.Now()
	time.Sleep(2 * time.Millisecond)
	assert.True(t, c.Now().After(a), "the demo clock keeps running, so phone TOTP codes keep matching")
}

// portalLink returns a demo customer's portal link.
func portalLink(e *env, name string) string {
	for _, l := range e.logins {
		if l.Name == name {
			return l.PortalLink
		}
	}
	e.t.Fatalf("no portal link for %s", name)
	return ""
}

// The owner of a suspended helpdesk is not at a dead end (issue #17
// defect 7): nobody can sign in, but the reinstatement page takes the
// owner's password and records the upgrade; an agent's password does not
// reinstate; afterwards everyone signs in again.
func TestOwnerReinstatesASuspendedAccount(t *testing.T) {
	e := newEnv(t, false)
	visitor := e.browser()
	visitor.get("/demo")
	_, body := visitor.post("/demo/advance", url.Values{"days": {"15"}})
	require.Contains(t, body, `id="state">suspended`)
	owner := e.browser()
	body = owner.login(ownerUser, ownerPass)
	assert.Contains(t, body, "reinstatement page")
	assert.Contains(t, body, `href="/reinstate"`)

	owner.get("/reinstate")
	status, body := owner.post("/reinstate", url.Values{"username": {agentUser}, "password": {agentPass}, "event": {"reinstate"}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "Only the account owner can reinstate")
	status, _ = owner.post("/reinstate", url.Values{"username": {ownerUser}, "password": {"not the owner's password"}, "event": {"reinstate"}})
	assert.Equal(t, http.StatusUnauthorized, status)
	_, body = owner.post("/reinstate", url.Values{"username": {ownerUser}, "password": {ownerPass}, "event": {"reinstate"}})
	assert.Contains(t, body, "The helpdesk is reinstated.")
	body = owner.login(ownerUser, ownerPass)
	assert.Contains(t, body, "<h1>Inbox</h1>")
	_, body = owner.get("/account")
	assert.Contains(t, body, `id="state">active`)
}
