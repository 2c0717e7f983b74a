package authn_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/store/memstore"
)

type openGate struct{}

func (openGate) AllowLogin(context.Context, gdprkit.AccountID) error { return nil }

// Settings report what the service does: the Config with every default
// applied, and a copy the caller cannot change the service through.
func TestSettingsAreTheEffectiveConfig(t *testing.T) {
	keys, err := authn.NewKeyRing("k", map[string][]byte{"k": authn.NewKey()})
	require.NoError(t, err)
	svc, err := authn.New(authn.Config{Store: memstore.New().Authn(), Keys: keys})
	require.NoError(t, err)
	got := svc.Settings()
	assert.Equal(t, authn.Settings{TOTP: authn.TOTPParams{Algorithm: authn.SHA1, Digits: 6, Period: 30}, Skew: 1, Argon2: authn.DefaultArgon2,
		MinPasswordLength: 15, MaxPasswordLength: 256, SessionIdle: time.Hour, SessionLifetime: 24 * time.Hour, StepUpWindow: 10 * time.Minute,
		TrustedDeviceTTL: 90 * 24 * time.Hour, SecretsEncrypted: true}, got)

	tuned, err := authn.New(authn.Config{Store: memstore.New().Authn(), Keys: keys, RequireTwoFactor: true, Skew: -1,
		Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}, TOTP: authn.TOTPParams{Algorithm: authn.SHA256, Digits: 8, Period: 60},
		SessionIdle: 30 * time.Minute, SessionLifetime: 8 * time.Hour, AccountGate: openGate{}})
	require.NoError(t, err)
	s := tuned.Settings()
	assert.True(t, s.RequireTwoFactor)
	assert.Equal(t, 8, s.MinPasswordLength, "two factors lower the minimum length")
	assert.Equal(t, 0, s.Skew)
	assert.Equal(t, authn.TOTPParams{Algorithm: authn.SHA256, Digits: 8, Period: 60}, s.TOTP)
	assert.True(t, s.AccountGate)
	assert.False(t, s.IPGate)

	s.SessionLifetime = time.Minute
	require.NoError(t, tuned.CreateUser(context.Background(), "acme", "u1", "ada", "a long enough passphrase"))
	res, err := tuned.Login(context.Background(), authn.LoginRequest{Account: "acme", Username: "ada", Password: "a long enough passphrase",
		IP: netip.MustParseAddr("192.0.2.1")})
	require.NoError(t, err)
	assert.Equal(t, 8*time.Hour, res.Session.ExpiresAt.Sub(res.Session.CreatedAt), "the copy changed nothing")
}
