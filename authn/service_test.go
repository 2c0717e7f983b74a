package authn_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// fast KDF parameters: the race detector makes argon2 slow.
var fastArgon2 = authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}

const (
	acct     = gdprkit.AccountID("acme")
	password = "correct horse battery staple"
)

var clientIP = netip.MustParseAddr("203.0.113.9")

type harness struct {
	t     *testing.T
	svc   *authn.Service
	st    authn.Store
	clock *fakeclock.Clock
	audit *gdprkit.MemoryAudit
	keys  *authn.KeyRing
	ctx   context.Context
}

func newHarness(t *testing.T, mod ...func(*authn.Config)) *harness {
	t.Helper()
	keys, err := authn.NewKeyRing("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := gdprkit.NewPseudonymizer([]byte("pseudonym-key-0123456789abcdef!!"))
	h := &harness{t: t, st: memstore.New().Authn(), clock: fakeclock.New(t0), audit: &gdprkit.MemoryAudit{}, keys: keys, ctx: context.Background()}
	cfg := authn.Config{Store: h.st, Keys: keys, Clock: h.clock, Audit: h.audit, Pseudonymizer: ps,
		Argon2: fastArgon2, Issuer: "Acme Help"}
	for _, m := range mod {
		m(&cfg)
	}
	h.svc, err = authn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) user(id, name string) {
	h.t.Helper()
	if err := h.svc.CreateUser(h.ctx, acct, id, name, password); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) login(name, pw string) (authn.LoginResult, error) {
	return h.svc.Login(h.ctx, authn.LoginRequest{Account: acct, Username: name, Password: pw, IP: clientIP})
}

func (h *harness) mustLogin(name string) authn.LoginResult {
	h.t.Helper()
	r, err := h.login(name, password)
	if err != nil {
		h.t.Fatalf("login %s: %v", name, err)
	}
	return r
}

func (h *harness) session(token string) error {
	_, err := h.svc.AuthenticateSession(h.ctx, authn.SessionRequest{Account: acct, Token: token, IP: clientIP})
	return err
}

// enrol gives the user an active TOTP and returns its secret.
func (h *harness) enrol(user string) []byte {
	h.t.Helper()
	e, err := h.svc.BeginTOTP(h.ctx, h.me(user), user+"@example.com")
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.svc.ConfirmTOTP(h.ctx, h.me(user), authn.TOTP(e.Key.Secret, h.clock.Now(), e.Key.Params)); err != nil {
		h.t.Fatal(err)
	}
	return e.Key.Secret
}

// me returns the principal of a fresh session of user, as
// AuthenticateSession returns it right after a login: within the step-up
// window, so security changes are allowed. Each call opens a new session
// (a TOTP change revokes the earlier ones).
func (h *harness) me(user string) authn.Principal {
	h.t.Helper()
	now := h.clock.Now()
	id := gdprkit.NewID()
	hash := sha256.Sum256([]byte("session-" + id))
	s := authn.Session{ID: id, UserID: user, Hash: hash[:], CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), VerifiedAt: now}
	if err := h.st.CreateSession(h.ctx, acct, s); err != nil {
		h.t.Fatal(err)
	}
	return authn.Principal{Account: acct, UserID: user, Method: "session", SessionID: id, VerifiedAt: now}
}

func (h *harness) code(secret []byte) string {
	return authn.TOTP(secret, h.clock.Now(), authn.TOTPParams{})
}

func TestPasswordLoginGivesAWorkingSession(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "Alice")
	r := h.mustLogin("alice")
	if r.NeedsSecondFactor() || r.SessionToken == "" || r.EnrolmentRequired {
		t.Fatalf("result %+v", r)
	}
	p, err := h.svc.AuthenticateSession(h.ctx, authn.SessionRequest{Account: acct, Token: r.SessionToken})
	if err != nil || p.UserID != "u1" || p.Method != "session" || p.SecondFactor {
		t.Fatalf("principal %+v, %v", p, err)
	}
	r2 := h.mustLogin("ALICE")
	if r2.SessionToken == r.SessionToken || r2.Session.ID == r.Session.ID {
		t.Fatal("a new authentication must mint a new session token")
	}
	if err := h.svc.Logout(h.ctx, acct, r.SessionToken); err != nil {
		t.Fatal(err)
	}
	if err := h.session(r.SessionToken); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("session after logout: %v", err)
	}
	if err := h.session(r2.SessionToken); err != nil {
		t.Fatalf("other session ended by logout: %v", err)
	}
}

func TestUsernamesAreUniqueCaseInsensitively(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "Straße")
	err := h.svc.CreateUser(h.ctx, acct, "u2", "STRASSE", password)
	if !errors.Is(err, gdprkit.ErrConflict) {
		t.Fatalf("case-folded duplicate: %v", err)
	}
	if _, err := h.login("strasse", password); err != nil {
		t.Fatalf("login with folded name: %v", err)
	}
}

func TestUnknownUserAndWrongPasswordFailAlike(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	_, e1 := h.login("alice", "wrong password entirely")
	_, e2 := h.login("mallory", "wrong password entirely")
	if !errors.Is(e1, gdprkit.ErrUnauthenticated) || !errors.Is(e2, gdprkit.ErrUnauthenticated) || e1.Error() != e2.Error() {
		t.Fatalf("wrong password: %v; unknown user: %v", e1, e2)
	}
}

func TestWeakPasswordIsRefusedWithAReasonAndNothingStored(t *testing.T) {
	h := newHarness(t)
	err := h.svc.CreateUser(h.ctx, acct, "u1", "alice", "short")
	var pe *authn.PolicyError
	if !errors.As(err, &pe) || pe.Reason != "too_short" || !strings.Contains(err.Error(), "at least 15") {
		t.Fatalf("short password: %v", err)
	}
	if _, err := h.st.User(h.ctx, acct, "u1"); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Fatal("a refused user was stored")
	}
	// Two-factor policy lowers the minimum to 8.
	h2 := newHarness(t, func(c *authn.Config) { c.RequireTwoFactor = true })
	if err := h2.svc.CreateUser(h.ctx, acct, "u1", "alice", "tulip-42"); err != nil {
		t.Fatalf("8 characters with two-factor enforced: %v", err)
	}
	r, err := h2.login("alice", "tulip-42")
	if err != nil || !r.EnrolmentRequired {
		t.Fatalf("login of a user without TOTP under RequireTwoFactor: %+v %v", r, err)
	}
	if err := h2.svc.CreateUser(h.ctx, acct, "u2", "bob", "iloveyou1"); !errors.As(err, &pe) || pe.Reason != "blocklisted" {
		t.Fatalf("blocklisted password: %v", err)
	}
	if err := h.svc.CreateUser(h.ctx, acct, "u3", "carol", strings.Repeat("ü", 64)); err != nil {
		t.Fatalf("64 characters must be accepted: %v", err)
	}
}

// TestFailuresSlowDownThenLockOnlyAfter100: five free failures, then
// delays that double (1 s, 2 s, 4 s, …) but never exceed MaxDelay (the soft
// lock ends), and a hard lock only after NIST's 100 consecutive failures,
// which waiting does not lift and Unlock does (issue #15 finding 2).
func TestFailuresSlowDownThenLockOnlyAfter100(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	var te *authn.ThrottledError
	wrong := func() error { _, err := h.login("alice", "not the password!!"); return err }
	for i := range 5 {
		if err := wrong(); !errors.Is(err, gdprkit.ErrUnauthenticated) {
			t.Fatalf("free failure %d: %v", i, err)
		}
	}
	// The sixth attempt must wait 1 s, the seventh 2 s, …
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		_, err := h.login("alice", password)
		if !errors.As(err, &te) || !errors.Is(err, gdprkit.ErrLocked) || te.Locked || !te.Until.Equal(h.clock.Now().Add(wait)) {
			t.Fatalf("attempt %d: %v (want a %s wait)", i+6, err, wait)
		}
		h.clock.Advance(wait)
		if err := wrong(); !errors.Is(err, gdprkit.ErrUnauthenticated) {
			t.Fatalf("attempt %d after waiting: %v", i+6, err)
		}
	}
	// The soft lock is bounded: no wait is ever longer than MaxDelay.
	for n := 9; n < 99; n++ {
		_, err := h.login("alice", password)
		if !errors.As(err, &te) || te.Locked || te.Until.Sub(h.clock.Now()) > 5*time.Minute {
			t.Fatalf("after %d failures: %v (want a wait of at most 5 min)", n, err)
		}
		h.clock.Advance(te.Until.Sub(h.clock.Now()))
		if err := wrong(); !errors.Is(err, gdprkit.ErrUnauthenticated) {
			t.Fatalf("failure %d after waiting: %v", n+1, err)
		}
	}
	h.clock.Advance(5 * time.Minute)
	if err := wrong(); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("the 100th failure is still checked: %v", err)
	}
	h.clock.Advance(time.Hour)
	if _, err := h.login("alice", password); !errors.As(err, &te) || !te.Locked {
		t.Fatalf("after 100 failures the right password must meet a hard lock: %v", err)
	}
	h.clock.Advance(48 * time.Hour)
	if _, err := h.login("alice", password); !errors.Is(err, gdprkit.ErrLocked) {
		t.Fatalf("the hard lock does not expire: %v", err)
	}
	if len(h.audit.OfType(authn.EventLocked)) == 0 {
		t.Fatal("no lock event audited")
	}
	if st, err := h.svc.LockStatus(h.ctx, acct, "u1"); err != nil || !st.Locked || st.Failures != 100 {
		t.Fatalf("lock status %+v %v", st, err)
	}
	if err := h.svc.Unlock(h.ctx, acct, "u1"); err != nil {
		t.Fatal(err)
	}
	h.mustLogin("alice")
	if _, err := authn.New(authn.Config{Store: h.st, Keys: h.keys, Throttle: authn.ThrottlePolicy{LockAfter: 101}}); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("a hard limit above NIST's 100 is refused: %v", err)
	}
}

func TestSuccessForgivesEarlierFailures(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	for range 4 { // 16 failures in all: more than Free, less than the source budget
		for range 4 {
			_, _ = h.login("alice", "not the password!!")
		}
		h.mustLogin("alice")
	}
}

func TestTOTPLoginIsSingleUse(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	secret := h.enrol("u1")
	confirmCode := h.code(secret)

	r := h.mustLogin("alice")
	if !r.NeedsSecondFactor() || r.SessionToken != "" {
		t.Fatalf("user with TOTP got %+v", r)
	}
	complete := func(code string) (authn.LoginResult, error) {
		return h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: code, IP: clientIP})
	}
	if _, err := complete(confirmCode); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("the enrolment code must not log in: %v", err)
	}
	h.clock.Advance(30 * time.Second)
	code := h.code(secret)
	s, err := complete(code)
	if err != nil || s.SessionToken == "" || !s.Session.SecondFactor {
		t.Fatalf("second factor: %+v %v", s, err)
	}
	if _, err := complete(code); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("replayed code: %v", err)
	}
	if p, err := h.svc.AuthenticateSession(h.ctx, authn.SessionRequest{Account: acct, Token: s.SessionToken}); err != nil || !p.SecondFactor {
		t.Fatalf("session %+v %v", p, err)
	}
}

func TestConcurrentUseOfOneCodeSucceedsOnce(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	secret := h.enrol("u1")
	h.clock.Advance(30 * time.Second)
	code := h.code(secret)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 50 {
		wg.Go(func() {
			if h.svc.VerifyTOTP(h.ctx, acct, "u1", code) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d of 50 concurrent uses of one code succeeded, want exactly 1", ok)
	}
}

func TestReEnrolmentDoesNotResetTOTPFailures(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	h.enrol("u1")
	for range 3 {
		_ = h.svc.VerifyTOTP(h.ctx, acct, "u1", "000000")
	}
	before, _ := h.st.Throttle(h.ctx, acct, authn.ThrottleKey{User: "u1", Factor: authn.FactorTOTP})
	if _, err := h.svc.BeginTOTP(h.ctx, h.me("u1"), "alice"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.RemoveTOTP(h.ctx, h.me("u1")); err != nil {
		t.Fatal(err)
	}
	after, _ := h.st.Throttle(h.ctx, acct, authn.ThrottleKey{User: "u1", Factor: authn.FactorTOTP})
	if before.Failures != 3 || after.Failures != 3 {
		t.Fatalf("failures before %d, after re-enrolment and removal %d; want 3 and 3", before.Failures, after.Failures)
	}
}

func TestRecoveryCodes(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	h.enrol("u1")
	codes, err := h.svc.GenerateRecoveryCodes(h.ctx, h.me("u1"))
	if err != nil || len(codes) != 10 {
		t.Fatalf("codes %v %v", codes, err)
	}
	use := func(code string) error {
		r := h.mustLogin("alice")
		_, err := h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: code})
		return err
	}
	if err := use(strings.ToUpper(codes[0])); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := use(codes[0]); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("used code again: %v", err)
	}
	if n, _ := h.svc.RecoveryCodesLeft(h.ctx, acct, "u1"); n != 9 {
		t.Fatalf("%d codes left, want 9", n)
	}
	fresh, err := h.svc.GenerateRecoveryCodes(h.ctx, h.me("u1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := use(codes[1]); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("code of the old set after regeneration: %v", err)
	}
	if err := use(fresh[1]); err != nil {
		t.Fatal(err)
	}
}

func TestAPITokenIsNeverASecondFactor(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	if _, _, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	h.enrol("u1")
	tok, _, _ := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Name: "ci"}) // enrolment revoked the first
	r := h.mustLogin("alice")
	_, err := h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: tok})
	if !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("token as second factor: %v", err)
	}
	if _, err := h.login("alice", tok); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("token as password in an interactive login: %v", err)
	}
}

func TestAPIAcceptsUsernameWithTokenOrPassword(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	h.user("u2", "bob")
	tok, rec, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Name: "ci", Scopes: []string{"tickets:read"}, ExpiresAt: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	api := func(user, secret string) (authn.Principal, error) {
		return h.svc.AuthenticateAPI(h.ctx, authn.APIRequest{Account: acct, Username: user, Secret: secret, IP: clientIP})
	}
	p, err := api("alice", tok)
	if err != nil || p.Method != "token" || p.UserID != "u1" || !p.HasScope("tickets:read") || p.HasScope("tickets:write") {
		t.Fatalf("token auth: %+v %v", p, err)
	}
	if _, err := api("bob", tok); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("another user's token: %v", err)
	}
	if p, err := api("bob", password); err != nil || p.Method != "password" || !p.HasScope("anything") {
		t.Fatalf("password auth: %+v %v", p, err)
	}
	// Last use is written in batches, not per request.
	stored, _ := h.svc.Tokens(h.ctx, acct, "u1")
	if !stored[0].LastUsedAt.IsZero() {
		t.Fatal("last use written on the request itself")
	}
	h.clock.Advance(2 * time.Minute)
	if _, err := api("alice", tok); err != nil {
		t.Fatal(err)
	}
	stored, _ = h.svc.Tokens(h.ctx, acct, "u1")
	if !stored[0].LastUsedAt.Equal(h.clock.Now()) {
		t.Fatalf("last use %v after the flush interval, want %v", stored[0].LastUsedAt, h.clock.Now())
	}
	// Users with TOTP must use tokens; their password is refused like a
	// wrong one.
	h.enrol("u2")
	if _, err := api("bob", password); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("password API auth of a TOTP user: %v", err)
	}
	h.clock.Advance(24 * time.Hour)
	if _, err := api("alice", tok); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("expired token: %v", err)
	}
	tok2, rec2, _ := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{})
	if err := h.svc.RevokeToken(h.ctx, acct, "u2", rec2.ID); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Fatalf("revoking another user's token: %v", err)
	}
	if err := h.svc.RevokeToken(h.ctx, acct, "u1", rec2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := api("alice", tok2); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}
	_ = rec
	if _, _, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Scopes: []string{"Bad Scope"}}); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("bad scope: %v", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	r := h.mustLogin("alice")
	for range 30 { // 30 × 50 min: active use keeps the session alive…
		h.clock.Advance(50 * time.Minute)
		if h.clock.Now().Sub(t0) >= 24*time.Hour {
			break
		}
		if err := h.session(r.SessionToken); err != nil {
			t.Fatalf("active session ended at %v: %v", h.clock.Now().Sub(t0), err)
		}
	}
	// …until the absolute timeout.
	if err := h.session(r.SessionToken); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("session past its absolute timeout: %v", err)
	}
	r = h.mustLogin("alice")
	h.clock.Advance(61 * time.Minute)
	if err := h.session(r.SessionToken); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("idle session: %v", err)
	}
}

func TestEverythingIsRevokedWhenCredentialsChange(t *testing.T) {
	for name, change := range map[string]func(h *harness) error{
		"password changed": func(h *harness) error {
			return h.svc.ChangePassword(h.ctx, acct, "u1", password, "a brand new passphrase")
		},
		"password reset":   func(h *harness) error { return h.svc.SetPassword(h.ctx, acct, "u1", "a brand new passphrase") },
		"TOTP enrolled":    func(h *harness) error { h.enrol("u1"); return nil },
		"TOTP removed":     func(h *harness) error { return h.svc.RemoveTOTP(h.ctx, h.me("u1")) },
		"user disabled":    func(h *harness) error { return h.svc.DisableUser(h.ctx, acct, "u1") },
		"user erased":      func(h *harness) error { _, err := h.svc.EraseUser(h.ctx, acct, "u1"); return err },
		"account revoked":  func(h *harness) error { _, err := h.svc.RevokeAccount(h.ctx, acct); return err },
		"sessions revoked": func(h *harness) error { _, err := h.svc.RevokeUser(h.ctx, acct, "u1"); return err },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.user("u1", "alice")
			h.user("u2", "bob")
			r := h.mustLogin("alice")
			other := h.mustLogin("bob")
			tok, _, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{})
			if err != nil {
				t.Fatal(err)
			}
			if err := change(h); err != nil {
				t.Fatal(err)
			}
			if err := h.session(r.SessionToken); !errors.Is(err, gdprkit.ErrUnauthenticated) {
				t.Fatalf("session survived: %v", err)
			}
			if _, err := h.svc.AuthenticateAPI(h.ctx, authn.APIRequest{Account: acct, Username: "alice", Secret: tok}); !errors.Is(err, gdprkit.ErrUnauthenticated) {
				t.Fatalf("token survived: %v", err)
			}
			if err := h.session(other.SessionToken); (err == nil) == (name == "account revoked") {
				t.Fatalf("another user's session: %v", err)
			}
		})
	}
}

type gate struct{ acctErr, ipErr error }

func (g gate) AllowLogin(context.Context, gdprkit.AccountID) error { return g.acctErr }
func (g gate) AllowIP(context.Context, gdprkit.AccountID, gdprkit.Surface, netip.Addr) error {
	return g.ipErr
}

func TestGatesAreConsulted(t *testing.T) {
	g := &gate{}
	h := newHarness(t, func(c *authn.Config) { c.AccountGate = g; c.IPGate = g })
	h.user("u1", "alice")
	r := h.mustLogin("alice")
	tok, _, _ := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{})
	g.acctErr = gdprkit.ErrAccountSuspended
	if _, err := h.login("alice", password); !errors.Is(err, gdprkit.ErrAccountSuspended) {
		t.Fatalf("suspended account login: %v", err)
	}
	if err := h.session(r.SessionToken); !errors.Is(err, gdprkit.ErrAccountSuspended) {
		t.Fatalf("suspended account session: %v", err)
	}
	if _, err := h.svc.AuthenticateAPI(h.ctx, authn.APIRequest{Account: acct, Username: "alice", Secret: tok}); !errors.Is(err, gdprkit.ErrAccountSuspended) {
		t.Fatalf("suspended account API: %v", err)
	}
	g.acctErr, g.ipErr = nil, gdprkit.ErrForbidden
	if _, err := h.login("alice", password); !errors.Is(err, gdprkit.ErrForbidden) {
		t.Fatalf("denied IP: %v", err)
	}
	if len(h.audit.OfType(authn.EventAccountDenied)) != 3 || len(h.audit.OfType(authn.EventIPDenied)) != 1 {
		t.Fatal("gate denials not audited")
	}
}

func TestLegacyBcryptIsUpgradedOnLogin(t *testing.T) {
	h := newHarness(t)
	legacy, _ := bcrypt.GenerateFromPassword([]byte("an old but long password"), bcrypt.MinCost)
	if err := h.svc.ImportUser(h.ctx, acct, "u1", "alice", string(legacy)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.login("alice", "an old but long password"); err != nil {
		t.Fatal(err)
	}
	u, _ := h.st.User(h.ctx, acct, "u1")
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash not upgraded: %q", u.PasswordHash)
	}
	if _, err := h.login("alice", "an old but long password"); err != nil {
		t.Fatalf("login after upgrade: %v", err)
	}
	if err := h.svc.ImportUser(h.ctx, acct, "u2", "bob", "$2a$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("over-cost bcrypt import: %v", err)
	}
}

// failingRehash makes every rehash fail.
type failingRehash struct{ authn.Store }

func (failingRehash) RehashPassword(context.Context, gdprkit.AccountID, string, string, string) (bool, error) {
	return false, gdprkit.ErrUnavailable
}

func TestFailedRehashNeverFailsTheLogin(t *testing.T) {
	h := newHarness(t, func(c *authn.Config) { c.Store = failingRehash{c.Store} })
	legacy, _ := bcrypt.GenerateFromPassword([]byte("an old but long password"), bcrypt.MinCost)
	if err := h.svc.ImportUser(h.ctx, acct, "u1", "alice", string(legacy)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.login("alice", "an old but long password"); err != nil {
		t.Fatalf("login failed because the rehash failed: %v", err)
	}
}

func TestChallengeExpiresAndDiesWithThePassword(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	secret := h.enrol("u1")
	h.clock.Advance(30 * time.Second)
	r := h.mustLogin("alice")
	h.clock.Advance(6 * time.Minute)
	if _, err := h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: h.code(secret)}); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("expired challenge: %v", err)
	}
	r = h.mustLogin("alice")
	if err := h.svc.SetPassword(h.ctx, acct, "u1", "another long passphrase"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Second)
	if _, err := h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: h.code(secret)}); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("challenge after password change: %v", err)
	}
	r = h.mustLogin2("alice", "another long passphrase")
	if _, err := h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: "other", Challenge: r.Challenge, Code: h.code(secret)}); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("challenge replayed in another account: %v", err)
	}
}

func (h *harness) mustLogin2(name, pw string) authn.LoginResult {
	h.t.Helper()
	r, err := h.login(name, pw)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func TestKeyRotationWithoutDowntime(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	secret := h.enrol("u1")
	k1 := []byte("0123456789abcdef0123456789abcdef")
	k2 := authn.NewKey()
	rotated, _ := authn.NewKeyRing("k2", map[string][]byte{"k1": k1, "k2": k2})
	svc2, err := authn.New(authn.Config{Store: h.st, Keys: rotated, Clock: h.clock, Argon2: fastArgon2})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Second)
	if err := svc2.VerifyTOTP(h.ctx, acct, "u1", h.code(secret)); err != nil {
		t.Fatalf("old record under the rotated ring: %v", err)
	}
	if n, err := svc2.RewrapTOTP(h.ctx, acct, 0); n != 1 || err != nil {
		t.Fatalf("rewrapped %d, %v", n, err)
	}
	if n, _ := svc2.RewrapTOTP(h.ctx, acct, 0); n != 0 {
		t.Fatalf("second rewrap found %d", n)
	}
	only2, _ := authn.NewKeyRing("k2", map[string][]byte{"k2": k2})
	svc3, _ := authn.New(authn.Config{Store: h.st, Keys: only2, Clock: h.clock, Argon2: fastArgon2})
	h.clock.Advance(30 * time.Second)
	if err := svc3.VerifyTOTP(h.ctx, acct, "u1", h.code(secret)); err != nil {
		t.Fatalf("after rewrap the old key can go: %v", err)
	}
	rec, _ := h.st.TOTP(h.ctx, acct, "u1", false)
	if strings.Contains(string(rec.Sealed), string(secret)) {
		t.Fatal("secret stored in the clear")
	}
}

func TestEraseUserAndDeleteAccountCount(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	h.user("u2", "bob")
	h.enrol("u1")
	_, _ = h.svc.GenerateRecoveryCodes(h.ctx, h.me("u1"))
	_, _, _ = h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{})
	h.clock.Advance(time.Minute)
	_, _ = h.login("alice", "wrong wrong wrong")
	h.mustLogin("bob")
	// Two sessions (those GenerateRecoveryCodes and CreateToken acted
	// through) and two counters (TOTP, from the enrolment; password).
	want := authn.Counts{Users: 1, TOTP: 1, RecoveryCodes: 10, Tokens: 1, Sessions: 2, Throttles: 2}
	// The shape package erasure's CredentialsTarget takes.
	var creds interface {
		CountUser(context.Context, gdprkit.AccountID, gdprkit.SubjectID) (int, error)
		EraseUser(context.Context, gdprkit.AccountID, gdprkit.SubjectID) (int, error)
	} = h.svc.Credentials()
	if n, err := creds.CountUser(h.ctx, acct, "u1"); err != nil || n != want.Total() {
		t.Fatalf("counted %d (%v), want %d", n, err, want.Total())
	}
	c, err := h.svc.EraseUser(h.ctx, acct, "u1")
	if err != nil || c != want {
		t.Fatalf("erase counts %+v (%v), want %+v", c, err, want)
	}
	if _, err := h.login("alice", password); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("erased user logs in: %v", err)
	}
	if n, err := creds.EraseUser(h.ctx, acct, "u1"); n != 0 || err != nil {
		t.Fatalf("second erasure found %d (%v)", n, err)
	}
	c, err = h.svc.DeleteAccount(h.ctx, acct)
	if err != nil || c.Users != 1 || c.Sessions != 1 {
		t.Fatalf("delete account %+v %v", c, err)
	}
	if _, err := h.login("bob", password); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatal("user of a deleted account logs in")
	}
}

func TestAuditCarriesNoSecrets(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	_, _ = h.login("alice", "a wrong password here")
	_, _ = h.login("nobody", "a wrong password here")
	secret := h.enrol("u1")
	codes, _ := h.svc.GenerateRecoveryCodes(h.ctx, h.me("u1"))
	tok, _, _ := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{})
	_, _ = h.svc.AuthenticateAPI(h.ctx, authn.APIRequest{Account: acct, Username: "alice", Secret: tok})
	h.clock.Advance(30 * time.Second)
	r := h.mustLogin("alice")
	s, _ := h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: h.code(secret)})
	b, _ := json.Marshal(h.audit.Events())
	all := string(b)
	for _, secretText := range []string{password, "a wrong password here", "alice", "nobody", "u1", tok, codes[0], authn.EncodeSecret(secret), r.Challenge, s.SessionToken} {
		if strings.Contains(all, secretText) {
			t.Errorf("audit log contains %q", secretText)
		}
	}
	for _, typ := range []gdprkit.EventType{authn.EventLoginFailed, authn.EventLoginSucceeded, authn.EventTOTPEnrolled, authn.EventTokenCreated, authn.EventTokenUsed, authn.EventSecondFactor} {
		if len(h.audit.OfType(typ)) == 0 {
			t.Errorf("no %s event", typ)
		}
	}
}

func TestBadInputIsRefused(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	for name, err := range map[string]error{
		"empty account":  h.svc.CreateUser(h.ctx, "", "u2", "bob", password),
		"empty user ID":  h.svc.CreateUser(h.ctx, acct, "", "bob", password),
		"empty username": h.svc.CreateUser(h.ctx, acct, "u2", "  ", password),
		"control char":   h.svc.CreateUser(h.ctx, acct, "u2", "bo\x00b", password),
		"bad hash":       h.svc.ImportUser(h.ctx, acct, "u2", "bob", "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
	} {
		if !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := h.st.User(h.ctx, acct, "u2"); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Fatal("refused input stored a user")
	}
	if _, err := authn.New(authn.Config{}); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("empty config: %v", err)
	}
}

func TestDisabledUserCannotLogInAndSaysNothingMore(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	if err := h.svc.DisableUser(h.ctx, acct, "u1"); err != nil {
		t.Fatal(err)
	}
	_, err := h.login("alice", password)
	_, unknown := h.login("nobody", password)
	if !errors.Is(err, gdprkit.ErrUnauthenticated) || err.Error() != unknown.Error() {
		t.Fatalf("disabled user: %v", err)
	}
	if _, _, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{}); !errors.Is(err, gdprkit.ErrForbidden) {
		t.Fatalf("token for a disabled user: %v", err)
	}
	if err := h.svc.EnableUser(h.ctx, acct, "u1"); err != nil {
		t.Fatal(err)
	}
	h.mustLogin("alice")
	if err := h.svc.DisableUser(h.ctx, acct, "ghost"); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Fatalf("disabling an unknown user: %v", err)
	}
}

func TestTOTPParametersAndSkewAreConfigurable(t *testing.T) {
	h := newHarness(t, func(c *authn.Config) {
		c.TOTP = authn.TOTPParams{Algorithm: authn.SHA256, Digits: 8, Period: 60}
		c.Skew = -1
	})
	h.user("u1", "alice")
	e, err := h.svc.BeginTOTP(h.ctx, h.me("u1"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(e.URI, "&algorithm=SHA256&digits=8&period=60") || len(e.Key.Secret) != 20 {
		t.Fatalf("enrolment %s (%d-byte secret)", e.URI, len(e.Key.Secret))
	}
	if _, err := h.svc.ConfirmTOTP(h.ctx, h.me("u1"), authn.TOTP(e.Key.Secret, h.clock.Now(), e.Key.Params)); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(60 * time.Second)
	late := authn.TOTP(e.Key.Secret, h.clock.Now().Add(-60*time.Second), e.Key.Params)
	if err := h.svc.VerifyTOTP(h.ctx, acct, "u1", late); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("previous step accepted without skew: %v", err)
	}
	if err := h.svc.VerifyTOTP(h.ctx, acct, "u1", authn.TOTP(e.Key.Secret, h.clock.Now(), e.Key.Params)); err != nil {
		t.Fatalf("current 8-digit SHA-256 code: %v", err)
	}
}

func TestSessionListingRevocationAndPurge(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	h.user("u2", "bob")
	a := h.mustLogin("alice")
	b := h.mustLogin("alice")
	other := h.mustLogin("bob")
	ss, err := h.svc.Sessions(h.ctx, acct, "u1")
	if err != nil || len(ss) != 2 || ss[0].Hash != nil {
		t.Fatalf("sessions %+v %v", ss, err)
	}
	if err := h.svc.RevokeSession(h.ctx, acct, "u2", a.Session.ID); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Fatalf("revoking another user's session: %v", err)
	}
	if err := h.svc.RevokeSession(h.ctx, acct, "u1", a.Session.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.session(a.SessionToken); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatal("revoked session still works")
	}
	if err := h.session(b.SessionToken); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Minute)
	if err := h.session(other.SessionToken); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(45 * time.Minute) // alice's remaining session is idle for 75 min, bob's for 45
	n, err := h.svc.PurgeSessions(h.ctx, acct)
	if err != nil || n != 1 {
		t.Fatalf("purged %d (%v), want 1", n, err)
	}
	if err := h.session(other.SessionToken); err != nil {
		t.Fatalf("active session purged: %v", err)
	}
}

func TestHugePasswordsAreRefusedCheaply(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	if _, err := h.login("alice", strings.Repeat("x", 1<<20)); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("1 MiB password: %v", err)
	}
	if th, _ := h.st.Throttle(h.ctx, acct, authn.ThrottleKey{User: "u1", Factor: authn.FactorPassword}); th.Failures != 0 {
		t.Fatal("an impossible password was counted as a guess")
	}
	err := h.svc.CreateUser(h.ctx, acct, "u2", "bob", strings.Repeat("y", 257))
	var pe *authn.PolicyError
	if !errors.As(err, &pe) || pe.Reason != "too_long" {
		t.Fatalf("257 characters: %v", err)
	}
}
