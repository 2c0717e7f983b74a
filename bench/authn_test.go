package bench

import (
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gdprkit/gdprkit/authn"
)

// BenchmarkTOTPVerify compares gdprkit's TOTP verification with
// github.com/pquerna/otp's totp.ValidateCustom at the same parameters
// (SHA-1, 6 digits, 30 s, one step of skew either way) on the same valid
// code. pquerna takes the base32 secret, as it is stored there; gdprkit
// takes the raw secret, as the Service holds it after opening the sealed
// record.
func BenchmarkTOTPVerify(b *testing.B) {
	secret := []byte("12345678901234567890")
	b32 := authn.EncodeSecret(secret)
	now := time.Unix(1_700_000_000, 0)
	code := authn.TOTP(secret, now, authn.TOTPParams{})

	b.Run("gdprkit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := authn.VerifyTOTP(secret, code, now, authn.TOTPParams{}, 1); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("pquerna", func(b *testing.B) {
		opts := totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := totp.ValidateCustom(code, b32, now, opts); !ok || err != nil {
				b.Fatal("refused", err)
			}
		}
	})
}
