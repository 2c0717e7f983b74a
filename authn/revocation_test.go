package authn_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

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
