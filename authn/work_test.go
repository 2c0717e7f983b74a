package authn_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"maps"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// TestEveryPasswordCheckDoesTheSameWork: a wrong password for a user on a
// bcrypt hash, for a user on argon2id, for a user whose stored hash was
// tampered with, and any password for an unknown user, all run the same
// KDFs at the same costs, and all fail with the same error (issue #15
// finding 6: a bcrypt user took 2.1–2.7 times as long as an unknown one,
// and a tampered hash gave another message). Work is compared by counting
// KDF runs, not by timing; BenchmarkUnknownUserVsWrongPassword times it.
func TestEveryPasswordCheckDoesTheSameWork(t *testing.T) {
	ctx := context.Background()
	keys, _ := authn.NewKeyRing("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	st := memstore.New().Authn()
	svc, err := authn.New(authn.Config{Store: st, Keys: keys, Clock: fakeclock.New(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)), Argon2: fastArgon2})
	if err != nil {
		t.Fatal(err)
	}
	legacy, _ := bcrypt.GenerateFromPassword([]byte("legacy password 1"), bcrypt.MinCost)
	if err := svc.ImportUser(ctx, acct, "u-bcrypt", "bee", string(legacy)); err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateUser(ctx, acct, "u-argon", "arnold", "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateUser(ctx, acct, "u-tampered", "tammy", "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	// Someone with database access breaks the stored hash.
	if err := st.SetPassword(ctx, acct, "u-tampered", "$argon2id$v=19$m=64,t=1,p=1$!!!$!!!", time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	work := func(username string) (map[string]int64, error) {
		before := authn.KDFRuns(svc)
		_, err := svc.Login(ctx, authn.LoginRequest{Account: acct, Username: username, Password: "a wrong password!", IP: sourceIP(username)})
		after := authn.KDFRuns(svc)
		for k, v := range before {
			after[k] -= v
			if after[k] == 0 {
				delete(after, k)
			}
		}
		return after, err
	}
	want, wantErr := work("nobody-here")
	if want[authn.ArgonRun(fastArgon2)] != 1 || want[authn.BcryptRun(bcrypt.MinCost)] != 1 || len(want) != 2 {
		t.Fatalf("an unknown user ran %v; want one argon2id at the current parameters and one bcrypt at the imported cost", want)
	}
	for _, user := range []string{"bee", "arnold", "tammy"} {
		got, err := work(user)
		if !maps.Equal(got, want) {
			t.Errorf("%s: KDF runs %v, unknown user %v", user, got, want)
		}
		if err == nil || err.Error() != wantErr.Error() || !errors.Is(err, gdprkit.ErrUnauthenticated) {
			t.Errorf("%s: %v; want the unknown user's %v", user, err, wantErr)
		}
	}
	// A right password does the same work too.
	before := authn.KDFRuns(svc)
	if _, err := svc.Login(ctx, authn.LoginRequest{Account: acct, Username: "arnold", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}
	after := authn.KDFRuns(svc)
	if after[authn.BcryptRun(bcrypt.MinCost)]-before[authn.BcryptRun(bcrypt.MinCost)] != 1 || after[authn.ArgonRun(fastArgon2)]-before[authn.ArgonRun(fastArgon2)] != 1 {
		t.Fatalf("a right password ran %v → %v", before, after)
	}
}

// sourceIP gives each username an address of its own, so that no source
// budget interferes.
func sourceIP(s string) netip.Addr {
	h := sha256.Sum256([]byte(s))
	return netip.AddrFrom4([4]byte{10, h[0], h[1], h[2]})
}

// TestImportUserRefusesAnUnparseableBcryptHash: bcrypt.Cost reads only the
// prefix, so "$2a$10$" followed by 53 '!' was imported as a user who could
// never log in (issue #15 finding 5). Every part of a bcrypt hash is now
// checked, and nothing is stored.
func TestImportUserRefusesAnUnparseableBcryptHash(t *testing.T) {
	ctx := context.Background()
	keys, _ := authn.NewKeyRing("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	st := memstore.New().Authn()
	svc, err := authn.New(authn.Config{Store: st, Keys: keys, Argon2: fastArgon2})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := bcrypt.GenerateFromPassword([]byte("legacy password 1"), bcrypt.MinCost)
	body := string(good[7:])
	for name, h := range map[string]string{
		"53 bangs":           "$2a$10$" + strings.Repeat("!", 53),
		"a space inside":     "$2b$10$" + body[:20] + " " + body[21:],
		"one character less": string(good[:59]),
		"one character more": string(good) + "A",
		"cost 3":             "$2a$03$" + body,
		"cost 99":            "$2a$99$" + body,
		"cost x1":            "$2a$x1$" + body,
		"no dollar":          "$2a$10" + "A" + body,
		"$2x$":               "$2x$10$" + body,
	} {
		if err := svc.ImportUser(ctx, "acme", "u-"+strings.ReplaceAll(name, " ", "-"), "user "+name, h); !errors.Is(err, authn.ErrHashFormat) || !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("%s: %v; want authn.ErrHashFormat", name, err)
		}
	}
	if n, _ := st.DeleteAccount(ctx, "acme"); n.Users != 0 {
		t.Fatalf("%d refused users were stored", n.Users)
	}
	if err := svc.ImportUser(ctx, "acme", "u-ok", "ok", string(good)); err != nil {
		t.Fatalf("a well-formed bcrypt hash: %v", err)
	}
}
