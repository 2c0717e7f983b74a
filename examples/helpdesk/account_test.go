package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

// An owner who locked themself out — an allow list without their address,
// then a forgotten password — gets back in through whoever runs the
// server: -recover-owner (App.RecoverOwner) removes the allow lists and
// prints a new owner password (issue #17 defect 1).
func TestRecoverOwnerAfterAnIPLockOut(t *testing.T) {
	e := newEnv(t, false)
	owner := e.browser()
	owner.login(ownerUser, ownerPass)
	status, body := owner.post("/account/ips", url.Values{"panel": {"10.0.0.0/8"}, "version": {"0"}, "force": {"yes"}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "not on this account&#39;s allow list", "locked out")

	pw, err := e.app.RecoverOwner(context.Background())
	require.NoError(t, err)
	assert.Contains(t, e.browser().login(ownerUser, ownerPass), "Wrong username, password", "the old password no longer works")
	assert.Contains(t, e.browser().login(ownerUser, pw), "<h1>Inbox</h1>", "the new one does, from an address the list had refused")
}
