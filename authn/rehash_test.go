package authn_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gdprkit/gdprkit/authn"
)

// A TOTP user whose stored hash is upgraded by Login (an imported bcrypt
// hash, or argon2id below the configured parameters) must get a challenge
// bound to the upgraded hash, which is what CompleteLogin reads.
func TestRehashingLoginKeepsTheChallengeValid(t *testing.T) {
	const pw = "an old but long password"
	bc, _ := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	weak, err := mustService(t, authn.Argon2Params{Memory: 32, Time: 1, Threads: 1}).HashPassword(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}
	for name, hash := range map[string]string{"bcrypt": string(bc), "weaker argon2id": weak} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			if err := h.svc.ImportUser(h.ctx, acct, "u1", "alice", hash); err != nil {
				t.Fatal(err)
			}
			secret := h.enrol("u1")
			h.clock.Advance(30 * time.Second)
			r, err := h.login("alice", pw)
			if err != nil || !r.NeedsSecondFactor() {
				t.Fatalf("login: %+v %v", r, err)
			}
			if u, _ := h.st.User(h.ctx, acct, "u1"); u.PasswordHash == hash {
				t.Fatal("setup: the login did not rehash")
			}
			r, err = h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: h.code(secret), IP: clientIP})
			if err != nil {
				t.Fatalf("CompleteLogin with a correct code after a rehashing login: %v", err)
			}
			if err := h.session(r.SessionToken); err != nil {
				t.Fatalf("session: %v", err)
			}
		})
	}
}

func mustService(t *testing.T, p authn.Argon2Params) *authn.Service {
	t.Helper()
	return newHarness(t, func(c *authn.Config) { c.Argon2 = p }).svc
}
