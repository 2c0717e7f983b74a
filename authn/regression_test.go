package authn_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gdprkit/gdprkit"
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

// raceStore runs a hook once, at a chosen point of a login or token
// creation, where an admin's concurrent change can land.
type raceStore struct {
	authn.Store
	mu sync.Mutex
	// afterForgive runs when a password attempt's success is settled
	// (the counter's second read in a login, the first being before the
	// KDF), i.e. after the KDF verified the password and before the
	// session is created.
	afterForgive func()
	reads        int
	// beforeSession runs inside CreateSession, before the session is
	// stored (its CreatedAt already read from the clock).
	beforeSession func()
	// beforeToken runs inside CreateToken, before the token is stored.
	beforeToken func()
}

func take(mu *sync.Mutex, f *func()) func() {
	mu.Lock()
	defer mu.Unlock()
	h := *f
	*f = nil
	return h
}

func (s *raceStore) Throttle(ctx context.Context, a gdprkit.AccountID, k authn.ThrottleKey) (authn.Throttle, error) {
	t, err := s.Store.Throttle(ctx, a, k)
	if k.Factor == authn.FactorPassword {
		s.mu.Lock()
		s.reads++
		second := s.reads == 2
		s.mu.Unlock()
		if second {
			if h := take(&s.mu, &s.afterForgive); h != nil {
				h()
			}
		}
	}
	return t, err
}

func (s *raceStore) CreateSession(ctx context.Context, a gdprkit.AccountID, sess authn.Session) error {
	if h := take(&s.mu, &s.beforeSession); h != nil {
		h()
	}
	return s.Store.CreateSession(ctx, a, sess)
}

func (s *raceStore) CreateToken(ctx context.Context, a gdprkit.AccountID, tok authn.APIToken) error {
	if h := take(&s.mu, &s.beforeToken); h != nil {
		h()
	}
	return s.Store.CreateToken(ctx, a, tok)
}

func raceHarness(t *testing.T) (*harness, *raceStore) {
	rs := &raceStore{}
	h := newHarness(t, func(c *authn.Config) { rs.Store = c.Store; c.Store = rs })
	h.user("u1", "alice")
	h.clock.Advance(time.Second)
	return h, rs
}

// A login that verified the password before DisableUser, SetPassword or
// ChangePassword revoked everything must not leave a working session.
func TestLoginRacingARevocationLeavesNoSession(t *testing.T) {
	const newPW = "a brand new passphrase here"
	for _, c := range []struct {
		name   string
		change func(h *harness) error
	}{
		{"DisableUser", func(h *harness) error { return h.svc.DisableUser(h.ctx, acct, "u1") }},
		{"SetPassword", func(h *harness) error { return h.svc.SetPassword(h.ctx, acct, "u1", newPW) }},
		{"ChangePassword", func(h *harness) error { return h.svc.ChangePassword(h.ctx, acct, "u1", password, newPW) }},
	} {
		for _, at := range []string{"after the KDF", "while the session is stored"} {
			t.Run(c.name+" "+at, func(t *testing.T) {
				h, rs := raceHarness(t)
				if at == "after the KDF" {
					rs.afterForgive = func() {
						h.clock.Advance(50 * time.Millisecond) // the change's KDF takes time
						if err := c.change(h); err != nil {
							t.Error(err)
						}
					}
				} else {
					// The session's CreatedAt is read before the change
					// sets PasswordChangedAt (same fake microsecond), so the
					// session is not older than the password: only the
					// re-read after storing it catches the change.
					rs.beforeSession = func() {
						if err := c.change(h); err != nil {
							t.Error(err)
						}
					}
				}
				r, err := h.login("alice", password)
				if err == nil {
					if err := h.session(r.SessionToken); err == nil {
						t.Fatal("a session created while the user's credentials were revoked authenticates")
					}
				} else if !errors.Is(err, gdprkit.ErrUnauthenticated) {
					t.Fatalf("login: %v", err)
				}
				if ss, _ := h.st.Sessions(h.ctx, acct, "u1"); len(ss) != 0 {
					t.Fatalf("%d sessions left behind", len(ss))
				}
			})
		}
	}
}

// CompleteLogin racing DisableUser likewise leaves no session.
func TestSecondFactorRacingDisableLeavesNoSession(t *testing.T) {
	h, rs := raceHarness(t)
	secret := h.enrol("u1")
	h.clock.Advance(30 * time.Second)
	r, err := h.login("alice", password)
	if err != nil || !r.NeedsSecondFactor() {
		t.Fatalf("login: %+v %v", r, err)
	}
	rs.beforeSession = func() {
		if err := h.svc.DisableUser(h.ctx, acct, "u1"); err != nil {
			t.Error(err)
		}
	}
	r, err = h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: h.code(secret), IP: clientIP})
	if err == nil {
		t.Fatalf("CompleteLogin racing DisableUser succeeded: %+v", r)
	}
	if ss, _ := h.st.Sessions(h.ctx, acct, "u1"); len(ss) != 0 {
		t.Fatalf("%d sessions left behind", len(ss))
	}
}

// AuthenticateSession itself refuses (and deletes) a session that outlived
// its user's revocation, whatever let it survive.
func TestSessionOfDisabledOrRepasswordedUserIsRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(h *harness) error
	}{
		{"disabled", func(h *harness) error { return h.st.SetUserDisabled(h.ctx, acct, "u1", true) }},
		{"password changed", func(h *harness) error {
			return h.st.SetPassword(h.ctx, acct, "u1", "$2a$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva", h.clock.Advance(time.Microsecond))
		}},
		{"erased", func(h *harness) error {
			u, _ := h.st.User(h.ctx, acct, "u1")
			// Recreate the session table row alone: delete the user, keep
			// the session (as a store crashing mid-erasure might).
			sess, _ := h.st.Sessions(h.ctx, acct, "u1")
			if _, err := h.st.DeleteUser(h.ctx, acct, u.ID); err != nil {
				return err
			}
			for _, s := range sess {
				if err := h.st.CreateSession(h.ctx, acct, s); err != nil {
					return err
				}
			}
			return nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.user("u1", "alice")
			r := h.mustLogin("alice")
			if err := c.change(h); err != nil {
				t.Fatal(err)
			}
			if err := h.session(r.SessionToken); !errors.Is(err, gdprkit.ErrUnauthenticated) {
				t.Fatalf("session after the user was %s: %v", c.name, err)
			}
			if ss, _ := h.st.Sessions(h.ctx, acct, "u1"); len(ss) != 0 {
				t.Fatal("the refused session was not deleted")
			}
			if c.name == "disabled" {
				if err := h.svc.EnableUser(h.ctx, acct, "u1"); err != nil {
					t.Fatal(err)
				}
				if err := h.session(r.SessionToken); err == nil {
					t.Fatal("EnableUser revived the session")
				}
			}
		})
	}
}

// nanoStore keeps PasswordChangedAt at full precision (as a store may: the
// contract is "at least microsecond precision") while sessions are
// truncated to microseconds.
type nanoStore struct {
	authn.Store
	changed map[string]time.Time
}

func (s *nanoStore) CreateUser(ctx context.Context, a gdprkit.AccountID, u authn.User) error {
	s.changed[u.ID] = u.PasswordChangedAt
	return s.Store.CreateUser(ctx, a, u)
}

func (s *nanoStore) fix(u authn.User, err error) (authn.User, error) {
	if t, ok := s.changed[u.ID]; ok && err == nil {
		u.PasswordChangedAt = t
	}
	return u, err
}

func (s *nanoStore) User(ctx context.Context, a gdprkit.AccountID, id string) (authn.User, error) {
	return s.fix(s.Store.User(ctx, a, id))
}

func (s *nanoStore) UserByUsername(ctx context.Context, a gdprkit.AccountID, name string) (authn.User, error) {
	return s.fix(s.Store.UserByUsername(ctx, a, name))
}

type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(50 * time.Nanosecond)
	return c.now
}

// A session created in the same microsecond as the user (and password) is
// valid, whatever precision the store keeps each time at.
func TestSessionInTheMicrosecondOfEnrolmentWorks(t *testing.T) {
	ns := &nanoStore{changed: map[string]time.Time{}}
	h := newHarness(t, func(c *authn.Config) {
		ns.Store = c.Store
		c.Store = ns
		c.Clock = &stepClock{now: t0.Add(100 * time.Nanosecond)}
	})
	h.user("u1", "alice")
	r := h.mustLogin("alice")
	if err := h.session(r.SessionToken); err != nil {
		t.Fatalf("session created in the enrolment's microsecond: %v", err)
	}
}

// CreateToken racing DisableUser or SetPassword does not leave a live
// token, and AuthenticateAPI refuses (and revokes) a token older than the
// user's last password change.
func TestTokenRacingARevocationIsTakenBack(t *testing.T) {
	for name, change := range map[string]func(h *harness) error{
		"DisableUser": func(h *harness) error { return h.svc.DisableUser(h.ctx, acct, "u1") },
		"SetPassword": func(h *harness) error {
			h.clock.Advance(50 * time.Millisecond)
			return h.svc.SetPassword(h.ctx, acct, "u1", "a brand new passphrase here")
		},
	} {
		t.Run(name, func(t *testing.T) {
			h, rs := raceHarness(t)
			rs.beforeToken = func() {
				if err := change(h); err != nil {
					t.Error(err)
				}
			}
			if _, _, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Name: "ci"}); err == nil {
				t.Fatal("CreateToken racing a revocation succeeded")
			}
			if name == "DisableUser" {
				if err := h.svc.EnableUser(h.ctx, acct, "u1"); err != nil {
					t.Fatal(err)
				}
			}
			ts, _ := h.st.Tokens(h.ctx, acct, "u1")
			for _, x := range ts {
				if x.RevokedAt.IsZero() {
					t.Fatal("a live token was left behind")
				}
			}
		})
	}
}

func TestTokenOlderThanThePasswordIsRefused(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	tok, rec, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	api := func() error {
		_, err := h.svc.AuthenticateAPI(h.ctx, authn.APIRequest{Account: acct, Username: "alice", Secret: tok, IP: clientIP})
		return err
	}
	if err := api(); err != nil {
		t.Fatal(err)
	}
	// A password change whose revocation missed the token.
	if err := h.st.SetPassword(h.ctx, acct, "u1", "$2a$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva", h.clock.Advance(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := api(); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("token older than the password: %v", err)
	}
	ts, _ := h.st.Tokens(h.ctx, acct, "u1")
	if len(ts) != 1 || ts[0].ID != rec.ID || ts[0].RevokedAt.IsZero() {
		t.Fatalf("the stale token was not revoked: %+v", ts)
	}
	// A token created after the change works.
	tok, _, err = h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Name: "ci2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := api(); err != nil {
		t.Fatalf("token created after the password change: %v", err)
	}
}

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

// The username check folds both sides alike: "ß" folds to "ss".
func TestPolicyFoldsPasswordAndUsernameAlike(t *testing.T) {
	h := newHarness(t, func(c *authn.Config) { c.ContextWords = []string{"Fußball"} })
	for _, c := range []struct{ pw, user string }{
		{"my straße is a long password", "Straße"},
		{"my STRASSE is a long password", "Straße"},
		{"my straße is a long password", "strasse"},
		{"we love FUSSBALL and long passwords", ""},
		{"we love fußball and long passwords", ""},
	} {
		err := h.svc.CheckPassword(c.pw, c.user)
		var pe *authn.PolicyError
		if !errors.As(err, &pe) || pe.Reason != "context_word" {
			t.Errorf("CheckPassword(%q, %q) = %v; want context_word", c.pw, c.user, err)
		}
	}
	if err := h.svc.CreateUser(h.ctx, acct, "u1", "Straße", "my straße is a long password"); err == nil || !strings.Contains(err.Error(), "username") {
		t.Errorf("CreateUser with the username in the password: %v", err)
	}
}
