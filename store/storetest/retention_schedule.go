package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

// runRetentionSchedules checks the retention schedules' state: its
// compare-and-set, the claims of due schedules, the pause switch and
// deletion per account.
func runRetentionSchedules(t *testing.T, f func(*testing.T) retention.Store) {
	ctx := context.Background()

	t.Run("schedule state: compare-and-set, claims and pause", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		base := time.Date(1983, 2, 3, 4, 5, 6, 0, time.UTC) // only this test claims schedules in 1983
		a, b, paused := NewAccount(t), NewAccount(t), NewAccount(t)
		if _, err := st.ScheduleState(ctx, a); !errors.Is(err, gdprkit.ErrNotFound) {
			t.Fatalf("ScheduleState of a new account: %v", err)
		}
		sa := retention.ScheduleState{Account: a, TimeZone: "Europe/Berlin", NextRun: base, LastClock: base.Add(-time.Hour), Version: 1}
		if err := st.SaveScheduleState(ctx, a, 0, sa); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveScheduleState(ctx, a, 0, sa); !errors.Is(err, gdprkit.ErrConflict) {
			t.Fatalf("second create: %v, want ErrConflict", err)
		}
		if got, err := st.ScheduleState(ctx, a); err != nil || !reflect.DeepEqual(got, sa) {
			t.Fatalf("ScheduleState = %+v, %v, want %+v", got, err, sa)
		}
		for _, x := range []retention.ScheduleState{{Account: b, NextRun: base.Add(time.Minute), Version: 1}, {Account: paused, NextRun: base, Paused: true, Version: 1}} {
			if err := st.SaveScheduleState(ctx, x.Account, 0, x); err != nil {
				t.Fatal(err)
			}
		}
		mine := map[gdprkit.AccountID]bool{a: true, b: true, paused: true}
		claim := func(owner string, now time.Time) []gdprkit.AccountID {
			t.Helper()
			ids, err := st.ClaimSchedulesDue(ctx, now, 100, owner, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var out []gdprkit.AccountID
			for _, id := range ids {
				if mine[id] {
					out = append(out, id)
				}
			}
			return out
		}
		if got := claim("w1", base.Add(time.Minute)); !slices.Equal(got, []gdprkit.AccountID{a, b}) {
			t.Fatalf("claimed %v, want %s then %s (the paused account never)", got, a, b)
		}
		got, _ := st.ScheduleState(ctx, a)
		if got.LeaseOwner != "w1" || got.Fence != 1 || got.Version != 2 || !got.LeaseUntil.Equal(base.Add(2*time.Minute)) {
			t.Fatalf("claimed state %+v", got)
		}
		if got := claim("w2", base.Add(90*time.Second)); len(got) != 0 {
			t.Fatalf("leased schedules claimed again: %v", got)
		}
		stale := sa // written from the state before the claim
		stale.Version = 2
		if err := st.SaveScheduleState(ctx, a, 1, stale); !errors.Is(err, gdprkit.ErrConflict) {
			t.Fatalf("save from before the claim: %v, want ErrConflict", err)
		}
		if got := claim("w2", base.Add(2*time.Minute)); len(got) != 2 {
			t.Fatalf("expired leases not claimable: %v", got)
		}
		if got, _ := st.ScheduleState(ctx, a); got.Fence != 2 || got.LeaseOwner != "w2" {
			t.Fatalf("second claim: %+v, want fence 2 and w2", got)
		}
		if _, err := st.ClaimSchedulesDue(ctx, base, 0, "w", time.Minute); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Fatalf("limit 0: %v", err)
		}
		// The global pause switch (shared by every test of this store, so
		// set and reset here only).
		p, err := st.SchedulesPaused(ctx)
		if err != nil || p.Paused {
			t.Fatalf("initial pause: %+v %v", p, err)
		}
		if err := st.SetSchedulesPaused(ctx, retention.Pause{Paused: true, At: base, By: "ops-1"}); err != nil {
			t.Fatal(err)
		}
		if p, _ := st.SchedulesPaused(ctx); !p.Paused || p.By != "ops-1" || !p.At.Equal(base) {
			t.Fatalf("pause = %+v", p)
		}
		if err := st.SetSchedulesPaused(ctx, retention.Pause{At: base, By: "ops-1"}); err != nil {
			t.Fatal(err)
		}
		if p, _ := st.SchedulesPaused(ctx); p.Paused {
			t.Fatalf("pause not lifted")
		}
	})

	t.Run("schedule state is deleted per account, idempotently", func(t *testing.T) {
		t.Parallel()
		st, a, b := f(t), NewAccount(t), NewAccount(t)
		// A claim takes every state due by its time, other tests' too, so
		// this one claims before any other test's states are due.
		base := time.Date(1971, 5, 6, 7, 8, 9, 0, time.UTC) // only this test uses 1971
		for _, x := range []gdprkit.AccountID{a, b} {
			require.NoError(t, st.SaveScheduleState(ctx, x, 0, retention.ScheduleState{Account: x, TimeZone: "Europe/Berlin", NextRun: base, Version: 1}))
		}
		require.NoError(t, st.DeleteScheduleState(ctx, a))
		require.NoError(t, st.DeleteScheduleState(ctx, a), "deleting again is not an error")
		_, err := st.ScheduleState(ctx, a)
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
		got, err := st.ScheduleState(ctx, b)
		require.NoError(t, err)
		assert.Equal(t, "Europe/Berlin", got.TimeZone, "the other account keeps its state")
		claimed, err := st.ClaimSchedulesDue(ctx, base.Add(time.Hour), 10, "w1", time.Minute)
		require.NoError(t, err)
		assert.NotContains(t, claimed, a, "a deleted state is never claimed")
		require.NoError(t, st.SaveScheduleState(ctx, a, 0, retention.ScheduleState{Account: a, Version: 1}), "and can be created afresh")
	})
}
