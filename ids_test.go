package gdprkit_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gdprkit/gdprkit"
)

// TestPaddedAndControlIDsAreRefused: an ID is its bytes. "acme " is not a
// second spelling of "acme" (MySQL's PAD SPACE collations compare them
// equal), so no ID type accepts white space at either end or a control
// character anywhere (issue #15, finding 1).
func TestPaddedAndControlIDsAreRefused(t *testing.T) {
	cases := map[string]bool{
		"acme":                   true,
		"acme corp":              true, // inner spaces are part of the ID
		"u1":                     true,
		"ünï":                    true,
		"alice@example.com":      true,
		"x\u200by":               true, // format characters are not padding
		strings.Repeat("x", 128): true,

		"":                       false,
		strings.Repeat("x", 129): false,
		"acme ":                  false,
		"acme  ":                 false,
		" acme":                  false,
		"acme\u00a0":             false, // NO-BREAK SPACE
		"\u3000acme":             false, // IDEOGRAPHIC SPACE
		"acme\u2003":             false, // EM SPACE
		"acme\t":                 false,
		"a\nb":                   false,
		"a\x00b":                 false,
		"a\x7fb":                 false,
		"a\u0085b":               false, // C1 control (NEXT LINE)
		"a\u009bb":               false, // C1 control (CSI)
		"\xff":                   false,
		" ":                      false,
	}
	for in, ok := range cases {
		for _, v := range []struct {
			kind string
			err  error
		}{
			{"account", gdprkit.AccountID(in).Validate()},
			{"subject", gdprkit.SubjectID(in).Validate()},
			{"actor", gdprkit.ActorID(in).Validate()},
		} {
			if ok {
				assert.NoError(t, v.err, "%s %q", v.kind, in)
			} else {
				assert.ErrorIs(t, v.err, gdprkit.ErrInvalid, "%s %q", v.kind, in)
			}
		}
	}
}

func TestSurfaceValidation(t *testing.T) {
	for _, s := range []gdprkit.Surface{gdprkit.SurfaceAgentPanel, gdprkit.SurfaceAPI, gdprkit.SurfacePortal, "chat.widget-2"} {
		assert.NoError(t, s.Validate(), s)
	}
	for _, s := range []gdprkit.Surface{"", "API", "api ", " api", "a pi", "api\n", gdprkit.Surface(strings.Repeat("a", 65)), "épi"} {
		assert.ErrorIs(t, s.Validate(), gdprkit.ErrInvalid, "%q", s)
	}
}

func FuzzIDValidate(f *testing.F) {
	for _, s := range []string{"acme", "acme ", " acme", "a\u00a0", "a\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if gdprkit.AccountID(s).Validate() != nil {
			return
		}
		// Whatever is accepted is its own trimmed form and a valid string.
		if strings.TrimSpace(s) != s {
			t.Fatalf("accepted padded ID %q", s)
		}
		if len(s) == 0 || len(s) > gdprkit.MaxIDLen {
			t.Fatalf("accepted ID of %d bytes", len(s))
		}
	})
}
