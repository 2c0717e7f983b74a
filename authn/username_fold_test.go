package authn_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gdprkit/gdprkit/authn"
)

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
