package ipfilter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// TestRuleChangesNeedAStepUp: with authn as its StepUp gate, a Filter
// changes rules only for an admin whose session proved their password or
// second factor within the step-up window; a live but older session, a
// missing session and another user's session are refused, and nothing is
// stored (issue #15 finding 3: changing IP rules needed only a session).
func TestRuleChangesNeedAStepUp(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	h := newHarness(t)
	keys, _ := authn.NewKeyRing("k1", map[string][]byte{"k1": authn.NewKey()})
	auth, err := authn.New(authn.Config{Store: st.Authn(), Keys: keys, Clock: h.clock, Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	f := h.filter(t, func(c *ipfilter.Config) { c.StepUp = auth })
	const pw = "correct horse battery staple"
	if err := auth.CreateUser(ctx, acct, string(admin), "admin", pw); err != nil {
		t.Fatal(err)
	}
	res, err := auth.Login(ctx, authn.LoginRequest{Account: acct, Username: "admin", Password: pw, IP: adminIP})
	if err != nil {
		t.Fatal(err)
	}
	p, err := auth.AuthenticateSession(ctx, authn.SessionRequest{Account: acct, Token: res.SessionToken, IP: adminIP})
	if err != nil {
		t.Fatal(err)
	}
	change := func(session string) error {
		_, err := f.SetRules(ctx, ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAgentPanel, Allow: []ipfilter.Input{{Value: "0.0.0.0/0"}},
			Actor: admin, ActorIP: adminIP, ExpectedVersion: ipfilter.AnyVersion, ActorSession: session})
		return err
	}
	h.clock.Advance(15 * time.Minute)
	for what, c := range map[string]struct {
		session string
		want    error
	}{
		"a session past the step-up window": {p.SessionID, authn.ErrStepUpRequired},
		"no session":                        {"", gdprkit.ErrForbidden},
		"an unknown session":                {"not-a-session", gdprkit.ErrUnauthenticated},
	} {
		if err := change(c.session); !errors.Is(err, c.want) {
			t.Errorf("%s: %v; want %v", what, err, c.want)
		}
	}
	if rs, _ := f.Rules(ctx, acct); rs.Version != 0 {
		t.Fatalf("a refused change was stored: version %d", rs.Version)
	}
	up, err := auth.StepUp(ctx, authn.StepUpRequest{Principal: p, Password: pw, IP: adminIP})
	if err != nil {
		t.Fatal(err)
	}
	if err := change(up.Principal.SessionID); err != nil {
		t.Fatalf("after a step-up: %v", err)
	}
}
