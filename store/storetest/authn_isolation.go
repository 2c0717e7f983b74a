package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// runAuthnIsolation runs authn's TenantIsolation group.
func runAuthnIsolation(t *testing.T, f func(*testing.T) authn.Store) {
	ctx := context.Background()

	// TenantIsolation: nothing written under one account is visible to,
	// changed by or deleted through another.
	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		t.Run("padded IDs name other records, never these (#15)", func(t *testing.T) { t.Parallel(); paddedAuthn(t, f(t)) })
		t.Run("one account cannot see or change another's credentials", func(t *testing.T) {
			t.Parallel()
			st := f(t)
			a, b := NewAccount(t), NewAccount(t)
			require.NoError(t, st.CreateUser(ctx, a, authnUser("u1", "alice")))
			require.NoError(t, st.CreateUser(ctx, b, authnUser("u1", "alice")), "the same user ID and username in another account")
			require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord("u1", "e1", "k1")))
			require.NoError(t, st.ActivateTOTP(ctx, a, "u1", "e1", 1))
			require.NoError(t, st.ReplaceRecoveryCodes(ctx, a, "u1", [][]byte{hash32("r")}, T0))
			require.NoError(t, st.CreateToken(ctx, a, authn.APIToken{ID: "t1", UserID: "u1", Hash: hash32("t"), CreatedAt: T0}))
			require.NoError(t, st.CreateSession(ctx, a, authn.Session{ID: "s1", UserID: "u1", Hash: hash32("s"), CreatedAt: T0, LastSeenAt: T0, ExpiresAt: T0.Add(time.Hour)}))
			totpKey := authn.ThrottleKey{User: "u1", Factor: authn.FactorTOTP}
			_, err := st.SwapThrottle(ctx, a, totpKey, 0, authn.Throttle{Failures: 1, Last: T0, PendingAt: T0, Version: 1})
			require.NoError(t, err)

			_, err = st.TokenByHash(ctx, b, hash32("t"))
			assert.ErrorIs(t, err, gdprkit.ErrNotFound)
			_, err = st.SessionByHash(ctx, b, hash32("s"))
			assert.ErrorIs(t, err, gdprkit.ErrNotFound)
			_, err = st.TOTP(ctx, b, "u1", false)
			assert.ErrorIs(t, err, gdprkit.ErrNotFound)
			th, _ := st.Throttle(ctx, b, totpKey)
			assert.Zero(t, th.Failures)
			_, err = st.Session(ctx, b, "u1", "s1")
			assert.ErrorIs(t, err, gdprkit.ErrNotFound)
			assert.ErrorIs(t, st.SetSessionVerified(ctx, b, "u1", "s1", T0.Add(time.Minute)), gdprkit.ErrNotFound)
			n, err := st.PurgeThrottles(ctx, b, T0.Add(time.Hour))
			require.NoError(t, err)
			assert.Zero(t, n)
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
			n, _ = st.RecoveryCodesLeft(ctx, a, "u1")
			assert.Equal(t, 1, n)
			th, _ = st.Throttle(ctx, a, totpKey)
			assert.Equal(t, 1, th.Failures)
			sess, err := st.Session(ctx, a, "u1", "s1")
			require.NoError(t, err)
			assert.True(t, sess.VerifiedAt.Equal(T0))
		})
	})
}
