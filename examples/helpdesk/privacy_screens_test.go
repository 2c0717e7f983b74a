package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The intake log holds every data-subject request, for every right, with
// the channel it came through, the identity evidence, the due date one
// month after receipt (Art. 12(3)) and reminders of what is overdue or
// due within a week; a due date is extended once, with a reason; staff
// close a request with what they did (issue #17, "Requests").
func TestRequestsLogTracksEveryRightWithDueDates(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.get("/privacy/requests/new?subject=c-ben")
	for _, right := range []string{"access", "rectification", "erasure", "restriction", "portability", "objection"} {
		assert.Contains(t, body, `<option value="`+right+`">`)
	}
	_, body = b.post("/privacy/requests", url.Values{"subject": {"c-ben"}, "type": {"rectification"}, "channel": {"phone"}, "received": {"2026-02-05"},
		"evidence": {"called from the number on file"}, "details": {"My company name is misspelt:\nBaker & Sons, not Baker and Sons."}})
	assert.Contains(t, body, "Request logged. It is due on 5 Mar 2026.")
	rect := requestLinkRE.FindStringSubmatch(b.lastURL)
	require.NotNil(t, rect)
	b.post("/privacy/requests", url.Values{"name": {"Walter Walk-in"}, "contact": {"walter@example.net"}, "type": {"objection"}, "channel": {"letter"},
		"received": {"2026-01-20"}, "details": {"Stop the newsletter."}})
	_, body = b.get("/privacy")
	assert.Regexp(t, `<td>rectification</td><td>Ben Baker</td><td>phone</td><td>5 Feb 2026</td>\s*<td><span class="soon">due 5 Mar 2026</span>`, body, "due within a week")
	assert.Regexp(t, `<td>objection</td><td>Walter Walk-in</td><td>letter</td><td>20 Jan 2026</td>\s*<td><span class="late">overdue since 20 Feb 2026</span>`, body)

	_, body = b.post("/privacy/requests/"+rect[1]+"/extend", url.Values{"months": {"2"}, "reason": {"We need the registry's confirmation."}})
	assert.Contains(t, body, "Extended: now due on 5 May 2026.")
	assert.NotContains(t, body, `id="extend"`, "only once")
	_, body = b.post("/privacy/requests/"+rect[1]+"/extend", url.Values{"months": {"1"}, "reason": {"again"}})
	assert.Contains(t, body, "can be extended only once")
	_, body = b.post("/privacy/requests/"+rect[1]+"/close", url.Values{"status": {"done"}, "outcome": {"Company name corrected in the profile."}})
	assert.Contains(t, body, "Request closed.")
	assert.Contains(t, body, `id="request-status">done</strong>: Company name corrected in the profile.`)
	_, body = b.get("/privacy")
	assert.Regexp(t, `<td>rectification</td><td>Ben Baker</td><td>5 Feb 2026</td><td>2 Mar 2026</td><td>Company name corrected`, body, "listed as closed")
}

// An erasure the database refuses (here a trigger) fails visibly: the
// privacy page lists it with its error and a Retry button; once the cause
// is gone, Retry finishes it from where it stopped (issue #17, failed
// erasure jobs).
func TestFailedErasureIsListedAndRetried(t *testing.T) {
	e := newEnv(t, false)
	_, err := e.db.Exec(`CREATE TRIGGER hd_test_keep BEFORE DELETE ON hd_messages WHEN OLD.body LIKE '%export last month%' BEGIN SELECT RAISE(ABORT, 'kept by the test'); END`)
	require.NoError(t, err)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.post("/privacy/erase", url.Values{"subject": {"c-ben"}, "verified": {"yes"}})
	logID := requestLinkRE.FindStringSubmatch(body)
	require.NotNil(t, logID)
	for range 3 { // the first run, and the retry after a short backoff
		_ = e.app.RunErasureJobs(context.Background())
		e.clock.Advance(5 * time.Minute)
	}
	b.login(agentUser, agentPass)
	_, body = b.get("/privacy")
	assert.Contains(t, body, `id="failed-jobs"`)
	assert.Regexp(t, `<a href="/privacy/requests/`+logID[1]+`">`+logID[1]+`</a></td><td>Ben Baker</td><td>2</td>`, body, "listed with its tries")
	assert.Contains(t, body, "integrity violation", "and its error")
	_, body = b.get("/privacy/requests/" + logID[1])
	assert.Contains(t, body, `id="job-status">failed`)

	_, err = e.db.Exec(`DROP TRIGGER hd_test_keep`)
	require.NoError(t, err)
	_, body = b.post("/privacy/requests/"+logID[1]+"/retry", nil)
	assert.Contains(t, body, "continues from where it stopped")
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	_, body = b.get("/privacy/requests/" + logID[1])
	assert.Contains(t, body, `id="job-status">done`)
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-ben'"))
	_, body = b.get("/privacy")
	assert.NotContains(t, body, `id="failed-jobs"`)
}

// The audit log shows what happened in words, newest first, filtered by
// kind of event and by who acted; it is the owner's screen (issue #17).
func TestAuditLogFiltersByKindAndPerson(t *testing.T) {
	e := newEnv(t, false)
	agent := e.browser()
	agent.login(agentUser, "a wrong password, sorry")
	agent.login(agentUser, agentPass)
	owner := e.browser()
	owner.login(ownerUser, ownerPass)
	_, body := owner.get("/privacy/audit")
	assert.Contains(t, body, "<td>Signed in</td><td>Alex Agent</td>")
	assert.Contains(t, body, "<td>Failed sign-in</td>")
	assert.Contains(t, body, "<td>Consent given</td><td>a customer</td>")
	assert.NotRegexp(t, `<td>[a-z]+\.[a-z_]+</td>`, body, "no raw event types")
	_, body = owner.get("/privacy/audit?type=consent.")
	assert.NotContains(t, body, "Signed in")
	assert.Contains(t, body, "Consent given")
	_, body = owner.get("/privacy/audit?actor=u-agent")
	assert.Contains(t, body, "<td>Signed in</td><td>Alex Agent</td>")
	assert.NotContains(t, body, "Olivia Owner</td>")
	status, _ := agent.get("/privacy/audit")
	assert.Equal(t, http.StatusForbidden, status)
}

// A person's consent page shows, per purpose by name, what holds now and
// the history behind it (issue #17, "Consent").
func TestConsentPageShowsStateAndHistoryPerPerson(t *testing.T) {
	e := newEnv(t, false)
	c := e.browser()
	c.get(portalLink(e, "Carla Customer"))
	c.post("/portal/consent", url.Values{"purpose": {"newsletter"}, "action": {"grant"}})
	c.post("/portal/consent", url.Values{"purpose": {"newsletter"}, "action": {"withdraw"}})
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.get("/privacy/consent?subject=c-carla")
	assert.Regexp(t, `<td>Product news</td><td>not given</td>`, body)
	assert.Regexp(t, `<td>Answering your message</td><td><strong class="keep">given</strong>`, body)
	assert.Len(t, regexp.MustCompile(`<td>Product news</td><td>(gave consent|withdrew)</td>`).FindAllString(body, -1), 2, "both decisions in the history")
	assert.Contains(t, body, "portal")
}
