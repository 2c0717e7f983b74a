package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/fakeclock"
)

// Tenant-isolation cases that need no helper of their domain's file; each
// domain's TenantIsolation group calls its function here beside the cases
// it keeps next to the rest of the domain.

// isolationConsent checks that deleting another account, and appending and
// rewriting in it under the same subject and purpose, leave an account's
// purposes, policies, chain and current state exactly as they were.
func isolationConsent(t *testing.T, f func(*testing.T) consent.Store) {
	ctx := context.Background()
	t.Run("another account's appends, rewrite and deletion leave this one's chain exactly", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		ps, err := gdprkit.NewPseudonymizer(TestKey)
		require.NoError(t, err)
		svc, err := consent.New(consent.Config{Store: st, Pseudonymizer: ps, Clock: fakeclock.New(T0)})
		require.NoError(t, err)
		a, b := NewAccount(t), NewAccount(t)
		for _, acct := range []gdprkit.AccountID{a, b} {
			_, err = svc.DefinePurpose(ctx, acct, consent.Purpose{Key: "chat", Name: "Chat"})
			require.NoError(t, err)
			_, err = svc.PublishPolicy(ctx, acct, "chat", "Text of "+string(acct), false, "admin")
			require.NoError(t, err)
		}
		_, err = svc.Grant(ctx, a, grant("ana@example.com", "chat"))
		require.NoError(t, err)
		before := consentSnapshot(t, st, a)

		// b records, rewrites and deletes its own chain under the same
		// subject, purpose and sequence numbers.
		_, err = svc.Grant(ctx, b, grant("ana@example.com", "chat"))
		require.NoError(t, err)
		_, err = svc.Withdraw(ctx, b, grant("ana@example.com", "chat"))
		require.NoError(t, err)
		n, err := st.Rewrite(ctx, b, 1, func(_ consent.ChainHead, r *consent.Record) error { r.Hash += "-b"; return nil })
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		bPS := ps.Subject(b, "ana@example.com")
		ids, err := st.LiveRecordIDs(ctx, b, bPS, "", 10)
		require.NoError(t, err)
		require.Len(t, ids, 2)
		n, err = st.PseudonymizeRecords(ctx, b, bPS, ids)
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.Equal(t, before, consentSnapshot(t, st, a), "b's writes changed a")

		n, err = st.DeleteAccount(ctx, b)
		require.NoError(t, err)
		assert.Equal(t, 2, n, "only b's records are counted")
		assert.Equal(t, before, consentSnapshot(t, st, a), "deleting b changed a")
		res, err := svc.Verify(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 1, res.Records)
	})
}

// consentState is everything a consent.Store returns for one account.
type consentState struct {
	Purposes []consent.Purpose
	Policies []consent.Policy
	Records  []consent.Record
	States   []consent.State
	Head     consent.ChainHead
}

// consentSnapshot reads everything st holds for account a, with times in
// UTC so that snapshots compare with assert.Equal.
func consentSnapshot(t *testing.T, st consent.Store, a gdprkit.AccountID) consentState {
	t.Helper()
	ctx := context.Background()
	var s consentState
	var err error
	s.Purposes, err = st.Purposes(ctx, a)
	require.NoError(t, err)
	for i, p := range s.Purposes {
		s.Purposes[i].CreatedAt = p.CreatedAt.UTC()
		for v := 1; v <= p.CurrentVersion; v++ {
			pol, err := st.Policy(ctx, a, p.Key, v)
			require.NoError(t, err)
			pol.PublishedAt = pol.PublishedAt.UTC()
			s.Policies = append(s.Policies, pol)
		}
	}
	s.Records, err = st.Records(ctx, a, 0, 1000)
	require.NoError(t, err)
	for i := range s.Records {
		s.Records[i].At = s.Records[i].At.UTC()
	}
	s.States, err = st.States(ctx, a, consent.StateKey{}, 1000)
	require.NoError(t, err)
	for i := range s.States {
		s.States[i].At = s.States[i].At.UTC()
	}
	s.Head, err = st.Head(ctx, a)
	require.NoError(t, err)
	return s
}

// isolationErasure checks that another account neither sees an account's
// receipts and tombstones nor moves its jobs, and that scrubbing the other
// account leaves them.
func isolationErasure(t *testing.T, f func(*testing.T) erasure.Store) {
	ctx := context.Background()
	t.Run("receipts, tombstones and jobs stay in their account", func(t *testing.T) {
		t.Parallel()
		st, a, b := f(t), NewAccount(t), NewAccount(t)
		r, _ := erRequest(a, "ana", T0.AddDate(0, 1, 0), false, true)
		r.Type = erasure.TypePortability
		require.NoError(t, st.CreateRequest(ctx, a, r, nil))
		rc := erasure.Receipt{ID: gdprkit.NewID(), RequestID: r.ID, SubjectPS: r.SubjectPS, Scope: erasure.ScopeFull, ReceivedAt: T0,
			CompletedAt: T0.Add(time.Hour), Type: erasure.TypePortability}
		_, err := st.CompleteRequest(ctx, a, r.ID, erasure.Finish{Receipt: rc, Seal: erSeal, At: T0.Add(time.Hour)})
		require.NoError(t, err)
		withJob, j := erRequest(a, "bob", T0.AddDate(0, 1, 0), true, true)
		require.NoError(t, st.CreateRequest(ctx, a, withJob, j))
		jobBefore, err := st.Job(ctx, a, j.ID)
		require.NoError(t, err)
		tombsBefore, err := st.Tombstones(ctx, a, time.Time{})
		require.NoError(t, err)

		_, err = st.ReceiptFor(ctx, b, r.ID)
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
		rcs, err := st.Receipts(ctx, b, 0, 10)
		require.NoError(t, err)
		assert.Empty(t, rcs)
		head, err := st.ReceiptHead(ctx, b)
		require.NoError(t, err)
		assert.Zero(t, head)
		ts, err := st.Tombstones(ctx, b, time.Time{})
		require.NoError(t, err)
		assert.Empty(t, ts)
		require.ErrorIs(t, st.WakeJob(ctx, b, j.ID, T0), gdprkit.ErrNotFound)
		require.ErrorIs(t, st.RequeueJob(ctx, b, j.ID, T0), gdprkit.ErrNotFound)
		_, err = st.ScrubAccount(ctx, b, T0)
		require.NoError(t, err)

		got, err := st.ReceiptFor(ctx, a, r.ID)
		require.NoError(t, err)
		assert.Equal(t, rc.ID, got.ID)
		head, err = st.ReceiptHead(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 1, head.Seq)
		job, err := st.Job(ctx, a, j.ID)
		require.NoError(t, err)
		assert.Equal(t, jobBefore.Status, job.Status)
		assert.True(t, jobBefore.NextRunAt.Equal(job.NextRunAt), "b's WakeJob moved a's job")
		ts, err = st.Tombstones(ctx, a, time.Time{})
		require.NoError(t, err)
		assert.Len(t, ts, len(tombsBefore))
	})
}
