package authn

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gdprkit/gdprkit"
)

// small parameters keep race-detector runs fast; tests about the defaults
// use DefaultArgon2 explicitly.
var testArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1}

func testHasher() *hasher {
	return newHasher(testArgon2, Limits{MaxMemory: 64 * 1024, MaxTime: 10, MaxThreads: 8, MaxBcryptCost: 14}, 2)
}

func TestPHCRoundTrip(t *testing.T) {
	h := testHasher()
	ctx := context.Background()
	enc, err := h.hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("PHC string %q", enc)
	}
	p, err := parsePHC(enc)
	if err != nil {
		t.Fatal(err)
	}
	if encodePHC(p) != enc {
		t.Fatalf("re-encoding changed %q", enc)
	}
	ok, rehash, err := h.verify(ctx, enc, "correct horse battery staple")
	if !ok || rehash || err != nil {
		t.Fatalf("verify = %v %v %v", ok, rehash, err)
	}
	ok, _, err = h.verify(ctx, enc, "correct horse battery stapl")
	if ok || err != nil {
		t.Fatalf("wrong password: %v %v", ok, err)
	}
}

func TestDefaultHashIsOWASPArgon2id(t *testing.T) {
	h := newHasher(DefaultArgon2, Limits{MaxMemory: 65536, MaxTime: 10, MaxThreads: 8, MaxBcryptCost: 14}, 1)
	enc, err := h.hash(context.Background(), "a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("default PHC string %q", enc)
	}
	p, _ := parsePHC(enc)
	if len(p.salt) != 16 || len(p.key) != 32 {
		t.Fatalf("salt %d bytes, key %d bytes", len(p.salt), len(p.key))
	}
}

func TestNFKCNormalisedBeforeHashing(t *testing.T) {
	h := testHasher()
	ctx := context.Background()
	// "Å" as one code point (U+00C5) and as A + combining ring (U+0041 U+030A);
	// "ﬁ" (U+FB01) is NFKC-equal to "fi".
	enc, err := h.hash(ctx, "\u00c5ngstr\u00f6m-\ufb01le-cabinet")
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := h.verify(ctx, enc, "A\u030angstro\u0308m-file-cabinet")
	if !ok || err != nil {
		t.Fatalf("NFKC-equal password refused: %v", err)
	}
}

func TestTamperedHashIsAnErrorNotAnOutage(t *testing.T) {
	h := testHasher()
	ctx := context.Background()
	salt := b64.EncodeToString(make([]byte, 16))
	key := b64.EncodeToString(make([]byte, 32))
	for name, enc := range map[string]string{
		"4 GiB of memory":  "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,
		"a million passes": "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key,
		"255 lanes":        "$argon2id$v=19$m=65536,t=1,p=255$" + salt + "$" + key,
		"bcrypt cost 31":   "$2a$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
	} {
		t.Run(name, func(t *testing.T) {
			ok, _, err := h.verify(ctx, enc, "whatever")
			if ok || !errors.Is(err, ErrHashFormat) || !errors.Is(err, gdprkit.ErrInvalid) {
				t.Fatalf("verify = %v, %v; want an ErrHashFormat error", ok, err)
			}
		})
	}
}

func TestBcryptVerifiedAndMarkedForRehash(t *testing.T) {
	h := testHasher()
	ctx := context.Background()
	enc, err := bcrypt.GenerateFromPassword([]byte("legacy password 1"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := h.verify(ctx, string(enc), "legacy password 1")
	if !ok || !rehash || err != nil {
		t.Fatalf("bcrypt verify = %v %v %v", ok, rehash, err)
	}
	ok, _, err = h.verify(ctx, string(enc), "legacy password 2")
	if ok || err != nil {
		t.Fatalf("bcrypt mismatch = %v %v", ok, err)
	}
	// bcrypt ignores bytes past 72; we refuse instead of truncating.
	long := strings.Repeat("x", 72)
	enc, err = bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err = h.verify(ctx, string(enc), long+"tail")
	if ok || !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("73+ bytes against bcrypt = %v %v; want an error", ok, err)
	}
}

func TestWeakerArgon2IsMarkedForRehash(t *testing.T) {
	weak := newHasher(Argon2Params{Memory: 32, Time: 1, Threads: 1}, Limits{MaxMemory: 1 << 16, MaxTime: 10, MaxThreads: 8}, 1)
	enc, _ := weak.hash(context.Background(), "some password here")
	ok, rehash, err := testHasher().verify(context.Background(), enc, "some password here")
	if !ok || !rehash || err != nil {
		t.Fatalf("verify = %v %v %v; want match needing rehash", ok, rehash, err)
	}
}

func TestPasswordPolicy(t *testing.T) {
	p := &PasswordPolicy{MinLength: 8, MaxLength: 64, blocked: loadBlocklist(), context: []string{"acmedesk"}}
	for _, tc := range []struct {
		pw, user, reason string
	}{
		{"short", "", "too_short"},
		{"éééééé", "", "too_short"}, // 6 characters, 12 bytes
		{"éééééééé", "", ""},        // 8 characters
		{strings.Repeat("b", 64), "", ""},
		{strings.Repeat("b", 65), "", "too_long"},
		{"password123", "", "blocklisted"},
		{"PassWord123", "", "blocklisted"},
		{"ｐａｓｓｗｏｒｄ１２３", "", "blocklisted"}, // full-width, NFKC-equal
		{"alice-has-a-long-secret", "Alice", "context_word"},
		{"my acmedesk login 2026", "", "context_word"},
		{"no Composition rules needed here", "", ""},
		{"bad\xffutf8 string here!!", "", "invalid_utf8"},
	} {
		err := p.Check(tc.pw, tc.user)
		var pe *PolicyError
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("%q refused: %v", tc.pw, err)
		case tc.reason != "" && (!errors.As(err, &pe) || pe.Reason != tc.reason || !errors.Is(err, gdprkit.ErrInvalid)):
			t.Errorf("%q: got %v, want reason %s", tc.pw, err, tc.reason)
		}
	}
	if err := p.Check("password1", ""); err == nil || !strings.Contains(err.Error(), "commonly used") {
		t.Errorf("blocklisted password: %v", err)
	}
}

func FuzzPHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=0,t=2,p=1$$")
	f.Add("$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			return
		}
		again, err := parsePHC(encodePHC(p))
		if err != nil || again.params != p.params || !bytes.Equal(again.salt, p.salt) || !bytes.Equal(again.key, p.key) {
			t.Fatalf("round trip of %q failed: %v", s, err)
		}
		if p.params.Memory == 0 || p.params.Time == 0 || p.params.Threads == 0 {
			t.Fatalf("zero parameter accepted in %q", s)
		}
	})
}

func TestOTPAuthURI(t *testing.T) {
	k := OTPKey{Issuer: "Acme Help & Co", Account: "alice@example.com", Secret: seed20}
	u, err := k.URI()
	if err != nil {
		t.Fatal(err)
	}
	want := "otpauth://totp/Acme%20Help%20%26%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Help%20%26%20Co&algorithm=SHA1&digits=6&period=30"
	if u != want {
		t.Fatalf("URI\n got %s\nwant %s", u, want)
	}
	back, err := ParseURI(u)
	if err != nil {
		t.Fatal(err)
	}
	k.Params = k.Params.withDefaults()
	if back.Issuer != k.Issuer || back.Account != k.Account || !bytes.Equal(back.Secret, k.Secret) || back.Params != k.Params {
		t.Fatalf("parsed %+v", back)
	}
	for _, bad := range []OTPKey{
		{Issuer: "a:b", Account: "x", Secret: seed20},
		{Account: "", Secret: seed20},
		{Account: "x", Secret: seed20[:10]},
		{Account: "x", Secret: seed20, Params: TOTPParams{Digits: 7}},
	} {
		if _, err := bad.URI(); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("URI(%+v) = %v", bad, err)
		}
	}
	png1, err := k.QRCode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(png1)); err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
}

func TestParseURI(t *testing.T) {
	ok := []string{
		"otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
		"otpauth://totp/john?secret=hxdmvjecjjwsrb3hwizr4ifugftmxboz",
		"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example&image=https%3A%2F%2Fx",
		"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Big+Corp&algorithm=SHA512&digits=8&period=60",
	}
	for _, s := range ok {
		if _, err := ParseURI(s); err != nil {
			t.Errorf("ParseURI(%q) = %v", s, err)
		}
	}
	bad := []string{
		"otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&counter=1",
		"otpauth://totp/alice",
		"otpauth://totp/alice?secret=JBSWY3DP",
		"otpauth://totp/A:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=B",
		"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=MD5",
		"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&digits=7",
		"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&period=0",
		"https://totp/alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		"otpauth://totp/?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
	}
	for _, s := range bad {
		if _, err := ParseURI(s); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("ParseURI(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func FuzzOTPAuthURI(f *testing.F) {
	f.Add("otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30", "Issuer", "acct")
	f.Add("otpauth://totp/a?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&digits=8", "a%b", "c d/e?f")
	f.Fuzz(func(t *testing.T, uri, issuer, account string) {
		// Parser: whatever it accepts formats and parses back to the same key.
		if k, err := ParseURI(uri); err == nil {
			s, err := k.URI()
			if err != nil {
				t.Fatalf("accepted %q but cannot format it: %v", uri, err)
			}
			k2, err := ParseURI(s)
			if err != nil || k2.Issuer != k.Issuer || k2.Account != k.Account || !bytes.Equal(k2.Secret, k.Secret) || k2.Params != k.Params {
				t.Fatalf("round trip of %q via %q: %+v %v", uri, s, k2, err)
			}
		}
		// Formatter: whatever it formats parses back to the same key.
		k := OTPKey{Issuer: issuer, Account: account, Secret: seed20}
		s, err := k.URI()
		if err != nil {
			return
		}
		k2, err := ParseURI(s)
		if err != nil || k2.Issuer != issuer || k2.Account != account || !bytes.Equal(k2.Secret, seed20) {
			t.Fatalf("formatted %q does not parse back: %+v %v", s, k2, err)
		}
	})
}

func TestAPITokenFormat(t *testing.T) {
	tok := newAPIToken(DefaultTokenPrefix)
	if !strings.HasPrefix(tok, "gdk_") || len(tok) != 4+TokenBodyLen+6 {
		t.Fatalf("token %q", tok)
	}
	if err := ParseAPIToken(tok, ""); err != nil {
		t.Fatal(err)
	}
	// Any single-character change is caught by the checksum or the alphabet.
	for i := 4; i < len(tok); i++ {
		b := []byte(tok)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		if ParseAPIToken(string(b), "") == nil {
			t.Errorf("altered token %q accepted", b)
		}
	}
	if newAPIToken(DefaultTokenPrefix) == tok {
		t.Fatal("two tokens are equal")
	}
}

func FuzzAPIToken(f *testing.F) {
	f.Add(newAPIToken(DefaultTokenPrefix))
	f.Add("gdk_")
	f.Add("gdk_000000000000000000000000000000000000")
	f.Fuzz(func(t *testing.T, s string) {
		if ParseAPIToken(s, "") != nil {
			return
		}
		if !strings.HasPrefix(s, "gdk_") || len(s) != 40 {
			t.Fatalf("accepted malformed %q", s)
		}
		if tokenCheck(s[:34]) != s[34:] {
			t.Fatalf("accepted %q with a wrong checksum", s)
		}
	})
}

func TestRecoveryCodeFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		c := newRecoveryCode()
		if len(c) != 29 || strings.Count(c, "-") != 5 {
			t.Fatalf("code %q", c)
		}
		canon, ok := canonicalRecoveryCode(strings.ToUpper(strings.ReplaceAll(c, "-", " ")))
		if !ok || canon != strings.ReplaceAll(c, "-", "") {
			t.Fatalf("canonical form of %q: %q %v", c, canon, ok)
		}
		if seen[c] {
			t.Fatal("duplicate code")
		}
		seen[c] = true
	}
	for _, bad := range []string{"", "abcd", strings.Repeat("a", 25), strings.Repeat("1", 24)} {
		if _, ok := canonicalRecoveryCode(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestKeyRing(t *testing.T) {
	k1, k2 := NewKey(), NewKey()
	r1, err := NewKeyRing("k1", map[string][]byte{"k1": k1})
	if err != nil {
		t.Fatal(err)
	}
	kid, sealed := r1.seal([]byte("secret"), []byte("aad"))
	r2, _ := NewKeyRing("k2", map[string][]byte{"k1": k1, "k2": k2})
	pt, err := r2.open(kid, sealed, []byte("aad"))
	if err != nil || string(pt) != "secret" {
		t.Fatalf("rotated ring cannot open old record: %v", err)
	}
	if _, err := r2.open(kid, sealed, []byte("other")); err == nil {
		t.Fatal("opened with other associated data")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := r2.open(kid, sealed, []byte("aad")); err == nil {
		t.Fatal("opened a tampered record")
	}
	if kid2, _ := r2.seal([]byte("x"), nil); kid2 != "k2" {
		t.Fatalf("sealed with %q, want the primary", kid2)
	}
	for _, bad := range []func() (*KeyRing, error){
		func() (*KeyRing, error) { return NewKeyRing("k3", map[string][]byte{"k1": k1}) },
		func() (*KeyRing, error) { return NewKeyRing("k1", map[string][]byte{"k1": k1[:16]}) },
		func() (*KeyRing, error) { return NewKeyRing("k 1", map[string][]byte{"k 1": k1}) },
	} {
		if _, err := bad(); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("bad key ring accepted: %v", err)
		}
	}
}

func TestKDFSlotsBoundConcurrencyAndHonourTheContext(t *testing.T) {
	h := newHasher(testArgon2, Limits{MaxMemory: 1024, MaxTime: 10, MaxThreads: 8, MaxBcryptCost: 14}, 2)
	enc, err := h.hash(context.Background(), "some password here")
	if err != nil {
		t.Fatal(err)
	}
	// Both slots taken: a verification waits, and gives up with its context.
	h.sem <- struct{}{}
	h.sem <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := h.verify(ctx, enc, "some password here"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("verify with no free slot: %v", err)
	}
	<-h.sem
	if ok, _, err := h.verify(context.Background(), enc, "some password here"); !ok || err != nil {
		t.Fatalf("verify with a free slot: %v %v", ok, err)
	}
	if len(h.sem) != 1 {
		t.Fatalf("%d slots held after verify, want 1 (ours)", len(h.sem))
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := h.hash(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("hash with a cancelled context: %v", err)
	}
}
