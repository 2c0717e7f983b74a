package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/fakeclock"
)

func hash32(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// hurriedClock moves on by step at every reading, as time seems to on a
// server so loaded that each step of a login waits long for its turn.
type hurriedClock struct {
	c    *fakeclock.Clock
	step time.Duration
}

// Now advances the clock by step and returns the new time.
func (h hurriedClock) Now() time.Time { return h.c.Advance(h.step) }

func authnUser(id, name string) authn.User {
	return authn.User{ID: id, Username: name, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		CreatedAt: T0.Add(123456 * time.Microsecond), PasswordChangedAt: T0.Add(time.Second)}
}

func totpRecord(user, id, key string) authn.TOTPRecord {
	return authn.TOTPRecord{ID: id, UserID: user, Pending: true, KeyID: key, Sealed: []byte("sealed-" + id),
		Params: authn.TOTPParams{Algorithm: authn.SHA256, Digits: 8, Period: 30}, LastStep: -1, CreatedAt: T0}
}

// authnLogin logs username in (password "correct horse battery staple")
// and returns the session's principal, within the step-up window.
func authnLogin(t *testing.T, svc *authn.Service, a gdprkit.AccountID, username string) authn.Principal {
	t.Helper()
	ctx := context.Background()
	r, err := svc.Login(ctx, authn.LoginRequest{Account: a, Username: username, Password: "correct horse battery staple"})
	require.NoError(t, err)
	p, err := svc.AuthenticateSession(ctx, authn.SessionRequest{Account: a, Token: r.SessionToken})
	require.NoError(t, err)
	return p
}

// authnService builds a Service over the adapter with fast KDF parameters.
func authnService(t *testing.T, st authn.Store, clock gdprkit.Clock, mod ...func(*authn.Config)) *authn.Service {
	t.Helper()
	keys, err := authn.NewKeyRing("k1", map[string][]byte{"k1": TestKey})
	require.NoError(t, err)
	cfg := authn.Config{Store: st, Keys: keys, Clock: clock, Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}}
	for _, m := range mod {
		m(&cfg)
	}
	svc, err := authn.New(cfg)
	require.NoError(t, err)
	return svc
}

func runAuthn(t *testing.T, f func(*testing.T) authn.Store) {
	t.Run("Records", func(t *testing.T) { t.Parallel(); runAuthnRecords(t, f) })
	runAuthnLogins(t, f)
	runAuthnIsolation(t, f)
	ctx := context.Background()
	newStore := func(t *testing.T) (authn.Store, gdprkit.AccountID) { return f(t), NewAccount(t) }

	t.Run("users are unique by ID and by username", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		require.NoError(t, st.CreateUser(ctx, a, authnUser("u1", "alice")))
		assert.ErrorIs(t, st.CreateUser(ctx, a, authnUser("u1", "bob")), gdprkit.ErrConflict)
		assert.ErrorIs(t, st.CreateUser(ctx, a, authnUser("u2", "alice")), gdprkit.ErrConflict)
		_, err := st.User(ctx, a, "u2")
		assert.ErrorIs(t, err, gdprkit.ErrNotFound, "a refused user is not stored")
	})

	t.Run("user lookups return what was stored", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		want := authnUser("u1", "straße")
		require.NoError(t, st.CreateUser(ctx, a, want))
		got, err := st.User(ctx, a, "u1")
		require.NoError(t, err)
		assertUser(t, want, got)
		got, err = st.UserByUsername(ctx, a, "straße")
		require.NoError(t, err)
		assertUser(t, want, got)
		_, err = st.UserByUsername(ctx, a, "STRASSE")
		assert.ErrorIs(t, err, gdprkit.ErrNotFound, "the store compares canonical usernames exactly")
		_, err = st.User(ctx, "", "u1")
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, "an empty account is refused")
	})

	t.Run("password and disabled flag change only their user", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		require.NoError(t, st.CreateUser(ctx, a, authnUser("u1", "alice")))
		require.NoError(t, st.CreateUser(ctx, a, authnUser("u2", "bob")))
		require.NoError(t, st.SetPassword(ctx, a, "u1", "new-hash", T0.Add(time.Hour)))
		require.NoError(t, st.SetUserDisabled(ctx, a, "u1", true))
		require.NoError(t, st.SetUserDisabled(ctx, a, "u1", true), "setting the same value again is not an error")
		u1, _ := st.User(ctx, a, "u1")
		u2, _ := st.User(ctx, a, "u2")
		assert.Equal(t, "new-hash", u1.PasswordHash)
		assert.True(t, u1.PasswordChangedAt.Equal(T0.Add(time.Hour)))
		assert.True(t, u1.Disabled)
		assert.False(t, u2.Disabled)
		assert.NotEqual(t, "new-hash", u2.PasswordHash)
		assert.ErrorIs(t, st.SetPassword(ctx, a, "nobody", "h", T0), gdprkit.ErrNotFound)
		assert.ErrorIs(t, st.SetUserDisabled(ctx, a, "nobody", true), gdprkit.ErrNotFound)
		require.NoError(t, st.SetUserDisabled(ctx, a, "u1", false))
		u1, _ = st.User(ctx, a, "u1")
		assert.False(t, u1.Disabled)
	})

	t.Run("rehash is a compare-and-set on the old hash", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		u := authnUser("u1", "alice")
		require.NoError(t, st.CreateUser(ctx, a, u))
		ok, err := st.RehashPassword(ctx, a, "u1", "stale", "upgraded")
		require.NoError(t, err)
		assert.False(t, ok, "a stale old hash must not be overwritten")
		ok, err = st.RehashPassword(ctx, a, "u1", u.PasswordHash, "upgraded")
		require.NoError(t, err)
		assert.True(t, ok)
		got, _ := st.User(ctx, a, "u1")
		assert.Equal(t, "upgraded", got.PasswordHash)
		assert.True(t, got.PasswordChangedAt.Equal(u.PasswordChangedAt), "a rehash is not a password change")
	})

	t.Run("throttle swap is a compare-and-set on the version", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		k := authn.ThrottleKey{User: "u1", Factor: authn.FactorTOTP}
		th, err := st.Throttle(ctx, a, k)
		require.NoError(t, err)
		assert.Zero(t, th)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				ok, err := st.SwapThrottle(ctx, a, k, 0, authn.Throttle{Pending: 1, Last: T0, PendingAt: T0, Version: int64(100 + i)})
				if err == nil && ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load(), "of concurrent creations exactly one wins")
		th, err = st.Throttle(ctx, a, k)
		require.NoError(t, err)
		v := th.Version
		wins.Store(0)
		for i := range 20 {
			wg.Go(func() {
				ok, err := st.SwapThrottle(ctx, a, k, v, authn.Throttle{Failures: 1, Last: T0, PendingAt: T0, Version: int64(200 + i)})
				if err == nil && ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load(), "of concurrent swaps from one version exactly one wins")
		ok, err := st.SwapThrottle(ctx, a, k, v, authn.Throttle{Failures: 9, Version: 7})
		require.NoError(t, err)
		assert.False(t, ok, "a stale version loses")
		th, _ = st.Throttle(ctx, a, k)
		want := authn.Throttle{Failures: 2, Last: T0.Add(1234567 * time.Microsecond), Pending: 3, PendingAt: T0.Add(time.Second), Version: 42}
		ok, err = st.SwapThrottle(ctx, a, k, th.Version, want)
		require.NoError(t, err)
		assert.True(t, ok)
		th, _ = st.Throttle(ctx, a, k)
		assert.Equal(t, want.Failures, th.Failures)
		assert.Equal(t, want.Pending, th.Pending)
		assert.Equal(t, want.Version, th.Version)
		assert.True(t, th.Last.Equal(want.Last), "microseconds are kept")
		assert.True(t, th.PendingAt.Equal(want.PendingAt))
		// Clients and factors are separate counters.
		dev := authn.ThrottleKey{User: "u1", Factor: authn.FactorTOTP, Client: "0123456789abcdef0123456789abcdef"}
		th, _ = st.Throttle(ctx, a, dev)
		assert.Zero(t, th, "a device's counter is its own")
		_, err = st.SwapThrottle(ctx, a, dev, 0, authn.Throttle{Failures: 1, Last: T0, PendingAt: T0, Version: 1})
		require.NoError(t, err)
		_, err = st.SwapThrottle(ctx, a, authn.ThrottleKey{User: "u1", Factor: authn.FactorPassword}, 0, authn.Throttle{Failures: 1, Last: T0, PendingAt: T0, Version: 1})
		require.NoError(t, err)
		require.NoError(t, st.ResetThrottle(ctx, a, "u1", authn.FactorTOTP))
		th, _ = st.Throttle(ctx, a, k)
		assert.Zero(t, th, "reset of one factor")
		th, _ = st.Throttle(ctx, a, dev)
		assert.Zero(t, th, "reset of one factor reaches every client")
		th, _ = st.Throttle(ctx, a, authn.ThrottleKey{User: "u1", Factor: authn.FactorPassword})
		assert.Equal(t, 1, th.Failures, "other factors keep their count")
		require.NoError(t, st.ResetThrottle(ctx, a, "u1", ""))
		th, _ = st.Throttle(ctx, a, authn.ThrottleKey{User: "u1", Factor: authn.FactorPassword})
		assert.Zero(t, th, "reset of all factors")
	})

	t.Run("purging throttles keeps what still matters", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		put := func(k authn.ThrottleKey, failures int, last time.Time) {
			_, err := st.SwapThrottle(ctx, a, k, 0, authn.Throttle{Failures: failures, Last: last, PendingAt: last, Version: 1})
			require.NoError(t, err)
		}
		old, recent := T0, T0.Add(48*time.Hour)
		put(authn.ThrottleKey{User: "u1", Factor: authn.FactorPassword}, 7, old)               // a user's failures: kept
		put(authn.ThrottleKey{User: "u2", Factor: authn.FactorPassword}, 0, old)               // cleared: purged
		put(authn.ThrottleKey{Factor: authn.FactorPassword, Client: "?aa"}, 3, old)            // unknown name: purged
		put(authn.ThrottleKey{Factor: authn.FactorPassword, Client: "?bb"}, 3, recent)         // unknown but recent: kept
		put(authn.ThrottleKey{User: "u3", Factor: authn.FactorTOTP, Client: "dev"}, 0, recent) // recent: kept
		n, err := st.PurgeThrottles(ctx, a, T0.Add(24*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		th, _ := st.Throttle(ctx, a, authn.ThrottleKey{User: "u1", Factor: authn.FactorPassword})
		assert.Equal(t, 7, th.Failures)
		th, _ = st.Throttle(ctx, a, authn.ThrottleKey{Factor: authn.FactorPassword, Client: "?aa"})
		assert.Zero(t, th)
		th, _ = st.Throttle(ctx, a, authn.ThrottleKey{Factor: authn.FactorPassword, Client: "?bb"})
		assert.Equal(t, 3, th.Failures)
	})

	t.Run("a pending TOTP replaces the active one only when activated", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord("u1", "e1", "k1")))
		_, err := st.TOTP(ctx, a, "u1", false)
		assert.ErrorIs(t, err, gdprkit.ErrNotFound, "nothing active before confirmation")
		assert.ErrorIs(t, st.ActivateTOTP(ctx, a, "u1", "other", 5), gdprkit.ErrNotFound, "activation needs the pending id")
		require.NoError(t, st.ActivateTOTP(ctx, a, "u1", "e1", 5))
		act, err := st.TOTP(ctx, a, "u1", false)
		require.NoError(t, err)
		assert.Equal(t, "e1", act.ID)
		assert.False(t, act.Pending)
		assert.EqualValues(t, 5, act.LastStep)
		assert.Equal(t, []byte("sealed-e1"), act.Sealed)
		assert.Equal(t, authn.TOTPParams{Algorithm: authn.SHA256, Digits: 8, Period: 30}, act.Params)
		_, err = st.TOTP(ctx, a, "u1", true)
		assert.ErrorIs(t, err, gdprkit.ErrNotFound, "activation consumes the pending record")

		require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord("u1", "e2", "k1")))
		require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord("u1", "e3", "k1")), "a newer pending replaces an older one")
		act, _ = st.TOTP(ctx, a, "u1", false)
		assert.Equal(t, "e1", act.ID, "the active record stays until the new one is confirmed")
		pend, _ := st.TOTP(ctx, a, "u1", true)
		assert.Equal(t, "e3", pend.ID)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if st.ActivateTOTP(ctx, a, "u1", "e3", 9) == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load(), "of concurrent confirmations exactly one succeeds")
		act, _ = st.TOTP(ctx, a, "u1", false)
		assert.Equal(t, "e3", act.ID)
		n, err := st.DeleteTOTP(ctx, a, "u1")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})

	t.Run("50 concurrent uses of one time step: exactly one wins", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord("u1", "e1", "k1")))
		require.NoError(t, st.ActivateTOTP(ctx, a, "u1", "e1", 100))
		ok, err := st.AdvanceTOTPStep(ctx, a, "u1", "e1", 100)
		require.NoError(t, err)
		assert.False(t, ok, "the confirmation step cannot be used again")
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				ok, err := st.AdvanceTOTPStep(ctx, a, "u1", "e1", 101)
				if err == nil && ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load())
		ok, _ = st.AdvanceTOTPStep(ctx, a, "u1", "e1", 99)
		assert.False(t, ok, "steps never go back")
		ok, _ = st.AdvanceTOTPStep(ctx, a, "u1", "other", 200)
		assert.False(t, ok, "only the active enrolment advances")
	})

	t.Run("50 concurrent logins with one valid code: exactly one succeeds", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		clock := fakeclock.New(T0)
		svc := authnService(t, st, clock)
		require.NoError(t, svc.CreateUser(ctx, a, "u1", "alice", "correct horse battery staple"))
		me := authnLogin(t, svc, a, "alice")
		e, err := svc.BeginTOTP(ctx, me, "alice")
		require.NoError(t, err)
		_, err = svc.ConfirmTOTP(ctx, me, authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params))
		require.NoError(t, err)
		clock.Advance(30 * time.Second)
		code := authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params)
		r, err := svc.Login(ctx, authn.LoginRequest{Account: a, Username: "alice", Password: "correct horse battery staple"})
		require.NoError(t, err)
		require.True(t, r.NeedsSecondFactor())
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				_, err := svc.CompleteLogin(ctx, authn.SecondFactorRequest{Account: a, Challenge: r.Challenge, Code: code})
				if err == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load())
	})

	t.Run("TOTP secrets are resealed only from the old key", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord("u1", "e1", "old")))
		require.NoError(t, st.ActivateTOTP(ctx, a, "u1", "e1", 1))
		require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord("u2", "e2", "new")))
		recs, err := st.TOTPSealedWith(ctx, a, "new", 10)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, "e1", recs[0].ID)
		ok, err := st.ResealTOTP(ctx, a, "u1", "e1", "stale", "new", []byte("x"))
		require.NoError(t, err)
		assert.False(t, ok)
		ok, err = st.ResealTOTP(ctx, a, "u1", "e1", "old", "new", []byte("resealed"))
		require.NoError(t, err)
		assert.True(t, ok)
		got, _ := st.TOTP(ctx, a, "u1", false)
		assert.Equal(t, "new", got.KeyID)
		assert.Equal(t, []byte("resealed"), got.Sealed)
		recs, _ = st.TOTPSealedWith(ctx, a, "new", 10)
		assert.Empty(t, recs)
	})

	t.Run("recovery codes are single-use and replaced as a set", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		var set [][]byte
		for i := range 10 {
			set = append(set, hash32(fmt.Sprint("code", i)))
		}
		require.NoError(t, st.ReplaceRecoveryCodes(ctx, a, "u1", set, T0))
		n, _ := st.RecoveryCodesLeft(ctx, a, "u1")
		assert.Equal(t, 10, n)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if ok, err := st.UseRecoveryCode(ctx, a, "u1", set[3]); err == nil && ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load(), "a code is used once")
		ok, _ := st.UseRecoveryCode(ctx, a, "u2", set[4])
		assert.False(t, ok, "codes belong to their user")
		require.NoError(t, st.ReplaceRecoveryCodes(ctx, a, "u1", [][]byte{hash32("fresh")}, T0))
		ok, _ = st.UseRecoveryCode(ctx, a, "u1", set[4])
		assert.False(t, ok, "regeneration invalidates the old set")
		n, _ = st.RecoveryCodesLeft(ctx, a, "u1")
		assert.Equal(t, 1, n)
	})

	t.Run("API tokens keep scopes and times, revoke and touch", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		tok := authn.APIToken{ID: "t1", UserID: "u1", Hash: hash32("t1"), Name: "CI deploy", Scopes: []string{"tickets:read", "users:write"},
			CreatedAt: T0, ExpiresAt: T0.Add(48 * time.Hour)}
		require.NoError(t, st.CreateToken(ctx, a, tok))
		assert.ErrorIs(t, st.CreateToken(ctx, a, authn.APIToken{ID: "t2", UserID: "u1", Hash: hash32("t1"), CreatedAt: T0}), gdprkit.ErrConflict)
		require.NoError(t, st.CreateToken(ctx, a, authn.APIToken{ID: "t2", UserID: "u1", Hash: hash32("t2"), CreatedAt: T0.Add(time.Second)}))
		got, err := st.TokenByHash(ctx, a, hash32("t1"))
		require.NoError(t, err)
		assert.Equal(t, tok.Scopes, got.Scopes)
		assert.Equal(t, "CI deploy", got.Name)
		assert.True(t, got.ExpiresAt.Equal(tok.ExpiresAt))
		assert.True(t, got.RevokedAt.IsZero() && got.LastUsedAt.IsZero())
		_, err = st.TokenByHash(ctx, a, hash32("nope"))
		assert.ErrorIs(t, err, gdprkit.ErrNotFound)

		require.NoError(t, st.TouchTokens(ctx, a, map[string]time.Time{"t1": T0.Add(time.Hour), "ghost": T0}))
		require.NoError(t, st.TouchTokens(ctx, a, map[string]time.Time{"t1": T0.Add(time.Minute)}))
		got, _ = st.TokenByHash(ctx, a, hash32("t1"))
		assert.True(t, got.LastUsedAt.Equal(T0.Add(time.Hour)), "last use only moves forward, got %v", got.LastUsedAt)

		assert.ErrorIs(t, st.RevokeToken(ctx, a, "u2", "t1", T0), gdprkit.ErrNotFound, "only the owner's token")
		require.NoError(t, st.RevokeToken(ctx, a, "u1", "t1", T0.Add(2*time.Hour)))
		require.NoError(t, st.RevokeToken(ctx, a, "u1", "t1", T0.Add(3*time.Hour)))
		ts, err := st.Tokens(ctx, a, "u1")
		require.NoError(t, err)
		require.Len(t, ts, 2)
		assert.Equal(t, "t1", ts[0].ID, "oldest first")
		assert.True(t, ts[0].RevokedAt.Equal(T0.Add(2*time.Hour)), "the first revocation time stays")
		assert.True(t, ts[1].RevokedAt.IsZero())
		assert.Empty(t, ts[1].Scopes)
		assert.Equal(t, []gdprkit.Surface{gdprkit.SurfaceAPI}, ts[0].Surfaces, "a token stored without surfaces is an API token")
		require.NoError(t, st.CreateToken(ctx, a, authn.APIToken{ID: "t3", UserID: "u1", Hash: hash32("t3"), CreatedAt: T0.Add(2 * time.Second),
			Surfaces: []gdprkit.Surface{gdprkit.SurfacePortal, "chat.widget"}}))
		got, _ = st.TokenByHash(ctx, a, hash32("t3"))
		assert.Equal(t, []gdprkit.Surface{gdprkit.SurfacePortal, "chat.widget"}, got.Surfaces, "surfaces are kept in order")
	})

	t.Run("sessions are found by hash, touched forward and deleted by their owner", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		s := authn.Session{ID: "s1", UserID: "u1", Hash: hash32("s1"), SecondFactor: true, CreatedAt: T0, LastSeenAt: T0, ExpiresAt: T0.Add(24 * time.Hour)}
		require.NoError(t, st.CreateSession(ctx, a, s))
		require.NoError(t, st.CreateSession(ctx, a, authn.Session{ID: "s2", UserID: "u1", Hash: hash32("s2"), CreatedAt: T0.Add(time.Second), LastSeenAt: T0, ExpiresAt: T0.Add(time.Hour)}))
		assert.ErrorIs(t, st.CreateSession(ctx, a, authn.Session{ID: "s3", UserID: "u1", Hash: hash32("s1"), CreatedAt: T0, LastSeenAt: T0, ExpiresAt: T0}), gdprkit.ErrConflict)
		got, err := st.SessionByHash(ctx, a, hash32("s1"))
		require.NoError(t, err)
		assert.True(t, got.SecondFactor)
		assert.True(t, got.ExpiresAt.Equal(s.ExpiresAt))
		require.NoError(t, st.TouchSession(ctx, a, "s1", T0.Add(10*time.Minute)))
		require.NoError(t, st.TouchSession(ctx, a, "s1", T0.Add(5*time.Minute)))
		got, _ = st.SessionByHash(ctx, a, hash32("s1"))
		assert.True(t, got.LastSeenAt.Equal(T0.Add(10*time.Minute)))
		ss, err := st.Sessions(ctx, a, "u1")
		require.NoError(t, err)
		require.Len(t, ss, 2)
		assert.Equal(t, "s1", ss[0].ID)
		assert.ErrorIs(t, st.DeleteSession(ctx, a, "u2", "s1"), gdprkit.ErrNotFound, "another user cannot end it")
		// Purge: s2 expired (absolute), s1 idle only if idleBefore > its last seen.
		n, err := st.DeleteSessionsBefore(ctx, a, T0.Add(2*time.Hour), T0.Add(5*time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		require.NoError(t, st.DeleteSession(ctx, a, "u1", "s1"))
		_, err = st.SessionByHash(ctx, a, hash32("s1"))
		assert.ErrorIs(t, err, gdprkit.ErrNotFound)
	})

	t.Run("a session remembers when its holder last proved who they are", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		at := T0.Add(123456 * time.Microsecond)
		require.NoError(t, st.CreateSession(ctx, a, authn.Session{ID: "s1", UserID: "u1", Hash: hash32("s1"), CreatedAt: at, LastSeenAt: at, ExpiresAt: T0.Add(time.Hour)}))
		got, err := st.Session(ctx, a, "u1", "s1")
		require.NoError(t, err)
		assert.True(t, got.VerifiedAt.Equal(at), "a session stored without VerifiedAt was verified when created")
		assert.Equal(t, hash32("s1"), got.Hash)
		_, err = st.Session(ctx, a, "u2", "s1")
		assert.ErrorIs(t, err, gdprkit.ErrNotFound, "only its owner's")
		later := T0.Add(10*time.Minute + 7*time.Microsecond)
		require.NoError(t, st.SetSessionVerified(ctx, a, "u1", "s1", later))
		require.NoError(t, st.SetSessionVerified(ctx, a, "u1", "s1", T0.Add(time.Minute)))
		got, _ = st.SessionByHash(ctx, a, hash32("s1"))
		assert.True(t, got.VerifiedAt.Equal(later), "never moves back; got %v", got.VerifiedAt)
		assert.ErrorIs(t, st.SetSessionVerified(ctx, a, "u2", "s1", later), gdprkit.ErrNotFound)
		assert.ErrorIs(t, st.SetSessionVerified(ctx, a, "u1", "nope", later), gdprkit.ErrNotFound)
	})

	t.Run("revoking a user or an account ends sessions and revokes tokens", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		for _, u := range []string{"u1", "u2"} {
			require.NoError(t, st.CreateSession(ctx, a, authn.Session{ID: "s-" + u, UserID: u, Hash: hash32("s" + u), CreatedAt: T0, LastSeenAt: T0, ExpiresAt: T0.Add(time.Hour)}))
			require.NoError(t, st.CreateToken(ctx, a, authn.APIToken{ID: "t-" + u, UserID: u, Hash: hash32("t" + u), CreatedAt: T0}))
		}
		require.NoError(t, st.CreateToken(ctx, a, authn.APIToken{ID: "old", UserID: "u1", Hash: hash32("old"), CreatedAt: T0, RevokedAt: T0}))
		c, err := st.RevokeUser(ctx, a, "u1", T0.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, authn.Counts{Sessions: 1, Tokens: 1}, c)
		_, err = st.SessionByHash(ctx, a, hash32("su2"))
		assert.NoError(t, err, "the other user's session stays")
		t1, _ := st.TokenByHash(ctx, a, hash32("tu1"))
		assert.True(t, t1.RevokedAt.Equal(T0.Add(time.Minute)))
		c, err = st.RevokeAccount(ctx, a, T0.Add(2*time.Minute))
		require.NoError(t, err)
		assert.Equal(t, authn.Counts{Sessions: 1, Tokens: 1}, c)
		t2, _ := st.TokenByHash(ctx, a, hash32("tu2"))
		assert.False(t, t2.RevokedAt.IsZero())
	})

	t.Run("deleting a user removes all their data and counts it", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		fill := func(u string) {
			require.NoError(t, st.CreateUser(ctx, a, authnUser(u, "name-"+u)))
			_, err := st.SwapThrottle(ctx, a, authn.ThrottleKey{User: u, Factor: authn.FactorPassword}, 0, authn.Throttle{Failures: 1, Last: T0, PendingAt: T0, Version: 1})
			require.NoError(t, err)
			require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord(u, "e-"+u, "k1")))
			require.NoError(t, st.ReplaceRecoveryCodes(ctx, a, u, [][]byte{hash32(u + "1"), hash32(u + "2")}, T0))
			require.NoError(t, st.CreateToken(ctx, a, authn.APIToken{ID: "t-" + u, UserID: u, Hash: hash32("t" + u), CreatedAt: T0}))
			require.NoError(t, st.CreateSession(ctx, a, authn.Session{ID: "s-" + u, UserID: u, Hash: hash32("s" + u), CreatedAt: T0, LastSeenAt: T0, ExpiresAt: T0}))
		}
		fill("u1")
		fill("u2")
		counted, err := st.CountUser(ctx, a, "u1")
		require.NoError(t, err)
		assert.Equal(t, authn.Counts{Users: 1, TOTP: 1, RecoveryCodes: 2, Tokens: 1, Sessions: 1, Throttles: 1}, counted, "counting finds what deleting will delete")
		c, err := st.DeleteUser(ctx, a, "u1")
		require.NoError(t, err)
		assert.Equal(t, authn.Counts{Users: 1, TOTP: 1, RecoveryCodes: 2, Tokens: 1, Sessions: 1, Throttles: 1}, c)
		c, err = st.DeleteUser(ctx, a, "u1")
		require.NoError(t, err)
		assert.Zero(t, c, "a second erasure finds nothing")
		counted, err = st.CountUser(ctx, a, "u1")
		require.NoError(t, err)
		assert.Zero(t, counted)
		_, err = st.User(ctx, a, "u2")
		assert.NoError(t, err, "other users stay")
		c, err = st.DeleteAccount(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, authn.Counts{Users: 1, TOTP: 1, RecoveryCodes: 2, Tokens: 1, Sessions: 1, Throttles: 1}, c)
		_, err = st.User(ctx, a, "u2")
		assert.ErrorIs(t, err, gdprkit.ErrNotFound)
	})

}

func assertUser(t *testing.T, want, got authn.User) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.Username, got.Username)
	assert.Equal(t, want.PasswordHash, got.PasswordHash)
	assert.Equal(t, want.Disabled, got.Disabled)
	assert.True(t, want.CreatedAt.Equal(got.CreatedAt), "created %v != %v", want.CreatedAt, got.CreatedAt)
	assert.True(t, want.PasswordChangedAt.Equal(got.PasswordChangedAt))
	assert.True(t, bytes.Equal([]byte(want.PasswordHash), []byte(got.PasswordHash)))
}
