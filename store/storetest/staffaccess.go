package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/staffaccess"
)

// runStaffAccess checks staffaccess.Store, and that Access and Revoke
// through it never let an access in after a revocation returned.
func runStaffAccess(t *testing.T, f func(*testing.T) staffaccess.Store) {
	ctx := context.Background()
	at := T0.Add(123456789 * time.Microsecond)
	sealer := func(h staffaccess.Head, e *staffaccess.Entry) error {
		e.Seq, e.PrevHash, e.Hash = h.Seq+1, h.Hash, fmt.Sprintf("h%d", h.Seq+1)
		return nil
	}
	grant := func(a gdprkit.AccountID, staff gdprkit.ActorID, requested time.Time) staffaccess.Grant {
		return staffaccess.Grant{ID: gdprkit.NewID(), Account: a, Staff: staff, Purpose: "Ticket #1 — ünïcode", Until: at.Add(time.Hour),
			RequestedBy: "vendor:lead", RequestedAt: requested, Status: staffaccess.StatusRequested, Version: 1}
	}
	entry := func(g staffaccess.Grant, typ staffaccess.EntryType) staffaccess.Entry {
		data, _ := json.Marshal(g)
		return staffaccess.Entry{ID: gdprkit.NewID(), Grant: g.ID, Type: typ, At: at, Actor: "vendor:lead", Data: data}
	}
	put := func(t *testing.T, st staffaccess.Store, a gdprkit.AccountID, g staffaccess.Grant, es ...staffaccess.Entry) []staffaccess.Entry {
		t.Helper()
		out, err := st.Mutate(ctx, a, g.ID, func(staffaccess.Grant, bool) (staffaccess.Write, error) {
			return staffaccess.Write{Grant: &g, Entries: es}, nil
		}, sealer)
		require.NoError(t, err)
		return out
	}

	t.Run("grants and entries read back exactly", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		g1 := grant(a, "vendor:eva", at)
		g2 := grant(a, "vendor:max", at.Add(time.Second))
		es := put(t, st, a, g1, entry(g1, staffaccess.EntryRequested))
		es = append(es, put(t, st, a, g2, entry(g2, staffaccess.EntryRequested))...)
		acc := staffaccess.Entry{ID: gdprkit.NewID(), Grant: g1.ID, Type: staffaccess.EntryAccess, At: at.Add(time.Minute), Actor: "vendor:eva", What: "GET /tickets/7 — ü"}
		out, err := st.Mutate(ctx, a, g1.ID, func(cur staffaccess.Grant, found bool) (staffaccess.Write, error) {
			assert.True(t, found)
			assert.Equal(t, g1, cur)
			return staffaccess.Write{Entries: []staffaccess.Entry{acc}}, nil
		}, sealer)
		require.NoError(t, err)
		es = append(es, out...)
		got, err := st.Grant(ctx, a, g1.ID)
		require.NoError(t, err)
		assert.Equal(t, g1, got)
		gs, err := st.Grants(ctx, a, "")
		require.NoError(t, err)
		assert.Equal(t, []staffaccess.Grant{g2, g1}, gs, "newest request first")
		gs, err = st.Grants(ctx, a, "vendor:eva")
		require.NoError(t, err)
		assert.Equal(t, []staffaccess.Grant{g1}, gs)
		tr, err := st.Trail(ctx, a, 0, 10)
		require.NoError(t, err)
		require.Len(t, tr, 3)
		assert.Equal(t, es, tr)
		assert.Nil(t, tr[2].Data, "an access carries no grant snapshot")
		tr, err = st.Trail(ctx, a, 1, 1)
		require.NoError(t, err)
		assert.Equal(t, es[1:2], tr)
		h, err := st.Head(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, staffaccess.Head{Seq: 3, Hash: "h3"}, h)
	})

	t.Run("a failing step stores nothing", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		g := grant(a, "vendor:eva", at)
		put(t, st, a, g, entry(g, staffaccess.EntryRequested))
		boom := errors.New("boom")
		changed := g
		changed.Status = staffaccess.StatusApproved
		_, err := st.Mutate(ctx, a, g.ID, func(staffaccess.Grant, bool) (staffaccess.Write, error) {
			return staffaccess.Write{Grant: &changed, Entries: []staffaccess.Entry{entry(changed, staffaccess.EntryApproved)}}, boom
		}, sealer)
		require.ErrorIs(t, err, boom)
		_, err = st.Mutate(ctx, a, g.ID, func(staffaccess.Grant, bool) (staffaccess.Write, error) {
			return staffaccess.Write{Grant: &changed, Entries: []staffaccess.Entry{entry(changed, staffaccess.EntryApproved)}}, nil
		}, func(staffaccess.Head, *staffaccess.Entry) error { return boom })
		require.ErrorIs(t, err, boom)
		got, _ := st.Grant(ctx, a, g.ID)
		assert.Equal(t, staffaccess.StatusRequested, got.Status)
		h, _ := st.Head(ctx, a)
		assert.EqualValues(t, 1, h.Seq)
	})

	// TenantIsolation: nothing written under one account is visible to,
	// changed by or deleted through another.
	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		t.Run("accounts are isolated", func(t *testing.T) {
			t.Parallel()
			st, a, x := f(t), NewAccount(t), NewAccount(t)
			g := grant(a, "vendor:eva", at)
			put(t, st, a, g, entry(g, staffaccess.EntryRequested))
			_, err := st.Grant(ctx, x, g.ID)
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			gs, _ := st.Grants(ctx, x, "")
			assert.Empty(t, gs)
			tr, _ := st.Trail(ctx, x, 0, 10)
			assert.Empty(t, tr)
			_, err = st.Mutate(ctx, x, g.ID, func(_ staffaccess.Grant, found bool) (staffaccess.Write, error) {
				assert.False(t, found, "another account's grant is not found")
				return staffaccess.Write{}, nil
			}, sealer)
			require.NoError(t, err)
			n, err := st.DeleteAccount(ctx, x)
			require.NoError(t, err)
			assert.Zero(t, n)
			n, err = st.DeleteAccount(ctx, a)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			gs, _ = st.Grants(ctx, a, "")
			assert.Empty(t, gs)
			tr, _ = st.Trail(ctx, a, 0, 10)
			assert.Empty(t, tr)
			h, _ := st.Head(ctx, a)
			assert.Zero(t, h.Seq)
			_, err = st.Grants(ctx, a+" ", "")
			require.ErrorIs(t, err, gdprkit.ErrInvalid, "a padded account is refused")
		})
		t.Run("padded account IDs name other accounts, never this one (#15)", func(t *testing.T) {
			t.Parallel()
			st, a := f(t), NewAccount(t)
			g := grant(a, "vendor:eva", at)
			es := put(t, st, a, g, entry(g, staffaccess.EntryRequested))
			isolatePaddedAccount(t, a, map[string]paddedOp{
				"Grant": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					_, err := st.Grant(ctx, pa, g.ID)
					return err == nil, err
				},
				"Grants": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					gs, err := st.Grants(ctx, pa, "")
					return len(gs) > 0, err
				},
				"Trail": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					tr, err := st.Trail(ctx, pa, 0, 10)
					return len(tr) > 0, err
				},
				"Head": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					h, err := st.Head(ctx, pa)
					return h.Seq > 0, err
				},
				"Mutate": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					leaked := false
					_, err := st.Mutate(ctx, pa, g.ID, func(_ staffaccess.Grant, found bool) (staffaccess.Write, error) {
						leaked = found
						return staffaccess.Write{}, nil
					}, sealer)
					return leaked, err
				},
				"DeleteAccount": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					n, err := st.DeleteAccount(ctx, pa)
					return n > 0, err
				},
			})
			got, err := st.Grant(ctx, a, g.ID)
			require.NoError(t, err)
			assert.Equal(t, g, got)
			tr, err := st.Trail(ctx, a, 0, 10)
			require.NoError(t, err)
			assert.Equal(t, es, tr)
		})
	})

	t.Run("no access gets through after Revoke returned", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		svc, err := staffaccess.New(staffaccess.Config{Store: st})
		require.NoError(t, err)
		owner := staffaccess.Actor{ID: "owner", Role: gdprkit.RoleOwner}
		for round := range 3 {
			g, err := svc.Request(ctx, a, staffaccess.Request{Staff: "vendor:eva", Purpose: "race", Until: gdprkit.SystemClock{}.Now().Add(time.Hour)})
			require.NoError(t, err)
			_, err = svc.Approve(ctx, a, g.ID, owner, "")
			require.NoError(t, err)
			var revoked atomic.Bool
			var mu sync.Mutex
			var granted, afterRevoke, refused int
			var wg sync.WaitGroup
			start := make(chan struct{})
			for w := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					// Access until refused, so accesses run right up to
					// the revocation and past it.
					for i := 0; i < 100000; i++ {
						late := revoked.Load() // Revoke had returned before this call started
						_, err := svc.Access(ctx, a, "vendor:eva", fmt.Sprintf("GET /r%d/w%d/%d", round, w, i))
						mu.Lock()
						stop := err != nil
						switch {
						case err == nil:
							granted++
							if late {
								afterRevoke++
							}
						case errors.Is(err, staffaccess.ErrNoGrant):
							refused++
						default:
							t.Errorf("access: %v", err)
						}
						mu.Unlock()
						if stop {
							return
						}
					}
				}()
			}
			close(start)
			time.Sleep(time.Duration(round+1) * 20 * time.Millisecond)
			_, err = svc.Revoke(ctx, a, g.ID, owner)
			require.NoError(t, err)
			revoked.Store(true)
			wg.Wait()

			assert.Zero(t, afterRevoke, "round %d: an access that started after Revoke returned was let through", round)
			raw, err := st.Trail(ctx, a, 0, 100000)
			require.NoError(t, err)
			var revokedAt, lastAccess int64
			recorded := 0
			for _, e := range raw {
				switch {
				case e.Grant == g.ID && e.Type == staffaccess.EntryRevoked:
					revokedAt = e.Seq
				case e.Grant == g.ID && e.Type == staffaccess.EntryAccess:
					lastAccess = max(lastAccess, e.Seq)
					recorded++
				}
			}
			require.NotZero(t, revokedAt)
			assert.Less(t, lastAccess, revokedAt, "round %d: every recorded access precedes the revocation", round)
			assert.Equal(t, granted, recorded, "every access let through is in the trail, and only those")
			v, err := svc.Verify(ctx, a)
			require.NoError(t, err)
			assert.True(t, v.OK)
			t.Logf("round %d: %d accesses before the revocation, %d refused", round, granted, refused)
		}
	})
}
