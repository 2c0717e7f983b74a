package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// requestLink finds the intake-log request a page links to.
var requestLinkRE = regexp.MustCompile(`/privacy/requests/(\d+)`)

// The hd_ tables have the foreign keys a helpdesk has, cascades included,
// and the binding accounts for every one that points at a table it
// erases: Bind (which refuses a binding that leaves one out) accepted it,
// and every reference into a bound table is handled by a target, by the
// database (Cascade) or ignored on purpose.
func TestBindingAccountsForEveryForeignKey(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := envOn(t, d)
			ctx := context.Background()
			s, err := sqldb.ReadSchema(ctx, e.db, d)
			require.NoError(t, err)
			var fks []string
			for _, tb := range s.Tables {
				for _, fk := range tb.ForeignKeys {
					fks = append(fks, fk.Table+"."+fk.Columns[0]+" "+string(fk.OnDelete))
				}
			}
			assert.Subset(t, fks, []string{"hd_portal_profiles.user_id CASCADE", "hd_agent_profiles.user_id CASCADE", "hd_tickets.requester_id CASCADE",
				"hd_tickets.assignee_id SET NULL", "hd_messages.ticket_id CASCADE", "hd_messages.author_id SET NULL", "hd_attachments.message_id CASCADE",
				"hd_requests.subject_id SET NULL", "hd_requests.logged_by SET NULL", "hd_hold_matters.ticket_id SET NULL"})
			b, err := sqltarget.Bind(ctx, binding(e.app.host, e.app.kit.Blobs))
			require.NoError(t, err, "the binding is accepted on %s", d)
			rep := b.Report()
			for _, r := range rep.References {
				assert.True(t, len(r.By) > 0 || r.Cascaded || r.Ignored, "%s → %s is accounted for", r.From, r.To)
			}
			assert.Empty(t, rep.Problems)
		})
	}
}

// A binding that forgets a table a foreign key ties to the people is
// refused before anything is written: without the spec that clears
// hd_requests.subject_id, deleting a person would leave (or, without the
// foreign key's SET NULL, be refused by) their request log rows.
func TestBindingWithoutTheRequestLogIsRefused(t *testing.T) {
	e := newEnv(t, false)
	cfg := binding(e.app.host, e.app.kit.Blobs)
	var specs []sqltarget.Spec
	for _, s := range cfg.Specs {
		if s.Kind != "request_log" {
			specs = append(specs, s)
		}
	}
	cfg.Specs = specs
	_, err := sqltarget.Bind(context.Background(), cfg)
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	assert.Contains(t, err.Error(), "hd_requests.subject_id")
}

func TestEraseCustomerPreviewRunReceiptExport(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) { testEraseCustomer(t, envOn(t, d)) })
	}
}

// envOn is newEnv on dialect d: SQLite in a file, or a fresh namespace of
// the test database.
func envOn(t *testing.T, d sqldb.Dialect) *env {
	if d == sqlstore.SQLite {
		return newEnv(t, false)
	}
	return newEnvDB(t, testdb.Open(t, d).DB, d, false)
}

func testEraseCustomer(t *testing.T, e *env) {
	b := e.browser()
	b.login(agentUser, agentPass)
	require.Equal(t, 1, len(e.files()), "Carla's invoice is on disk")
	_, body := b.post("/tickets/1/ham", nil) // an agent marks her ticket "not spam"
	require.Contains(t, body, "Ticket #1 is back in the inbox")
	ls, err := e.app.kit.Spam.Lessons(context.Background(), e.app.acct, []string{"ticket-1"})
	require.NoError(t, err)
	require.Len(t, ls, 1, "the filter learned from Carla's ticket")
	require.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_messages WHERE ticket_id = 2 AND body LIKE '%Carla Customer%'"), "Ben's ticket names Carla")

	// The access export first: it holds Carla's data.
	_, body = b.post("/privacy/export", url.Values{"subject": {"c-carla"}})
	var exp struct {
		Format string                       `json:"format"`
		Data   map[string][]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &exp), body)
	assert.Equal(t, "gdprkit-access-v1", exp.Format)
	assert.Contains(t, body, "Carla Customer")
	assert.Len(t, exp.Data["ticket"], 1)
	assert.Len(t, exp.Data["spam_lesson"], 1, "and what the spam filter learned from her ticket")

	// "Is anything of her left?" on the privacy page: yes, before.
	_, body = b.get("/privacy")
	assert.Contains(t, body, `href="/privacy/residue"`)
	status, body := b.post("/privacy/residue", url.Values{"email": {"carla@example.com"}, "name": {"Carla Customer"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `id="residue-findings"`)
	assert.Regexp(t, `<td>end_user</td><td><code>c-carla</code></td><td>email</td><td>email</td>`, body, "her profile's e-mail column")
	assert.Contains(t, body, "<td>message</td>", "Ben's ticket names her")
	assert.NotContains(t, body, "carla@example.com</td>", "the page says where, never the value")
	status, body = b.post("/privacy/residue", url.Values{"email": {"a@b"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status, "identifiers under four characters are not searched")
	assert.Contains(t, body, "four characters or more")

	_, body = b.get("/privacy/erase?subject=c-carla")
	assert.Contains(t, body, "A dry run for <strong id=\"erase-subject\">Carla Customer</strong>")
	for _, kind := range []string{"Profile (name, e-mail address)", "Tickets", "Messages", "Attachment records", "Attached files", "Consent records",
		"Customer-portal profile", "What the spam filter learned from their messages", "Other people&#39;s messages that name them"} {
		assert.Contains(t, body, "<strong>"+kind+"</strong>", "the plan says it in words")
	}
	assert.NotRegexp(t, `<strong>[a-z]+_[a-z_]+</strong>`, body, "no snake_case kinds")
	assert.NotRegexp(t, `id="verified"[^>]*checked`, body, "the identity box is not ticked for the agent (issue #17 defect 3)")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-carla'"), "the preview changes nothing")

	_, body = b.post("/privacy/erase", url.Values{"subject": {"c-carla"}, "verified": {"yes"}, "channel": {"email"}})
	assert.Contains(t, body, `id="request-status">open`)
	logID := requestLinkRE.FindStringSubmatch(body)
	require.NotNil(t, logID)
	_, body = b.get("/privacy")
	assert.Regexp(t, `<td>erasure</td><td>Carla Customer</td><td>email</td><td>2 Mar 2026</td>\s*<td><span class="soon">|<td>2 Apr 2026`, body, "the open request is listed with its due date")
	require.NoError(t, e.app.RunErasureJobs(context.Background()))

	_, body = b.get("/privacy/requests/" + logID[1])
	assert.Contains(t, body, `id="job-status">done`)
	assert.Regexp(t, `id="job-progress">.*<td>Tickets</td><td>\d+</td><td>\d+</td>`, body, "done and planned per kind")
	assert.Contains(t, body, `id="receipt"`)
	assert.Contains(t, body, `id="request-status">done`, "the log follows gdprkit's request")
	assert.NotContains(t, body, "Carla")
	assert.NotContains(t, body, "Still found after the erasure", "the verify pass found none of her identifiers")

	for _, page := range []string{"/inbox", "/privacy", "/tickets/2", "/people"} {
		_, body = b.get(page)
		assert.NotContains(t, body, "Carla", page)
		assert.NotContains(t, body, "Invoice 2291", page)
	}
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-carla' OR name LIKE '%Carla%' OR email LIKE '%carla%'"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets WHERE requester_name LIKE '%Carla%' OR subject LIKE '%2291%'"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_messages WHERE body LIKE '%invoice%' OR body LIKE '%Carla%'"))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_messages WHERE ticket_id = 2 AND body LIKE '%[redacted] asked the same%'"), "her name in Ben's ticket is redacted, his thread still reads")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_attachments"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_requests WHERE subject_id IS NOT NULL OR contact IS NOT NULL"), "the request log keeps the request, not the person")
	assert.Empty(t, e.files(), "the attachment file is gone")
	found, err := e.app.kit.Erasure.FindResidue(context.Background(), e.app.acct, []erasure.Identifier{{Kind: "email", Value: "carla@example.com"}, {Kind: "name", Value: "Carla Customer"}})
	require.NoError(t, err)
	assert.Empty(t, found, "nothing of her is left in any bound table")
	_, body = b.post("/privacy/residue", url.Values{"email": {"carla@example.com"}, "name": {"Carla Customer"}})
	assert.Contains(t, body, `id="residue-none"`, "and the privacy page says so")
	ls, err = e.app.kit.Spam.Lessons(context.Background(), e.app.acct, []string{"ticket-1"})
	require.NoError(t, err)
	assert.Empty(t, ls, "the filter has forgotten her ticket")
	_, body = b.get("/privacy/consent?subject=c-carla")
	assert.Contains(t, body, "pseudonymised", "consent records keep the proof without her identifiers")
	assert.NotContains(t, body, "I agree")
	assert.Contains(t, body, "intact", "the pseudonymised chain still verifies")
	_, body = b.get("/privacy")
	assert.Contains(t, body, "intact (1 receipt)")
}

func TestEraseAgentReassignsAndAnonymises(t *testing.T) {
	e := newEnv(t, false)
	owner := e.browser()
	owner.login(ownerUser, ownerPass)
	_, body := owner.get("/privacy/erase?subject=u-agent")
	assert.Contains(t, body, "<strong>Tickets assigned to them</strong>")
	assert.Contains(t, body, `class="anon">1</span>`, "authorship and assignment are anonymised, not deleted")
	_, body = owner.post("/privacy/erase", url.Values{"subject": {"u-agent"}, "verified": {"yes"}})
	logID := requestLinkRE.FindStringSubmatch(body)
	require.NotNil(t, logID)
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	_, body = owner.get("/privacy/requests/" + logID[1])
	assert.Contains(t, body, `id="job-status">done`)

	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'u-agent'"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_agent_profiles WHERE user_id = 'u-agent'"))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 2 AND assignee_id IS NULL"), "Ben's ticket went back to the queue")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_messages WHERE ticket_id = 2 AND author_id IS NULL AND author_name LIKE 'Former user %'"), "authorship reads as a label")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_messages WHERE body LIKE '%Alex Agent%'"), "his signature is redacted from the reply he wrote")
	_, body = owner.get("/tickets/2")
	assert.NotContains(t, body, "Alex Agent")
	assert.Contains(t, body, "Ben Baker", "the customer's thread still reads")

	agent := e.browser()
	assert.Contains(t, agent.login(agentUser, agentPass), "Wrong username, password", "an erased agent's credentials are gone")
}

func TestAgentCannotEraseTheOwner(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.get("/privacy/erase?subject=u-owner")
	assert.Contains(t, body, "You may not erase Olivia Owner")
	assert.NotContains(t, body, `id="erase-run"`)
	status, _ := b.post("/privacy/erase", url.Values{"subject": {"u-owner"}, "verified": {"yes"}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'u-owner'"))
}

// An agent may not erase the owner (TestAgentCannotEraseTheOwner), nor
// export them: /privacy/export files an access request, which Authorize
// checks. It once handed an agent the owner's export.
func TestAgentCannotExportTheOwner(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	status, body := b.post("/privacy/export", url.Values{"subject": {"u-owner"}})
	assert.Equal(t, http.StatusForbidden, status, "an agent must not receive the owner's access export")
	assert.NotContains(t, body, "olivia@helpdesk.example")
}

// A legal hold on a person keeps their data; the receipt says the erasure
// was partial; the holds page lists holds by person and matter; once
// released, what the hold kept is erased too. A hold's note keeps its
// matter after the ticket it named is deleted: the database sets its
// ticket to NULL (ON DELETE SET NULL, listed in the binding's Cascade, so
// the plan predicts it).
func TestLegalHoldKeepsDataUntilReleased(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(ownerUser, ownerPass)
	_, body := b.post("/privacy/holds", url.Values{"ticket": {"1"}, "matter": {"Invoice dispute 2291"}})
	assert.Contains(t, body, "Legal hold placed for Invoice dispute 2291.")
	_, body = b.post("/privacy/holds", url.Values{"subject": {"c-ben"}, "matter": {"Export dispute 2026-14"},
		"ground": {"Art. 17(3)(e): defence of legal claims"}, "reason": {"lawyer's letter of 1 March"}})
	assert.Regexp(t, `<td><a href="/people/c-carla">Carla Customer</a></td><td>Invoice dispute 2291</td>\s*<td>ticket <a href="/tickets/1">#1</a>`, body, "listed by person and matter")
	assert.Regexp(t, `<td><a href="/people/c-ben">Ben Baker</a></td><td>Export dispute 2026-14</td>\s*<td>all of their data</td>`, body)
	assert.Contains(t, body, "lawyer&#39;s letter of 1 March", "the owner sees the internal reason")
	agent := e.browser()
	agent.login(agentUser, agentPass)
	_, body = agent.get("/privacy/holds")
	assert.Contains(t, body, "Export dispute 2026-14")
	assert.NotContains(t, body, "lawyer", "agents do not see the internal reason")
	assert.NotContains(t, body, "/release", "nor release holds")

	_, body = b.get("/privacy/erase?subject=c-ben")
	assert.Contains(t, body, "Legal holds apply")
	_, body = b.post("/privacy/erase", url.Values{"subject": {"c-ben"}, "verified": {"yes"}})
	logID := requestLinkRE.FindStringSubmatch(body)
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 2"), "the held ticket is kept")
	_, body = b.get("/privacy/requests/" + logID[1])
	assert.Contains(t, body, "fulfilled in part: some data is kept by law")

	release := func(matter string) {
		_, body := b.get("/privacy/holds")
		id := regexp.MustCompile(`(?s)` + matter + `.*?/privacy/holds/([0-9a-f-]+)/release`).FindStringSubmatch(body)
		require.NotNil(t, id, matter)
		_, body = b.post("/privacy/holds/"+id[1]+"/release", nil)
		assert.Contains(t, body, "Hold released")
	}
	release("Export dispute 2026-14")
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 2"), "released: the follow-up erasure took what the hold kept")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-ben'"))

	release("Invoice dispute 2291")
	_, body = b.get("/privacy/erase?subject=c-carla")
	assert.Contains(t, body, "and by itself the database unlinks 1 row of legal-hold notes", "the plan predicts the database's SET NULL")
	b.post("/privacy/erase", url.Values{"subject": {"c-carla"}, "verified": {"yes"}})
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_hold_matters WHERE matter = 'Invoice dispute [redacted]' OR matter = 'Invoice dispute 2291'"))
	assert.Equal(t, 2, e.count("SELECT COUNT(*) FROM hd_hold_matters WHERE ticket_id IS NULL"), "the database set the note's ticket to NULL")
}

func TestUnverifiedErasureWaitsForIdentityCheck(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.post("/privacy/erase", url.Values{"subject": {"c-ben"}})
	assert.Contains(t, body, `id="job-status">waiting`)
	assert.Contains(t, body, `id="verify-identity"`)
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-ben'"), "an unverified request does not run")
	id := regexp.MustCompile(`/privacy/requests/(\d+)/verify`).FindStringSubmatch(body)[1]
	_, body = b.post("/privacy/requests/"+id+"/verify", nil)
	assert.Contains(t, body, `id="job-status">queued`)
	require.NoError(t, e.app.RunErasureJobs(context.Background()))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-ben'"))
}
