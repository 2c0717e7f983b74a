package gdprkit_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
)

func TestIDValidation(t *testing.T) {
	for in, ok := range map[string]bool{"acme": true, "": false, strings.Repeat("x", 129): false, "a\nb": false, "\xff": false, "ünï": true} {
		err := gdprkit.SubjectID(in).Validate()
		if ok {
			assert.NoError(t, err, in)
		} else {
			assert.ErrorIs(t, err, gdprkit.ErrInvalid, in)
		}
	}
}

func TestPseudonymizerKeysAndScopes(t *testing.T) {
	_, err := gdprkit.NewPseudonymizer(make([]byte, 31))
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "short keys are refused")
	k1 := []byte(strings.Repeat("k", 32))
	k2 := []byte(strings.Repeat("j", 32))
	p1, _ := gdprkit.NewPseudonymizer(k1)
	p2, _ := gdprkit.NewPseudonymizer(k2)
	assert.NotEqual(t, p1.Subject("a", "x"), p2.Subject("a", "x"), "another key, another pseudonym")
	assert.NotEqual(t, p1.Pseudonym("a", "email", "x"), p1.Pseudonym("a", "subject", "x"), "kinds are separate")
	assert.NotEqual(t, p1.Pseudonym("ab", "c", "x"), p1.Pseudonym("a", "bc", "x"), "parts are length-prefixed")
	k1[0] = 'z'
	assert.Equal(t, p1.Subject("a", "x"), p1.Subject("a", "x"), "the key was copied")
	assert.True(t, strings.HasPrefix(string(p1.Subject("a", "x")), "ps_"))
}

func TestRoles(t *testing.T) {
	for _, r := range []gdprkit.Role{gdprkit.RoleEndUser, gdprkit.RoleAgent, gdprkit.RoleAdmin, gdprkit.RoleOwner} {
		back, err := gdprkit.ParseRole(r.String())
		require.NoError(t, err)
		assert.Equal(t, r, back)
	}
	_, err := gdprkit.ParseRole("none")
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	assert.False(t, gdprkit.RoleNone.AtLeast(gdprkit.RoleNone))
	assert.True(t, gdprkit.RoleAdmin.AtLeast(gdprkit.RoleAgent))
}
