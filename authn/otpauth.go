package authn

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"rsc.io/qr"

	"github.com/gdprkit/gdprkit"
)

// OTPKey is what an otpauth:// URI carries: who the key is for and the
// shared secret with its parameters.
type OTPKey struct {
	// Issuer names the service ("Acme Helpdesk"); it must not contain ':'.
	Issuer string
	// Account names the user within the issuer (a username or e-mail
	// address); it must not contain ':'.
	Account string
	// Secret is the raw shared secret (16 to 64 bytes).
	Secret []byte
	// Params are the TOTP parameters (algorithm, digits, period).
	Params TOTPParams
}

const maxLabelPart = 256

func checkLabelPart(what, s string, required bool) error {
	switch {
	case s == "" && required:
		return fmt.Errorf("%w: otpauth %s is empty", gdprkit.ErrInvalid, what)
	case len(s) > maxLabelPart:
		return fmt.Errorf("%w: otpauth %s longer than %d bytes", gdprkit.ErrInvalid, what, maxLabelPart)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: otpauth %s is not valid UTF-8", gdprkit.ErrInvalid, what)
	case strings.ContainsRune(s, ':'):
		return fmt.Errorf("%w: otpauth %s contains ':'", gdprkit.ErrInvalid, what)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%w: otpauth %s has leading or trailing space", gdprkit.ErrInvalid, what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: otpauth %s contains a control character", gdprkit.ErrInvalid, what)
		}
	}
	return nil
}

// escape percent-encodes every byte except RFC 3986 unreserved characters,
// so a space becomes %20 (never '+'), and ':', '&', '=', '?' and '/' inside a
// label or parameter cannot be mistaken for structure.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// URI formats k as the otpauth URI Google Authenticator reads:
//
//	otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// Issuer and account are percent-encoded (a space is %20). It returns an
// error wrapping gdprkit.ErrInvalid for a key that cannot round-trip.
func (k OTPKey) URI() (string, error) {
	if err := checkLabelPart("issuer", k.Issuer, false); err != nil {
		return "", err
	}
	if err := checkLabelPart("account", k.Account, true); err != nil {
		return "", err
	}
	if len(k.Secret) < 16 || len(k.Secret) > 64 {
		return "", fmt.Errorf("%w: TOTP secret must hold 16 to 64 bytes", gdprkit.ErrInvalid)
	}
	p := k.Params.withDefaults()
	if err := p.validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if k.Issuer != "" {
		b.WriteString(escape(k.Issuer))
		b.WriteByte(':')
	}
	b.WriteString(escape(k.Account))
	b.WriteString("?secret=")
	b.WriteString(EncodeSecret(k.Secret))
	if k.Issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(escape(k.Issuer))
	}
	b.WriteString("&algorithm=")
	b.WriteString(p.Algorithm.String())
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(p.Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.Itoa(p.Period))
	return b.String(), nil
}

// QRCode returns a PNG image of k's otpauth URI, for enrolment screens.
func (k OTPKey) QRCode() ([]byte, error) {
	u, err := k.URI()
	if err != nil {
		return nil, err
	}
	c, err := qr.Encode(u, qr.M)
	if err != nil {
		return nil, fmt.Errorf("authn: QR code: %w", err)
	}
	c.Scale = 6
	return c.PNG(), nil
}

// ParseURI parses an otpauth://totp/ URI. It accepts what URI produces and
// what other issuers commonly write (label without issuer prefix, issuer
// only as a parameter, lower-case secret, %20 or '+' in parameters); it
// refuses HOTP URIs, a missing or short secret, repeated parameters,
// unknown algorithms, digits other than 6 and 8, periods outside 1–300 s,
// and an issuer parameter that disagrees with the label's prefix.
// Unknown parameters (such as image) are ignored.
func ParseURI(s string) (OTPKey, error) {
	var k OTPKey
	if len(s) > 4096 {
		return k, fmt.Errorf("%w: otpauth URI too long", gdprkit.ErrInvalid)
	}
	u, err := url.Parse(s)
	if err != nil {
		return k, fmt.Errorf("%w: otpauth URI: %v", gdprkit.ErrInvalid, err)
	}
	if !strings.EqualFold(u.Scheme, "otpauth") || u.Opaque != "" || u.User != nil || u.Fragment != "" {
		return k, fmt.Errorf("%w: not an otpauth URI", gdprkit.ErrInvalid)
	}
	if !strings.EqualFold(u.Host, "totp") {
		return k, fmt.Errorf("%w: otpauth URI type %q is not totp", gdprkit.ErrInvalid, u.Host)
	}
	label, ok := strings.CutPrefix(u.Path, "/")
	if !ok {
		return k, fmt.Errorf("%w: otpauth URI without label", gdprkit.ErrInvalid)
	}
	var prefix string
	if i, a, found := strings.Cut(label, ":"); found {
		prefix = i
		label = strings.TrimLeft(a, " ")
	}
	if err := checkLabelPart("issuer", prefix, false); err != nil {
		return k, err
	}
	if err := checkLabelPart("account", label, true); err != nil {
		return k, err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return k, fmt.Errorf("%w: otpauth URI query: %v", gdprkit.ErrInvalid, err)
	}
	for name, vs := range q {
		if len(vs) > 1 {
			return k, fmt.Errorf("%w: otpauth parameter %q repeated", gdprkit.ErrInvalid, name)
		}
	}
	k.Account = label
	k.Issuer = prefix
	if iss, has := q["issuer"]; has {
		if err := checkLabelPart("issuer", iss[0], false); err != nil {
			return k, err
		}
		if prefix != "" && iss[0] != prefix {
			return k, fmt.Errorf("%w: otpauth issuer parameter disagrees with the label", gdprkit.ErrInvalid)
		}
		k.Issuer = iss[0]
	}
	sec, has := q["secret"]
	if !has {
		return k, fmt.Errorf("%w: otpauth URI without secret", gdprkit.ErrInvalid)
	}
	if k.Secret, err = DecodeSecret(sec[0]); err != nil {
		return k, err
	}
	if v, has := q["algorithm"]; has {
		if k.Params.Algorithm, err = ParseAlgorithm(v[0]); err != nil {
			return k, err
		}
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"digits", &k.Params.Digits}, {"period", &k.Params.Period}} {
		if v, has := q[f.name]; has {
			n, err := strconv.Atoi(v[0])
			if err != nil || n == 0 || v[0] == "" || v[0][0] == '+' || v[0][0] == '-' || (len(v[0]) > 1 && v[0][0] == '0') {
				return k, fmt.Errorf("%w: otpauth %s %q", gdprkit.ErrInvalid, f.name, v[0])
			}
			*f.dst = n
		}
	}
	k.Params = k.Params.withDefaults()
	if err := k.Params.validate(); err != nil {
		return k, err
	}
	return k, nil
}
