package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hourly purge deletes what login keeps only while it protects or
// serves someone: a throttle counter of a username that names nobody, and
// a session past its timeouts. A live session and a recent counter stay.
func TestHourlyPurgeDropsStaleLoginState(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	stale := e.browser()
	stale.login(agentUser, agentPass)
	e.browser().login("nobody-at-all", "wrong password")
	throttles := "SELECT COUNT(*) FROM gdpr_authn_throttles"
	sessions := "SELECT COUNT(*) FROM gdpr_authn_sessions"
	require.Positive(t, e.count(throttles), "a failed login counts")
	require.Equal(t, 1, e.count(sessions))

	require.NoError(t, e.app.PurgeLoginState(ctx))
	assert.Positive(t, e.count(throttles), "a fresh counter still protects")
	assert.Equal(t, 1, e.count(sessions), "a live session stays")

	e.clock.Advance(3 * 24 * time.Hour)
	fresh := e.browser()
	fresh.login(ownerUser, ownerPass)
	require.NoError(t, e.app.PurgeLoginState(ctx))
	assert.Zero(t, e.count(throttles+" WHERE failures > 0"), "the stranger's failures are forgotten after their idle day")
	assert.Equal(t, 1, e.count(sessions), "only the owner's new session is left")
	_, body := fresh.get("/inbox")
	assert.Contains(t, body, "Inbox")
}
