package erasure_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

// countingTarget forwards everything to the target it wraps and counts
// its residue searches.
type countingTarget struct {
	erasure.Target
	n *atomic.Int64
}

func (t countingTarget) Residue(ctx context.Context, a gdprkit.AccountID, q erasure.ResidueQuery) ([]erasure.Finding, error) {
	t.n.Add(1)
	return t.Target.Residue(ctx, a, q)
}

// A batch of erasures (RunBatch, as Work takes them) is verified with one
// residue search for all of its people when nothing of any of them is
// left; when something of one is left, that one fails with ErrResidue,
// exactly as RunOnce would fail it, and the others still end done.
func TestRunBatchVerifiesTogether(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			st, db := testdb.OpenStore(t, d)
			h := newSQLHost(t, db.DB, d)
			const acct = gdprkit.AccountID("acme")
			for i := range 5 {
				h.seedFiles(t, acct, fmt.Sprintf("p%03d", i), 2, 3, false)
			}
			h.seedSubject(t, acct, "keep", 1, 1)
			var searches atomic.Int64
			targets := make([]erasure.Target, len(h.targets))
			for i, tg := range h.targets {
				targets[i] = countingTarget{Target: tg, n: &searches}
			}
			g, err := erasure.NewGraph(targets...)
			require.NoError(t, err)
			ps, err := gdprkit.NewPseudonymizer(key)
			require.NoError(t, err)
			svc, err := erasure.New(erasure.Config{Store: st.Erasure(), Graph: g, Directory: h, Pseudonymizer: ps})
			require.NoError(t, err)

			// How many target searches one residue search makes.
			_, err = svc.FindResidue(ctx, acct, []erasure.Identifier{{Kind: "email", Value: "nobody@example.com"}})
			require.NoError(t, err)
			perSearch := searches.Swap(0)
			require.Positive(t, perSearch)

			requests := map[string]string{}
			submit := func(people ...string) map[string]string {
				jobs := map[string]string{}
				for _, p := range people {
					r, err := svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: gdprkit.SubjectID(p), By: "admin", Verified: true})
					require.NoError(t, err)
					jobs[r.JobID], requests[p] = p, r.ID
				}
				return jobs
			}
			status := func(p string) erasure.RequestStatus {
				r, err := svc.Request(ctx, acct, requests[p])
				require.NoError(t, err)
				return r.Status
			}

			jobs := submit("p000", "p001", "p003")
			runs, err := svc.RunBatch(ctx, "w1", 16)
			require.NoError(t, err)
			require.Len(t, runs, 3)
			for _, r := range runs {
				require.NoError(t, r.Err, jobs[r.Job])
			}
			assert.Equal(t, perSearch, searches.Swap(0), "three people verified with one search")
			assert.Zero(t, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE requester_id IN ('p000', 'p001', 'p003')"))
			for _, p := range []string{"p000", "p001", "p003"} {
				assert.Equal(t, erasure.StatusCompleted, status(p), p)
			}

			// p002's address in a ticket of somebody else that the binding
			// does not link to p002: only the verify pass can find it.
			_, err = db.Exec(h.rebind("UPDATE hd_tickets SET subject = ? WHERE requester_id = 'keep'"), "about p002@example.com")
			require.NoError(t, err)
			jobs = submit("p002", "p004")
			runs, err = svc.RunBatch(ctx, "w1", 16)
			require.NoError(t, err)
			require.Len(t, runs, 2)
			for _, r := range runs {
				if jobs[r.Job] == "p002" {
					require.ErrorIs(t, r.Err, erasure.ErrResidue)
					continue
				}
				require.NoError(t, r.Err, jobs[r.Job])
			}
			assert.Greater(t, searches.Load(), perSearch, "the shared search found something: each was verified alone")
			assert.Equal(t, erasure.StatusCompleted, status("p004"), "p004 is done")
			assert.NotEqual(t, erasure.StatusCompleted, status("p002"), "p002 is not reported done")
		})
	}
}
