package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// runErasureRights checks the erasure.Store methods of the other
// data-subject rights: closing a jobless request with a receipt
// (portability) and restriction marks (Art. 18).
func runErasureRights(t *testing.T, f func(*testing.T) erasure.Store) {
	ctx := context.Background()
	mark := restriction

	t.Run("a jobless request is completed with a receipt once", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		r, _ := erRequest(a, "ana", T0.AddDate(0, 1, 0), false, true)
		r.Type = erasure.TypePortability
		require.NoError(t, st.CreateRequest(ctx, a, r, nil))
		rc := erasure.Receipt{ID: gdprkit.NewID(), RequestID: r.ID, SubjectPS: r.SubjectPS, Scope: erasure.ScopeFull, ReceivedAt: T0,
			CompletedAt: T0.Add(time.Hour), Type: erasure.TypePortability,
			Rights: erasure.RightsResult{Exported: []erasure.KindCount{{Kind: "message", Records: 3}}}}
		at := T0.Add(time.Hour)
		got, err := st.CompleteRequest(ctx, a, r.ID, erasure.Finish{Receipt: rc, Seal: erSeal, At: at})
		require.NoError(t, err)
		assert.EqualValues(t, 1, got.Seq)
		stored, err := st.ReceiptFor(ctx, a, r.ID)
		require.NoError(t, err)
		assert.Equal(t, erasure.TypePortability, stored.Type)
		assert.Equal(t, rc.Rights, stored.Rights, "the rights part of the receipt round-trips")
		head, err := st.ReceiptHead(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, erasure.ChainHead{Seq: 1, Hash: "hash-1"}, head)
		req, err := st.Request(ctx, a, r.ID)
		require.NoError(t, err)
		assert.Equal(t, erasure.StatusCompleted, req.Status)
		assert.True(t, req.ClosedAt.Equal(at))
		assert.Empty(t, req.Subject, "a closed request forgets the subject")

		rc.ID = gdprkit.NewID()
		_, err = st.CompleteRequest(ctx, a, r.ID, erasure.Finish{Receipt: rc, Seal: erSeal, At: at})
		require.ErrorIs(t, err, gdprkit.ErrConflict, "a closed request")
		_, err = st.CompleteRequest(ctx, a, "missing", erasure.Finish{Receipt: rc, Seal: erSeal, At: at})
		require.ErrorIs(t, err, gdprkit.ErrNotFound)

		withJob, j := erRequest(a, "bob", T0.AddDate(0, 1, 0), true, true)
		require.NoError(t, st.CreateRequest(ctx, a, withJob, j))
		rc.RequestID = withJob.ID
		_, err = st.CompleteRequest(ctx, a, withJob.ID, erasure.Finish{Receipt: rc, Seal: erSeal, At: at})
		require.ErrorIs(t, err, gdprkit.ErrConflict, "a request with a job is finished by its job")
		req, _ = st.Request(ctx, a, withJob.ID)
		assert.Equal(t, erasure.StatusOpen, req.Status, "and stays open")
		head, _ = st.ReceiptHead(ctx, a)
		assert.EqualValues(t, 1, head.Seq, "no receipt was appended by the refused calls")

		_, err = st.CompleteRequest(ctx, NewAccount(t), r.ID, erasure.Finish{Receipt: rc, Seal: erSeal, At: at})
		require.ErrorIs(t, err, gdprkit.ErrNotFound, "another account does not see the request")
	})

	t.Run("restriction marks are idempotent and lifted per request", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		marks := []erasure.Restriction{mark("r1", "ps_ana", ""), mark("r1", "ps_ana", "ps_m1"), mark("r1", "ps_ana", "ps_m2")}
		require.NoError(t, st.PutRestrictions(ctx, a, marks))
		later := marks[1]
		later.At = T0.Add(time.Hour)
		require.NoError(t, st.PutRestrictions(ctx, a, []erasure.Restriction{later, marks[2]}), "placing a mark again is not an error")
		require.NoError(t, st.PutRestrictions(ctx, a, []erasure.Restriction{mark("r2", "ps_ana", "ps_m2")}), "a second restriction of the same record")
		require.NoError(t, st.PutRestrictions(ctx, a, nil))

		got, err := st.RestrictedRecords(ctx, a, []gdprkit.Pseudonym{"ps_m2", "ps_m1", "ps_m3", "ps_m1", ""})
		require.NoError(t, err)
		assert.Equal(t, []gdprkit.Pseudonym{"ps_m1", "ps_m2"}, got, "each restricted record once, sorted; unknown ones left out")
		subj, err := st.SubjectRestrictions(ctx, a, "ps_ana")
		require.NoError(t, err)
		require.Len(t, subj, 1, "record marks are not subject-level marks")
		assert.Equal(t, "r1", subj[0].RequestID)
		assert.True(t, subj[0].At.Equal(T0), "the first placement is kept")
		assert.True(t, subj[0].Active())

		at := T0.Add(48 * time.Hour)
		n, err := st.LiftRestrictions(ctx, a, "r1", erasure.Lift{At: at, By: "admin", Reason: "accuracy verified; subject told"})
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		got, err = st.RestrictedRecords(ctx, a, []gdprkit.Pseudonym{"ps_m1", "ps_m2"})
		require.NoError(t, err)
		assert.Equal(t, []gdprkit.Pseudonym{"ps_m2"}, got, "m2 is still restricted by r2")
		subj, err = st.SubjectRestrictions(ctx, a, "ps_ana")
		require.NoError(t, err)
		require.Len(t, subj, 1)
		assert.False(t, subj[0].Active())
		assert.True(t, subj[0].LiftedAt.Equal(at))
		assert.Equal(t, gdprkit.ActorID("admin"), subj[0].LiftedBy)
		assert.Equal(t, "accuracy verified; subject told", subj[0].LiftReason)

		_, err = st.LiftRestrictions(ctx, a, "r1", erasure.Lift{At: at, By: "admin", Reason: "again"})
		require.ErrorIs(t, err, gdprkit.ErrConflict)
		_, err = st.LiftRestrictions(ctx, a, "nope", erasure.Lift{At: at, By: "admin", Reason: "x"})
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
		require.NoError(t, st.PutRestrictions(ctx, a, []erasure.Restriction{mark("r1", "ps_ana", "ps_m1")}))
		got, _ = st.RestrictedRecords(ctx, a, []gdprkit.Pseudonym{"ps_m1"})
		assert.Empty(t, got, "placing a lifted mark again does not bring it back")
	})

	t.Run("subject-level marks are listed oldest first", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		m1, m2, other := mark("r-b", "ps_ana", ""), mark("r-a", "ps_ana", ""), mark("r-c", "ps_bob", "")
		m1.At = T0.Add(time.Hour)
		require.NoError(t, st.PutRestrictions(ctx, a, []erasure.Restriction{m1, m2, other}))
		subj, err := st.SubjectRestrictions(ctx, a, "ps_ana")
		require.NoError(t, err)
		require.Len(t, subj, 2)
		assert.Equal(t, "r-a", subj[0].RequestID)
		assert.Equal(t, "r-b", subj[1].RequestID)
		assert.Equal(t, gdprkit.Pseudonym("ps_ana"), subj[1].SubjectPS)
		assert.Empty(t, subj[1].Kind)
		assert.Empty(t, subj[1].RecordPS)
		none, err := st.SubjectRestrictions(ctx, a, "ps_cid")
		require.NoError(t, err)
		assert.Empty(t, none)
	})

	t.Run("a bad mark stores nothing of its batch", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		bad := mark("r1", "ps_ana", "ps_m2")
		bad.Kind = ""
		err := st.PutRestrictions(ctx, a, []erasure.Restriction{mark("r1", "ps_ana", "ps_m1"), bad})
		require.ErrorIs(t, err, gdprkit.ErrInvalid)
		got, err := st.RestrictedRecords(ctx, a, []gdprkit.Pseudonym{"ps_m1", "ps_m2"})
		require.NoError(t, err)
		assert.Empty(t, got)
		require.ErrorIs(t, st.PutRestrictions(ctx, a, []erasure.Restriction{{SubjectPS: "ps_ana", At: T0}}), gdprkit.ErrInvalid, "no request")
	})

	t.Run("many marks go in batches", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		var marks []erasure.Restriction
		var pss []gdprkit.Pseudonym
		for i := range 1203 {
			ps := fmt.Sprintf("ps_m%04d", i)
			marks = append(marks, mark("r1", "ps_ana", ps))
			if i%2 == 0 {
				pss = append(pss, gdprkit.Pseudonym(ps))
			}
		}
		require.NoError(t, st.PutRestrictions(ctx, a, marks))
		pss = append(pss, "ps_none")
		got, err := st.RestrictedRecords(ctx, a, pss)
		require.NoError(t, err)
		assert.Len(t, got, 602)
		n, err := st.LiftRestrictions(ctx, a, "r1", erasure.Lift{At: T0.Add(time.Hour), By: "admin", Reason: "done"})
		require.NoError(t, err)
		assert.Equal(t, 1203, n)
	})

	t.Run("scrubbing an account removes its marks, only its", func(t *testing.T) {
		t.Parallel()
		s := f(t)
		a, b := NewAccount(t), NewAccount(t)
		for _, x := range []gdprkit.AccountID{a, b} {
			require.NoError(t, s.PutRestrictions(ctx, x, []erasure.Restriction{mark("r1", "ps_ana", ""), mark("r1", "ps_ana", "ps_m1")}))
		}
		_, err := s.LiftRestrictions(ctx, a, "r1", erasure.Lift{At: T0, By: "admin", Reason: "accuracy confirmed"})
		require.NoError(t, err)
		require.NoError(t, s.PutRestrictions(ctx, a, []erasure.Restriction{mark("r2", "ps_ana", ""), mark("r2", "ps_ana", "ps_m1")}))
		_, err = s.ScrubAccount(ctx, a, T0)
		require.NoError(t, err)
		_, err = s.ScrubAccount(ctx, a, T0)
		require.NoError(t, err, "scrubbing is idempotent")
		got, err := s.RestrictedRecords(ctx, a, []gdprkit.Pseudonym{"ps_m1"})
		require.NoError(t, err)
		assert.Empty(t, got)
		subj, err := s.SubjectRestrictions(ctx, a, "ps_ana")
		require.NoError(t, err)
		assert.Empty(t, subj, "lifted marks go too")
		_, err = s.LiftRestrictions(ctx, a, "r2", erasure.Lift{At: T0, By: "admin", Reason: "x"})
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
		got, err = s.RestrictedRecords(ctx, b, []gdprkit.Pseudonym{"ps_m1"})
		require.NoError(t, err)
		assert.Equal(t, []gdprkit.Pseudonym{"ps_m1"}, got, "the other account keeps its marks")
	})
}

// restriction returns a restriction mark of request req on subject, on its
// record rec of kind "messages" when rec is not "".
func restriction(req string, subject gdprkit.Pseudonym, rec string) erasure.Restriction {
	r := erasure.Restriction{RequestID: req, SubjectPS: subject, At: T0}
	if rec != "" {
		r.Kind, r.RecordPS = "messages", gdprkit.Pseudonym(rec)
	}
	return r
}
