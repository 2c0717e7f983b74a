package main

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
)

var verdictRE = func(id string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)<tr id="ticket-` + id + `">.*?class="badge (\w+)">\w+</span> <span class="muted">(\d+)%`)
}

// The spam buttons train the filter at once, and a ticket marked as spam
// leaves the inbox for the spam folder, and comes back when it is not
// spam after all (issue #17 defect 9).
func TestSpamButtonsTrainTheFilterAndMoveTheTicket(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.get("/inbox")
	prize := verdictRE("3").FindStringSubmatch(body)
	require.NotNil(t, prize, body)
	assert.Equal(t, "spam", prize[1], "the seeded prize ticket looks like spam")
	assert.Contains(t, body, `class="clue"`, "the strongest clues are shown")
	ben := verdictRE("2").FindStringSubmatch(body)
	require.NotNil(t, ben)
	assert.NotEqual(t, "spam", ben[1])

	_, body = b.post("/tickets/2/spam", nil)
	assert.Contains(t, body, "Ticket #2 moved to the spam folder. The spam filter learned from it.")
	assert.NotContains(t, body, `id="ticket-2"`, "a ticket marked as spam leaves the inbox")
	_, body = b.get("/inbox?folder=spam")
	after := verdictRE("2").FindStringSubmatch(body)
	require.NotNil(t, after, "it is in the spam folder")
	assert.Greater(t, atoi(after[2]), atoi(ben[2]), "one lesson raises the score of the same message at once")
	assert.Contains(t, body, "(an agent said spam)")
	assert.Contains(t, body, "Spam (1)")

	_, body = b.post("/tickets/2/ham", nil)
	assert.Contains(t, body, "Ticket #2 is back in the inbox.")
	assert.NotContains(t, body, `id="ticket-2"`, "it left the spam folder")
	_, body = b.get("/inbox")
	back := verdictRE("2").FindStringSubmatch(body)
	require.NotNil(t, back, "it is back in the inbox")
	assert.Less(t, atoi(back[2]), atoi(after[2]), "a correction moves the lesson back")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 2 AND status = 'open' AND spam_label = 'ham'"))
}

// The inbox shows 25 tickets a page, newest first, and pages on to the
// oldest without repeating or skipping one; every page is one query
// (hostdb.Tickets), so the inbox does not slow down as tickets pile up.
func TestInboxPagesThroughEveryTicketOnce(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	carla, err := e.app.host.User(ctx, e.app.acct, "c-carla")
	require.NoError(t, err)
	for i := range 60 {
		_, err := e.app.host.CreateTicket(ctx, e.app.acct, hostdb.NewTicket{Requester: carla, RequesterName: carla.Name,
			Subject: fmt.Sprintf("Question number %d", i), Body: "Line one\nLine two"})
		require.NoError(t, err)
	}
	b := e.browser()
	b.login(agentUser, agentPass)
	seen := map[string]bool{}
	path, pages := "/inbox", 0
	for path != "" {
		_, body := b.get(path)
		pages++
		rows := regexp.MustCompile(`<tr id="ticket-(\d+)">`).FindAllStringSubmatch(body, -1)
		assert.LessOrEqual(t, len(rows), 25)
		for _, r := range rows {
			assert.False(t, seen[r[1]], "ticket %s shown twice", r[1])
			seen[r[1]] = true
		}
		path = ""
		if m := regexp.MustCompile(`id="next-page" href="([^"]+)"`).FindStringSubmatch(body); m != nil {
			path = regexp.MustCompile(`&amp;`).ReplaceAllString(m[1], "&")
		}
	}
	assert.Equal(t, 3, pages)
	assert.Len(t, seen, 63, "the three seeded tickets and sixty new ones, each once")
}
