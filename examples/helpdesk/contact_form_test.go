package main

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	assert.Contains(t, body, "1 file")
	tid := regexp.MustCompile(`<a href="/tickets/(\d+)">Help with Dana Doe`).FindStringSubmatch(body)
	require.NotNil(t, tid)
	_, body = agent.get("/tickets/" + tid[1])
	assert.Contains(t, body, "passport scan.txt")
	assert.Contains(t, body, `id="unverified-sender"`, "the agent is told the sender's address was not verified")
	var id string
	require.NoError(t, e.db.QueryRow("SELECT id FROM hd_users WHERE email = 'dana@example.org'").Scan(&id))
	_, body = agent.get("/privacy/consent?subject=" + id)
	assert.Regexp(t, `<td>Answering your message</td><td><strong class="keep">given</strong>`, body)
	assert.Regexp(t, `<td>Product news</td><td>not given</td>`, body, "the optional box was not ticked")
	assert.Contains(t, body, "gave consent")
	assert.Contains(t, body, "intact")
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
