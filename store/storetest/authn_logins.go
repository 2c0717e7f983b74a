package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
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

// runAuthnLogins runs the authn.Service login flows over the store under
// test: the end-to-end flow and the races of concurrent logins.
func runAuthnLogins(t *testing.T, f func(*testing.T) authn.Store) {
	ctx := context.Background()
	newStore := func(t *testing.T) (authn.Store, gdprkit.AccountID) { return f(t), NewAccount(t) }

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
		tok, _, err := svc.CreateToken(ctx, p, authn.TokenSpec{Scopes: []string{"tickets:read"}, Surfaces: []gdprkit.Surface{gdprkit.SurfaceAPI, "chat"}})
		require.NoError(t, err)
		me := p
		p, err = svc.AuthenticateAPI(ctx, authn.APIRequest{Account: a, Username: "alice", Secret: tok})
		require.NoError(t, err)
		assert.True(t, p.HasScope("tickets:read"))
		_, err = svc.AuthenticateAPI(ctx, authn.APIRequest{Account: a, Username: "alice", Secret: tok, Surface: "chat"})
		require.NoError(t, err, "both surfaces are stored")
		_, err = svc.AuthenticateAPI(ctx, authn.APIRequest{Account: a, Username: "alice", Secret: tok, Surface: gdprkit.SurfacePortal})
		assert.ErrorIs(t, err, gdprkit.ErrUnauthenticated, "a token is valid only on its surfaces")
		_, err = svc.AuthenticateAPI(ctx, authn.APIRequest{Account: NewAccount(t), Username: "alice", Secret: tok})
		assert.ErrorIs(t, err, gdprkit.ErrUnauthenticated, "a token is valid only in its account")
		_, err = svc.GenerateRecoveryCodes(ctx, me)
		require.NoError(t, err)
		clock.Advance(time.Hour - time.Second)
		_, err = svc.GenerateRecoveryCodes(ctx, me)
		require.ErrorIs(t, err, authn.ErrStepUpRequired, "the session's proof is too old")
		up, err := svc.StepUp(ctx, authn.StepUpRequest{Principal: me, Password: "correct horse battery staple"})
		require.NoError(t, err, "the step-up time is stored")
		me = up.Principal
		e, err := svc.BeginTOTP(ctx, me, "alice")
		require.NoError(t, err)
		codes, err := svc.ConfirmTOTP(ctx, me, authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params))
		require.NoError(t, err)
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

	t.Run("128 concurrent correct logins of one user all succeed, however long each check waits", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		// One KDF slot, and a clock that moves a second at every reading:
		// each login waits far longer than ThrottlePolicy.Wait for its
		// turn, as on a loaded server (issue #25 item 5).
		svc := authnService(t, st, hurriedClock{fakeclock.New(T0), time.Second}, func(c *authn.Config) { c.MaxConcurrentHashes = 1 })
		require.NoError(t, svc.CreateUser(ctx, a, "u1", "alice", "correct horse battery staple"))
		var failed atomic.Int32
		var wg sync.WaitGroup
		for i := range 128 {
			wg.Go(func() {
				_, err := svc.Login(ctx, authn.LoginRequest{Account: a, Username: "alice", Password: "correct horse battery staple", IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})})
				if err != nil {
					if failed.Add(1) <= 3 {
						t.Log(err)
					}
				}
			})
		}
		wg.Wait()
		assert.Zero(t, failed.Load(), "a correct password is never refused because other correct ones are being checked")
		lock, err := svc.LockStatus(ctx, a, "u1")
		require.NoError(t, err)
		assert.Zero(t, lock.Failures)
	})

	t.Run("50 racing wrong TOTP codes: at most the free allowance is checked", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		audit := &gdprkit.MemoryAudit{}
		clock := fakeclock.New(T0)
		svc := authnService(t, st, clock, func(c *authn.Config) { c.Audit = audit })
		require.NoError(t, svc.CreateUser(ctx, a, "u1", "alice", "correct horse battery staple"))
		me := authnLogin(t, svc, a, "alice")
		e, err := svc.BeginTOTP(ctx, me, "alice")
		require.NoError(t, err)
		_, err = svc.ConfirmTOTP(ctx, me, authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params))
		require.NoError(t, err)
		clock.Advance(30 * time.Second)
		valid := map[string]bool{}
		for d := -1; d <= 1; d++ {
			valid[authn.TOTP(e.Key.Secret, clock.Now().Add(time.Duration(d)*30*time.Second), e.Key.Params)] = true
		}
		r, err := svc.Login(ctx, authn.LoginRequest{Account: a, Username: "alice", Password: "correct horse battery staple"})
		require.NoError(t, err)
		require.True(t, r.NeedsSecondFactor())
		var checked, refused atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			code := fmt.Sprintf("%06d", i)
			for j := 0; valid[code]; j++ {
				code = fmt.Sprintf("%06d", 999999-i-j)
			}
			wg.Go(func() {
				_, err := svc.CompleteLogin(ctx, authn.SecondFactorRequest{Account: a, Challenge: r.Challenge, Code: code, IP: netip.AddrFrom4([4]byte{10, 2, 0, byte(i)})})
				switch {
				case errors.Is(err, gdprkit.ErrLocked):
					refused.Add(1)
				case errors.Is(err, gdprkit.ErrUnauthenticated):
					checked.Add(1)
				default:
					t.Errorf("code %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		assert.LessOrEqual(t, checked.Load(), int32(5), "at most ThrottlePolicy.Free codes are checked")
		assert.EqualValues(t, 50, checked.Load()+refused.Load())
		assert.Len(t, audit.OfType(authn.EventTOTPFailed), int(checked.Load()))
	})

	t.Run("50 racing wrong passwords: at most the free allowance is checked", func(t *testing.T) {
		t.Parallel()
		st, a := newStore(t)
		audit := &gdprkit.MemoryAudit{}
		svc := authnService(t, st, fakeclock.New(T0), func(c *authn.Config) { c.Audit = audit })
		require.NoError(t, svc.CreateUser(ctx, a, "u1", "alice", "correct horse battery staple"))
		var checked, refused atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				_, err := svc.Login(ctx, authn.LoginRequest{Account: a, Username: "alice", Password: fmt.Sprint("wrong guess ", i), IP: netip.AddrFrom4([4]byte{10, 1, 0, byte(i)})})
				switch {
				case errors.Is(err, gdprkit.ErrLocked):
					refused.Add(1)
				case errors.Is(err, gdprkit.ErrUnauthenticated):
					checked.Add(1)
				default:
					t.Errorf("guess %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		assert.LessOrEqual(t, checked.Load(), int32(5), "at most ThrottlePolicy.Free guesses are checked")
		assert.EqualValues(t, 50, checked.Load()+refused.Load())
		assert.Len(t, audit.OfType(authn.EventLoginFailed), int(checked.Load()))
		lock, err := svc.LockStatus(ctx, a, "u1")
		require.NoError(t, err)
		assert.EqualValues(t, checked.Load(), lock.Failures, "every checked guess, and only those, counted")
	})
}
