package authn

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding"
	"encoding/base32"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Algorithm is the HMAC hash of a one-time password.
type Algorithm uint8

// The algorithms RFC 6238 names. SHA1 is the zero value and the one Google
// Authenticator reads by default.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

// String returns "SHA1", "SHA256" or "SHA512", the spelling of otpauth URIs.
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// ParseAlgorithm is the inverse of String (case-insensitive).
func ParseAlgorithm(s string) (Algorithm, error) {
	switch strings.ToUpper(s) {
	case "SHA1":
		return SHA1, nil
	case "SHA256":
		return SHA256, nil
	case "SHA512":
		return SHA512, nil
	}
	return 0, fmt.Errorf("%w: unknown OTP algorithm %q", gdprkit.ErrInvalid, s)
}

// TOTPParams are the parameters of a time-based one-time password. The zero
// value means the defaults Google Authenticator reads: SHA-1, 6 digits, 30 s.
type TOTPParams struct {
	Algorithm Algorithm
	// Digits is 6 (default) or 8.
	Digits int
	// Period is the time step in seconds; default 30.
	Period int
}

func (p TOTPParams) withDefaults() TOTPParams {
	if p.Digits == 0 {
		p.Digits = 6
	}
	if p.Period == 0 {
		p.Period = 30
	}
	return p
}

func (p TOTPParams) validate() error {
	switch {
	case p.Algorithm > SHA512:
		return fmt.Errorf("%w: unknown OTP algorithm", gdprkit.ErrInvalid)
	case p.Digits != 6 && p.Digits != 8:
		return fmt.Errorf("%w: OTP digits must be 6 or 8", gdprkit.ErrInvalid)
	case p.Period < 1 || p.Period > 300:
		return fmt.Errorf("%w: OTP period must be 1 to 300 seconds", gdprkit.ErrInvalid)
	}
	return nil
}

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// otpMAC computes HMACs of 8-byte counters under one key. The inner and
// outer key blocks are hashed once per key and their hash states saved, so
// each further counter costs two compression-function calls. Instances are
// pooled per algorithm and hold every buffer they use, so a verification
// does not allocate.
type otpMAC struct {
	inner, outer   hash.Hash
	istate, ostate []byte
	block          [128]byte
	msg            [8]byte
	isum, osum     [64]byte
}

type stateMarshaler interface {
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}

var otpMACPools = [3]sync.Pool{
	{New: func() any { return newOTPMAC(sha1.New) }},
	{New: func() any { return newOTPMAC(sha256.New) }},
	{New: func() any { return newOTPMAC(sha512.New) }},
}

func newOTPMAC(h func() hash.Hash) *otpMAC {
	return &otpMAC{inner: h(), outer: h(), istate: make([]byte, 0, 256), ostate: make([]byte, 0, 256)}
}

func getOTPMAC(alg Algorithm, key []byte) *otpMAC {
	if alg > SHA512 {
		alg = SHA1
	}
	m := otpMACPools[alg].Get().(*otpMAC)
	m.setKey(key)
	return m
}

func putOTPMAC(alg Algorithm, m *otpMAC) {
	clear(m.block[:])
	clear(m.isum[:])
	clear(m.osum[:])
	if alg > SHA512 {
		alg = SHA1
	}
	otpMACPools[alg].Put(m)
}

func (m *otpMAC) setKey(key []byte) {
	bs := m.inner.BlockSize()
	k := m.block[:bs]
	clear(k)
	if len(key) > bs {
		m.inner.Reset()
		m.inner.Write(key)
		m.inner.Sum(m.isum[:0])
		copy(k, m.isum[:m.inner.Size()])
	} else {
		copy(k, key)
	}
	for i := range k {
		k[i] ^= 0x36
	}
	m.inner.Reset()
	m.inner.Write(k)
	m.istate, _ = m.inner.(stateMarshaler).AppendBinary(m.istate[:0])
	for i := range k {
		k[i] ^= 0x36 ^ 0x5c
	}
	m.outer.Reset()
	m.outer.Write(k)
	m.ostate, _ = m.outer.(stateMarshaler).AppendBinary(m.ostate[:0])
	clear(k)
}

// hotp returns the RFC 4226 value of counter reduced to digits digits.
func (m *otpMAC) hotp(counter uint64, digits int) uint32 {
	for i := 7; i >= 0; i-- {
		m.msg[i] = byte(counter)
		counter >>= 8
	}
	_ = m.inner.(stateMarshaler).UnmarshalBinary(m.istate)
	m.inner.Write(m.msg[:])
	is := m.inner.Sum(m.isum[:0])
	_ = m.outer.(stateMarshaler).UnmarshalBinary(m.ostate)
	m.outer.Write(is)
	sum := m.outer.Sum(m.osum[:0])
	off := int(sum[len(sum)-1] & 0x0f)
	bin := uint32(sum[off]&0x7f)<<24 | uint32(sum[off+1])<<16 | uint32(sum[off+2])<<8 | uint32(sum[off+3])
	return bin % pow10[digits]
}

// hotpValue is the RFC 4226 HOTP value of counter, reduced to digits
// decimal digits.
func hotpValue(alg Algorithm, key []byte, counter uint64, digits int) uint32 {
	m := getOTPMAC(alg, key)
	v := m.hotp(counter, digits)
	putOTPMAC(alg, m)
	return v
}

// HOTP returns the RFC 4226 one-time password for counter as a string of
// exactly digits decimal digits (6 to 8).
func HOTP(alg Algorithm, key []byte, counter uint64, digits int) string {
	if digits < 6 || digits > 8 {
		digits = 6
	}
	return formatCode(hotpValue(alg, key, counter, digits), digits)
}

func formatCode(v uint32, digits int) string {
	var b [8]byte
	for i := digits - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[:digits])
}

// step returns the RFC 6238 time step of t for period seconds; times before
// the Unix epoch give step 0.
func step(t time.Time, period int) int64 {
	u := t.Unix()
	if u < 0 {
		return 0
	}
	return u / int64(period)
}

// TOTP returns the RFC 6238 code valid at t.
func TOTP(key []byte, t time.Time, p TOTPParams) string {
	p = p.withDefaults()
	return HOTP(p.Algorithm, key, uint64(step(t, p.Period)), p.Digits)
}

// parseCode reads a code of exactly digits ASCII decimal digits.
func parseCode(code string, digits int) (uint32, bool) {
	if len(code) != digits {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint32(c-'0')
	}
	return v, true
}

// VerifyTOTP reports whether code is valid at t for key, allowing skew
// steps of clock drift either way, and returns the time step it matched. It
// computes the code of every step in the window and compares each in
// constant time, without returning early, so the time taken does not depend
// on which step (if any) matched. Single use is the caller's business: the
// Service refuses any step at or below the last one accepted. It does not
// allocate. Invalid parameters (after the zero-value defaults: an unknown
// algorithm, digits other than 6 or 8, a period outside 1 to 300 seconds)
// match nothing: VerifyTOTP returns (0, false).
func VerifyTOTP(key []byte, code string, t time.Time, p TOTPParams, skew int) (matched int64, ok bool) {
	p = p.withDefaults()
	if p.validate() != nil {
		return 0, false
	}
	want, valid := parseCode(code, p.Digits)
	if skew < 0 {
		skew = 0
	}
	now := step(t, p.Period)
	m := getOTPMAC(p.Algorithm, key)
	defer putOTPMAC(p.Algorithm, m)
	found := 0
	var at int64
	for d := -skew; d <= skew; d++ {
		s := now + int64(d)
		if s < 0 {
			s = 0
		}
		got := m.hotp(uint64(s), p.Digits)
		eq := subtle.ConstantTimeEq(int32(got), int32(want))
		// Prefer the latest matching step: assign whenever eq is 1.
		mask := -int64(eq)
		at = s&mask | at&^mask
		found |= eq
	}
	return at, valid && found == 1
}

// base32 secret encoding: RFC 4648 alphabet, no padding, upper case, as
// otpauth URIs and authenticator apps expect.
var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeSecret returns the base32 form (RFC 4648, upper case, unpadded) of
// a TOTP secret.
func EncodeSecret(secret []byte) string { return secretEncoding.EncodeToString(secret) }

// DecodeSecret parses a base32 TOTP secret as people type and apps show
// it: case-insensitive, with optional spaces or hyphens between groups and
// optional "=" padding. It refuses anything else, and secrets shorter than
// 128 bits or longer than 512 bits.
func DecodeSecret(s string) ([]byte, error) {
	var b strings.Builder
	b.Grow(len(s))
	pad := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case c == '=':
			pad = true
			continue
		case pad:
			return nil, fmt.Errorf("%w: base32 secret has data after padding", gdprkit.ErrInvalid)
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	out, err := secretEncoding.DecodeString(b.String())
	if err != nil {
		return nil, fmt.Errorf("%w: bad base32 secret", gdprkit.ErrInvalid)
	}
	if len(out) < 16 || len(out) > 64 {
		return nil, fmt.Errorf("%w: TOTP secret must hold 16 to 64 bytes, got %d", gdprkit.ErrInvalid, len(out))
	}
	return out, nil
}
