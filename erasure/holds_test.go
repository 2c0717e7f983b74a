package erasure_test

import (
	"time"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
)

// DeleteRecord once accepted root kinds, so an agent could permanently
// delete the owner's (or an admin's) profile, bypassing Authorize.
func TestDeleteRecordRefusesRootKinds(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	_, err := e.svc.Authorize(ctx, e.acct, "agent1", "owner", erasure.ScopeFull)
	require.ErrorIs(t, err, gdprkit.ErrForbidden) // the erasure path refuses
	n, err := e.svc.DeleteRecord(ctx, e.acct, erasure.KindEndUser, "owner", "agent1")
	assert.ErrorIs(t, err, gdprkit.ErrForbidden, "deleted: %v", n)
	assert.Contains(t, e.dump().Users, gdprkit.SubjectID("owner"), "the owner's profile must survive an agent")
}

// DeleteRecord once checked only a hold on the exact record, not on its
// ancestors (a ticket hold covers "everything under it") nor a subject hold.
func TestDeleteRecordHonoursAHoldOnAParent(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	_, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-ana-1", Ground: "Art. 17(3)(e)", By: "admin"})
	require.NoError(t, err)
	_, err = e.svc.DeleteRecord(ctx, e.acct, erasure.KindMessage, "m-t-ana-1-0", "agent1")
	assert.ErrorIs(t, err, erasure.ErrHeld)
	assert.Contains(t, e.dump().Messages, "m-t-ana-1-0", "a message of a held ticket is under the hold")
	assert.Contains(t, e.dump().Attachments, "a-m-t-ana-1-0")
}

func TestDeleteRecordHonoursASubjectHold(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	_, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Subject: "ana", Ground: "Art. 17(3)(e)", By: "admin"})
	require.NoError(t, err)
	_, err = e.svc.DeleteRecord(ctx, e.acct, erasure.KindTicket, "t-ana-0", "agent1")
	assert.ErrorIs(t, err, erasure.ErrHeld)
	assert.Contains(t, e.dump().Tickets, "t-ana-0", "all of ana's data is held")
}

// A hold on a ticket was checked only under KindTicket; the same ticket
// reached as assigned_ticket (and its messages as authored_message) was
// changed when the agent was erased.
func TestHeldTicketKeptWhenItsAgentIsErased(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	_, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-ana-1", Ground: "Art. 17(3)(e)", By: "admin"})
	require.NoError(t, err)
	before := e.dump()
	e.erase("agent1", "admin")
	require.Empty(t, e.drain())
	after := e.dump()
	assert.Equal(t, before.Tickets["t-ana-1"], after.Tickets["t-ana-1"], "a held ticket is kept as it is")
	assert.Equal(t, before.Messages["m-t-ana-1-1"], after.Messages["m-t-ana-1-1"], "and so are its messages")
}

// Erasing the agent who is the ReassignTo target never completed:
// anonymising reassigned the tickets to the subject, so Find kept
// returning them until maxPasses. They now go to the unassigned queue.
func TestErasingTheReassigneeCompletes(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	r, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "agent1", By: "admin", Verified: true, ReassignTo: "agent1"})
	require.NoError(t, err)
	errs := e.drain()
	assert.Empty(t, errs)
	got, err := e.svc.Request(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.Equal(t, erasure.StatusCompleted, got.Status)
	for id, tk := range e.dump().Tickets {
		assert.NotEqual(t, gdprkit.SubjectID("agent1"), tk.Assignee, id)
	}
}

// A portal-scope erasure left a "subject" tombstone, so ReErase after a
// restore filed a full erasure: the customer's tickets, identities and
// profile went though they only asked to drop their portal profile.
func TestReEraseKeepsThePortalScope(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	since := e.clock.Now()
	_, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "ana", Scope: erasure.ScopePortal, Verified: true})
	require.NoError(t, err)
	require.Empty(t, e.drain())
	require.Contains(t, e.dump().Users, gdprkit.SubjectID("ana"))
	rs, err := e.svc.ReErase(ctx, e.acct, since)
	require.NoError(t, err)
	for _, r := range rs {
		assert.Equal(t, erasure.ScopePortal, r.Scope, "re-erasure must not widen the scope")
	}
	require.Empty(t, e.drain())
	d := e.dump()
	assert.Contains(t, d.Users, gdprkit.SubjectID("ana"), "ana never asked to be fully erased")
	assert.Contains(t, d.Tickets, "t-ana-0")
}

// The same with the account-wide Config.ReassignTo when that agent leaves.
func TestErasingTheConfiguredReassigneeCompletes(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	g, err := erasure.NewGraph(append(e.hd.Targets(), kitdata.CredentialsTarget(e.creds))...)
	require.NoError(t, err)
	ps, _ := gdprkit.NewPseudonymizer(key)
	e.svc, err = erasure.New(erasure.Config{Store: e.store, Graph: g, Directory: e.hd, Pseudonymizer: ps, Clock: e.clock, ReassignTo: "agent1"})
	require.NoError(t, err)
	r := e.erase("agent1", "admin")
	assert.Empty(t, e.drain())
	got, err := e.svc.Request(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.Equal(t, erasure.StatusCompleted, got.Status)
}

// A hold on one ticket keeps it through an erasure; releasing the hold
// finishes the erasure it held back — the ticket, its messages,
// attachments and files go, under a receipt of their own — without anyone
// filing a new request. A hold that expires does the same at its expiry.
func TestReleasedHoldFinishesTheErasureItHeldBack(t *testing.T) {
	for _, release := range []string{"released", "expired"} {
		t.Run(release, func(t *testing.T) {
			e := newEnv(t, envOpt{batch: 2})
			e.seed()
			spec := erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-ana-1", Ground: "Art. 17(3)(e)", By: "admin"}
			if release == "expired" {
				spec.ExpiresAt = t0.Add(72 * time.Hour)
			}
			h, err := e.svc.PlaceHold(ctx, e.acct, spec)
			require.NoError(t, err)
			r := e.erase("ana", "admin")
			_, errs := e.svc.RunUntilIdle(ctx, "w")
			require.Empty(t, errs)
			rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
			require.NoError(t, err)
			assert.True(t, rc.Partial)
			d := e.dump()
			require.Contains(t, d.Tickets, "t-ana-1")
			assert.Contains(t, d.Users, gdprkit.SubjectID("ana"), "the requester stays with the held ticket")

			open, err := e.svc.Requests(ctx, e.acct, erasure.RequestFilter{OpenOnly: true})
			require.NoError(t, err)
			require.Len(t, open, 1, "a follow-up waits for the hold")
			assert.Equal(t, gdprkit.ActorID("system:hold"), open[0].RequestedBy)
			overdue, err := e.svc.Overdue(ctx, e.acct)
			require.NoError(t, err)
			assert.Empty(t, overdue, "a follow-up is not overdue while the hold lasts")

			// While the hold lasts, the follow-up looks and waits.
			e.clock.Advance(25 * time.Hour)
			found, err := e.svc.RunOnce(ctx, "w")
			require.NoError(t, err)
			require.True(t, found)
			assert.Contains(t, e.dump().Tickets, "t-ana-1")

			if release == "released" {
				require.NoError(t, e.svc.ReleaseHold(ctx, e.acct, h.ID, "admin"))
			} else {
				e.clock.Advance(48 * time.Hour)
			}
			_, errs = e.svc.RunUntilIdle(ctx, "w")
			require.Empty(t, errs)
			d = e.dump()
			assert.NotContains(t, d.Tickets, "t-ana-1")
			assert.NotContains(t, d.Messages, "m-t-ana-1-0")
			assert.NotContains(t, d.Attachments, "a-m-t-ana-1-0")
			assert.NotContains(t, d.Users, gdprkit.SubjectID("ana"))
			assert.Equal(t, 1, e.hd.Blobs.Len(e.acct), "only bob's file is left")
			open, err = e.svc.Requests(ctx, e.acct, erasure.RequestFilter{OpenOnly: true})
			require.NoError(t, err)
			assert.Empty(t, open)
			v, err := e.svc.VerifyReceipts(ctx, e.acct)
			require.NoError(t, err)
			assert.EqualValues(t, 2, v.Receipts, "the first, partial receipt and the follow-up's")
			rcs, err := e.store.Receipts(ctx, e.acct, 0, 10)
			require.NoError(t, err)
			assert.False(t, rcs[1].Partial)
			assert.Equal(t, rc.SubjectPS, rcs[1].SubjectPS)
		})
	}
}
