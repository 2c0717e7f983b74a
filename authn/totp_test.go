package authn

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// RFC 6238 Appendix B: the seeds are the ASCII string "1234567890" repeated
// to the hash's length.
var (
	seed20 = []byte("12345678901234567890")
	seed32 = []byte("12345678901234567890123456789012")
	seed64 = []byte("1234567890123456789012345678901234567890123456789012345678901234")
)

func TestRFC6238AppendixB(t *testing.T) {
	vectors := []struct {
		unix int64
		alg  Algorithm
		want string
	}{
		{59, SHA1, "94287082"}, {59, SHA256, "46119246"}, {59, SHA512, "90693936"},
		{1111111109, SHA1, "07081804"}, {1111111109, SHA256, "68084774"}, {1111111109, SHA512, "25091201"},
		{1111111111, SHA1, "14050471"}, {1111111111, SHA256, "67062674"}, {1111111111, SHA512, "99943326"},
		{1234567890, SHA1, "89005924"}, {1234567890, SHA256, "91819424"}, {1234567890, SHA512, "93441116"},
		{2000000000, SHA1, "69279037"}, {2000000000, SHA256, "90698825"}, {2000000000, SHA512, "38618901"},
		{20000000000, SHA1, "65353130"}, {20000000000, SHA256, "77737706"}, {20000000000, SHA512, "47863826"},
	}
	seeds := map[Algorithm][]byte{SHA1: seed20, SHA256: seed32, SHA512: seed64}
	for _, v := range vectors {
		p := TOTPParams{Algorithm: v.alg, Digits: 8, Period: 30}
		at := time.Unix(v.unix, 0)
		if got := TOTP(seeds[v.alg], at, p); got != v.want {
			t.Errorf("TOTP(%s, %d) = %s, want %s", v.alg, v.unix, got, v.want)
		}
		if _, ok := VerifyTOTP(seeds[v.alg], v.want, at, p, 0); !ok {
			t.Errorf("VerifyTOTP(%s, %d) refused the RFC vector", v.alg, v.unix)
		}
	}
}

func TestRFC4226AppendixD(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := HOTP(SHA1, seed20, uint64(i), 6); got != w {
			t.Errorf("HOTP(%d) = %s, want %s", i, got, w)
		}
	}
}

func TestVerifyTOTPAcceptsOneStepOfDriftAndNoMore(t *testing.T) {
	p := TOTPParams{}
	now := time.Unix(1_700_000_010, 0)
	for _, tc := range []struct {
		name   string
		offset time.Duration
		skew   int
		ok     bool
	}{
		{"current step", 0, 1, true},
		{"one step late", -30 * time.Second, 1, true},
		{"one step early", 30 * time.Second, 1, true},
		{"two steps late", -60 * time.Second, 1, false},
		{"two steps early", 60 * time.Second, 1, false},
		{"one step late without skew", -30 * time.Second, 0, false},
		{"two steps late with skew 2", -60 * time.Second, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := TOTP(seed20, now.Add(tc.offset), p)
			st, ok := VerifyTOTP(seed20, code, now, p, tc.skew)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok && st != now.Add(tc.offset).Unix()/30 {
				t.Fatalf("matched step %d, want %d", st, now.Add(tc.offset).Unix()/30)
			}
		})
	}
}

func TestVerifyTOTPRefusesMalformedCodes(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	code := TOTP(seed20, now, TOTPParams{})
	for _, bad := range []string{"", code[:5], code + "0", " " + code[1:], "12345a", "١٢٣٤٥٦", "-12345", "+12345"} {
		if _, ok := VerifyTOTP(seed20, bad, now, TOTPParams{}, 1); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestVerifyTOTPDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	now := time.Unix(1_700_000_000, 0)
	for _, alg := range []Algorithm{SHA1, SHA256, SHA512} {
		p := TOTPParams{Algorithm: alg}
		code := TOTP(seed64, now, p)
		allocs := testing.AllocsPerRun(100, func() {
			if _, ok := VerifyTOTP(seed64, code, now, p, 1); !ok {
				t.Fatal("refused")
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per verification, want 0", alg, allocs)
		}
	}
}

func TestSecretsRoundTripAndRefuseGarbage(t *testing.T) {
	s := EncodeSecret(seed20)
	if s != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("EncodeSecret = %s", s)
	}
	for _, in := range []string{s, strings.ToLower(s), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", s + "===="} {
		got, err := DecodeSecret(in)
		if err != nil || !bytes.Equal(got, seed20) {
			t.Errorf("DecodeSecret(%q) = %x, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "GEZDGNBV", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", "GEZDGNBVGY3TQOJQ=GEZDGNBVGY3TQOJQ", "ÄEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"} {
		if _, err := DecodeSecret(bad); err == nil {
			t.Errorf("DecodeSecret(%q) accepted", bad)
		}
	}
}

func FuzzBase32Secret(f *testing.F) {
	f.Add("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	f.Add("gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
	f.Add("JBSWY3DPEHPK3PXP====")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeSecret(s)
		if err != nil {
			if b != nil {
				t.Fatal("error with data")
			}
			return
		}
		again, err := DecodeSecret(EncodeSecret(b))
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("round trip of %q: %x != %x (%v)", s, again, b, err)
		}
	})
}
