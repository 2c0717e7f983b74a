package main

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// TestOtherRightsFromThePrivacyScreens files each of the other rights
// from the privacy screens and follows it to its receipt, on every
// dialect.
func TestOtherRightsFromThePrivacyScreens(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			var e *env
			if d == sqlstore.SQLite {
				e = newEnv(t, false)
			} else {
				e = newEnvDB(t, testdb.Open(t, d).DB, d, false)
			}
			testOtherRights(t, e)
		})
	}
}

func testOtherRights(t *testing.T, e *env) {
	ctx := context.Background()
	b := e.browser()
	b.login(agentUser, agentPass)
	reqID := regexp.MustCompile(`Request <code>([0-9a-f-]+)</code>`)
	run := func() { t.Helper(); require.NoError(t, e.app.RunErasureJobs(ctx)) }

	_, body := b.get("/people/c-ben")
	assert.Contains(t, body, `href="/privacy/rights?subject=c-ben"`)
	_, body = b.get("/privacy/rights?subject=c-ben")
	assert.Contains(t, body, `id="rights-subject">Ben Baker`)
	assert.Contains(t, body, `value="newsletter"`, "the objection form lists the consent purposes")

	// Restriction: Ben's ticket is marked until an agent lifts it.
	_, body = b.post("/privacy/rights", url.Values{"subject": {"c-ben"}, "type": {"restriction"}, "verified": {"yes"}})
	assert.Contains(t, body, "restriction request")
	m := reqID.FindStringSubmatch(body)
	require.NotNil(t, m, body)
	restriction := m[1]
	run()
	_, body = b.get("/privacy/requests/" + restriction)
	assert.Contains(t, body, `id="request-status">done`)
	assert.Contains(t, body, `id="receipt"`)
	var ticket int64
	require.NoError(t, e.db.QueryRow(e.app.host.Dialect().Rebind("SELECT id FROM hd_tickets WHERE requester_id = ?"), "c-ben").Scan(&ticket))
	restricted, err := e.app.kit.Erasure.Restricted(ctx, e.app.acct, erasure.KindTicket, strconv.FormatInt(ticket, 10))
	require.NoError(t, err)
	assert.True(t, restricted)
	_, body = b.get("/privacy/rights?subject=c-ben")
	assert.Contains(t, body, "in force")
	_, body = b.post("/privacy/restrictions/"+restriction+"/lift", url.Values{"subject": {"c-ben"}, "reason": {"Ben confirmed his data; told by e-mail"}})
	assert.Contains(t, body, "Ben confirmed his data")
	assert.NotContains(t, body, "in force")
	restricted, err = e.app.kit.Erasure.Restricted(ctx, e.app.acct, erasure.KindTicket, strconv.FormatInt(ticket, 10))
	require.NoError(t, err)
	assert.False(t, restricted)

	// Rectification: the name is corrected in hd_users; the receipt holds
	// no value.
	_, body = b.post("/privacy/rights", url.Values{"subject": {"c-ben"}, "type": {"rectification"}, "field": {"name"}, "value": {"Benjamin Baker"}, "verified": {"yes"}})
	m = reqID.FindStringSubmatch(body)
	require.NotNil(t, m, body)
	run()
	_, body = b.get("/privacy/requests/" + m[1])
	assert.Contains(t, body, `id="request-status">done`)
	assert.Contains(t, body, `&#34;outcome&#34;: &#34;corrected&#34;`)
	receipt := regexp.MustCompile(`(?s)id="receipt".*`).FindString(body)
	require.NotEmpty(t, receipt)
	assert.NotContains(t, receipt, "Benjamin", "the receipt holds no value (the page names the person as they are now)")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-ben' AND name = 'Benjamin Baker'"))
	status, _ := b.post("/privacy/rights", url.Values{"subject": {"c-ben"}, "type": {"rectification"}})
	assert.Equal(t, 422, status, "a rectification without a correction is refused")

	// Objection: Carla's consent to "support" is withdrawn with evidence,
	// after the identity check.
	_, body = b.post("/privacy/rights", url.Values{"subject": {"c-carla"}, "type": {"objection"}, "purpose": {"support"}})
	m = reqID.FindStringSubmatch(body)
	require.NotNil(t, m, body)
	run()
	st, err := e.app.kit.Consent.Check(ctx, e.app.acct, "c-carla", "support")
	require.NoError(t, err)
	assert.Equal(t, consent.StatusGranted, st, "nothing happens before the identity is verified")
	b.post("/privacy/requests/"+m[1]+"/verify", nil)
	run()
	st, err = e.app.kit.Consent.Check(ctx, e.app.acct, "c-carla", "support")
	require.NoError(t, err)
	assert.Equal(t, consent.StatusWithdrawn, st)
	_, body = b.get("/privacy/consent?subject=c-carla")
	assert.Contains(t, body, "Objection to processing (Art. 21 GDPR), request "+m[1])

	// Portability: only what Carla provided.
	_, body = b.post("/privacy/rights/portability", url.Values{"subject": {"c-carla"}})
	var exp struct {
		Format string                       `json:"format"`
		Data   map[string][]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &exp), body)
	assert.Equal(t, erasure.PortabilityFormat, exp.Format)
	assert.Len(t, exp.Data["ticket"], 1)
	assert.Len(t, exp.Data["blob"], 1, "her attachment's file")
	for _, k := range []string{"consent", "credentials", "spam_lesson", "agent_profile", "assigned_ticket", "ip_rule_author"} {
		assert.NotContains(t, exp.Data, k)
	}

	_, body = b.get("/privacy")
	assert.Contains(t, body, "intact (4 receipts)", "every right closed with a receipt in the one chain")
	events := 0
	for _, ev := range e.events() {
		if ev.Type == "erasure.restriction_lifted" && ev.Actor == "u-agent" {
			events++
		}
	}
	assert.Equal(t, 1, events, "lifting is an audit event")
}
