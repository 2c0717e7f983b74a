package authn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// VerifyTOTP is exported and takes caller- or store-supplied parameters:
// invalid ones match nothing instead of indexing out of range.
func TestVerifyTOTPRefusesInvalidParameters(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, p := range []authn.TOTPParams{{Digits: 9}, {Digits: -1}, {Digits: 7}, {Digits: 100}, {Algorithm: 3}, {Period: -30}, {Period: 301}} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("VerifyTOTP(%+v) panicked: %v", p, r)
				}
			}()
			if st, ok := authn.VerifyTOTP(key, "123456789", time.Unix(59, 0), p, 1); ok || st != 0 {
				t.Errorf("VerifyTOTP(%+v) = %d, %v; want 0, false", p, st, ok)
			}
		}()
	}
	// Valid parameters still work, the zero value meaning the defaults.
	now := time.Unix(1111111109, 0)
	if _, ok := authn.VerifyTOTP(key, authn.TOTP(key, now, authn.TOTPParams{}), now, authn.TOTPParams{}, 1); !ok {
		t.Error("default parameters refused")
	}
}

// tamperedTOTP returns the stored TOTP records with the given Digits.
type tamperedTOTP struct {
	authn.Store
	digits int
}

func (s *tamperedTOTP) TOTP(ctx context.Context, a gdprkit.AccountID, user string, pending bool) (authn.TOTPRecord, error) {
	r, err := s.Store.TOTP(ctx, a, user, pending)
	if s.digits != 0 {
		r.Params.Digits = s.digits
	}
	return r, err
}

// A tampered TOTP row makes the second factor fail with an error, not
// crash the login.
func TestTamperedTOTPParametersAreAnErrorNotAPanic(t *testing.T) {
	ts := &tamperedTOTP{}
	h := newHarness(t, func(c *authn.Config) { ts.Store = c.Store; c.Store = ts })
	h.user("u1", "alice")
	secret := h.enrol("u1")
	h.clock.Advance(30 * time.Second)
	r := h.mustLogin("alice")
	for _, d := range []int{9, -1} {
		ts.digits = d
		if err := h.svc.Unlock(h.ctx, acct, "u1"); err != nil { // each try counts
			t.Fatal(err)
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("Digits %d: panic %v", d, p)
				}
			}()
			_, err := h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: h.code(secret), IP: clientIP})
			if !errors.Is(err, gdprkit.ErrUnauthenticated) || !errors.Is(err, gdprkit.ErrInvalid) {
				t.Fatalf("Digits %d: CompleteLogin = %v; want ErrUnauthenticated and ErrInvalid", d, err)
			}
			err = h.svc.VerifyTOTP(h.ctx, acct, "u1", h.code(secret))
			if !errors.Is(err, gdprkit.ErrInvalid) {
				t.Fatalf("Digits %d: VerifyTOTP = %v; want ErrInvalid", d, err)
			}
		}()
	}
}
