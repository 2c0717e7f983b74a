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

func authnUser(id, name string) authn.User {
	return authn.User{ID: id, Username: name, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		CreatedAt: T0.Add(123456 * time.Microsecond), PasswordChangedAt: T0.Add(time.Second)}
}

func totpRecord(user, id, key string) authn.TOTPRecord {
	return authn.TOTPRecord{ID: id, UserID: user, Pending: true, KeyID: key, Sealed: []byte("sealed-" + id),
		Params: authn.TOTPParams{Algorithm: authn.SHA256, Digits: 8, Period: 30}, LastStep: -1, CreatedAt: T0}
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

func runAuthn(t *testing.T, f Factory) {
	t.Run("padded IDs name other records, never these (#15)", func(t *testing.T) { t.Parallel(); paddedAuthn(t, f(t).Authn()) })
	ctx := context.Background()
	newStore := func(t *testing.T) (authn.Store, gdprkit.AccountID) { return f(t).Authn(), NewAccount(t) }

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

	t.Run("throttle swap is a compare-and-set", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		th, err := st.Throttle(ctx, a, "u1", authn.FactorTOTP)
		require.NoError(t, err)
		assert.Zero(t, th)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				ok, err := st.SwapThrottle(ctx, a, "u1", authn.FactorTOTP, 0, authn.Throttle{Failures: 1, Last: T0})
				if err == nil && ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, wins.Load(), "of concurrent swaps from 0 exactly one wins")
		ok, err := st.SwapThrottle(ctx, a, "u1", authn.FactorTOTP, 0, authn.Throttle{Failures: 1, Last: T0})
		require.NoError(t, err)
		assert.False(t, ok)
		ok, err = st.SwapThrottle(ctx, a, "u1", authn.FactorTOTP, 1, authn.Throttle{Failures: 2, Last: T0.Add(time.Second)})
		require.NoError(t, err)
		assert.True(t, ok)
		th, _ = st.Throttle(ctx, a, "u1", authn.FactorTOTP)
		assert.Equal(t, 2, th.Failures)
		assert.True(t, th.Last.Equal(T0.Add(time.Second)))
		_, _ = st.SwapThrottle(ctx, a, "u1", authn.FactorPassword, 0, authn.Throttle{Failures: 1, Last: T0})
		require.NoError(t, st.ResetThrottle(ctx, a, "u1", authn.FactorTOTP))
		th, _ = st.Throttle(ctx, a, "u1", authn.FactorTOTP)
		assert.Zero(t, th.Failures, "reset of one factor")
		th, _ = st.Throttle(ctx, a, "u1", authn.FactorPassword)
		assert.Equal(t, 1, th.Failures, "other factors keep their count")
		require.NoError(t, st.ResetThrottle(ctx, a, "u1", ""))
		th, _ = st.Throttle(ctx, a, "u1", authn.FactorPassword)
		assert.Zero(t, th.Failures, "reset of all factors")
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
		e, err := svc.BeginTOTP(ctx, a, "u1", "alice")
		require.NoError(t, err)
		require.NoError(t, svc.ConfirmTOTP(ctx, a, "u1", authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params)))
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
			_, err := st.SwapThrottle(ctx, a, u, authn.FactorPassword, 0, authn.Throttle{Failures: 1, Last: T0})
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

	t.Run("tenant isolation: one account cannot see or change another's credentials", func(t *testing.T) {
		t.Parallel()
		st := f(t).Authn()
		a, b := NewAccount(t), NewAccount(t)
		require.NoError(t, st.CreateUser(ctx, a, authnUser("u1", "alice")))
		require.NoError(t, st.CreateUser(ctx, b, authnUser("u1", "alice")), "the same user ID and username in another account")
		require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord("u1", "e1", "k1")))
		require.NoError(t, st.ActivateTOTP(ctx, a, "u1", "e1", 1))
		require.NoError(t, st.ReplaceRecoveryCodes(ctx, a, "u1", [][]byte{hash32("r")}, T0))
		require.NoError(t, st.CreateToken(ctx, a, authn.APIToken{ID: "t1", UserID: "u1", Hash: hash32("t"), CreatedAt: T0}))
		require.NoError(t, st.CreateSession(ctx, a, authn.Session{ID: "s1", UserID: "u1", Hash: hash32("s"), CreatedAt: T0, LastSeenAt: T0, ExpiresAt: T0.Add(time.Hour)}))
		_, err := st.SwapThrottle(ctx, a, "u1", authn.FactorTOTP, 0, authn.Throttle{Failures: 1, Last: T0})
		require.NoError(t, err)

		_, err = st.TokenByHash(ctx, b, hash32("t"))
		assert.ErrorIs(t, err, gdprkit.ErrNotFound)
		_, err = st.SessionByHash(ctx, b, hash32("s"))
		assert.ErrorIs(t, err, gdprkit.ErrNotFound)
		_, err = st.TOTP(ctx, b, "u1", false)
		assert.ErrorIs(t, err, gdprkit.ErrNotFound)
		th, _ := st.Throttle(ctx, b, "u1", authn.FactorTOTP)
		assert.Zero(t, th.Failures)
		ok, _ := st.UseRecoveryCode(ctx, b, "u1", hash32("r"))
		assert.False(t, ok)
		ok, _ = st.AdvanceTOTPStep(ctx, b, "u1", "e1", 50)
		assert.False(t, ok)
		assert.ErrorIs(t, st.RevokeToken(ctx, b, "u1", "t1", T0), gdprkit.ErrNotFound)
		assert.ErrorIs(t, st.DeleteSession(ctx, b, "u1", "s1"), gdprkit.ErrNotFound)
		require.NoError(t, st.SetPassword(ctx, b, "u1", "b-hash", T0))
		_, err = st.RevokeAccount(ctx, b, T0)
		require.NoError(t, err)
		_, err = st.DeleteUser(ctx, b, "u1")
		require.NoError(t, err)
		_, err = st.DeleteAccount(ctx, b)
		require.NoError(t, err)

		u, err := st.User(ctx, a, "u1")
		require.NoError(t, err)
		assert.NotEqual(t, "b-hash", u.PasswordHash)
		tok, err := st.TokenByHash(ctx, a, hash32("t"))
		require.NoError(t, err)
		assert.True(t, tok.RevokedAt.IsZero())
		_, err = st.SessionByHash(ctx, a, hash32("s"))
		assert.NoError(t, err)
		rec, err := st.TOTP(ctx, a, "u1", false)
		require.NoError(t, err)
		assert.EqualValues(t, 1, rec.LastStep)
		n, _ := st.RecoveryCodesLeft(ctx, a, "u1")
		assert.Equal(t, 1, n)
		th, _ = st.Throttle(ctx, a, "u1", authn.FactorTOTP)
		assert.Equal(t, 1, th.Failures)
	})

	t.Run("the login flow works end to end", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		clock := fakeclock.New(T0)
		svc := authnService(t, st, clock)
		require.NoError(t, svc.CreateUser(ctx, a, "u1", "Alice", "correct horse battery staple"))
		r, err := svc.Login(ctx, authn.LoginRequest{Account: a, Username: "ALICE", Password: "correct horse battery staple"})
		require.NoError(t, err)
		p, err := svc.AuthenticateSession(ctx, authn.SessionRequest{Account: a, Token: r.SessionToken})
		require.NoError(t, err)
		assert.Equal(t, "u1", p.UserID)
		tok, _, err := svc.CreateToken(ctx, a, "u1", authn.TokenSpec{Scopes: []string{"tickets:read"}})
		require.NoError(t, err)
		p, err = svc.AuthenticateAPI(ctx, authn.APIRequest{Account: a, Username: "alice", Secret: tok})
		require.NoError(t, err)
		assert.True(t, p.HasScope("tickets:read"))
		_, err = svc.AuthenticateAPI(ctx, authn.APIRequest{Account: NewAccount(t), Username: "alice", Secret: tok})
		assert.ErrorIs(t, err, gdprkit.ErrUnauthenticated, "a token is valid only in its account")
		codes, err := svc.GenerateRecoveryCodes(ctx, a, "u1")
		require.NoError(t, err)
		e, err := svc.BeginTOTP(ctx, a, "u1", "alice")
		require.NoError(t, err)
		require.NoError(t, svc.ConfirmTOTP(ctx, a, "u1", authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params)))
		_, err = svc.AuthenticateSession(ctx, authn.SessionRequest{Account: a, Token: r.SessionToken})
		assert.ErrorIs(t, err, gdprkit.ErrUnauthenticated, "enrolment revoked the session")
		r, err = svc.Login(ctx, authn.LoginRequest{Account: a, Username: "alice", Password: "correct horse battery staple"})
		require.NoError(t, err)
		s, err := svc.CompleteLogin(ctx, authn.SecondFactorRequest{Account: a, Challenge: r.Challenge, Code: codes[0]})
		require.NoError(t, err)
		assert.True(t, s.Session.SecondFactor)
		c, err := svc.EraseUser(ctx, a, "u1")
		require.NoError(t, err)
		assert.Equal(t, 1, c.Users)
		assert.Equal(t, 9, c.RecoveryCodes)
		assert.Equal(t, 1, c.TOTP)
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
