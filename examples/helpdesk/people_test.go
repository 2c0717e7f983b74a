package main

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// People are searched by name or address and filtered by role (issue
// #17, "People").
func TestPeopleSearchAndFilter(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.get("/people?q=BAKER")
	assert.Contains(t, body, "Ben Baker")
	assert.NotContains(t, body, "Carla Customer")
	_, body = b.get("/people?q=example.com")
	assert.Contains(t, body, "Ben Baker")
	assert.Contains(t, body, "Carla Customer")
	assert.NotContains(t, body, "Prize Desk", "winner@prizes.example does not match")
	_, body = b.get("/people?role=staff")
	assert.Contains(t, body, "Olivia Owner")
	assert.Contains(t, body, "Alex Agent")
	assert.NotContains(t, body, "Ben Baker")
	_, body = b.get("/people?q=100%25_")
	assert.Contains(t, body, "Nobody matches", "LIKE's wildcards are searched for as text")
	_, body = b.get("/people/c-ben")
	assert.Contains(t, body, "How do I export my reports?")
	assert.NotContains(t, body, `id="staff-login"`, "an agent does not manage sign-ins")
}

// The owner invites an agent (a first password shown once), gives a new
// password, signs an agent out everywhere, disables and enables a
// sign-in; agents can do none of it (issue #17, staff management, and
// defect 1: a locked or forgotten sign-in has a way back).
func TestOwnerManagesStaffSignIns(t *testing.T) {
	e := newEnv(t, false)
	owner := e.browser()
	owner.login(ownerUser, ownerPass)
	_, body := owner.post("/people/invite", url.Values{"name": {"Nia New"}, "email": {"nia@helpdesk.example"}, "username": {"nia"}})
	pw := regexp.MustCompile(`id="password-once">([a-z2-7]{24})<`).FindStringSubmatch(body)
	require.NotNil(t, pw, "the first password is shown once")
	nia := e.browser()
	assert.Contains(t, nia.login("nia", pw[1]), "<h1>Inbox</h1>")
	id := e.count("SELECT COUNT(*) FROM hd_users WHERE email = 'nia@helpdesk.example' AND role = 'agent'")
	require.Equal(t, 1, id)
	var niaID string
	require.NoError(t, e.db.QueryRow("SELECT id FROM hd_users WHERE email = 'nia@helpdesk.example'").Scan(&niaID))

	_, body = owner.post("/people/"+niaID+"/reset-password", nil)
	pw2 := regexp.MustCompile(`id="password-once">([a-z2-7]{24})<`).FindStringSubmatch(body)
	require.NotNil(t, pw2)
	status, _ := nia.get("/inbox")
	assert.Contains(t, nia.last, "Staff sign-in", "a new password ends her sessions")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, e.browser().login("nia", pw[1]), "Wrong username, password")
	assert.Contains(t, nia.login("nia", pw2[1]), "<h1>Inbox</h1>")

	_, body = owner.post("/people/"+niaID+"/revoke", nil)
	assert.Contains(t, body, "Signed Nia New out everywhere: 1 session ended")
	nia.get("/inbox")
	assert.Contains(t, nia.last, "Staff sign-in")

	_, body = owner.post("/people/"+niaID+"/disable", url.Values{"disable": {"yes"}})
	assert.Contains(t, body, "Nia New can no longer sign in.")
	assert.NotContains(t, nia.login("nia", pw2[1]), "<h1>Inbox</h1>")
	_, body = owner.post("/people/"+niaID+"/disable", nil)
	assert.Contains(t, body, "Nia New can sign in again.")
	assert.Contains(t, nia.login("nia", pw2[1]), "<h1>Inbox</h1>")

	for _, action := range []string{"reset-password", "revoke", "disable", "unlock"} {
		status, _ := nia.post("/people/u-agent/"+action, nil)
		assert.Equal(t, http.StatusForbidden, status, "agents cannot %s", action)
	}
	_, body = owner.post("/people/u-owner/reset-password", nil)
	assert.Contains(t, body, "Manage your own sign-in on your security page.")
}
