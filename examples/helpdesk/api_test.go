package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	assert.Contains(t, b.last, "The token was revoked")
	status, _ = call("GET", "/api/tickets", agentUser, tok[1], "")
	assert.Equal(t, http.StatusUnauthorized, status, "a revoked token no longer works")
}
