package main

import (
	"bufio"
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An agent may not erase the owner (TestAgentCannotEraseTheOwner), nor
// export them: /privacy/export files an access request, which Authorize
// checks. It once handed an agent the owner's export.
func TestAgentCannotExportTheOwner(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	status, body := b.post("/privacy/export", url.Values{"subject": {"u-owner"}})
	t.Logf("status %d, body: %.400s", status, body)
	assert.Equal(t, http.StatusForbidden, status, "an agent must not receive the owner's access export")
	assert.NotContains(t, body, "olivia@helpdesk.example")
}

// Anyone who knows a customer's e-mail once got that customer's portal
// link from the thank-you page, and with it their tickets and data export.
// Now only a new customer in demo mode sees a link; an existing one gets it
// through Config.SendPortalLink, at their own address.
func TestContactFormDoesNotHandOutAnExistingCustomersPortal(t *testing.T) {
	e := newEnv(t, false)
	var sent []string
	e.app.cfg.SendPortalLink = func(_ context.Context, email, link string) error {
		sent = append(sent, email+" "+link)
		return nil
	}
	mallory := e.browser()
	_, body := mallory.contact("Mallory", "ben@example.com", "hi", true)
	assert.Contains(t, body, `id="link-sent"`)
	link := regexp.MustCompile(`href="(/portal/login\?t=[^"]+)"`).FindStringSubmatch(body)
	if !assert.Nil(t, link, "no portal link on the page for an existing customer") {
		_, body = mallory.get(html.UnescapeString(link[1]))
		assert.NotContains(t, body, "How do I export my reports?", "Ben's ticket is shown to a stranger")
	}
	_, body = mallory.post("/portal/export", nil)
	assert.NotContains(t, body, "Hi Ben, open Reports", "Ben's data export is handed to a stranger")
	require.Len(t, sent, 1)
	assert.True(t, strings.HasPrefix(sent[0], "ben@example.com /portal/login?t="), sent[0])

	// A new customer in demo mode still gets the shortcut.
	_, body = e.browser().contact("Nina New", "nina@example.org", "hello", true)
	assert.Regexp(t, `id="portal-link" href="/portal/login\?t=`, body)
	assert.Len(t, sent, 1)
}

// With -demo=false (the README's production-style invocation) an empty
// database is still seeded with the publicly known demo owner/agent logins.
func TestNonDemoModeDoesNotSeedKnownPasswords(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	db := filepath.Join(t.TempDir(), "prod.db")
	t.Chdir(t.TempDir())
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-demo=false", "-db", db}, pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	out := ""
	for sc.Scan() {
		out += sc.Text() + "\n"
		if strings.Contains(sc.Text(), "contact form:") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	<-done
	assert.NotContains(t, out, ownerPass, "a non-demo install must not get the hard-coded demo owner password")
	assert.NotContains(t, out, agentPass)
	assert.Regexp(t, `owner .* username owner  password [a-z2-7]{24}\n`, out)
}
