package erasure_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

// planCounts turns a plan into deleted/anonymised/kept per kind.
func planCounts(p erasure.Plan) map[erasure.Kind][3]int64 {
	out := map[erasure.Kind][3]int64{}
	for _, t := range p.Targets {
		out[t.Kind] = [3]int64{t.Deleted, t.Anonymized, t.Kept}
	}
	return out
}

// Issue 22: Preview counts with one aggregate query per kind and gives
// Plan's figures on the SQL helpdesk, messages the subject wrote in
// someone else's ticket (anonymised) and in their own (deleted) told
// apart; the job still plans by walking, and its receipt equals both.
// With a legal hold active it is Plan itself.
func TestPreviewCountsWhatPlanWalksOnSQL(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newSQLEnv(t, d, 7)
			h := e.host
			const acct = gdprkit.AccountID("acme")
			h.seedSubject(t, acct, "ana", 4, 3)
			h.seedSubject(t, acct, "bob", 2, 2)
			var bobMsg int64
			require.NoError(t, h.db.QueryRow(h.rebind("SELECT MIN(m.id) FROM hd_messages m JOIN hd_tickets t ON t.account_id = m.account_id AND t.id = m.ticket_id WHERE t.requester_id = ?"), "bob").Scan(&bobMsg))
			_, err := h.db.Exec(h.rebind("UPDATE hd_messages SET author_id = ? WHERE id = ?"), "ana", bobMsg)
			require.NoError(t, err)

			plan, err := e.svc.Plan(ctx, acct, "ana", "", nil)
			require.NoError(t, err)
			pre, err := e.svc.Preview(ctx, acct, "ana", "", nil)
			require.NoError(t, err)
			require.True(t, pre.Estimate, "every kind of the binding counts")
			require.False(t, plan.Estimate)
			require.Equal(t, planCounts(plan), planCounts(pre))
			c := planCounts(pre)
			require.Equal(t, [3]int64{12, 0, 0}, c[erasure.KindMessage])
			require.Equal(t, [3]int64{0, 1, 0}, c[erasure.KindAuthoredMessage], "only the message in bob's ticket is anonymised")
			require.Equal(t, [3]int64{4, 0, 0}, c[erasure.KindBlob])

			r, err := e.svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
			require.NoError(t, err)
			found, err := e.svc.RunOnce(ctx, "w")
			require.NoError(t, err)
			require.True(t, found)
			rc, err := e.svc.Receipt(ctx, acct, r.ID)
			require.NoError(t, err)
			for _, tr := range rc.Targets {
				require.Equal(t, c[tr.Kind], [3]int64{tr.Deleted, tr.Anonymized, tr.Kept}, "%s", tr.Kind)
			}

			// A hold makes Preview walk.
			var bobTicket int64
			require.NoError(t, h.db.QueryRow(h.rebind("SELECT MIN(id) FROM hd_tickets WHERE requester_id = ?"), "bob").Scan(&bobTicket))
			_, err = e.svc.PlaceHold(ctx, acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: strconv.FormatInt(bobTicket, 10), Ground: "Art. 17(3)(e)", By: "admin"})
			require.NoError(t, err)
			pre, err = e.svc.Preview(ctx, acct, "bob", "", nil)
			require.NoError(t, err)
			plan, err = e.svc.Plan(ctx, acct, "bob", "", nil)
			require.NoError(t, err)
			require.False(t, pre.Estimate)
			require.Equal(t, planCounts(plan), planCounts(pre))
			require.Equal(t, int64(1), planCounts(pre)[erasure.KindTicket][2], "the held ticket is kept")
		})
	}
}

// Targets without Caps.Count (the in-memory helpdesk) make Preview a Plan.
func TestPreviewFallsBackToPlan(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	plan, err := e.svc.Plan(ctx, e.acct, "ana", "", nil)
	require.NoError(t, err)
	pre, err := e.svc.Preview(ctx, e.acct, "ana", "", nil)
	require.NoError(t, err)
	require.False(t, pre.Estimate)
	require.Equal(t, planCounts(plan), planCounts(pre))
}
