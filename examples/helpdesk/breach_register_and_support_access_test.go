package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/staffaccess"
)

var breachIDRE = regexp.MustCompile(`action="/privacy/breaches/([0-9a-f-]{36})/subjects"`)

// The breach register screens: record, find the people it reached in the
// helpdesk's tables, queue and send the notifications, export the
// authority's form, a late notification needs its reason, close, and the
// register (HTML and JSON) answers when each was notified, verified.
func TestBreachScreens(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(ownerUser, ownerPass)
	_, body := b.get("/privacy")
	assert.Contains(t, body, `href="/privacy/breaches"`)

	record := func(title string, aware time.Time) string {
		t.Helper()
		status, body := b.post("/privacy/breaches", url.Values{"title": {title}, "nature": {"The attachments folder was readable without login."},
			"types": {"confidentiality"}, "occurred_at": {aware.Add(-time.Hour).Format("2006-01-02T15:04")}, "aware_at": {aware.Format("2006-01-02T15:04")},
			"data_categories": {"name, email, attachments"}, "subject_categories": {"customers"}, "kinds": {"attachment"}, "approx_records": {"1"},
			"consequences": {"Invoices may have been read."}, "measures_taken": {"Folder locked down."}, "high_risk": {"1"},
			"dpo_name": {"Dana Privacy"}, "dpo_email": {"dpo@helpdesk.example"}})
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, "Breach recorded.")
		m := breachIDRE.FindStringSubmatch(body)
		require.NotNil(t, m)
		return m[1]
	}
	status, body := b.post("/privacy/breaches", url.Values{"title": {"no nature"}, "aware_at": {"2026-03-02T08:00"}, "occurred_at": {"2026-03-02T07:00"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "nature is required")

	id := record("Attachments exposed", e.clock.Now().Add(-2*time.Hour))
	_, body = b.get("/privacy/breaches/" + id)
	assert.Contains(t, body, "70h0m0s left", "the 72-hour clock from awareness")

	_, body = b.post("/privacy/breaches/"+id+"/subjects", url.Values{"kind": {"attachment"}, "where": {"attachments/"}})
	assert.Contains(t, body, "1 affected people added.", "Carla's ticket has the only attachment")
	assert.Contains(t, body, `<span id="subjects">1</span>`)
	_, body = b.post("/privacy/breaches/"+id+"/subjects", url.Values{"kind": {"attachment"}, "where": {"elsewhere/"}})
	assert.Contains(t, body, "0 affected people added.")
	_, body = b.post("/privacy/breaches/"+id+"/subjects", url.Values{"kind": {"invoice"}})
	assert.Contains(t, body, "cannot search kind")

	_, body = b.post("/privacy/breaches/"+id+"/notify", url.Values{"authority": {"1"}, "dpo": {"1"}, "subjects": {"1"}})
	assert.Contains(t, body, "Queued: 1 to the authority, 1 to the DPO, 1 to affected people.")
	assert.Contains(t, body, "Nothing delivered yet.", "queued, not sent: the outbox is durable")
	_, body = b.post("/privacy/breaches/"+id+"/notify", url.Values{"authority": {"1"}})
	assert.Contains(t, body, "already queued or sent")
	e.clock.Advance(10 * time.Minute)
	_, body = b.post("/privacy/breaches/"+id+"/send", nil)
	assert.Contains(t, body, "Sent 3 notices.")
	assert.Contains(t, body, "person: carla@example.com", "the notifier resolved the pseudonym")
	assert.Contains(t, body, "DPO: dpo@helpdesk.example")
	assert.Contains(t, body, "within 72 hours")
	assert.Contains(t, body, ">notified</span>")

	resp, err := b.c.Get(e.srv.URL + "/privacy/breaches/" + id + "/form.json")
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var form breach.Form
	require.NoError(t, json.Unmarshal(raw, &form), string(raw))
	assert.Equal(t, "The attachments folder was readable without login.", form.Nature)
	assert.Equal(t, "dpo@helpdesk.example", form.DPO.Email)
	assert.EqualValues(t, 1, form.ApproxSubjects)
	assert.False(t, form.Late)
	assert.True(t, form.NotifiedAt.Equal(e.clock.Now()))

	// A breach known for four days: notifying needs the reason.
	late := record("Lost laptop", e.clock.Now().Add(-96*time.Hour))
	_, body = b.get("/privacy/breaches/" + late)
	assert.Contains(t, body, "deadline passed")
	_, body = b.post("/privacy/breaches/"+late+"/notify", url.Values{"authority": {"1"}})
	assert.Contains(t, body, "needs the reason for the delay")
	_, body = b.post("/privacy/breaches/"+late+"/notify", url.Values{"authority": {"1"}, "delay_reason": {"The theft was reported to us late."}})
	assert.Contains(t, body, "Queued: 1 to the authority")
	b.post("/privacy/breaches/"+late+"/send", nil)
	_, body = b.post("/privacy/breaches/"+late+"/close", url.Values{"reason": {"Disk was encrypted."}})
	assert.Contains(t, body, "Closed.")
	assert.Contains(t, body, "after the deadline")

	_, body = b.get("/privacy/breaches")
	assert.Contains(t, body, "history verified")
	assert.Contains(t, body, "Attachments exposed")
	assert.Contains(t, body, ">late</span>")
	resp, err = b.c.Get(e.srv.URL + "/privacy/breaches.json")
	require.NoError(t, err)
	var reg breach.Register
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&reg))
	resp.Body.Close()
	require.True(t, reg.Verification.OK, reg.Verification.Problem)
	require.Len(t, reg.Breaches, 2)
	for _, x := range reg.Breaches {
		assert.Equal(t, 1, x.Authority.Sent, x.Breach.Title)
		assert.False(t, x.Breach.AuthorityNotifiedAt.IsZero())
	}

	agent := e.browser()
	agent.login(agentUser, agentPass)
	status, _ = agent.get("/privacy/breaches")
	assert.Equal(t, http.StatusForbidden, status, "the register is the owner's")
}

// The support access screens: the vendor asks through its tool, an agent
// cannot approve, the owner approves, the vendor's reads go through the
// middleware and appear in the trail with the approver, and after a
// revocation the vendor is refused.
func TestSupportAccessScreens(t *testing.T) {
	e := newEnv(t, false)
	vendor := func(method, path string, form url.Values, staff string, token string) (int, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, e.srv.URL+path, body)
		require.NoError(t, err)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("X-Vendor-Staff", staff)
		resp, err := e.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	tok := e.app.vendorToken()
	ask := url.Values{"purpose": {"Ticket 1: invoice total looks wrong"}, "hours": {"24"}}
	status, _ := vendor("POST", "/api/vendor/access-requests", ask, "eva", "wrong-token")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, body := vendor("POST", "/api/vendor/access-requests", ask, "eva", tok)
	require.Equal(t, http.StatusCreated, status, body)
	var g staffaccess.Grant
	require.NoError(t, json.Unmarshal([]byte(body), &g))
	assert.Equal(t, staffaccess.StatusRequested, g.Status)

	status, body = vendor("GET", "/api/vendor/accounts/demo/tickets", nil, "eva", tok)
	assert.Equal(t, http.StatusForbidden, status, "not approved yet")
	assert.Contains(t, body, "no live support access grant")

	agent := e.browser()
	agent.login(agentUser, agentPass)
	_, body = agent.get("/privacy/support-access")
	assert.Contains(t, body, "vendor:eva")
	status, body = agent.post("/privacy/support-access/"+g.ID+"/approve", nil)
	assert.Equal(t, http.StatusForbidden, status, "an agent cannot approve")
	assert.Contains(t, body, "Only the account&#39;s owner or an admin")

	owner := e.browser()
	owner.login(ownerUser, ownerPass)
	_, body = owner.get("/privacy")
	assert.Contains(t, body, `href="/privacy/support-access"`)
	_, body = owner.post("/privacy/support-access/"+g.ID+"/approve", url.Values{"note": {"24 hours only"}})
	assert.Contains(t, body, "Approved.")

	status, body = vendor("GET", "/api/vendor/accounts/demo/tickets", nil, "eva", tok)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "Invoice 2291 is wrong")
	status, _ = vendor("GET", "/api/vendor/accounts/demo/tickets", nil, "max", tok)
	assert.Equal(t, http.StatusForbidden, status, "the grant is eva's")
	status, _ = vendor("GET", "/api/vendor/accounts/other/tickets", nil, "eva", tok)
	assert.Equal(t, http.StatusForbidden, status, "and this account's")

	_, body = owner.get("/privacy/support-access")
	assert.Contains(t, body, "trail verified")
	assert.Contains(t, body, "<code>GET /api/vendor/accounts/demo/tickets</code>")
	assert.Contains(t, body, "u-owner (owner)")
	resp, err := owner.c.Get(e.srv.URL + "/privacy/support-access.json")
	require.NoError(t, err)
	var tr staffaccess.Trail
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tr))
	resp.Body.Close()
	require.True(t, tr.Verification.OK, tr.Verification.Problem)
	require.Len(t, tr.Accesses, 1)
	assert.Equal(t, "vendor:eva", string(tr.Accesses[0].Staff))
	assert.Equal(t, "u-owner", string(tr.Accesses[0].ApprovedBy))

	_, body = owner.post("/privacy/support-access/"+g.ID+"/revoke", nil)
	assert.Contains(t, body, "Revoked: access ends now.")
	status, _ = vendor("GET", "/api/vendor/accounts/demo/tickets", nil, "eva", tok)
	assert.Equal(t, http.StatusForbidden, status, "revoked")
}
