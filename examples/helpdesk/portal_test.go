package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A customer reads the agent's reply in the portal, answers it, and opens
// a new ticket there; a double click on "Send" opens one ticket (issue
// #17 defect 8).
func TestPortalCustomerReadsRepliesAnswersAndWrites(t *testing.T) {
	e := newEnv(t, false)
	c := e.browser()
	_, body := c.get(portalLink(e, "Ben Baker"))
	assert.Contains(t, body, `id="profile-name">Ben Baker<`)
	assert.Contains(t, body, `<a href="/portal/tickets/2">How do I export my reports?</a>`)
	assert.NotContains(t, body, "Invoice 2291", "only his own tickets")

	_, body = c.get("/portal/tickets/2")
	assert.Contains(t, body, "open Reports, then the Export button", "the agent's reply is there")
	assert.Contains(t, body, "<strong>You</strong>")
	_, body = c.post("/portal/tickets/2/reply", url.Values{"body": {"Thank you!\nIt works now."}})
	assert.Contains(t, body, "Your answer was added to the ticket.")
	assert.Contains(t, body, "Thank you!\nIt works now.", "line breaks are kept (issue #17 defect 6), the page shows them with white-space: pre-wrap")
	status, _ := c.get("/portal/tickets/1")
	assert.Equal(t, http.StatusNotFound, status, "Carla's ticket is not his")

	_, body = c.get("/portal")
	key := regexp.MustCompile(`name="submission" value="([0-9a-f]{32})"`).FindStringSubmatch(body)
	require.NotNil(t, key)
	form := url.Values{"subject": {"A second question"}, "message": {"Can I export PDF too?"}, "submission": {key[1]}}
	_, first := c.post("/portal/tickets", form)
	assert.Contains(t, first, "Thank you: your message is ticket #4.")
	form.Set("csrf", "")
	_, again := c.post("/portal/tickets", form)
	assert.Contains(t, again, "We already received this message as ticket #4.")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE subject = 'A second question'"), "a double click opens one ticket")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE subject = 'A second question' AND requester_id = 'c-ben' AND origin = 'portal'"))
}

// Consent in the portal shows each purpose by name with what holds now;
// withdrawing is one button, and a second withdrawal records nothing;
// opting in is as easy (issue #17 defect 8).
func TestPortalConsentShowsStateAndRecordsOnlyChanges(t *testing.T) {
	e := newEnv(t, false)
	c := e.browser()
	_, body := c.get(portalLink(e, "Ben Baker"))
	assert.Contains(t, body, "Answering your message")
	assert.Contains(t, body, "Product news")
	assert.NotContains(t, body, ">support<", "purposes show by name, not by key")
	assert.Contains(t, body, `id="withdraw-support"`)
	assert.Contains(t, body, `id="grant-newsletter"`)
	records := func() int {
		rs, err := e.app.kit.Consent.History(context.Background(), e.app.acct, "c-ben")
		require.NoError(t, err)
		return len(rs)
	}
	before := records()

	_, body = c.post("/portal/consent", url.Values{"purpose": {"support"}, "action": {"withdraw"}})
	assert.Contains(t, body, "Answering your message is off.")
	assert.Contains(t, body, `id="grant-support"`, "after withdrawing, the button offers to agree again")
	assert.NotContains(t, body, `id="withdraw-support"`)
	_, body = c.post("/portal/consent", url.Values{"purpose": {"support"}, "action": {"withdraw"}})
	assert.Contains(t, body, "Nothing to change")
	assert.Equal(t, before+1, records(), "a repeated withdrawal adds no record")

	_, body = c.post("/portal/consent", url.Values{"purpose": {"newsletter"}, "action": {"grant"}})
	assert.Contains(t, body, "Thank you: Product news is on.")
	assert.Contains(t, body, `id="withdraw-newsletter"`)
	assert.Equal(t, before+2, records())
}

// The customer downloads their data, deletes their portal profile and
// lands on a page that shows the finished request in words; the portal
// link then says the profile was deleted, not that the link is wrong
// (issue #17 defect 7 and the customer-facing page of #17).
func TestPortalExportAndProfileDeletionEndOnAStatusPage(t *testing.T) {
	e := newEnv(t, false)
	link := portalLink(e, "Ben Baker")
	c := e.browser()
	c.get(link)
	_, body := c.post("/portal/export", nil)
	assert.Contains(t, body, "gdprkit-access-v1")
	assert.Contains(t, body, "ben@example.com")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_requests WHERE subject_id = 'c-ben' AND request_type = 'access' AND status = 'done'"), "the access request is logged and done")

	_, body = c.post("/portal/delete", url.Values{"confirm": {"yes"}})
	assert.Contains(t, body, `id="request-done">It has been carried out`)
	assert.Contains(t, body, "<td>Customer-portal profile</td><td>1</td>", "the receipt in words")
	assert.NotContains(t, body, "Ben", "the status page names nobody")
	statusURL := regexp.MustCompile(`/status/[A-Za-z0-9_.-]+`).FindString(c.lastURL)
	require.NotEmpty(t, statusURL)
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_portal_profiles WHERE user_id = 'c-ben'"))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE requester_id = 'c-ben'"), "portal scope reaches only the portal profile")

	status, body := e.browser().get(link)
	assert.Equal(t, http.StatusGone, status)
	assert.Contains(t, body, "Your portal profile has been deleted")
	status, body = e.browser().get("/portal/login?t=forged.00")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "invalid or has expired")
	status, _ = e.browser().get(statusURL)
	assert.Equal(t, http.StatusOK, status, "the status page works without the portal")
	status, _ = e.browser().get(strings.Replace(statusURL, ".", ".0", 1))
	assert.Equal(t, http.StatusNotFound, status, "a forged status link shows nothing")
}

// A customer asks for everything to be erased: the request lands in the
// intake log for staff, and the customer's status page shows it open with
// its due date, then done with the receipt once staff carried it out.
func TestPortalErasureRequestIsCarriedOutByStaff(t *testing.T) {
	e := newEnv(t, false)
	c := e.browser()
	c.get(portalLink(e, "Ben Baker"))
	_, body := c.post("/portal/erasure-request", url.Values{"confirm": {"yes"}, "details": {"Please remove everything."}})
	assert.Contains(t, body, "We will answer by <strong>2 Apr 2026</strong>")
	statusURL := c.lastURL

	agent := e.browser()
	agent.login(agentUser, agentPass)
	_, body = agent.get("/privacy")
	assert.Regexp(t, `<td>erasure</td><td>Ben Baker</td><td>portal</td>`, body)
	id := regexp.MustCompile(`<a href="/privacy/requests/(\d+)">`).FindStringSubmatch(body)
	require.NotNil(t, id)
	_, body = agent.get("/privacy/requests/" + id[1])
	assert.Contains(t, body, "Please remove everything.")
	assert.Contains(t, body, "Preview and carry out the erasure")
	_, body = agent.post("/privacy/erase", url.Values{"subject": {"c-ben"}, "verified": {"yes"}, "channel": {"portal"}})
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	_, body = agent.get(requestLinkRE.FindString(body))
	assert.Contains(t, body, `id="job-status">done`)
	// The portal's request was for the same erasure: staff close it.
	_, body = agent.post("/privacy/requests/"+id[1]+"/close", url.Values{"status": {"done"}, "outcome": {"Erased with the request logged by the agent."}})
	assert.Contains(t, body, "Request closed.")
	_, body = e.browser().get(strings.TrimPrefix(statusURL, e.srv.URL))
	assert.Contains(t, body, "It has been carried out")
}
