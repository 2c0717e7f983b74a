package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

// LoginRequest is one interactive login attempt.
type LoginRequest struct {
	Account  gdprkit.AccountID
	Username string
	Password string
	// IP is the client address, as the host's trusted-proxy logic found it.
	IP netip.Addr
	// Surface defaults to gdprkit.SurfaceAgentPanel.
	Surface gdprkit.Surface
	// Device is the device token an earlier login from this client
	// returned (LoginResult.DeviceToken), if the host kept one: its
	// attempts are then counted apart from everyone else's (see
	// ThrottlePolicy). An invalid or expired token is ignored.
	Device string
}

// LoginResult is either a session or a second-factor challenge.
type LoginResult struct {
	// SessionToken is the new session's secret, for a cookie; empty when a
	// second factor is required. Only its SHA-256 is stored.
	SessionToken string
	// Session describes the new session.
	Session Session
	// Challenge is set when the user must present a TOTP or recovery code
	// to CompleteLogin. It is sealed with the key ring, bound to the
	// account, the user and the current password, and expires after
	// Config.ChallengeTTL.
	Challenge string
	// EnrolmentRequired is set with Config.RequireTwoFactor when the user
	// has no TOTP yet: the host should confine the session to enrolment.
	EnrolmentRequired bool
	// DeviceToken marks this client as a trusted device of the user for
	// Config.TrustedDeviceTTL; set with a session, empty with a challenge
	// or when trusted devices are off. Keep it in a long-lived HttpOnly
	// cookie and pass it back as LoginRequest.Device. It grants no access
	// by itself.
	DeviceToken string
}

// NeedsSecondFactor reports whether the result is a challenge.
func (r LoginResult) NeedsSecondFactor() bool { return r.Challenge != "" }

// Principal is who an authenticated request acts for.
type Principal struct {
	Account gdprkit.AccountID
	UserID  string
	// Method is "session", "token" or "password".
	Method string
	// SecondFactor is true for a session whose login proved a second
	// factor.
	SecondFactor bool
	// SessionID or TokenID names the credential used.
	SessionID string
	TokenID   string
	// VerifiedAt is, for a session, when its holder last proved a
	// password or second factor (the login or the last StepUp).
	VerifiedAt time.Time
	// Scopes of an API token; nil for sessions and passwords (all scopes
	// of the user).
	Scopes []string
}

// HasScope reports whether the principal may act within scope: sessions and
// password logins have every scope; tokens only those they list.
func (p Principal) HasScope(scope string) bool {
	if p.Method != "token" {
		return true
	}
	return slices.Contains(p.Scopes, scope)
}

// maxPasswordBytes bounds what a login will hash: 4 KiB, far above the
// policy's maximum of MaxPasswordLength characters.
const maxPasswordBytes = 4096

var errBadCredentials = fmt.Errorf("%w: wrong username or password", gdprkit.ErrUnauthenticated)

// errBadAPICredentials is every refusal of an API credential: a wrong or
// unknown username, password or token, and the password of a user with
// TOTP, who must use a token (issue #15 finding 4: the answer is the same
// whether that password was right or wrong).
var errBadAPICredentials = fmt.Errorf("%w: wrong username, password or API token (users with two-factor login must use an API token)", gdprkit.ErrUnauthenticated)

// Login checks a username and password. It asks the AccountGate and the
// IPGate first. Every outcome costs the same KDF work and reads the same
// whether or not the username exists (see ThrottlePolicy and
// Config.LegacyBcryptCost). On success it returns a new session and a
// device token, or a challenge when the user has TOTP. A weak stored hash is
// upgraded on the way.
//
// Errors wrap gdprkit.ErrUnauthenticated (wrong username or password,
// disabled user or an unusable stored hash, never saying which),
// gdprkit.ErrLocked (a *ThrottledError), the gates' errors
// (ErrAccountSuspended, ErrAccountTerminated, ErrForbidden),
// gdprkit.ErrInvalid, or gdprkit.ErrUnavailable when the store failed or
// ctx ended, in which case nothing was counted against anyone.
func (s *Service) Login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	if req.Surface == "" {
		req.Surface = gdprkit.SurfaceAgentPanel
	}
	u, device, err := s.passwordStep(ctx, req.Account, req.Username, req.Password, req.Surface, req.IP, req.Device, false)
	if err != nil {
		return LoginResult{}, err
	}
	_, err = s.st.TOTP(ctx, req.Account, u.ID, false)
	switch {
	case err == nil:
		c := s.sealChallenge(req.Account, u)
		s.event(ctx, req.Account, EventSecondFactor, u.ID, map[string]string{"surface": string(req.Surface)})
		return LoginResult{Challenge: c}, nil
	case !errors.Is(err, gdprkit.ErrNotFound):
		return LoginResult{}, fmt.Errorf("authn: login: %w", err)
	}
	tok, sess, err := s.startSession(ctx, req.Account, u, false, time.Time{})
	if err != nil {
		return LoginResult{}, err
	}
	s.event(ctx, req.Account, EventLoginSucceeded, u.ID, map[string]string{"surface": string(req.Surface), "factors": "password"})
	return LoginResult{SessionToken: tok, Session: sess, EnrolmentRequired: s.cfg.RequireTwoFactor,
		DeviceToken: s.sealDevice(req.Account, u, device)}, nil
}

// passwordStep runs the gates, finds the user and makes one throttled
// password attempt (see passwordAttempt); it returns the user and the ID
// of the trusted device the client presented (nil for none). With api set,
// a user with TOTP fails without their password being checked.
func (s *Service) passwordStep(ctx context.Context, account gdprkit.AccountID, username, password string, surface gdprkit.Surface, ip netip.Addr, deviceToken string, api bool) (User, []byte, error) {
	if err := account.Validate(); err != nil {
		return User{}, nil, err
	}
	if err := s.gates(ctx, account, surface, ip); err != nil {
		return User{}, nil, err
	}
	name, nerr := s.canonicalUsername(username)
	if nerr != nil {
		name = username // counted under the name as given
	}
	var u *User
	if len(password) > maxPasswordBytes {
		// No stored hash can match (the policy caps new passwords far
		// below this): count it under the name, real user or not, without
		// normalising megabytes of input.
		password = ""
	} else if nerr == nil {
		got, err := s.st.UserByUsername(ctx, account, name)
		switch {
		case err == nil:
			u = &got
		case !errors.Is(err, gdprkit.ErrNotFound):
			return User{}, nil, fmt.Errorf("authn: login: %w", err)
		}
	}
	var device []byte
	verify := true
	if u != nil {
		device = s.openDevice(account, *u, deviceToken)
		if api {
			has, err := s.hasTOTP(ctx, account, u.ID)
			if err != nil {
				return User{}, nil, fmt.Errorf("authn: api: %w", err)
			}
			verify = !has
		}
	} else if api {
		_, _ = s.hasTOTP(ctx, account, "") // the same store work as for a user
	}
	got, err := s.passwordAttempt(ctx, account, u, name, password, deviceClient(device), sourceOf(ip), verify)
	return got, device, err
}

// SecondFactorRequest completes a login that returned a challenge.
type SecondFactorRequest struct {
	Account   gdprkit.AccountID
	Challenge string
	// Code is a TOTP code (digits only) or a recovery code. An API token
	// is never accepted here.
	Code    string
	IP      netip.Addr
	Surface gdprkit.Surface
	// Device is the client's device token, as in LoginRequest.
	Device string
}

// CompleteLogin checks the second factor of a challenged login and returns
// a new session. TOTP codes are single-use; a recovery code is used up.
// Errors wrap gdprkit.ErrUnauthenticated (expired or forged challenge,
// wrong or replayed code), gdprkit.ErrLocked, or the gates' errors.
func (s *Service) CompleteLogin(ctx context.Context, req SecondFactorRequest) (LoginResult, error) {
	if req.Surface == "" {
		req.Surface = gdprkit.SurfaceAgentPanel
	}
	if err := req.Account.Validate(); err != nil {
		return LoginResult{}, err
	}
	if err := s.gates(ctx, req.Account, req.Surface, req.IP); err != nil {
		return LoginResult{}, err
	}
	u, err := s.openChallenge(ctx, req.Account, req.Challenge)
	if err != nil {
		s.event(ctx, req.Account, EventLoginFailed, "", map[string]string{"reason": "bad_challenge", "surface": string(req.Surface)})
		return LoginResult{}, err
	}
	device := s.openDevice(req.Account, u, req.Device)
	factor, err := s.secondFactor(ctx, req.Account, u.ID, req.Code, deviceClient(device), sourceOf(req.IP))
	if err != nil {
		return LoginResult{}, err
	}
	tok, sess, err := s.startSession(ctx, req.Account, u, true, time.Time{})
	if err != nil {
		return LoginResult{}, err
	}
	s.event(ctx, req.Account, EventLoginSucceeded, u.ID, map[string]string{"surface": string(req.Surface), "factors": "password+" + factor})
	return LoginResult{SessionToken: tok, Session: sess, DeviceToken: s.sealDevice(req.Account, u, device)}, nil
}

// secondFactor checks code as a TOTP code (digits) or a recovery code and
// names the factor it was. An API token is never a second factor.
func (s *Service) secondFactor(ctx context.Context, account gdprkit.AccountID, userID, code, client string, src source) (string, error) {
	code = strings.TrimSpace(code)
	switch {
	case ParseAPIToken(code, s.cfg.TokenPrefix) == nil:
		s.event(ctx, account, EventLoginFailed, userID, map[string]string{"reason": "token_as_second_factor"})
		return "", fmt.Errorf("%w: an API token is not a second factor", gdprkit.ErrUnauthenticated)
	case isDigits(code):
		return "totp", s.verifyTOTP(ctx, account, userID, code, client, src)
	default:
		return "recovery_code", s.useRecoveryCode(ctx, account, userID, code, client, src)
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Challenges: keyID "." base64url(seal(version|expiry|pwfp|userID)), with
// the account in the associated data.
const challengeVersion = 1

func challengeAAD(account gdprkit.AccountID) []byte {
	return []byte("gdprkit/authn/challenge\x00" + string(account))
}

func passwordFingerprint(hash string) []byte {
	h := sha256.Sum256([]byte("gdprkit/authn/pwfp\x00" + hash))
	return h[:16]
}

func (s *Service) sealChallenge(account gdprkit.AccountID, u User) string {
	exp := s.clock.Now().Add(s.cfg.ChallengeTTL).Unix()
	pt := make([]byte, 0, 1+8+16+len(u.ID))
	pt = append(pt, challengeVersion)
	pt = binary.BigEndian.AppendUint64(pt, uint64(exp))
	pt = append(pt, passwordFingerprint(u.PasswordHash)...)
	pt = append(pt, u.ID...)
	kid, sealed := s.keys.seal(pt, challengeAAD(account))
	return kid + "." + base64.RawURLEncoding.EncodeToString(sealed)
}

func (s *Service) openChallenge(ctx context.Context, account gdprkit.AccountID, c string) (User, error) {
	bad := fmt.Errorf("%w: invalid or expired login challenge", gdprkit.ErrUnauthenticated)
	kid, body, ok := strings.Cut(c, ".")
	if !ok || len(c) > 1024 {
		return User{}, bad
	}
	sealed, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return User{}, bad
	}
	pt, err := s.keys.open(kid, sealed, challengeAAD(account))
	if err != nil || len(pt) < 1+8+16+1 || pt[0] != challengeVersion {
		return User{}, bad
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(pt[1:9])), 0)
	if !s.clock.Now().Before(exp) {
		return User{}, bad
	}
	u, err := s.st.User(ctx, account, string(pt[25:]))
	if errors.Is(err, gdprkit.ErrNotFound) {
		return User{}, bad
	}
	if err != nil {
		return User{}, fmt.Errorf("authn: challenge: %w", err)
	}
	if u.Disabled || subtle.ConstantTimeCompare(passwordFingerprint(u.PasswordHash), pt[9:25]) != 1 {
		return User{}, bad
	}
	return u, nil
}
