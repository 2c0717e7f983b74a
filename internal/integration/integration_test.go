// Package integration checks that the domain packages fit together as the
// design promises: retention's gate and ipfilter's filter plug into authn's
// login, over one store, on every configured database.
package integration

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// The gates authn consults are implemented by retention and ipfilter.
var (
	_ authn.AccountGate = (*retention.Service)(nil)
	_ authn.IPGate      = (*ipfilter.Filter)(nil)
)

// everyStore opens, per test, the memory store and every SQL dialect
// testdb has (SQLite always; PostgreSQL and MySQL when configured).
func everyStore(t *testing.T) map[string]func(t *testing.T) store.Store {
	stores := map[string]func(t *testing.T) store.Store{"memstore": func(*testing.T) store.Store { return memstore.New() }}
	for _, d := range testdb.Dialects(t) {
		stores[string(d)] = func(t *testing.T) store.Store { s, _ := testdb.OpenStore(t, d); return s }
	}
	return stores
}

func TestLoginHonoursLifecycleAndIPRules(t *testing.T) {
	for name, open := range everyStore(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := open(t)
			clock := fakeclock.New(storetest.T0)
			audit := &gdprkit.MemoryAudit{}
			life, err := retention.New(retention.Config{Store: st.Retention(), Clock: clock, Audit: audit})
			require.NoError(t, err)
			ips, err := ipfilter.New(ipfilter.Config{Store: st.IPFilter(), Clock: clock, Audit: audit})
			require.NoError(t, err)
			keys, err := authn.NewKeyRing("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
			require.NoError(t, err)
			auth, err := authn.New(authn.Config{Store: st.Authn(), Keys: keys, Clock: clock, Audit: audit,
				AccountGate: life, IPGate: ips, Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
			require.NoError(t, err)

			acct := storetest.NewAccount(t)
			_, err = life.Start(ctx, acct, retention.EventStartTrial, "owner-1")
			require.NoError(t, err)
			require.NoError(t, auth.CreateUser(ctx, acct, "u1", "agent.smith", "correct horse battery staple"))
			office := netip.MustParseAddr("10.1.2.3")
			cafe := netip.MustParseAddr("192.0.2.44")
			login := func(ip netip.Addr) error {
				_, err := auth.Login(ctx, authn.LoginRequest{Account: acct, Username: "agent.smith", Password: "correct horse battery staple", IP: ip})
				return err
			}
			require.NoError(t, login(cafe), "no IP rules: any address may log in")

			_, err = ips.SetRules(ctx, ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAgentPanel,
				Allow: []ipfilter.Input{{Value: "10.0.0.0/8", Note: "office"}}, Actor: "owner-1", ActorIP: office, ExpectedVersion: ipfilter.AnyVersion})
			require.NoError(t, err)
			require.ErrorIs(t, login(cafe), gdprkit.ErrForbidden, "outside the allow list")
			require.NoError(t, login(office))
			require.NoError(t, login(netip.MustParseAddr("::ffff:10.9.9.9")), "IPv4-mapped addresses match IPv4 rules")

			clock.Advance(14*24*time.Hour - time.Microsecond)
			require.NoError(t, login(office), "the last moment of the trial")
			clock.Advance(time.Microsecond)
			err = login(office)
			require.ErrorIs(t, err, gdprkit.ErrAccountSuspended, "a trial not upgraded in 14 days is suspended")
			var denied *retention.DeniedError
			assert.True(t, errors.As(err, &denied) || errors.Is(err, gdprkit.ErrAccountSuspended))
		})
	}
}
