package authn_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// newExampleService wires a Service to the in-memory store. Production code
// passes a sqlstore and keeps the key ring's keys in a secret store; the
// small argon2 parameters only keep the examples fast (omit Argon2 to get
// the OWASP defaults).
func newExampleService(clock gdprkit.Clock) *authn.Service {
	keys, err := authn.NewKeyRing("2026-01", map[string][]byte{"2026-01": authn.NewKey()})
	if err != nil {
		panic(err)
	}
	svc, err := authn.New(authn.Config{
		Store:  memstore.New().Authn(),
		Keys:   keys,
		Clock:  clock,
		Issuer: "Acme Help",
		Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1},
	})
	if err != nil {
		panic(err)
	}
	return svc
}

// A password login, TOTP enrolment, and a login with both factors.
func Example() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	svc := newExampleService(clock)
	ip := netip.MustParseAddr("203.0.113.9")

	if err := svc.CreateUser(ctx, "acme", "u-1", "Alice", "correct horse battery staple"); err != nil {
		panic(err)
	}
	res, err := svc.Login(ctx, authn.LoginRequest{Account: "acme", Username: "alice", Password: "correct horse battery staple", IP: ip})
	fmt.Println("logged in:", err == nil, "second factor needed:", res.NeedsSecondFactor())
	me, _ := svc.AuthenticateSession(ctx, authn.SessionRequest{Account: "acme", Token: res.SessionToken, IP: ip})

	// Enrolment, within the step-up window of the login: show e.URI as a
	// QR code (e.Key.QRCode()), then confirm with the first code the app
	// shows, which yields the recovery codes.
	e, _ := svc.BeginTOTP(ctx, me, "alice@example.com")
	fmt.Println(strings.SplitN(e.URI, "?", 2)[0])
	codes, _ := svc.ConfirmTOTP(ctx, me, authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params))
	fmt.Println("recovery codes:", len(codes))

	clock.Advance(30 * time.Second)
	res, _ = svc.Login(ctx, authn.LoginRequest{Account: "acme", Username: "alice", Password: "correct horse battery staple", IP: ip})
	fmt.Println("second factor needed:", res.NeedsSecondFactor())
	code := authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params) // what the app shows now
	res, err = svc.CompleteLogin(ctx, authn.SecondFactorRequest{Account: "acme", Challenge: res.Challenge, Code: code, IP: ip})
	if err != nil {
		panic(err)
	}
	p, _ := svc.AuthenticateSession(ctx, authn.SessionRequest{Account: "acme", Token: res.SessionToken, IP: ip})
	fmt.Println("user:", p.UserID, "two factors:", p.SecondFactor)
	// Output:
	// logged in: true second factor needed: false
	// otpauth://totp/Acme%20Help:alice%40example.com
	// recovery codes: 10
	// second factor needed: true
	// user: u-1 two factors: true
}

// The REST API takes a username with an API token (or a password, for
// users without a second factor).
func ExampleService_AuthenticateAPI() {
	ctx := context.Background()
	svc := newExampleService(fakeclock.New(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)))
	_ = svc.CreateUser(ctx, "acme", "u-1", "alice", "correct horse battery staple")
	res, _ := svc.Login(ctx, authn.LoginRequest{Account: "acme", Username: "alice", Password: "correct horse battery staple"})
	me, _ := svc.AuthenticateSession(ctx, authn.SessionRequest{Account: "acme", Token: res.SessionToken})
	token, rec, _ := svc.CreateToken(ctx, me, authn.TokenSpec{Name: "CI", Scopes: []string{"tickets:read"}})
	fmt.Println(strings.HasPrefix(token, "gdk_"), len(token), len(rec.Hash), rec.Surfaces)

	p, err := svc.AuthenticateAPI(ctx, authn.APIRequest{Account: "acme", Username: "alice", Secret: token})
	fmt.Println(p.Method, p.UserID, p.HasScope("tickets:read"), p.HasScope("tickets:write"), err)
	_, err = svc.AuthenticateAPI(ctx, authn.APIRequest{Account: "acme", Username: "alice", Secret: "guess"})
	fmt.Println(errors.Is(err, gdprkit.ErrUnauthenticated))
	// The token is bound to the API surface: the portal does not take it.
	_, err = svc.AuthenticateAPI(ctx, authn.APIRequest{Account: "acme", Username: "alice", Secret: token, Surface: gdprkit.SurfacePortal})
	fmt.Println(errors.Is(err, gdprkit.ErrUnauthenticated))
	// Output:
	// true 40 32 [api]
	// token u-1 true false <nil>
	// true
	// true
}

// A security change needs a recent proof: after the step-up window, the
// session's holder confirms their password again.
func ExampleService_StepUp() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	svc := newExampleService(clock)
	_ = svc.CreateUser(ctx, "acme", "u-1", "alice", "correct horse battery staple")
	res, _ := svc.Login(ctx, authn.LoginRequest{Account: "acme", Username: "alice", Password: "correct horse battery staple"})
	clock.Advance(30 * time.Minute)
	me, _ := svc.AuthenticateSession(ctx, authn.SessionRequest{Account: "acme", Token: res.SessionToken})

	_, err := svc.GenerateRecoveryCodes(ctx, me)
	fmt.Println(errors.Is(err, authn.ErrStepUpRequired))
	up, err := svc.StepUp(ctx, authn.StepUpRequest{Principal: me, Password: "correct horse battery staple"})
	fmt.Println(err, up.SessionToken != res.SessionToken) // a new session token replaces the old
	codes, err := svc.GenerateRecoveryCodes(ctx, up.Principal)
	fmt.Println(len(codes), err)
	// Output:
	// true
	// <nil> true
	// 10 <nil>
}

// A rejected password says why.
func ExampleService_CheckPassword() {
	svc := newExampleService(nil)
	for _, pw := range []string{"Tr0ub4dor&3", "qwertyuiopasdfghjkl", "correct horse battery staple"} {
		fmt.Println(svc.CheckPassword(pw, "alice"))
	}
	// Output:
	// authn: password must have at least 15 characters (it has 11)
	// authn: password is on the list of commonly used passwords; choose another
	// <nil>
}

// The RFC 6238 test vector at time 59 s, SHA-1, 8 digits.
func ExampleTOTP() {
	secret := []byte("12345678901234567890")
	fmt.Println(authn.TOTP(secret, time.Unix(59, 0), authn.TOTPParams{Digits: 8}))
	// Output: 94287082
}

func ExampleOTPKey_URI() {
	k := authn.OTPKey{Issuer: "Acme Help", Account: "alice@example.com", Secret: []byte("12345678901234567890")}
	u, _ := k.URI()
	fmt.Println(u)
	back, _ := authn.ParseURI(u)
	fmt.Println(back.Issuer, back.Account, back.Params.Digits, back.Params.Period)
	// Output:
	// otpauth://totp/Acme%20Help:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Help&algorithm=SHA1&digits=6&period=30
	// Acme Help alice@example.com 6 30
}

// Rotating the key that seals TOTP secrets, without downtime: add a new
// primary key, keep the old one until RewrapTOTP has re-sealed every record.
func ExampleKeyRing() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	st := memstore.New().Authn()
	old := authn.NewKey()
	ring1, _ := authn.NewKeyRing("2026-01", map[string][]byte{"2026-01": old})
	svc1, _ := authn.New(authn.Config{Store: st, Keys: ring1, Clock: clock, Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	_ = svc1.CreateUser(ctx, "acme", "u-1", "alice", "correct horse battery staple")
	res, _ := svc1.Login(ctx, authn.LoginRequest{Account: "acme", Username: "alice", Password: "correct horse battery staple"})
	me, _ := svc1.AuthenticateSession(ctx, authn.SessionRequest{Account: "acme", Token: res.SessionToken})
	e, _ := svc1.BeginTOTP(ctx, me, "alice")
	_, _ = svc1.ConfirmTOTP(ctx, me, authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params))

	// Deploy a ring with a new primary key and the old one beside it.
	ring2, _ := authn.NewKeyRing("2026-07", map[string][]byte{"2026-01": old, "2026-07": authn.NewKey()})
	svc2, _ := authn.New(authn.Config{Store: st, Keys: ring2, Clock: clock, Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	n, _ := svc2.RewrapTOTP(ctx, "acme", 100)
	fmt.Println("re-sealed:", n, "keys:", ring2.IDs())

	clock.Advance(30 * time.Second)
	err := svc2.VerifyTOTP(ctx, "acme", "u-1", authn.TOTP(e.Key.Secret, clock.Now(), e.Key.Params))
	fmt.Println("TOTP still verifies:", err == nil)
	// Output:
	// re-sealed: 1 keys: [2026-01 2026-07]
	// TOTP still verifies: true
}
