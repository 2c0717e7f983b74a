package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// breachDeleter lets the graph's breach register target reach the world's
// breach service, which is built after the erasure service it asks.
type breachDeleter struct{ w *world }

func (b breachDeleter) DeleteAccount(ctx context.Context, a gdprkit.AccountID, by gdprkit.ActorID) (int, error) {
	return b.w.breach.DeleteAccount(ctx, a, by)
}

// accountable gives an account what the accountability packages keep:
// a breach whose affected subject was found through the erasure graph and
// whose authority notice is queued, a vendor grant with an access, a
// restriction of ana's data, and retention schedule settings.
func (w *world) accountable(t *testing.T, a gdprkit.AccountID) {
	t.Helper()
	ctx := context.Background()
	now := w.clock.Now()
	w.hd.Update(a, func(d *memhelpdesk.Data) {
		f := d.Attachments["f1"]
		f.CreatedAt = now.Add(-2 * time.Hour)
		d.Attachments["f1"] = f
	})
	b, err := w.breach.Record(ctx, a, breach.Report{Title: "Bucket public", Nature: "files readable", OccurredAt: now.Add(-3 * time.Hour),
		AwareAt: now.Add(-time.Hour), Kinds: []string{"attachment"}, By: "owner"})
	require.NoError(t, err)
	n, err := w.breach.FindSubjects(ctx, a, b.ID, breach.Criteria{Where: "files"}, "owner")
	require.NoError(t, err)
	require.Equal(t, 1, n, "ana's file, found through the erasure graph")
	_, err = w.breach.Notify(ctx, a, b.ID, breach.NotifyRequest{Authority: true, By: "owner"})
	require.NoError(t, err)

	g, err := w.support.Request(ctx, a, staffaccess.Request{Staff: "vendor:eva", Purpose: "ticket 4411", Until: now.Add(24 * time.Hour)})
	require.NoError(t, err)
	_, err = w.support.Approve(ctx, a, g.ID, staffaccess.Actor{ID: "owner", Role: gdprkit.RoleOwner}, "")
	require.NoError(t, err)
	_, err = w.support.Access(ctx, a, "vendor:eva", "GET /tickets/t1")
	require.NoError(t, err)

	r, err := w.erasure.Submit(ctx, a, erasure.Submission{Type: erasure.TypeRestriction, Subject: "ana", By: "owner", Verified: true,
		Channel: erasure.ChannelEmail, Identity: erasure.Evidence{Method: erasure.IdentityEmailLink}})
	require.NoError(t, err)
	_, errs := w.erasure.RunUntilIdle(ctx, "worker-1")
	require.Empty(t, errs)
	ok, err := w.erasure.SubjectRestricted(ctx, a, "ana")
	require.NoError(t, err)
	require.True(t, ok)
	_, err = w.erasure.Receipt(ctx, a, r.ID)
	require.NoError(t, err)

	require.NoError(t, w.st.Retention().SaveScheduleState(ctx, a, 0, retention.ScheduleState{Account: a, TimeZone: "Europe/Lisbon",
		NextRun: now.Add(time.Hour), Version: 1}))
}

// nothingOf reports, for each accountability store, whether it still
// returns anything for the account.
func (w *world) nothingOf(t *testing.T, a gdprkit.AccountID) map[string]bool {
	t.Helper()
	ctx := context.Background()
	out := map[string]bool{}
	bs, err := w.st.Breach().Breaches(ctx, a)
	require.NoError(t, err)
	hist, err := w.st.Breach().History(ctx, a, 0, 10)
	require.NoError(t, err)
	out["breach register"] = len(bs) == 0 && len(hist) == 0
	gs, err := w.st.StaffAccess().Grants(ctx, a, "")
	require.NoError(t, err)
	trail, err := w.st.StaffAccess().Trail(ctx, a, 0, 10)
	require.NoError(t, err)
	out["staff access"] = len(gs) == 0 && len(trail) == 0
	marks, err := w.st.Erasure().SubjectRestrictions(ctx, a, w.ps.Subject(a, "ana"))
	require.NoError(t, err)
	out["restriction marks"] = len(marks) == 0
	_, err = w.st.Retention().ScheduleState(ctx, a)
	out["schedule state"] = err != nil
	if err != nil {
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
	}
	return out
}

// Account deletion leaves nothing of the accountability stores: the
// breach register, the staff access grants and trail, the restriction
// marks and the retention schedule state of a purged account are gone,
// on every store, and the paying account next door keeps all of its own.
func TestAccountDeletionLeavesNoAccountabilityRecords(t *testing.T) {
	for name, open := range everyStore(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, open(t))
			gone, kept := storetest.NewAccount(t), storetest.NewAccount(t)
			for _, a := range []gdprkit.AccountID{gone, kept} {
				w.populate(t, a)
				w.accountable(t, a)
			}
			_, err := w.life.Apply(ctx, kept, retention.EventUpgrade, "owner")
			require.NoError(t, err)
			all := map[string]bool{"breach register": false, "staff access": false, "restriction marks": false, "schedule state": false}
			require.Equal(t, all, w.nothingOf(t, gone), "everything is there before")

			w.clock.Advance((14+60+30+30)*24*time.Hour + time.Hour)
			for range 10 {
				rep, err := w.sweeper.Sweep(ctx)
				require.NoError(t, err)
				if rep == (retention.SweepReport{}) {
					break
				}
			}
			rec, err := w.life.Record(ctx, gone)
			require.NoError(t, err)
			require.Equal(t, retention.StatePurged, rec.State)
			for k := range all {
				all[k] = true
			}
			assert.Equal(t, all, w.nothingOf(t, gone), "nothing is left")
			for k := range all {
				all[k] = false
			}
			assert.Equal(t, all, w.nothingOf(t, kept), "the other account keeps everything")
			v, err := w.breach.Verify(ctx, kept)
			require.NoError(t, err)
			assert.True(t, v.OK)
			_, err = w.support.Verify(ctx, kept)
			require.NoError(t, err)
		})
	}
}
