package authn

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gdprkit/gdprkit"
)

// FuzzBcryptHash: parseBcrypt never panics, accepts only 60-byte hashes of
// bcrypt's alphabet, and whatever it accepts bcrypt itself can use.
func FuzzBcryptHash(f *testing.F) {
	good, _ := bcrypt.GenerateFromPassword([]byte("legacy password"), bcrypt.MinCost)
	for _, s := range []string{string(good), "$2a$10$" + strings.Repeat("!", 53), "$2y$04$", "$2b$31$" + strings.Repeat("a", 53), ""} {
		f.Add(s)
	}
	h := testHasher()
	f.Fuzz(func(t *testing.T, s string) {
		cost, err := h.parseBcrypt(s)
		if err != nil {
			if !errors.Is(err, ErrHashFormat) {
				t.Fatalf("%q: %v is not an ErrHashFormat", s, err)
			}
			return
		}
		if len(s) != 60 || cost < bcrypt.MinCost || cost > h.limits.MaxBcryptCost {
			t.Fatalf("accepted %q (cost %d)", s, cost)
		}
		if c, err := bcrypt.Cost([]byte(s)); err != nil || c != cost {
			t.Fatalf("bcrypt reads %q as cost %d, %v; we read %d", s, c, err, cost)
		}
	})
}

// FuzzDeviceToken: parsing device tokens never panics, a token opens only
// for the account and user it was sealed for, and a token with any byte
// changed does not open.
func FuzzDeviceToken(f *testing.F) {
	keys, _ := NewKeyRing("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	s := &Service{keys: keys, clock: fixedClock(now), cfg: Config{TrustedDeviceTTL: time.Hour}}
	u := User{ID: "u1", PasswordChangedAt: now.Add(-time.Minute)}
	real := s.sealDevice("acme", u, nil)
	f.Add(real)
	f.Add("d.k1.AAAA")
	f.Add("d..")
	f.Add(real[:len(real)-1] + "A")
	for i := range len(real) {
		if tampered := real[:i] + string(real[i]^1) + real[i+1:]; s.openDevice("acme", u, tampered) != nil && tampered != real {
			f.Fatalf("a device token with byte %d changed opens", i)
		}
	}
	f.Fuzz(func(t *testing.T, tok string) {
		_ = s.openDevice("acme", u, tok)
		if s.openDevice("other", u, tok) != nil || s.openDevice("acme", User{ID: "u2"}, tok) != nil {
			t.Fatalf("a device token opened for another account or user: %q", tok)
		}
	})
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

var _ gdprkit.Clock = fixedClock{}
