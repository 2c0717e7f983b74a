package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The schedules screen: rules honour their own status and field, a keep
// rule wins over a delete rule, the preview says exactly what the run
// then does, a typo is refused when the rule is written, and the proof of
// disposition names the removed ticket.
func TestSchedulesScreenPreviewMatchesTheRun(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(ownerUser, ownerPass)
	b.post("/account/event", url.Values{"event": {"upgrade"}})
	b.post("/tickets/3/spam", nil)
	b.post("/tickets/2/close", nil)
	add := func(v url.Values) (int, string) { return b.post("/privacy/schedules/rules", v) }
	status, body := add(url.Values{"name": {"spam after 10 days"}, "action": {"delete"}, "kind": {"held_spam"}, "status": {"spam"},
		"field": {"created_at"}, "months": {"0"}, "days": {"10"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "Rule added")
	add(url.Values{"name": {"closed after 1 month"}, "action": {"delete"}, "kind": {"ticket"}, "status": {"closed"},
		"field": {"closed_at"}, "months": {"1"}, "days": {"0"}})
	add(url.Values{"name": {"keep closed 2 years"}, "action": {"keep"}, "kind": {"ticket"}, "status": {"closed"},
		"field": {"created_at"}, "months": {"24"}, "days": {"0"}})
	status, body = add(url.Values{"name": {"typo"}, "action": {"delete"}, "kind": {"ticket"}, "status": {"closed"},
		"field": {"closd_at"}, "months": {"1"}, "days": {"0"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "no time field")

	e.clock.Advance(40 * 24 * time.Hour)
	b.login(ownerUser, ownerPass)
	_, body = b.get("/privacy/schedules")
	assert.Contains(t, body, `<strong>1</strong> to remove, <strong>0</strong> held, <strong>1</strong> kept`, "spam #3 goes, closed #2 is kept")
	assert.Contains(t, body, `<a href="/tickets/3">#3</a>`)
	_, body = b.post("/privacy/schedules/run", nil)
	assert.Contains(t, body, "Ran: 1 removed, 0 held, 1 kept.")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 3"))
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 2"), "the spam rule honours its status; the keep rule holds the closed ticket")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 1"), "open tickets match no rule")
	_, body = b.get("/privacy/schedules/dispositions.jsonl")
	assert.Contains(t, body, `"removed":["3"]`)
	_, body = b.get("/privacy/schedules")
	assert.Contains(t, body, `<strong>0</strong> to remove`)
}
