package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
