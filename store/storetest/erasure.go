package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Jobs created by the erasure tests that do not claim are due far in the
// future, so the claim tests (which share the queue when the factory
// returns one database) never see them.
var erFuture = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

func erRequest(a gdprkit.AccountID, subject gdprkit.SubjectID, due time.Time, withJob bool, verified bool) (erasure.Request, *erasure.Job) {
	r := erasure.Request{ID: gdprkit.NewID(), Type: erasure.TypeErasure, Subject: subject, SubjectPS: gdprkit.Pseudonym("ps_" + string(subject)),
		SubjectRole: gdprkit.RoleEndUser, Scope: erasure.ScopeFull, RequestedBy: "admin", ReceivedAt: T0, Verified: verified,
		DueAt: due, Status: erasure.StatusOpen}
	if !withJob {
		r.Type = erasure.TypeAccess
		return r, nil
	}
	j := &erasure.Job{ID: gdprkit.NewID(), Account: a, RequestID: r.ID, Status: erasure.JobWaiting, NextRunAt: erFuture,
		State: []byte(`{"v":1}`), CreatedAt: T0, UpdatedAt: T0}
	if verified {
		j.Status = erasure.JobQueued
	}
	r.JobID = j.ID
	return r, j
}

func erSeal(head erasure.ChainHead, r *erasure.Receipt) error {
	r.Seq, r.PrevHash, r.Hash = head.Seq+1, head.Hash, fmt.Sprintf("hash-%d", head.Seq+1)
	return nil
}

func runErasure(t *testing.T, f func(*testing.T) erasure.Store) {
	ctx := context.Background()

	t.Run("a request and its job are created together", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		r, j := erRequest(a, "ana", T0.AddDate(0, 1, 0), true, false)
		r.Channel, r.ChannelNote = erasure.ChannelEmail, "the privacy mailbox"
		r.Identity = erasure.Evidence{Method: erasure.IdentitySession, By: "ana"}
		require.NoError(t, st.CreateRequest(ctx, a, r, j))
		got, err := st.Request(ctx, a, r.ID)
		require.NoError(t, err)
		assert.Equal(t, r.Subject, got.Subject)
		assert.Equal(t, erasure.ChannelEmail, got.Channel)
		assert.Equal(t, "the privacy mailbox", got.ChannelNote)
		assert.Equal(t, r.Identity, got.Identity)
		listed, err := st.Requests(ctx, a, erasure.RequestFilter{})
		require.NoError(t, err)
		require.Len(t, listed, 1)
		assert.Equal(t, got, listed[0], "Requests returns the intake as Request does")
		assert.Equal(t, r.SubjectPS, got.SubjectPS)
		assert.True(t, got.DueAt.Equal(r.DueAt))
		assert.True(t, got.ReceivedAt.Equal(T0))
		assert.Equal(t, erasure.StatusOpen, got.Status)
		assert.Equal(t, j.ID, got.JobID)
		job, err := st.Job(ctx, a, j.ID)
		require.NoError(t, err)
		assert.Equal(t, erasure.JobWaiting, job.Status)
		assert.JSONEq(t, `{"v":1}`, string(job.State))
		require.ErrorIs(t, st.CreateRequest(ctx, a, r, nil), gdprkit.ErrConflict)
		r2, _ := erRequest(a, "bob", T0, false, false)
		require.ErrorIs(t, st.CreateRequest(ctx, a, r2, j), gdprkit.ErrConflict, "a duplicate job ID fails the whole step")
		_, err = st.Request(ctx, a, r2.ID)
		require.ErrorIs(t, err, gdprkit.ErrNotFound, "and stores no request")
	})

	t.Run("verifying releases the waiting job once", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		r, j := erRequest(a, "ana", T0.AddDate(0, 1, 0), true, false)
		require.NoError(t, st.CreateRequest(ctx, a, r, j))
		at := erFuture.Add(time.Hour)
		ev := erasure.Evidence{Method: erasure.IdentityDocument, Note: "passport seen at the front desk, not copied", By: "agent-7"}
		require.NoError(t, st.VerifyRequest(ctx, a, r.ID, at, ev))
		require.NoError(t, st.VerifyRequest(ctx, a, r.ID, at.Add(time.Hour), erasure.Evidence{Method: erasure.IdentityOther, Note: "later"}),
			"verifying twice is fine")
		got, _ := st.Request(ctx, a, r.ID)
		assert.True(t, got.Verified)
		assert.True(t, got.VerifiedAt.Equal(at))
		assert.Equal(t, ev, got.Identity, "the first evidence is stored, and stays")
		job, _ := st.Job(ctx, a, j.ID)
		assert.Equal(t, erasure.JobQueued, job.Status)
		assert.True(t, job.NextRunAt.Equal(at))
		require.ErrorIs(t, st.VerifyRequest(ctx, a, "missing", at, ev), gdprkit.ErrNotFound)
	})

	t.Run("a request is extended once", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		r, _ := erRequest(a, "ana", T0.AddDate(0, 1, 0), false, true)
		require.NoError(t, st.CreateRequest(ctx, a, r, nil))
		due := T0.AddDate(0, 3, 0)
		require.NoError(t, st.ExtendRequest(ctx, a, r.ID, due, "complex"))
		require.ErrorIs(t, st.ExtendRequest(ctx, a, r.ID, due.AddDate(0, 1, 0), "again"), gdprkit.ErrConflict)
		got, _ := st.Request(ctx, a, r.ID)
		assert.True(t, got.DueAt.Equal(due))
		assert.True(t, got.Extended)
		assert.Equal(t, "complex", got.ExtensionReason)
	})

	t.Run("closing forgets the subject and cancels the job", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		r, j := erRequest(a, "ana", T0.AddDate(0, 1, 0), true, true)
		require.NoError(t, st.CreateRequest(ctx, a, r, j))
		require.NoError(t, st.CloseRequest(ctx, a, r.ID, erasure.StatusRejected, T0.Add(time.Hour)))
		got, _ := st.Request(ctx, a, r.ID)
		assert.Equal(t, erasure.StatusRejected, got.Status)
		assert.Empty(t, got.Subject)
		assert.Equal(t, r.SubjectPS, got.SubjectPS)
		assert.True(t, got.ClosedAt.Equal(T0.Add(time.Hour)))
		job, _ := st.Job(ctx, a, j.ID)
		assert.Equal(t, erasure.JobCancelled, job.Status)
		require.ErrorIs(t, st.CloseRequest(ctx, a, r.ID, erasure.StatusCompleted, T0), gdprkit.ErrConflict)
		require.ErrorIs(t, st.ExtendRequest(ctx, a, r.ID, T0, "x"), gdprkit.ErrConflict)
	})

	t.Run("requests are filtered by status and due date, earliest first", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		var ids []string
		for i, d := range []int{20, 5, 10} {
			r, _ := erRequest(a, gdprkit.SubjectID(fmt.Sprint("s", i)), T0.AddDate(0, 0, d), false, true)
			require.NoError(t, st.CreateRequest(ctx, a, r, nil))
			ids = append(ids, r.ID)
		}
		require.NoError(t, st.CloseRequest(ctx, a, ids[1], erasure.StatusCompleted, T0))
		all, err := st.Requests(ctx, a, erasure.RequestFilter{})
		require.NoError(t, err)
		require.Len(t, all, 3)
		assert.Equal(t, []string{ids[1], ids[2], ids[0]}, []string{all[0].ID, all[1].ID, all[2].ID})
		open, err := st.Requests(ctx, a, erasure.RequestFilter{OpenOnly: true, DueBefore: T0.AddDate(0, 0, 15)})
		require.NoError(t, err)
		require.Len(t, open, 1)
		assert.Equal(t, ids[2], open[0].ID)
		lim, err := st.Requests(ctx, a, erasure.RequestFilter{Limit: 2})
		require.NoError(t, err)
		assert.Len(t, lim, 2)
	})

	t.Run("holds are placed, listed and released once", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		h1 := erasure.Hold{ID: gdprkit.NewID(), SubjectPS: "ps_ana", Ground: "Art. 17(3)(e)", Reason: "dispute", CreatedBy: "admin", CreatedAt: T0}
		h2 := erasure.Hold{ID: gdprkit.NewID(), Kind: "ticket", RecordID: "t-1", Ground: "Art. 17(3)(b)", CreatedBy: "admin", CreatedAt: T0.Add(time.Minute), ExpiresAt: T0.AddDate(0, 1, 0)}
		require.NoError(t, st.PutHold(ctx, a, h1))
		require.NoError(t, st.PutHold(ctx, a, h2))
		require.ErrorIs(t, st.PutHold(ctx, a, h1), gdprkit.ErrConflict)
		hs, err := st.Holds(ctx, a)
		require.NoError(t, err)
		require.Len(t, hs, 2)
		assert.Equal(t, h1.ID, hs[0].ID)
		assert.Equal(t, gdprkit.Pseudonym("ps_ana"), hs[0].SubjectPS)
		assert.Equal(t, "dispute", hs[0].Reason)
		assert.Equal(t, erasure.Kind("ticket"), hs[1].Kind)
		assert.Equal(t, "t-1", hs[1].RecordID)
		assert.True(t, hs[1].ExpiresAt.Equal(h2.ExpiresAt))
		assert.True(t, hs[0].ExpiresAt.IsZero())
		require.NoError(t, st.ReleaseHold(ctx, a, h1.ID, T0.Add(time.Hour)))
		require.ErrorIs(t, st.ReleaseHold(ctx, a, h1.ID, T0.Add(time.Hour)), gdprkit.ErrConflict)
		require.ErrorIs(t, st.ReleaseHold(ctx, a, "missing", T0), gdprkit.ErrNotFound)
		hs, err = st.Holds(ctx, a)
		require.NoError(t, err)
		require.Len(t, hs, 1)
		assert.Equal(t, h2.ID, hs[0].ID)
	})

	t.Run("scrubbing an account cancels open work and forgets subjects", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		r1, j1 := erRequest(a, "ana", T0, true, true)
		r2, _ := erRequest(a, "bob", T0, false, true)
		require.NoError(t, st.CreateRequest(ctx, a, r1, j1))
		require.NoError(t, st.CreateRequest(ctx, a, r2, nil))
		require.NoError(t, st.CloseRequest(ctx, a, r2.ID, erasure.StatusCompleted, T0))
		n, err := st.ScrubAccount(ctx, a, T0.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		got, _ := st.Request(ctx, a, r1.ID)
		assert.Equal(t, erasure.StatusCancelled, got.Status)
		assert.Empty(t, got.Subject)
		job, _ := st.Job(ctx, a, j1.ID)
		assert.Equal(t, erasure.JobCancelled, job.Status)
		n, err = st.ScrubAccount(ctx, a, T0.Add(time.Hour))
		require.NoError(t, err)
		assert.Zero(t, n, "idempotent")
	})

	// The queue is global, so the claim rules run one after another.
	t.Run("claiming", func(t *testing.T) {
		t.Parallel()
		st, a, b := f(t), NewAccount(t), NewAccount(t)
		base := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
		mk := func(acct gdprkit.AccountID, next time.Time) erasure.Job {
			r, j := erRequest(acct, "ana", T0, true, true)
			j.NextRunAt = next
			require.NoError(t, st.CreateRequest(ctx, acct, r, j))
			return *j
		}

		t.Run("the earliest due job is claimed, across accounts, and only when due", func(t *testing.T) {
			j1 := mk(a, base.Add(2*time.Minute))
			j2 := mk(b, base.Add(time.Minute))
			_, err := st.ClaimJob(ctx, base, "w", "tok-0", base.Add(time.Minute))
			require.ErrorIs(t, err, gdprkit.ErrNotFound, "nothing due yet")
			got, err := st.ClaimJob(ctx, base.Add(5*time.Minute), "w1", "tok-1", base.Add(10*time.Minute))
			require.NoError(t, err)
			assert.Equal(t, j2.ID, got.ID)
			assert.Equal(t, b, got.Account)
			assert.Equal(t, erasure.JobRunning, got.Status)
			assert.Equal(t, "w1", got.LeaseOwner)
			assert.Equal(t, "tok-1", got.LeaseToken)
			assert.True(t, got.LeaseUntil.Equal(base.Add(10*time.Minute)))
			got, err = st.ClaimJob(ctx, base.Add(5*time.Minute), "w2", "tok-2", base.Add(10*time.Minute))
			require.NoError(t, err)
			assert.Equal(t, j1.ID, got.ID)
			_, err = st.ClaimJob(ctx, base.Add(5*time.Minute), "w3", "tok-3", base.Add(10*time.Minute))
			require.ErrorIs(t, err, gdprkit.ErrNotFound, "leased jobs are not claimed again")

			// The token guards every write.
			require.ErrorIs(t, st.SaveJob(ctx, b, j2.ID, "tok-2", []byte(`{}`), base), gdprkit.ErrLeaseLost)
			require.ErrorIs(t, st.SaveJob(ctx, a, j2.ID, "tok-1", []byte(`{}`), base), gdprkit.ErrLeaseLost, "another account cannot save it")
			require.NoError(t, st.SaveJob(ctx, b, j2.ID, "tok-1", []byte(`{"step":3}`), base.Add(3*time.Hour)))
			job, _ := st.Job(ctx, b, j2.ID)
			assert.JSONEq(t, `{"step":3}`, string(job.State))
			assert.True(t, job.LeaseUntil.Equal(base.Add(3*time.Hour)), "saving extends the lease")

			// An expired lease is taken over; the old token is dead.
			got, err = st.ClaimJob(ctx, base.Add(15*time.Minute), "w4", "tok-4", base.Add(30*time.Minute))
			require.NoError(t, err)
			assert.Equal(t, j1.ID, got.ID, "j1's lease ended at +10m; j2's was extended")
			require.ErrorIs(t, st.SaveJob(ctx, a, j1.ID, "tok-2", []byte(`{}`), base), gdprkit.ErrLeaseLost)

			// Retry hands it back with a backoff.
			require.NoError(t, st.RetryJob(ctx, a, j1.ID, "tok-4", erasure.Retry{State: []byte(`{"r":1}`), Attempts: 1, LastError: "boom",
				Next: base.Add(time.Hour), At: base.Add(15 * time.Minute)}))
			job, _ = st.Job(ctx, a, j1.ID)
			assert.Equal(t, erasure.JobQueued, job.Status)
			assert.Equal(t, 1, job.Attempts)
			assert.Equal(t, "boom", job.LastError)
			assert.Empty(t, job.LeaseToken)
			assert.JSONEq(t, `{"r":1}`, string(job.State))
			require.ErrorIs(t, st.RetryJob(ctx, a, j1.ID, "tok-4", erasure.Retry{}), gdprkit.ErrLeaseLost)
			_, err = st.ClaimJob(ctx, base.Add(59*time.Minute), "w", "tok-5", base.Add(2*time.Hour))
			require.ErrorIs(t, err, gdprkit.ErrNotFound, "not before its backoff")

			// A failed job fails its request.
			got, err = st.ClaimJob(ctx, base.Add(61*time.Minute), "w", "tok-6", base.Add(2*time.Hour))
			require.NoError(t, err)
			require.Equal(t, j1.ID, got.ID)
			require.NoError(t, st.RetryJob(ctx, a, j1.ID, "tok-6", erasure.Retry{Attempts: 20, LastError: "constraint", Failed: true, At: base.Add(time.Hour)}))
			job, _ = st.Job(ctx, a, j1.ID)
			assert.Equal(t, erasure.JobFailed, job.Status)
			req, _ := st.Request(ctx, a, job.RequestID)
			assert.Equal(t, erasure.StatusFailed, req.Status)

			// An admin retries a failed job: queued again from its last
			// state, attempts reset, the request open again.
			require.ErrorIs(t, st.RequeueJob(ctx, b, j1.ID, base.Add(time.Hour)), gdprkit.ErrNotFound, "another account cannot requeue it")
			require.NoError(t, st.RequeueJob(ctx, a, j1.ID, base.Add(62*time.Minute)))
			require.ErrorIs(t, st.RequeueJob(ctx, a, j1.ID, base.Add(62*time.Minute)), gdprkit.ErrConflict, "only a failed job is requeued")
			job, _ = st.Job(ctx, a, j1.ID)
			assert.Equal(t, erasure.JobQueued, job.Status)
			assert.Zero(t, job.Attempts)
			assert.Equal(t, "constraint", job.LastError, "the last error stays for the record")
			assert.True(t, job.NextRunAt.Equal(base.Add(62*time.Minute)))
			req, _ = st.Request(ctx, a, job.RequestID)
			assert.Equal(t, erasure.StatusOpen, req.Status)
			assert.True(t, req.ClosedAt.IsZero())
			// A queued job can be woken earlier; others cannot.
			require.NoError(t, st.WakeJob(ctx, a, j1.ID, base.Add(61*time.Minute)))
			job, _ = st.Job(ctx, a, j1.ID)
			assert.True(t, job.NextRunAt.Equal(base.Add(61*time.Minute)))
			require.ErrorIs(t, st.WakeJob(ctx, b, j1.ID, base), gdprkit.ErrNotFound)
			require.ErrorIs(t, st.WakeJob(ctx, a, "missing", base), gdprkit.ErrNotFound)
			got, err = st.ClaimJob(ctx, base.Add(61*time.Minute), "w", "tok-6b", base.Add(2*time.Hour))
			require.NoError(t, err)
			require.Equal(t, j1.ID, got.ID)
			require.ErrorIs(t, st.WakeJob(ctx, a, j1.ID, base), gdprkit.ErrConflict, "a running job is not woken")
			require.NoError(t, st.RetryJob(ctx, a, j1.ID, "tok-6b", erasure.Retry{Attempts: 20, Failed: true, At: base.Add(time.Hour)}))

			// Finish j2: a receipt, tombstones, a completed request.
			fin := func(acct gdprkit.AccountID, j erasure.Job, token string, ts ...erasure.Tombstone) (erasure.Receipt, error) {
				return st.FinishJob(ctx, acct, j.ID, token, erasure.Finish{
					Receipt: erasure.Receipt{ID: gdprkit.NewID(), RequestID: j.RequestID, SubjectPS: "ps_ana", CompletedAt: base,
						Targets: []erasure.TargetResult{{Kind: "ticket", Action: erasure.Delete, Deleted: 3, Grounds: []string{"g"}}}},
					Seal: erSeal, Tombstones: ts, State: []byte(`{"done":true}`), At: base.Add(16 * time.Minute)})
			}
			tomb := erasure.Tombstone{Kind: "subject", Pseudonym: "ps_ana", ErasedAt: base.Add(16 * time.Minute), RequestID: j2.RequestID}
			// The receipt comes with a follow-up for what holds kept.
			fr, fj := erRequest(b, "ana", erFuture, true, true)
			fr.RequestedBy = "system:hold"
			rc, err := st.FinishJob(ctx, b, j2.ID, "tok-1", erasure.Finish{
				Receipt: erasure.Receipt{ID: gdprkit.NewID(), RequestID: j2.RequestID, SubjectPS: "ps_ana", CompletedAt: base, Partial: true,
					Targets: []erasure.TargetResult{{Kind: "ticket", Action: erasure.Delete, Deleted: 3, Grounds: []string{"g"}}}},
				Seal: erSeal, Tombstones: []erasure.Tombstone{tomb, {Kind: "email", Pseudonym: "ps_mail", ErasedAt: base.Add(16 * time.Minute), RequestID: j2.RequestID}},
				State: []byte(`{"done":true}`), At: base.Add(16 * time.Minute), FollowUp: &fr, FollowUpJob: fj})
			require.NoError(t, err)
			follow, err := st.Request(ctx, b, fr.ID)
			require.NoError(t, err, "the follow-up is created with the receipt")
			assert.Equal(t, erasure.StatusOpen, follow.Status)
			assert.Equal(t, gdprkit.SubjectID("ana"), follow.Subject, "it keeps the subject while it waits")
			fjob, err := st.Job(ctx, b, fj.ID)
			require.NoError(t, err)
			assert.Equal(t, erasure.JobQueued, fjob.Status)
			assert.Equal(t, b, fjob.Account)
			_, err = st.Job(ctx, a, fj.ID)
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			assert.EqualValues(t, 1, rc.Seq)
			assert.Equal(t, "hash-1", rc.Hash)
			_, err = fin(b, j2, "tok-1")
			require.ErrorIs(t, err, gdprkit.ErrLeaseLost, "a job finishes once")
			job, _ = st.Job(ctx, b, j2.ID)
			assert.Equal(t, erasure.JobDone, job.Status)
			req, _ = st.Request(ctx, b, j2.RequestID)
			assert.Equal(t, erasure.StatusCompleted, req.Status)
			assert.Empty(t, req.Subject)
			got2, err := st.ReceiptFor(ctx, b, j2.RequestID)
			require.NoError(t, err)
			assert.Equal(t, rc.Targets, got2.Targets)
			head, err := st.ReceiptHead(ctx, b)
			require.NoError(t, err)
			assert.Equal(t, erasure.ChainHead{Seq: 1, Hash: "hash-1"}, head)
			ts, err := st.Tombstones(ctx, b, base)
			require.NoError(t, err)
			require.Len(t, ts, 2)
			assert.Equal(t, "email", ts[0].Kind)
			ts, err = st.Tombstones(ctx, b, base.Add(17*time.Minute))
			require.NoError(t, err)
			assert.Empty(t, ts)

			// A second receipt links to the first; a repeated tombstone
			// keeps its first date.
			j3 := mk(b, base.Add(70*time.Minute))
			got, err = st.ClaimJob(ctx, base.Add(70*time.Minute), "w", "tok-7", base.Add(2*time.Hour))
			require.NoError(t, err)
			require.Equal(t, j3.ID, got.ID)
			later := tomb
			later.ErasedAt = base.Add(time.Hour * 3)
			rc, err = fin(b, j3, "tok-7", later)
			require.NoError(t, err)
			assert.EqualValues(t, 2, rc.Seq)
			assert.Equal(t, "hash-1", rc.PrevHash)
			rs, err := st.Receipts(ctx, b, 0, 10)
			require.NoError(t, err)
			require.Len(t, rs, 2)
			rs, err = st.Receipts(ctx, b, 1, 10)
			require.NoError(t, err)
			require.Len(t, rs, 1)
			assert.EqualValues(t, 2, rs[0].Seq)
			ts, err = st.Tombstones(ctx, b, time.Time{})
			require.NoError(t, err)
			require.Len(t, ts, 2)
			for _, x := range ts {
				assert.True(t, x.ErasedAt.Equal(base.Add(16*time.Minute)))
			}
			// Another account sees none of it.
			head, err = st.ReceiptHead(ctx, a)
			require.NoError(t, err)
			assert.Zero(t, head.Seq)
			_, err = st.ReceiptFor(ctx, a, j2.RequestID)
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
		})

		t.Run("concurrent claimers never take the same job", func(t *testing.T) {
			at := base.AddDate(1, 0, 0)
			want := map[string]bool{}
			for i := range 12 {
				j := mk(a, at.Add(time.Duration(i)*time.Second))
				want[j.ID] = true
			}
			var mu sync.Mutex
			got := map[string]int{}
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						j, err := st.ClaimJob(ctx, at.Add(time.Hour), fmt.Sprint("w", w), gdprkit.NewID(), at.Add(2*time.Hour))
						if errors.Is(err, gdprkit.ErrNotFound) {
							return
						}
						if !assert.NoError(t, err) {
							return
						}
						mu.Lock()
						got[j.ID]++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			assert.Len(t, got, len(want))
			for id, n := range got {
				assert.True(t, want[id])
				assert.Equal(t, 1, n, "job %s claimed once", id)
			}
		})
	})

	// TenantIsolation: nothing written under one account is visible to,
	// changed by or deleted through another.
	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		t.Run("padded IDs name other records, never these (#15)", func(t *testing.T) { t.Parallel(); paddedErasure(t, f(t)) })
		t.Run("accounts are isolated", func(t *testing.T) {
			t.Parallel()
			st, a, b := f(t), NewAccount(t), NewAccount(t)
			r, j := erRequest(a, "ana", T0, true, false)
			require.NoError(t, st.CreateRequest(ctx, a, r, j))
			_, err := st.Request(ctx, b, r.ID)
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			_, err = st.Job(ctx, b, j.ID)
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			require.ErrorIs(t, st.VerifyRequest(ctx, b, r.ID, T0, erasure.Evidence{}), gdprkit.ErrNotFound)
			require.Error(t, st.ExtendRequest(ctx, b, r.ID, T0, "x"))
			require.Error(t, st.CloseRequest(ctx, b, r.ID, erasure.StatusRejected, T0))
			rs, err := st.Requests(ctx, b, erasure.RequestFilter{})
			require.NoError(t, err)
			assert.Empty(t, rs)
			h := erasure.Hold{ID: gdprkit.NewID(), SubjectPS: "ps_x", Ground: "g", CreatedBy: "admin", CreatedAt: T0}
			require.NoError(t, st.PutHold(ctx, a, h))
			hs, err := st.Holds(ctx, b)
			require.NoError(t, err)
			assert.Empty(t, hs)
			require.ErrorIs(t, st.ReleaseHold(ctx, b, h.ID, T0), gdprkit.ErrNotFound)
			n, err := st.ScrubAccount(ctx, b, T0)
			require.NoError(t, err)
			assert.Zero(t, n)
			got, err := st.Request(ctx, a, r.ID)
			require.NoError(t, err)
			assert.Equal(t, erasure.StatusOpen, got.Status)
			assert.Equal(t, gdprkit.SubjectID("ana"), got.Subject)
			job, err := st.Job(ctx, a, j.ID)
			require.NoError(t, err)
			assert.Equal(t, erasure.JobWaiting, job.Status)
		})
		t.Run("marks stay in their account", func(t *testing.T) {
			t.Parallel()
			s := f(t)
			a, b := NewAccount(t), NewAccount(t)
			require.NoError(t, s.PutRestrictions(ctx, a, []erasure.Restriction{restriction("r1", "ps_ana", ""), restriction("r1", "ps_ana", "ps_m1")}))
			got, err := s.RestrictedRecords(ctx, b, []gdprkit.Pseudonym{"ps_m1"})
			require.NoError(t, err)
			assert.Empty(t, got)
			subj, err := s.SubjectRestrictions(ctx, b, "ps_ana")
			require.NoError(t, err)
			assert.Empty(t, subj)
			_, err = s.LiftRestrictions(ctx, b, "r1", erasure.Lift{At: T0, By: "admin", Reason: "x"})
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			got, err = s.RestrictedRecords(ctx, a, []gdprkit.Pseudonym{"ps_m1"})
			require.NoError(t, err)
			assert.Equal(t, []gdprkit.Pseudonym{"ps_m1"}, got, "and another account cannot lift them")
		})
		isolationErasure(t, f)
	})
}
