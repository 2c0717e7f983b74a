package authn

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// API token format.
//
// A token reads <prefix><body><check>, for example
//
//	gdk_Yq3b0cI8N1tWm2Zp5RkVx7Ld9Hs4Ja6Eo1Tn0Ug3
//
// where prefix is DefaultTokenPrefix (or Config.TokenPrefix), body is
// TokenBodyLen base62 characters from crypto/rand (about 178 bits) and check
// is the CRC-32 (IEEE) of prefix+body in 6 base62 characters. The prefix
// lets secret scanners recognise a leaked token, and the checksum lets them
// (and this package) reject random strings without a database lookup.
const (
	DefaultTokenPrefix = "gdk_"
	TokenBodyLen       = 30
	tokenCheckLen      = 6
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// validTokenPrefix: 2 to 16 lower-case letters or digits, ending in '_'.
func validTokenPrefix(p string) bool {
	if len(p) < 3 || len(p) > 17 || p[len(p)-1] != '_' {
		return false
	}
	for i := 0; i < len(p)-1; i++ {
		if !('a' <= p[i] && p[i] <= 'z' || '0' <= p[i] && p[i] <= '9') {
			return false
		}
	}
	return true
}

func tokenCheck(prefixBody string) string {
	v := crc32.ChecksumIEEE([]byte(prefixBody))
	var b [tokenCheckLen]byte
	for i := tokenCheckLen - 1; i >= 0; i-- {
		b[i] = base62[v%62]
		v /= 62
	}
	return string(b[:])
}

// randomBase62 returns n base62 characters drawn uniformly from crypto/rand
// (rejection sampling, so no character is more likely than another).
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("authn: crypto/rand failed: " + err.Error())
		}
		for _, c := range buf {
			if c < 248 && len(out) < n { // 248 = 4 × 62
				out = append(out, base62[c%62])
			}
		}
	}
	return string(out)
}

// newAPIToken returns a fresh token with the given prefix.
func newAPIToken(prefix string) string {
	pb := prefix + randomBase62(TokenBodyLen)
	return pb + tokenCheck(pb)
}

// ParseAPIToken checks that s has the shape of an API token with the given
// prefix (empty means DefaultTokenPrefix) and a correct checksum. It does
// not say whether the token exists; it lets callers and scanners reject
// garbage cheaply. Errors wrap gdprkit.ErrInvalid.
func ParseAPIToken(s, prefix string) error {
	if prefix == "" {
		prefix = DefaultTokenPrefix
	}
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return fmt.Errorf("%w: API token lacks the %q prefix", gdprkit.ErrInvalid, prefix)
	}
	if len(rest) != TokenBodyLen+tokenCheckLen {
		return fmt.Errorf("%w: API token has the wrong length", gdprkit.ErrInvalid)
	}
	for i := 0; i < len(rest); i++ {
		if !isBase62(rest[i]) {
			return fmt.Errorf("%w: API token has a character outside base62", gdprkit.ErrInvalid)
		}
	}
	if tokenCheck(s[:len(prefix)+TokenBodyLen]) != rest[TokenBodyLen:] {
		return fmt.Errorf("%w: API token checksum does not match", gdprkit.ErrInvalid)
	}
	return nil
}

// secretHash is the SHA-256 under which session and API tokens are stored.
func secretHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newSessionToken returns 256 bits from crypto/rand, base64url-encoded.
func newSessionToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("authn: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Recovery codes.
//
// Each code carries 120 bits from crypto/rand, written as 24 characters of
// lower-case base32 in six groups of four ("abcd-efgh-…"). Because every code
// holds at least 112 bits, ASVS 5 §6.5.2 allows storing a plain SHA-256
// instead of a salted password hash; the hash input also names the account
// and user, so equal codes of two users (which will not happen) would still
// hash apart. Codes are compared after removing spaces and hyphens and
// folding case.
const (
	// RecoveryCodeCount is how many codes one generation yields.
	RecoveryCodeCount = 10
	recoveryChars     = 24
)

const recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

func newRecoveryCode() string {
	var raw [15]byte // 120 bits
	if _, err := rand.Read(raw[:]); err != nil {
		panic("authn: crypto/rand failed: " + err.Error())
	}
	var b strings.Builder
	b.Grow(recoveryChars + 5)
	var acc uint32
	bits := 0
	n := 0
	for _, x := range raw {
		acc = acc<<8 | uint32(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			if n > 0 && n%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[(acc>>bits)&31])
			n++
		}
	}
	return b.String()
}

// canonicalRecoveryCode strips separators and folds case; ok is false when
// the result is not 24 characters of the recovery alphabet.
func canonicalRecoveryCode(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	var b [recoveryChars]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') || n == recoveryChars {
			return "", false
		}
		b[n] = c
		n++
	}
	if n != recoveryChars {
		return "", false
	}
	return string(b[:]), true
}

func recoveryHash(account gdprkit.AccountID, user, canonical string) []byte {
	h := sha256.New()
	for _, p := range [...]string{"gdprkit/authn/recovery", string(account), user, canonical} {
		var n [4]byte
		l := len(p)
		n[0], n[1], n[2], n[3] = byte(l>>24), byte(l>>16), byte(l>>8), byte(l)
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}
