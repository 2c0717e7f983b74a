package erasure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
)

func TestDueDateIsOneCalendarMonth(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 10, 30, 0, 0, time.UTC) }
	for _, c := range []struct {
		name     string
		in       time.Time
		ext      int
		want     time.Time
		addMonth int
	}{
		{"Jan 31 ends on Feb 28", d(2026, 1, 31), 0, d(2026, 2, 28), 1},
		{"Jan 31 ends on Feb 29 in a leap year", d(2028, 1, 31), 0, d(2028, 2, 29), 1},
		{"Jan 30 ends on Feb 28", d(2026, 1, 30), 0, d(2026, 2, 28), 1},
		{"Mar 31 ends on Apr 30", d(2026, 3, 31), 0, d(2026, 4, 30), 1},
		{"Feb 28 ends on Mar 28", d(2026, 2, 28), 0, d(2026, 3, 28), 1},
		{"Dec 31 ends on Jan 31 next year", d(2026, 12, 31), 0, d(2027, 1, 31), 1},
		{"Jan 15 ends on Feb 15", d(2026, 1, 15), 0, d(2026, 2, 15), 1},
		{"extended by two months, Jan 31 ends on Apr 30", d(2026, 1, 31), 2, d(2026, 4, 30), 3},
		{"extended by one month, Dec 31 ends on Feb 28", d(2026, 12, 31), 1, d(2027, 2, 28), 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, erasure.DueDate(c.in, c.ext))
			assert.Equal(t, c.want, erasure.AddMonths(c.in, c.addMonth))
		})
	}
}

func TestWhoMayEraseWhom(t *testing.T) {
	for _, c := range []struct {
		by      gdprkit.ActorID
		subject gdprkit.SubjectID
		scope   erasure.Scope
		ok      bool
	}{
		{"owner", "admin", erasure.ScopeFull, true},
		{"owner", "agent1", erasure.ScopeFull, true},
		{"admin", "agent1", erasure.ScopeFull, true},
		{"admin", "ana", erasure.ScopeFull, true},
		{"agent1", "ana", erasure.ScopeFull, true},
		{"agent1", "agent2", erasure.ScopeFull, false},
		{"agent1", "admin", erasure.ScopeFull, false},
		{"admin", "owner", erasure.ScopeFull, false},
		{"owner", "owner", erasure.ScopeFull, false},
		{"ana", "bob", erasure.ScopeFull, false},
		{"ana", "bob", erasure.ScopePortal, false},
		{"ana", "ana", erasure.ScopeFull, false},
		{"ana", "ana", erasure.ScopePortal, true},
		{"agent1", "agent1", erasure.ScopePortal, false},
		{"stranger", "ana", erasure.ScopeFull, false},
	} {
		name := string(c.by) + " erases " + string(c.subject) + " (" + string(c.scope) + ")"
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, envOpt{})
			e.seed()
			before := e.hd.Dump(e.acct)
			r, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: c.subject, By: c.by, Scope: c.scope, Verified: true})
			if !c.ok {
				require.ErrorIs(t, err, gdprkit.ErrForbidden)
				rs, err := e.store.Requests(ctx, e.acct, erasure.RequestFilter{})
				require.NoError(t, err)
				assert.Empty(t, rs, "a forbidden request records nothing")
				assert.Empty(t, e.drain())
				assert.Equal(t, before, e.hd.Dump(e.acct), "and erases nothing")
				return
			}
			require.NoError(t, err)
			assert.Empty(t, e.drain())
			got, err := e.svc.Request(ctx, e.acct, r.ID)
			require.NoError(t, err)
			assert.Equal(t, erasure.StatusCompleted, got.Status)
		})
	}
}

func TestEraseEndUserRemovesEveryCopy(t *testing.T) {
	e := newEnv(t, envOpt{batch: 2})
	e.seed()
	r := e.erase("ana", "agent2")
	assert.Equal(t, erasure.DueDate(t0, 0), r.DueAt)
	require.Empty(t, e.drain())

	d := e.dump()
	assert.NotContains(t, d.Users, gdprkit.SubjectID("ana"))
	for id, x := range d.Identities {
		assert.NotEqual(t, gdprkit.SubjectID("ana"), x.User, id)
	}
	assert.NotContains(t, d.Portal, "pp-ana")
	assert.Contains(t, d.Portal, "pp-bob", "bob's data is untouched")
	assert.NotContains(t, d.Tokens, "tok-ana")
	assert.NotContains(t, d.Sessions, "ses-ana")
	assert.Contains(t, d.Sessions, "ses-agent1")
	assert.NotContains(t, d.Searches, "ss-ana")
	for id := range d.Tickets {
		assert.False(t, strings.HasPrefix(id, "t-ana"), "ticket %s left", id)
	}
	for id, m := range d.Messages {
		assert.False(t, strings.HasPrefix(id, "m-t-ana"), "message %s left", id)
		assert.NotEqual(t, gdprkit.SubjectID("ana"), m.Author, id)
		assert.NotContains(t, m.AuthorName, "Ana", id)
	}
	assert.Equal(t, "me too", d.Messages["m-bob-1"].Body, "ana's message in bob's ticket keeps its text")
	assert.Contains(t, d.Messages["m-bob-1"].AuthorName, "Former user")
	assert.Len(t, d.Attachments, 1)
	assert.Equal(t, 1, e.hd.Blobs.Len(e.acct), "only bob's file is left")

	hist, err := e.consent.History(ctx, e.acct, "ana")
	require.NoError(t, err)
	require.Len(t, hist, 1, "the consent proof is kept")
	assert.True(t, hist[0].Pseudonymized)
	assert.Empty(t, hist[0].Subject)
	_, err = e.consent.Verify(ctx, e.acct)
	require.NoError(t, err, "and the consent chain still verifies")
	n, _ := e.creds.CountUser(ctx, e.acct, "ana")
	assert.Zero(t, n, "credentials deleted")

	rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
	require.NoError(t, err)
	counts := map[erasure.Kind]erasure.TargetResult{}
	for _, x := range rc.Targets {
		counts[x.Kind] = x
	}
	assert.EqualValues(t, 3, counts[erasure.KindTicket].Deleted)
	assert.EqualValues(t, 6, counts[erasure.KindMessage].Deleted)
	assert.EqualValues(t, 6, counts[erasure.KindAttachment].Deleted)
	assert.EqualValues(t, 6, counts[erasure.KindBlob].Deleted)
	assert.EqualValues(t, 600, counts[erasure.KindBlob].Bytes)
	assert.EqualValues(t, 2, counts[erasure.KindIdentity].Deleted)
	assert.EqualValues(t, 1, counts[erasure.KindAuthoredMessage].Anonymized)
	assert.EqualValues(t, 1, counts[erasure.KindConsent].Anonymized)
	assert.EqualValues(t, 2, counts[erasure.KindCredentials].Deleted)
	assert.EqualValues(t, 1, counts[erasure.KindEndUser].Deleted)
	assert.False(t, rc.Partial)
	assert.Equal(t, rc.CompletedAt.Add(30*24*time.Hour), rc.BackupsExpireBy)
	assert.Equal(t, e.svc.SubjectPseudonym(e.acct, "ana"), rc.SubjectPS)

	// The receipt, the request and the audit trail hold no personal data.
	body, _ := json.Marshal(rc)
	got, err := e.svc.Request(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Subject, "a closed request forgets the identifier")
	reqBody, _ := json.Marshal(got)
	evBody, _ := json.Marshal(e.audit.Events())
	for _, pii := range []string{`"ana"`, "ana@example.com", "Ana Lima", "+351"} {
		assert.NotContains(t, string(body), pii)
		assert.NotContains(t, string(reqBody), pii)
		assert.NotContains(t, string(evBody), pii)
	}
	assert.Len(t, e.audit.OfType("erasure.completed"), 1)

	v, err := e.svc.VerifyReceipts(ctx, e.acct)
	require.NoError(t, err)
	assert.EqualValues(t, 1, v.Receipts)

	ts, err := e.store.Tombstones(ctx, e.acct, time.Time{})
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, x := range ts {
		kinds[x.Kind]++
	}
	assert.Equal(t, map[string]int{"subject": 1, "email": 1, "phone": 1}, kinds)
}

func (e *env) dump() memhelpdesk.Data {
	var d memhelpdesk.Data
	require.NoError(e.t, json.Unmarshal([]byte(e.hd.Dump(e.acct)), &d))
	return d
}

func TestEraseAgentReassignsAndAnonymisesAuthorship(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	r, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "agent1", By: "admin", Verified: true, ReassignTo: "agent2"})
	require.NoError(t, err)
	require.Empty(t, e.drain())
	d := e.dump()
	assert.NotContains(t, d.Users, gdprkit.SubjectID("agent1"))
	assert.NotContains(t, d.Agents, "agp-agent1")
	assert.NotContains(t, d.Sessions, "ses-agent1")
	for id, tk := range d.Tickets {
		if tk.Open {
			assert.Equal(t, gdprkit.SubjectID("agent2"), tk.Assignee, "open ticket %s goes to the named agent", id)
			assert.Equal(t, "Arno Agent", tk.AssigneeName)
		} else {
			assert.Empty(t, tk.Assignee, "closed ticket %s is unlinked", id)
			assert.Contains(t, tk.AssigneeName, "Former user")
		}
	}
	assert.Len(t, d.Tickets, 5, "the agent's work stays")
	for id, m := range d.Messages {
		assert.NotEqual(t, gdprkit.SubjectID("agent1"), m.Author, id)
	}
	assert.Equal(t, "fixed", d.Messages["m-bob-2"].Body, "threads still read")
	rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
	require.NoError(t, err)
	for _, x := range rc.Targets {
		switch x.Kind {
		case erasure.KindAssignedTicket:
			assert.EqualValues(t, 5, x.Anonymized)
		case erasure.KindAuthoredMessage:
			assert.EqualValues(t, 4, x.Anonymized)
		case erasure.KindAgentProfile:
			assert.EqualValues(t, 1, x.Deleted)
		}
	}
}

func TestReassignToUnassignedQueueByDefault(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	e.erase("agent1", "owner")
	require.Empty(t, e.drain())
	for _, tk := range e.dump().Tickets {
		assert.Empty(t, tk.Assignee)
	}
}

func TestPlanIsADryRun(t *testing.T) {
	e := newEnv(t, envOpt{batch: 2})
	e.seed()
	before := e.hd.Dump(e.acct)
	p, err := e.svc.Plan(ctx, e.acct, "ana", erasure.ScopeFull, nil)
	require.NoError(t, err)
	assert.Equal(t, before, e.hd.Dump(e.acct), "planning changes nothing")
	assert.Equal(t, 7, e.hd.Blobs.Len(e.acct))
	r := e.erase("ana", "admin")
	require.Empty(t, e.drain())
	rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
	require.NoError(t, err)
	require.Len(t, p.Targets, len(rc.Targets))
	for i, pt := range p.Targets {
		assert.Equal(t, rc.Targets[i], pt.TargetResult, "the plan predicts the receipt for %s", pt.Kind)
		assert.NotEmpty(t, pt.Why)
	}
	// A per-request rule shows in the plan.
	e2 := newEnv(t, envOpt{})
	e2.seed()
	p, err = e2.svc.Plan(ctx, e2.acct, "ana", "", map[erasure.Kind]erasure.Rule{erasure.KindTicket: {Action: erasure.Keep, Ground: "Art. 17(3)(b): tax law"}})
	require.NoError(t, err)
	for _, pt := range p.Targets {
		if pt.Kind == erasure.KindTicket {
			assert.EqualValues(t, 3, pt.Kept)
			assert.Contains(t, pt.Why, "tax law")
		}
	}
	_, err = e2.svc.Plan(ctx, e2.acct, "ana", "", map[erasure.Kind]erasure.Rule{erasure.KindTicket: {Action: erasure.Keep}})
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "keeping needs a ground")
	_, err = e2.svc.Plan(ctx, e2.acct, "ana", "", map[erasure.Kind]erasure.Rule{erasure.KindBlob: {Action: erasure.Anonymize}})
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "files cannot be anonymised")
}

func TestUnverifiedRequestWaits(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	r, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "agent1"})
	require.NoError(t, err)
	assert.False(t, r.Verified)
	before := e.hd.Dump(e.acct)
	require.Empty(t, e.drain())
	assert.Equal(t, before, e.hd.Dump(e.acct), "nothing runs before the identity is verified")
	require.NoError(t, e.svc.VerifyIdentity(ctx, e.acct, r.ID, "agent1"))
	require.Empty(t, e.drain())
	assert.NotContains(t, e.dump().Users, gdprkit.SubjectID("ana"))
}

func TestExtendOnceAndListDue(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	jan31 := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	e.clock.Set(jan31)
	r1, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "agent1"})
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC), r1.DueAt)
	r2, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeAccess, Subject: "bob", By: "bob", ReceivedAt: jan31.Add(-3 * 24 * time.Hour)})
	require.NoError(t, err)

	_, err = e.svc.Extend(ctx, e.acct, r1.ID, 3, "complex", "admin")
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = e.svc.Extend(ctx, e.acct, r1.ID, 2, "  ", "admin")
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	ext, err := e.svc.Extend(ctx, e.acct, r1.ID, 2, "data spread over three systems", "admin")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC), ext.DueAt)
	assert.True(t, ext.Extended)
	_, err = e.svc.Extend(ctx, e.acct, r1.ID, 1, "again", "admin")
	require.ErrorIs(t, err, gdprkit.ErrConflict, "only one extension")

	e.clock.Set(time.Date(2026, 2, 25, 0, 0, 0, 0, time.UTC))
	soon, err := e.svc.DueSoon(ctx, e.acct, 7*24*time.Hour)
	require.NoError(t, err)
	require.Len(t, soon, 1)
	assert.Equal(t, r2.ID, soon[0].ID)
	over, err := e.svc.Overdue(ctx, e.acct)
	require.NoError(t, err)
	assert.Empty(t, over)
	e.clock.Set(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC))
	over, err = e.svc.Overdue(ctx, e.acct)
	require.NoError(t, err)
	require.Len(t, over, 1)
	assert.Equal(t, r2.ID, over[0].ID)
	require.NoError(t, e.svc.Reject(ctx, e.acct, r2.ID, "admin"))
	over, err = e.svc.Overdue(ctx, e.acct)
	require.NoError(t, err)
	assert.Empty(t, over, "closed requests are not overdue")
}

func TestLegalHoldsKeepRecordsAndMakeTheReceiptPartial(t *testing.T) {
	e := newEnv(t, envOpt{batch: 2})
	e.seed()
	h, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-ana-1", Ground: "Art. 17(3)(e)", Reason: "dispute #42", By: "admin"})
	require.NoError(t, err)
	_, err = e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Subject: "ana", Kind: erasure.KindTicket, Ground: "x", By: "admin"})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	expired, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-ana-2", Ground: "x", By: "admin", ExpiresAt: t0.Add(time.Hour)})
	require.NoError(t, err)
	e.clock.Advance(2 * time.Hour)
	_, err = e.svc.DeleteRecord(ctx, e.acct, erasure.KindTicket, "t-ana-1", "agent1")
	require.ErrorIs(t, err, erasure.ErrHeld)

	r := e.erase("ana", "admin")
	require.Empty(t, e.drain())
	d := e.dump()
	assert.Contains(t, d.Tickets, "t-ana-1", "the held ticket stays")
	assert.Contains(t, d.Messages, "m-t-ana-1-0", "with its messages")
	assert.Contains(t, d.Attachments, "a-m-t-ana-1-0", "and attachments")
	assert.NotContains(t, d.Tickets, "t-ana-2", "an expired hold holds nothing")
	assert.NotContains(t, d.Tickets, "t-ana-0")
	assert.Equal(t, 3, e.hd.Blobs.Len(e.acct))
	rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.True(t, rc.Partial)
	require.Len(t, rc.Holds, 1)
	assert.Equal(t, h.ID, rc.Holds[0].ID)
	assert.NotEqual(t, expired.ID, rc.Holds[0].ID)
	body, _ := json.Marshal(rc)
	assert.NotContains(t, string(body), "dispute", "hold reasons stay out of receipts")
	for _, x := range rc.Targets {
		switch x.Kind {
		case erasure.KindTicket:
			assert.EqualValues(t, 2, x.Deleted)
			assert.EqualValues(t, 1, x.Kept)
			assert.Len(t, x.Grounds, 1)
		case erasure.KindMessage, erasure.KindAttachment, erasure.KindBlob:
			assert.EqualValues(t, 4, x.Deleted, x.Kind)
			assert.EqualValues(t, 2, x.Kept, x.Kind)
		}
	}

	// A hold on the whole subject keeps everything; releasing it lets
	// the next request finish the job.
	hb, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Subject: "bob", Ground: "Art. 17(3)(b)", Reason: "audit", By: "admin"})
	require.NoError(t, err)
	before := e.hd.Dump(e.acct)
	rb := e.erase("bob", "admin")
	require.Empty(t, e.drain())
	after := e.dump()
	assert.Contains(t, after.Users, gdprkit.SubjectID("bob"))
	assert.Contains(t, after.Tickets, "t-bob")
	_ = before
	rc, err = e.svc.Receipt(ctx, e.acct, rb.ID)
	require.NoError(t, err)
	assert.True(t, rc.Partial, "%+v", rc)
	require.NoError(t, e.svc.ReleaseHold(ctx, e.acct, hb.ID, "admin"))
	require.ErrorIs(t, e.svc.ReleaseHold(ctx, e.acct, hb.ID, "admin"), gdprkit.ErrConflict)
	// Releasing the hold finishes the erasure it held back: no new request
	// is needed.
	found, err := e.svc.RunOnce(ctx, "w")
	require.NoError(t, err)
	require.True(t, found, "the follow-up is due at once")
	assert.NotContains(t, e.dump().Users, gdprkit.SubjectID("bob"))
	assert.NotContains(t, e.dump().Tickets, "t-bob")
	v, err := e.svc.VerifyReceipts(ctx, e.acct)
	require.NoError(t, err)
	assert.EqualValues(t, 3, v.Receipts)
}

func TestRecipientsAreNotifiedAndRecorded(t *testing.T) {
	e := newEnv(t, envOpt{recipients: true})
	e.seed()
	e.notes.fail = 2
	r := e.erase("ana", "admin")
	errs := e.drain()
	require.Len(t, errs, 2, "a recipient that is down makes the job retry")
	require.Len(t, e.notes.got, 1)
	assert.Equal(t, gdprkit.SubjectID("ana"), e.notes.got[0].Subject, "the recipient learns whom to erase")
	rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
	require.NoError(t, err)
	require.Len(t, rc.Recipients, 1)
	assert.Equal(t, "crm", rc.Recipients[0].Recipient)
	assert.Len(t, e.audit.OfType("erasure.recipient_notified"), 1)
}

func TestReceiptTamperingIsDetected(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	e.erase("ana", "admin")
	e.erase("bob", "admin")
	require.Empty(t, e.drain())
	_, err := e.svc.VerifyReceipts(ctx, e.acct)
	require.NoError(t, err)
	// A store that hands back an edited receipt.
	rs, err := e.store.Receipts(ctx, e.acct, 0, 10)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	rs[0].Targets[0].Deleted++
	edited := &editedStore{Store: e.store, receipts: rs}
	svc2, err := erasure.New(erasure.Config{Store: edited, Graph: mustGraph(t, e), Directory: e.hd, Pseudonymizer: mustPS(t)})
	require.NoError(t, err)
	_, err = svc2.VerifyReceipts(ctx, e.acct)
	require.ErrorIs(t, err, erasure.ErrChainBroken)
	edited.receipts = rs[1:]
	_, err = svc2.VerifyReceipts(ctx, e.acct)
	require.ErrorIs(t, err, erasure.ErrChainBroken, "a removed receipt breaks the chain")
}

type editedStore struct {
	erasure.Store
	receipts []erasure.Receipt
}

func (s *editedStore) Receipts(_ context.Context, _ gdprkit.AccountID, after int64, limit int) ([]erasure.Receipt, error) {
	var out []erasure.Receipt
	for _, r := range s.receipts {
		if r.Seq > after && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func mustPS(t *testing.T) *gdprkit.Pseudonymizer {
	ps, err := gdprkit.NewPseudonymizer(key)
	require.NoError(t, err)
	return ps
}

func mustGraph(t *testing.T, e *env) *erasure.Graph {
	g, err := erasure.NewGraph(e.hd.Targets()...)
	require.NoError(t, err)
	return g
}

func TestRestoredBackupIsErasedAgain(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	backupAt := e.clock.Now()
	backup := e.hd.Dump(e.acct)
	e.clock.Advance(24 * time.Hour)
	e.erase("ana", "admin")
	require.Empty(t, e.drain())
	erased := e.hd.Dump(e.acct)
	require.NotEqual(t, backup, erased)

	// Restore the backup: ana is back.
	var d memhelpdesk.Data
	require.NoError(t, json.Unmarshal([]byte(backup), &d))
	e.hd.Update(e.acct, func(cur *memhelpdesk.Data) { *cur = d })
	require.Contains(t, e.dump().Users, gdprkit.SubjectID("ana"))

	rs, err := e.svc.ReErase(ctx, e.acct, backupAt)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.Empty(t, e.drain())
	got := e.dump()
	assert.NotContains(t, got.Users, gdprkit.SubjectID("ana"))
	assert.Contains(t, got.Users, gdprkit.SubjectID("bob"))
	none, err := e.svc.ReErase(ctx, e.acct, e.clock.Now())
	require.NoError(t, err)
	assert.Empty(t, none, "nobody was erased after now")
}

func TestAccessRequestExportsOneJSONDocument(t *testing.T) {
	e := newEnv(t, envOpt{batch: 2})
	e.seed()
	r, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeAccess, Subject: "ana", By: "ana"})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.ErrorIs(t, e.svc.Export(ctx, e.acct, r.ID, &buf), gdprkit.ErrConflict, "identity first")
	require.NoError(t, e.svc.VerifyIdentity(ctx, e.acct, r.ID, "agent1"))
	require.NoError(t, e.svc.Export(ctx, e.acct, r.ID, &buf))
	var doc struct {
		Format  string                       `json:"format"`
		Subject string                       `json:"subject"`
		Data    map[string][]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc), buf.String())
	assert.Equal(t, erasure.ExportFormat, doc.Format)
	assert.Equal(t, "ana", doc.Subject)
	assert.Len(t, doc.Data["ticket"], 3)
	assert.Len(t, doc.Data["message"], 6)
	assert.Len(t, doc.Data["blob"], 6)
	assert.Len(t, doc.Data["identity"], 2)
	assert.Len(t, doc.Data["consent"], 1)
	assert.Len(t, doc.Data["authored_message"], 4, "ana's own and the one in bob's ticket")
	assert.Contains(t, buf.String(), "Ana's problem 0")
	assert.NotContains(t, buf.String(), "secret-ana", "tokens are not exported")
	got, err := e.svc.Request(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.Equal(t, erasure.StatusCompleted, got.Status)
	require.ErrorIs(t, e.svc.Export(ctx, e.acct, r.ID, &buf), gdprkit.ErrConflict, "answered once")
}

func TestCustomerErasesOwnPortalProfileOnly(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	_, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "ana", Scope: erasure.ScopePortal, Verified: true})
	require.NoError(t, err)
	require.Empty(t, e.drain())
	d := e.dump()
	assert.NotContains(t, d.Portal, "pp-ana")
	assert.Contains(t, d.Users, gdprkit.SubjectID("ana"))
	assert.Contains(t, d.Tickets, "t-ana-0")
	evs, _ := json.Marshal(e.audit.Events())
	assert.NotContains(t, string(evs), `"ana"`, "a self-service request is logged as by the subject, not by name")
	assert.Contains(t, string(evs), `"subject"`)
}

func TestTicketTrashAndPermanentDelete(t *testing.T) {
	e := newEnv(t, envOpt{batch: 2})
	e.seed()
	require.NoError(t, e.hd.Trash(ctx, e.acct, "t-ana-0", e.clock.Now()))
	assert.False(t, e.dump().Tickets["t-ana-0"].TrashedAt.IsZero())
	require.NoError(t, e.hd.Restore(ctx, e.acct, "t-ana-0"))
	assert.True(t, e.dump().Tickets["t-ana-0"].TrashedAt.IsZero(), "trash is restorable")
	require.ErrorIs(t, e.hd.Trash(ctx, e.acct, "nope", e.clock.Now()), gdprkit.ErrNotFound)

	_, err := e.svc.DeleteRecord(ctx, e.acct, erasure.KindTicket, "t-ana-0", "ana")
	require.ErrorIs(t, err, gdprkit.ErrForbidden, "end users cannot purge tickets")
	n, err := e.svc.DeleteRecord(ctx, e.acct, erasure.KindTicket, "t-ana-0", "agent1")
	require.NoError(t, err)
	assert.Equal(t, map[erasure.Kind]int64{erasure.KindTicket: 1, erasure.KindMessage: 2, erasure.KindAttachment: 2, erasure.KindBlob: 2}, n)
	d := e.dump()
	assert.NotContains(t, d.Tickets, "t-ana-0")
	assert.NotContains(t, d.Messages, "m-t-ana-0-0")
	assert.Contains(t, d.Tickets, "t-ana-1")
	assert.Equal(t, 5, e.hd.Blobs.Len(e.acct))
	n, err = e.svc.DeleteRecord(ctx, e.acct, erasure.KindTicket, "t-ana-0", "agent1")
	require.NoError(t, err, "idempotent")
	assert.Empty(t, n, "a record already gone counts nothing: two callers racing count it once")
}

func TestEraseAccountRemovesEveryone(t *testing.T) {
	e := newEnv(t, envOpt{batch: 3})
	e.seed()
	other := newEnv(t, envOpt{acct: "globex", hd: e.hd})
	other.seed()
	globex := e.hd.Dump("globex")
	pending, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "bob", By: "admin"})
	require.NoError(t, err)
	_, err = e.svc.EraseAccount(ctx, e.acct)
	require.NoError(t, err)
	d := e.dump()
	assert.Empty(t, d.Users)
	assert.Empty(t, d.Tickets)
	assert.Empty(t, d.Messages)
	assert.Empty(t, d.Identities)
	assert.Zero(t, e.hd.Blobs.Len(e.acct))
	assert.Equal(t, globex, e.hd.Dump("globex"), "another account is untouched")
	_, err = e.svc.EraseAccount(ctx, e.acct)
	require.NoError(t, err, "idempotent")
	got, err := e.svc.Request(ctx, e.acct, pending.ID)
	require.NoError(t, err)
	assert.Equal(t, erasure.StatusCancelled, got.Status)
	assert.Empty(t, got.Subject)
}

func TestLeaseTakeoverFinishesOnce(t *testing.T) {
	e := newEnv(t, envOpt{batch: 2})
	e.seed()
	r := e.erase("ana", "admin")
	// Worker A claims the job and dies before doing anything.
	now := e.clock.Now()
	jobA, err := e.store.ClaimJob(ctx, now, "A", "token-A", now.Add(5*time.Minute))
	require.NoError(t, err)
	found, err := e.svc.RunOnce(ctx, "B")
	require.NoError(t, err)
	assert.False(t, found, "a live lease is not taken over")
	e.clock.Advance(6 * time.Minute)
	found, err = e.svc.RunOnce(ctx, "B")
	require.NoError(t, err)
	require.True(t, found)
	err = e.store.SaveJob(ctx, e.acct, jobA.ID, "token-A", []byte("{}"), now.Add(time.Hour))
	require.ErrorIs(t, err, gdprkit.ErrLeaseLost, "the dead worker's token guards nothing any more")
	_, err = e.store.FinishJob(ctx, e.acct, jobA.ID, "token-A", erasure.Finish{})
	require.ErrorIs(t, err, gdprkit.ErrLeaseLost)
	rs, err := e.store.Receipts(ctx, e.acct, 0, 10)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, r.ID, rs[0].RequestID)
}

func TestGraphValidation(t *testing.T) {
	hd := memhelpdesk.New()
	ts := hd.Targets()
	_, err := erasure.NewGraph(append(ts, ts[0])...)
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "duplicate kind")
	_, err = erasure.NewGraph(ts[1:]...)
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "missing parent")
	g, err := erasure.NewGraph(ts...)
	require.NoError(t, err)
	infos := g.Targets()
	pos := map[erasure.Kind]int{}
	for i, in := range infos {
		pos[in.Kind] = i
	}
	for _, in := range infos {
		if in.Parent != "" {
			assert.Less(t, pos[in.Kind], pos[in.Parent], "kinds are listed in the order they act: children before parents")
		}
	}
	_, err = erasure.New(erasure.Config{Store: memstoreErasure(), Graph: g, Directory: hd, Pseudonymizer: mustPS(t),
		Rules: map[erasure.Kind]erasure.Rule{"nope": {Action: erasure.Delete}}})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = erasure.New(erasure.Config{Store: memstoreErasure(), Graph: g})
	require.Error(t, err)
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	for name, sub := range map[string]erasure.Submission{
		"empty subject": {Type: erasure.TypeErasure, By: "admin"},
		"bad type":      {Type: "delete-all", Subject: "ana", By: "admin"},
		"bad scope":     {Type: erasure.TypeErasure, Subject: "ana", By: "admin", Scope: "half"},
		"bad rule":      {Type: erasure.TypeErasure, Subject: "ana", By: "admin", Rules: map[erasure.Kind]erasure.Rule{erasure.KindTicket: {Action: "shred"}}},
		"empty actor":   {Type: erasure.TypeErasure, Subject: "ana"},
	} {
		_, err := e.svc.Submit(ctx, e.acct, sub)
		require.ErrorIs(t, err, gdprkit.ErrInvalid, name)
	}
	rs, err := e.store.Requests(ctx, e.acct, erasure.RequestFilter{})
	require.NoError(t, err)
	assert.Empty(t, rs)
	_, err = e.svc.Submit(ctx, "", erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin"})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	require.True(t, errors.Is(e.svc.VerifyIdentity(ctx, e.acct, "missing", "admin"), gdprkit.ErrNotFound))
}

func TestEraseAccountKeepsHeldRecords(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	_, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-bob", Ground: "Art. 17(3)(e)", By: "admin"})
	require.NoError(t, err)
	res, err := e.svc.EraseAccount(ctx, e.acct)
	require.ErrorIs(t, err, erasure.ErrHeld, "held data remains: the account is not all gone yet")
	assert.NotEmpty(t, res.Held)
	d := e.dump()
	assert.Contains(t, d.Tickets, "t-bob")
	assert.Contains(t, d.Attachments, "a-bob")
	assert.Len(t, d.Tickets, 1)
	assert.Equal(t, []gdprkit.SubjectID{"bob"}, keysOf(d.Users), "the held ticket's requester stays with it")
	assert.Equal(t, 1, e.hd.Blobs.Len(e.acct))
	assert.Empty(t, d.Sessions, "everything the hold does not cover goes")
}

type brokenTarget struct{ erasure.Target }

func (brokenTarget) Delete(context.Context, gdprkit.AccountID, gdprkit.SubjectID, []erasure.Ref) (erasure.Change, error) {
	return erasure.Change{}, errors.New("disk on fire")
}

func TestJobFailsAfterMaxAttempts(t *testing.T) {
	hd := memhelpdesk.New()
	hd.AddUser("acme", memhelpdesk.User{ID: "admin", Role: gdprkit.RoleAdmin})
	hd.AddUser("acme", memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser, Email: "ana@example.com"})
	var ts []erasure.Target
	for _, x := range hd.Targets() {
		if x.Info().Kind == erasure.KindIdentity {
			x = brokenTarget{x}
		}
		ts = append(ts, x)
	}
	g, err := erasure.NewGraph(ts...)
	require.NoError(t, err)
	audit := &gdprkit.MemoryAudit{}
	clock := fakeclockNew()
	st := memstoreErasure()
	svc, err := erasure.New(erasure.Config{Store: st, Graph: g, Directory: hd, Pseudonymizer: mustPS(t), Clock: clock, Audit: audit, MaxAttempts: 3})
	require.NoError(t, err)
	r, err := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
	require.NoError(t, err)
	var backoffs []time.Time
	for range 5 {
		found, err := svc.RunOnce(ctx, "w")
		if found {
			require.ErrorContains(t, err, "disk on fire")
		}
		j, _ := st.Job(ctx, "acme", r.JobID)
		backoffs = append(backoffs, j.NextRunAt)
		clock.Advance(time.Hour)
	}
	j, err := st.Job(ctx, "acme", r.JobID)
	require.NoError(t, err)
	assert.Equal(t, erasure.JobFailed, j.Status)
	assert.Equal(t, 3, j.Attempts)
	assert.Contains(t, j.LastError, "disk on fire")
	assert.Equal(t, t0.Add(time.Second), backoffs[0], "retries back off from one second")
	assert.Equal(t, t0.Add(time.Hour+2*time.Second), backoffs[1], "doubling")
	got, err := svc.Request(ctx, "acme", r.ID)
	require.NoError(t, err)
	assert.Equal(t, erasure.StatusFailed, got.Status)
	assert.Len(t, audit.OfType("erasure.failed"), 1)
}

func keysOf[K ~string, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
