package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/ipfilter"
)

func ipEntry(prefix, note string, by gdprkit.ActorID, at time.Time) ipfilter.Entry {
	return ipfilter.Entry{Prefix: netip.MustParsePrefix(prefix), Note: note, AddedBy: by, AddedAt: at}
}

func runIPFilter(t *testing.T, f func(*testing.T) ipfilter.Store) {
	ctx := context.Background()
	at := T0.Add(1234567 * time.Microsecond)
	panel := ipfilter.SurfaceRules{
		Surface: gdprkit.SurfaceAgentPanel,
		Allow: []ipfilter.Entry{
			ipEntry("192.0.2.0/24", "Prague office", "admin-1", at),
			ipEntry("2001:db8::/32", "", "admin-2", at.Add(time.Second)),
			ipEntry("10.0.0.0/8", "VPN — ünïcode", "admin-1", at),
		},
		Deny: []ipfilter.Entry{ipEntry("192.0.2.66/32", "stolen laptop", "admin-1", at)},
	}

	t.Run("account never written has version 0 and no rules", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		rs, err := st.Rules(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, a, rs.Account)
		assert.Zero(t, rs.Version)
		assert.Empty(t, rs.Surfaces)
		v, err := st.Version(ctx, a)
		require.NoError(t, err)
		assert.Zero(t, v)
	})

	t.Run("replaced rules read back in order with who added them", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		v, err := st.ReplaceRules(ctx, a, panel, 0)
		require.NoError(t, err)
		assert.EqualValues(t, 1, v)
		rs, err := st.Rules(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 1, rs.Version)
		require.Len(t, rs.Surfaces, 1)
		got := rs.Surfaces[0]
		assert.Equal(t, panel.Surface, got.Surface)
		require.Len(t, got.Allow, 3)
		require.Len(t, got.Deny, 1)
		for i, want := range panel.Allow {
			assert.Equal(t, want.Prefix, got.Allow[i].Prefix)
			assert.Equal(t, want.Note, got.Allow[i].Note)
			assert.Equal(t, want.AddedBy, got.Allow[i].AddedBy)
			assert.True(t, want.AddedAt.Equal(got.Allow[i].AddedAt), "AddedAt %v, want %v", got.Allow[i].AddedAt, want.AddedAt)
		}
		assert.Equal(t, panel.Deny[0].Prefix, got.Deny[0].Prefix)
		v, err = st.Version(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 1, v)
	})

	t.Run("a stale expected version conflicts and changes nothing", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		_, err := st.ReplaceRules(ctx, a, panel, 0)
		require.NoError(t, err)
		other := ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAgentPanel, Allow: []ipfilter.Entry{ipEntry("198.51.100.0/24", "", "admin-3", at)}}
		for _, stale := range []int64{0, 2, 7} {
			_, err = st.ReplaceRules(ctx, a, other, stale)
			assert.ErrorIs(t, err, gdprkit.ErrConflict, "expected version %d", stale)
		}
		rs, err := st.Rules(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 1, rs.Version)
		assert.Equal(t, panel.Allow[0].Prefix, rs.Surface(gdprkit.SurfaceAgentPanel).Allow[0].Prefix)
	})

	t.Run("replacing one surface leaves the others and counts up", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		_, err := st.ReplaceRules(ctx, a, panel, 0)
		require.NoError(t, err)
		api := ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAPI, Deny: []ipfilter.Entry{ipEntry("203.0.113.0/24", "", "admin-1", at)}}
		v, err := st.ReplaceRules(ctx, a, api, 1)
		require.NoError(t, err)
		assert.EqualValues(t, 2, v)
		rs, err := st.Rules(ctx, a)
		require.NoError(t, err)
		require.Len(t, rs.Surfaces, 2)
		assert.Equal(t, gdprkit.SurfaceAgentPanel, rs.Surfaces[0].Surface, "surfaces sorted")
		assert.Equal(t, gdprkit.SurfaceAPI, rs.Surfaces[1].Surface)
		assert.Len(t, rs.Surfaces[0].Allow, 3)

		// Two empty lists remove the surface, and still bump the version.
		v, err = st.ReplaceRules(ctx, a, ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAgentPanel}, 2)
		require.NoError(t, err)
		assert.EqualValues(t, 3, v)
		rs, err = st.Rules(ctx, a)
		require.NoError(t, err)
		require.Len(t, rs.Surfaces, 1)
		assert.Equal(t, gdprkit.SurfaceAPI, rs.Surfaces[0].Surface)
		assert.EqualValues(t, 3, rs.Version)
	})

	t.Run("a long list is stored whole", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		var big ipfilter.SurfaceRules
		big.Surface = "mobile"
		for i := range 1200 {
			big.Allow = append(big.Allow, ipfilter.Entry{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24), AddedBy: "admin-1", AddedAt: at})
		}
		_, err := st.ReplaceRules(ctx, a, big, 0)
		require.NoError(t, err)
		rs, err := st.Rules(ctx, a)
		require.NoError(t, err)
		got := rs.Surface("mobile").Allow
		require.Len(t, got, 1200)
		for i := range got {
			require.Equal(t, big.Allow[i].Prefix, got[i].Prefix, "entry %d out of order", i)
		}
	})

	t.Run("concurrent changes from one version: exactly one wins", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				r := ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAPI, Deny: []ipfilter.Entry{ipEntry(fmt.Sprintf("203.0.113.%d/32", i), "", "admin-1", at)}}
				_, errs[i] = st.ReplaceRules(ctx, a, r, 0)
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, gdprkit.ErrConflict), errors.Is(err, gdprkit.ErrUnavailable):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		assert.Equal(t, 1, wins)
		rs, err := st.Rules(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 1, rs.Version)
		assert.Len(t, rs.Surface(gdprkit.SurfaceAPI).Deny, 1)
	})

	t.Run("deleting an account removes its rules and keeps counting", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		_, err := st.ReplaceRules(ctx, a, panel, 0)
		require.NoError(t, err)
		v, err := st.DeleteAccount(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 2, v)
		rs, err := st.Rules(ctx, a)
		require.NoError(t, err)
		assert.Empty(t, rs.Surfaces)
		assert.EqualValues(t, 2, rs.Version)
		_, err = st.ReplaceRules(ctx, a, panel, 0)
		assert.ErrorIs(t, err, gdprkit.ErrConflict, "the version must not restart at 0")
		never := NewAccount(t)
		v, err = st.DeleteAccount(ctx, never)
		require.NoError(t, err)
		assert.EqualValues(t, 1, v)
	})

	t.Run("bad account or surface is invalid and changes nothing", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		_, err := st.Rules(ctx, "")
		assert.ErrorIs(t, err, gdprkit.ErrInvalid)
		_, err = st.Version(ctx, "")
		assert.ErrorIs(t, err, gdprkit.ErrInvalid)
		_, err = st.ReplaceRules(ctx, "", panel, 0)
		assert.ErrorIs(t, err, gdprkit.ErrInvalid)
		_, err = st.DeleteAccount(ctx, "bad\x00id")
		assert.ErrorIs(t, err, gdprkit.ErrInvalid)
		_, err = st.ReplaceRules(ctx, a, ipfilter.SurfaceRules{Allow: panel.Allow}, 0)
		assert.ErrorIs(t, err, gdprkit.ErrInvalid)
		v, err := st.Version(ctx, a)
		require.NoError(t, err)
		assert.Zero(t, v)
	})

	// TenantIsolation: nothing written under one account is visible to,
	// changed by or deleted through another.
	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		t.Run("padded IDs name other records, never these (#15)", func(t *testing.T) { t.Parallel(); paddedIPFilter(t, f(t)) })
		t.Run("one account's rules are invisible to and unchangeable by another", func(t *testing.T) {
			t.Parallel()
			st := f(t)
			a, b := NewAccount(t), NewAccount(t)
			_, err := st.ReplaceRules(ctx, a, panel, 0)
			require.NoError(t, err)
			rs, err := st.Rules(ctx, b)
			require.NoError(t, err)
			assert.Empty(t, rs.Surfaces)
			assert.Zero(t, rs.Version)
			// b writing and deleting its own rules touches nothing of a.
			_, err = st.ReplaceRules(ctx, b, ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAgentPanel}, 0)
			require.NoError(t, err)
			_, err = st.DeleteAccount(ctx, b)
			require.NoError(t, err)
			rs, err = st.Rules(ctx, a)
			require.NoError(t, err)
			assert.EqualValues(t, 1, rs.Version)
			assert.Len(t, rs.Surface(gdprkit.SurfaceAgentPanel).Allow, 3)
		})
	})

	t.Run("filter over the store: a change in one process reaches another", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		clock := fakeclock.New(T0)
		mk := func() *ipfilter.Filter {
			fl, err := ipfilter.New(ipfilter.Config{Store: st, Clock: clock, RefreshInterval: 10 * time.Second})
			require.NoError(t, err)
			return fl
		}
		one, two := mk(), mk()
		ip := netip.MustParseAddr("198.51.100.1")
		d, err := two.Decide(ctx, a, gdprkit.SurfaceAgentPanel, ip)
		require.NoError(t, err)
		assert.Equal(t, ipfilter.Allowed, d)
		_, err = one.SetRules(ctx, ipfilter.Change{Account: a, Surface: gdprkit.SurfaceAgentPanel, Actor: "admin-1",
			ActorIP: netip.MustParseAddr("192.0.2.1"), Allow: []ipfilter.Input{{Value: "192.0.2.0/24", Note: "office"}}})
		require.NoError(t, err)
		clock.Advance(10 * time.Second)
		d, err = two.Decide(ctx, a, gdprkit.SurfaceAgentPanel, ip)
		require.NoError(t, err)
		assert.Equal(t, ipfilter.DeniedNotListed, d)
		d, err = two.Decide(ctx, a, gdprkit.SurfaceAgentPanel, netip.MustParseAddr("::ffff:192.0.2.9"))
		require.NoError(t, err)
		assert.Equal(t, ipfilter.Allowed, d)
	})
}
