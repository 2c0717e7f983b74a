package authn_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// TestSecurityChangesNeedARecentProof: replacing or removing the TOTP,
// creating an API token and regenerating recovery codes need a session
// whose holder proved their password or a second factor within
// Config.StepUpWindow; a live session alone is not enough (issue #15
// finding 3). StepUp gives that proof; a token never can, and a forged
// Principal.VerifiedAt is not believed.
func TestSecurityChangesNeedARecentProof(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	login := func() authn.Principal {
		r := h.mustLogin("alice")
		p, err := h.svc.AuthenticateSession(h.ctx, authn.SessionRequest{Account: acct, Token: r.SessionToken, IP: clientIP})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := login()
	h.clock.Advance(11 * time.Minute) // past the 10-minute default window; the session lives on
	if err := h.session(h.mustLogin("alice").SessionToken); err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(authn.Principal) error{
		"BeginTOTP": func(p authn.Principal) error { _, err := h.svc.BeginTOTP(h.ctx, p, "alice"); return err },
		"GenerateRecoveryCodes": func(p authn.Principal) error {
			_, err := h.svc.GenerateRecoveryCodes(h.ctx, p)
			return err
		},
		"CreateToken": func(p authn.Principal) error {
			_, _, err := h.svc.CreateToken(h.ctx, p, authn.TokenSpec{Name: "ci"})
			return err
		},
		"ConfirmTOTP": func(p authn.Principal) error { _, err := h.svc.ConfirmTOTP(h.ctx, p, "123456"); return err },
		"RemoveTOTP":  func(p authn.Principal) error { return h.svc.RemoveTOTP(h.ctx, p) },
	}
	forged := p
	forged.VerifiedAt = h.clock.Now()
	for name, change := range changes {
		for what, who := range map[string]authn.Principal{"a stale session": p, "a forged VerifiedAt": forged} {
			if err := change(who); !errors.Is(err, authn.ErrStepUpRequired) || !errors.Is(err, gdprkit.ErrForbidden) {
				t.Errorf("%s with %s: %v; want ErrStepUpRequired", name, what, err)
			}
		}
	}
	if toks, _ := h.svc.Tokens(h.ctx, acct, "u1"); len(toks) != 0 {
		t.Fatal("a token was created without a step-up")
	}

	// A wrong password is a throttled failure, and proves nothing.
	if _, err := h.svc.StepUp(h.ctx, authn.StepUpRequest{Principal: p, Password: "not my password!", IP: clientIP}); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("wrong password: %v", err)
	}
	if st, _ := h.svc.LockStatus(h.ctx, acct, "u1"); st.Failures != 1 {
		t.Fatalf("the failed step-up was not counted: %+v", st)
	}
	if _, err := h.svc.StepUp(h.ctx, authn.StepUpRequest{Principal: p, Password: password, Code: "123456"}); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("password and code at once: %v", err)
	}
	old := p
	up, err := h.svc.StepUp(h.ctx, authn.StepUpRequest{Principal: p, Password: password, IP: clientIP})
	if err != nil || !up.Principal.VerifiedAt.Equal(h.clock.Now()) || up.SessionToken == "" || up.Principal.SessionID == old.SessionID {
		t.Fatalf("step-up: %+v %v", up, err)
	}
	p = up.Principal
	// A step-up is an authentication: the session gets a new token and
	// the old one stops working (ASVS 5.0 V7.2.4); the lifetime is not
	// extended.
	if err := h.svc.RequireStepUp(h.ctx, old); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("the replaced session: %v", err)
	}
	if err := h.session(up.SessionToken); err != nil {
		t.Fatalf("the new session: %v", err)
	}
	if !up.Session.ExpiresAt.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("the step-up moved the absolute timeout to %v", up.Session.ExpiresAt)
	}
	tok, _, err := h.svc.CreateToken(h.ctx, p, authn.TokenSpec{Name: "ci"})
	if err != nil {
		t.Fatalf("token after a step-up: %v", err)
	}
	e, err := h.svc.BeginTOTP(h.ctx, p, "alice")
	if err != nil {
		t.Fatal(err)
	}
	codes, err := h.svc.ConfirmTOTP(h.ctx, p, authn.TOTP(e.Key.Secret, h.clock.Now(), e.Key.Params))
	if err != nil || len(codes) != authn.RecoveryCodeCount {
		t.Fatalf("confirm: %d codes, %v", len(codes), err)
	}
	if len(h.audit.OfType(authn.EventStepUp)) != 1 {
		t.Fatal("the step-up was not audited")
	}

	// ConfirmTOTP ended every session; a new one may step up with a TOTP
	// code once the window has passed.
	r := h.mustLogin("alice") // a challenge now
	h.clock.Advance(30 * time.Second)
	s, err := h.svc.CompleteLogin(h.ctx, authn.SecondFactorRequest{Account: acct, Challenge: r.Challenge, Code: authn.TOTP(e.Key.Secret, h.clock.Now(), e.Key.Params), IP: clientIP})
	if err != nil {
		t.Fatal(err)
	}
	p, _ = h.svc.AuthenticateSession(h.ctx, authn.SessionRequest{Account: acct, Token: s.SessionToken, IP: clientIP})
	h.clock.Advance(20 * time.Minute)
	if _, err := h.svc.GenerateRecoveryCodes(h.ctx, p); !errors.Is(err, authn.ErrStepUpRequired) {
		t.Fatalf("after the window: %v", err)
	}
	if up, err = h.svc.StepUp(h.ctx, authn.StepUpRequest{Principal: p, Code: authn.TOTP(e.Key.Secret, h.clock.Now(), e.Key.Params), IP: clientIP}); err != nil {
		t.Fatalf("step-up with a TOTP code: %v", err)
	}
	p = up.Principal
	if !up.Session.SecondFactor {
		t.Fatal("the new session lost its second-factor flag")
	}
	if _, err := h.svc.GenerateRecoveryCodes(h.ctx, p); err != nil {
		t.Fatalf("recovery codes after a TOTP step-up: %v", err)
	}

	// An API token can never step up or make a security change.
	if _, err := h.svc.AuthenticateAPI(h.ctx, authn.APIRequest{Account: acct, Username: "alice", Secret: tok}); err == nil {
		t.Fatal("the token outlived the TOTP change")
	}
	tp := authn.Principal{Account: acct, UserID: "u1", Method: "token", TokenID: "t", VerifiedAt: h.clock.Now()}
	if _, _, err := h.svc.CreateToken(h.ctx, tp, authn.TokenSpec{}); !errors.Is(err, authn.ErrStepUpRequired) {
		t.Fatalf("token principal: %v", err)
	}
	if _, err := h.svc.StepUp(h.ctx, authn.StepUpRequest{Principal: tp, Password: password}); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("token principal step-up: %v", err)
	}
	// ipfilter's gate: the same rule, by actor and session.
	if err := h.svc.CheckStepUp(h.ctx, acct, "u1", p.SessionID); err != nil {
		t.Fatalf("CheckStepUp right after a step-up: %v", err)
	}
	if err := h.svc.CheckStepUp(h.ctx, acct, "u2", p.SessionID); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("CheckStepUp with another user's session: %v", err)
	}
}

// TestAPIAnswersA2FAUsersRightAndWrongPasswordAlike: for a user with TOTP,
// "username + password" on the API is refused the same way whether the
// password is right or wrong, and the same way as for an unknown user
// (issue #15 finding 4: right gave 403 "must use an API token", wrong 401).
func TestAPIAnswersA2FAUsersRightAndWrongPasswordAlike(t *testing.T) {
	h := newHarness(t)
	h.user("u2", "bob")
	h.enrol("u2")
	answer := func(i int, user, pw string) error {
		_, err := h.svc.AuthenticateAPI(h.ctx, authn.APIRequest{Account: acct, Username: user, Secret: pw, IP: ip(i)})
		return err
	}
	right, wrong, unknown := answer(1, "bob", password), answer(2, "bob", "not bob's password"), answer(3, "nobody", password)
	for name, err := range map[string]error{"right": right, "wrong": wrong, "unknown user": unknown} {
		if !errors.Is(err, gdprkit.ErrUnauthenticated) || errors.Is(err, gdprkit.ErrForbidden) || err.Error() != right.Error() {
			t.Errorf("%s password: %v; want %v", name, err, right)
		}
	}
	// The password was never checked: both attempts counted as failures,
	// so even the counter does not tell them apart.
	if st, _ := h.svc.LockStatus(h.ctx, acct, "u2"); st.Failures != 2 {
		t.Fatalf("failures %+v; want both attempts counted", st)
	}
}

// surfaceGate denies the API surface to one address and allows the rest.
type surfaceGate struct{ denied netip.Addr }

func (g surfaceGate) AllowIP(_ context.Context, _ gdprkit.AccountID, s gdprkit.Surface, a netip.Addr) error {
	if s == gdprkit.SurfaceAPI && a == g.denied {
		return fmt.Errorf("%w: not on the API allow list", gdprkit.ErrForbidden)
	}
	return nil
}

// TestTokensWorkOnlyOnTheirSurfaces: a token is bound to the surfaces it
// was created for (the API by default), so naming another surface in the
// request does not get it past that surface's IP rules (issue #15 finding
// 8: a token was accepted as "portal" from an address the API denies).
func TestTokensWorkOnlyOnTheirSurfaces(t *testing.T) {
	denied := netip.MustParseAddr("192.0.2.66")
	h := newHarness(t, func(c *authn.Config) { c.IPGate = surfaceGate{denied} })
	h.user("u1", "alice")
	api := func(tok string, s gdprkit.Surface, from netip.Addr) error {
		_, err := h.svc.AuthenticateAPI(h.ctx, authn.APIRequest{Account: acct, Username: "alice", Secret: tok, Surface: s, IP: from})
		return err
	}
	tok, rec, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Name: "ci"})
	if err != nil || len(rec.Surfaces) != 1 || rec.Surfaces[0] != gdprkit.SurfaceAPI {
		t.Fatalf("default surfaces %v, %v", rec.Surfaces, err)
	}
	if err := api(tok, gdprkit.SurfaceAPI, denied); !errors.Is(err, gdprkit.ErrForbidden) {
		t.Fatalf("from the denied address on its own surface: %v", err)
	}
	if err := api(tok, gdprkit.SurfacePortal, denied); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Fatalf("the API token as a portal token: %v; want it refused", err)
	}
	if err := api(tok, gdprkit.SurfaceAPI, clientIP); err != nil {
		t.Fatal(err)
	}
	both, rec, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Name: "widget", Surfaces: []gdprkit.Surface{gdprkit.SurfacePortal, gdprkit.SurfaceAPI, gdprkit.SurfacePortal}})
	if err != nil || len(rec.Surfaces) != 2 {
		t.Fatalf("two surfaces: %v %v", rec.Surfaces, err)
	}
	if err := api(both, gdprkit.SurfacePortal, clientIP); err != nil {
		t.Fatalf("a portal token on the portal: %v", err)
	}
	stored, _ := h.svc.Tokens(h.ctx, acct, "u1")
	if len(stored) != 2 || len(stored[1].Surfaces) != 2 {
		t.Fatalf("stored surfaces %+v", stored)
	}
	for _, bad := range [][]gdprkit.Surface{{"API"}, {"portal "}, {""}, make([]gdprkit.Surface, 9)} {
		if _, _, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Surfaces: bad}); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Fatalf("surfaces %q: %v", bad, err)
		}
	}
	if err := api(tok, "API", clientIP); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("a misspelt surface: %v", err)
	}
}

// TestSessionTokensCarry256RandomBits: every login mints a new session
// token of 32 bytes from crypto/rand (base64url, 43 characters), and the
// store keeps only its SHA-256 (OWASP ASVS 5.0 V7.2.3, NIST SP 800-63B rev 4
// "Session Bindings": at least 64 bits from an approved generator).
func TestSessionTokensCarry256RandomBits(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	seen := map[string]bool{}
	for i := range 50 {
		r, err := h.loginFrom(ip(i), "alice", password)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(r.SessionToken)
		if err != nil || len(raw) != 32 || seen[r.SessionToken] {
			t.Fatalf("session token %q: %d bytes, %v, seen before %v", r.SessionToken, len(raw), err, seen[r.SessionToken])
		}
		seen[r.SessionToken] = true
		stored, err := h.st.SessionByHash(h.ctx, acct, r.Session.Hash)
		if err != nil || strings.Contains(string(stored.Hash), r.SessionToken) || len(stored.Hash) != 32 {
			t.Fatalf("stored session %+v, %v", stored, err)
		}
	}
}

// TestAnAdministratorResetsALostAuthenticator: ResetTOTP removes another
// user's TOTP for a stepped-up administrator only, and ends that user's
// sessions.
func TestAnAdministratorResetsALostAuthenticator(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	h.user("admin", "olivia")
	h.enrol("u1")
	if r := h.mustLogin("alice"); !r.NeedsSecondFactor() {
		t.Fatal("enrolled user without a challenge")
	}
	stale := h.me("admin")
	h.clock.Advance(11 * time.Minute)
	if err := h.svc.ResetTOTP(h.ctx, stale, "u1"); !errors.Is(err, authn.ErrStepUpRequired) {
		t.Fatalf("a stale administrator session: %v", err)
	}
	if has, _ := h.svc.HasTOTP(h.ctx, acct, "u1"); !has {
		t.Fatal("removed without a step-up")
	}
	if err := h.svc.ResetTOTP(h.ctx, h.me("admin"), "u1"); err != nil {
		t.Fatal(err)
	}
	if has, _ := h.svc.HasTOTP(h.ctx, acct, "u1"); has {
		t.Fatal("still enrolled")
	}
	if r := h.mustLogin("alice"); r.NeedsSecondFactor() || r.SessionToken == "" {
		t.Fatalf("after the reset the password alone logs in: %+v", r)
	}
	if err := h.svc.ResetTOTP(h.ctx, h.me("admin"), " u1"); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("a padded user ID: %v", err)
	}
}
