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
	"strconv"
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

// Login checks a username and password. It asks the AccountGate and the
// IPGate first; an unknown user costs the same as a wrong password (a dummy
// hash is verified). On success it returns a new session, or a challenge
// when the user has TOTP. A weak stored hash is upgraded on the way.
//
// Errors wrap gdprkit.ErrUnauthenticated (wrong username or password, or
// disabled user, never saying which), gdprkit.ErrLocked (a
// *ThrottledError), the gates' errors (ErrAccountSuspended,
// ErrAccountTerminated, ErrForbidden) or gdprkit.ErrInvalid.
func (s *Service) Login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	if req.Surface == "" {
		req.Surface = gdprkit.SurfaceAgentPanel
	}
	u, err := s.passwordStep(ctx, req.Account, req.Username, req.Password, req.Surface, req.IP)
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
	tok, sess, err := s.startSession(ctx, req.Account, u, false)
	if err != nil {
		return LoginResult{}, err
	}
	s.event(ctx, req.Account, EventLoginSucceeded, u.ID, map[string]string{"surface": string(req.Surface), "factors": "password"})
	return LoginResult{SessionToken: tok, Session: sess, EnrolmentRequired: s.cfg.RequireTwoFactor}, nil
}

// passwordStep runs the gates and verifies the password, spending the same
// KDF work for unknown users.
func (s *Service) passwordStep(ctx context.Context, account gdprkit.AccountID, username, password string, surface gdprkit.Surface, ip netip.Addr) (User, error) {
	if err := account.Validate(); err != nil {
		return User{}, err
	}
	if err := s.gates(ctx, account, surface, ip); err != nil {
		return User{}, err
	}
	name, nerr := s.canonicalUsername(username)
	var u User
	err := nerr
	if len(password) > maxPasswordBytes {
		// No stored hash can match (the policy caps new passwords far
		// below this); refuse without normalising megabytes of input.
		err, password = gdprkit.ErrNotFound, ""
	}
	if err == nil {
		u, err = s.st.UserByUsername(ctx, account, name)
	}
	if err != nil {
		if nerr == nil && !errors.Is(err, gdprkit.ErrNotFound) {
			return User{}, fmt.Errorf("authn: login: %w", err)
		}
		// Unknown user: read a throttle counter and verify a dummy hash, so
		// the response takes as long as for a wrong password.
		_, _ = s.st.Throttle(ctx, account, "", FactorPassword)
		_, _, _ = s.hasher.verify(ctx, s.dummyHash(ctx), password)
		s.event(ctx, account, EventLoginFailed, "", map[string]string{"reason": "unknown_user", "surface": string(surface)})
		return User{}, errBadCredentials
	}
	// u now carries the hash actually stored (upgraded by a rehash).
	return s.checkPassword(ctx, account, u, password)
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
	code := strings.TrimSpace(req.Code)
	factor := "totp"
	switch {
	case ParseAPIToken(code, s.cfg.TokenPrefix) == nil:
		s.event(ctx, req.Account, EventLoginFailed, u.ID, map[string]string{"reason": "token_as_second_factor"})
		return LoginResult{}, fmt.Errorf("%w: an API token is not a second factor", gdprkit.ErrUnauthenticated)
	case isDigits(code):
		err = s.verifyTOTP(ctx, req.Account, u.ID, code)
	default:
		factor = "recovery_code"
		err = s.useRecoveryCode(ctx, req.Account, u.ID, code)
	}
	if err != nil {
		return LoginResult{}, err
	}
	tok, sess, err := s.startSession(ctx, req.Account, u, true)
	if err != nil {
		return LoginResult{}, err
	}
	s.event(ctx, req.Account, EventLoginSucceeded, u.ID, map[string]string{"surface": string(req.Surface), "factors": "password+" + factor})
	return LoginResult{SessionToken: tok, Session: sess}, nil
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

// newSession creates and stores a session with a fresh random token.
func (s *Service) newSession(ctx context.Context, account gdprkit.AccountID, user string, second bool) (string, Session, error) {
	tok := newSessionToken()
	now := s.clock.Now()
	sess := Session{
		ID: gdprkit.NewID(), UserID: user, Hash: secretHash(tok), SecondFactor: second,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionLifetime),
	}
	if err := s.st.CreateSession(ctx, account, sess); err != nil {
		return "", Session{}, fmt.Errorf("authn: create session: %w", err)
	}
	return tok, sess, nil
}

// startSession creates a session for u, read (and verified) at the start
// of the login, then reads the user again: when u was disabled, erased or
// had their password changed meanwhile (DisableUser, SetPassword or
// ChangePassword ran during the KDF), the revocation that followed may have
// missed the new session, so it is deleted and the login fails. Each of
// those changes writes the user before revoking, so a change this read
// does not see revokes the session after it.
func (s *Service) startSession(ctx context.Context, account gdprkit.AccountID, u User, second bool) (string, Session, error) {
	tok, sess, err := s.newSession(ctx, account, u.ID, second)
	if err != nil {
		return "", Session{}, err
	}
	cur, err := s.st.User(ctx, account, u.ID)
	if err == nil && !revokedSince(u, cur) {
		return tok, sess, nil
	}
	if derr := s.st.DeleteSession(ctx, account, u.ID, sess.ID); derr != nil && !errors.Is(derr, gdprkit.ErrNotFound) {
		s.log.Warn("authn: cannot delete the session of a login that lost a race", "err", derr)
	}
	if err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
		return "", Session{}, fmt.Errorf("authn: login: %w", err)
	}
	s.event(ctx, account, EventLoginFailed, u.ID, map[string]string{"reason": "changed_during_login"})
	return "", Session{}, errBadCredentials
}

// revokedSince reports whether cur, a fresh read of the user read earlier
// as u, has since been disabled or had their password changed: the changes
// that revoke every session and token.
func revokedSince(u, cur User) bool {
	return cur.Disabled || !cur.PasswordChangedAt.Equal(u.PasswordChangedAt)
}

// credentialPredates reports whether a session or token created at created
// is older than the user's last password change, so the revocation of that
// change should have ended it. Both times are compared at the microsecond
// precision stores keep: CreateUser and ImportUser set PasswordChangedAt
// from the same clock reading as CreatedAt, and a session or token created
// within the same microsecond as the password was set is not older.
func credentialPredates(u User, created time.Time) bool {
	return u.PasswordChangedAt.Truncate(time.Microsecond).After(created.Truncate(time.Microsecond))
}

// SessionRequest authenticates a request that carries a session token.
type SessionRequest struct {
	Account gdprkit.AccountID
	Token   string
	IP      netip.Addr
	// Surface defaults to gdprkit.SurfaceAgentPanel.
	Surface gdprkit.Surface
}

// AuthenticateSession checks a session token: the gates, then that the
// session exists and has passed neither its idle nor its absolute timeout,
// then (one read of the user) that its user still exists, is not disabled
// and has not changed their password since the session was created. A
// session failing any of these is deleted. LastSeenAt is written at most
// once per Config.SessionTouch. Errors wrap gdprkit.ErrUnauthenticated or
// the gates' errors.
func (s *Service) AuthenticateSession(ctx context.Context, req SessionRequest) (Principal, error) {
	if req.Surface == "" {
		req.Surface = gdprkit.SurfaceAgentPanel
	}
	if err := req.Account.Validate(); err != nil {
		return Principal{}, err
	}
	if err := s.gates(ctx, req.Account, req.Surface, req.IP); err != nil {
		return Principal{}, err
	}
	bad := fmt.Errorf("%w: no valid session", gdprkit.ErrUnauthenticated)
	if req.Token == "" || len(req.Token) > 256 {
		return Principal{}, bad
	}
	sess, err := s.st.SessionByHash(ctx, req.Account, secretHash(req.Token))
	if errors.Is(err, gdprkit.ErrNotFound) {
		return Principal{}, bad
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authn: session: %w", err)
	}
	now := s.clock.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.SessionIdle {
		if err := s.st.DeleteSession(ctx, req.Account, sess.UserID, sess.ID); err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
			s.log.Warn("authn: cannot delete expired session", "err", err)
		}
		s.event(ctx, req.Account, EventSessionRejected, sess.UserID, map[string]string{"reason": "expired"})
		return Principal{}, bad
	}
	// A login racing DisableUser, SetPassword or ChangePassword may have
	// stored its session after their revocation ran: check the user too.
	u, err := s.st.User(ctx, req.Account, sess.UserID)
	if err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
		return Principal{}, fmt.Errorf("authn: session: %w", err)
	}
	why := ""
	switch {
	case err != nil:
		why = "unknown_user"
	case u.Disabled:
		why = "disabled"
	case credentialPredates(u, sess.CreatedAt):
		why = "password_changed"
	}
	if why != "" {
		if err := s.st.DeleteSession(ctx, req.Account, sess.UserID, sess.ID); err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
			s.log.Warn("authn: cannot delete a revoked session", "err", err)
		}
		s.event(ctx, req.Account, EventSessionRejected, sess.UserID, map[string]string{"reason": why})
		return Principal{}, bad
	}
	if now.Sub(sess.LastSeenAt) >= s.cfg.SessionTouch {
		if err := s.st.TouchSession(ctx, req.Account, sess.ID, now); err != nil {
			s.log.Warn("authn: cannot touch session", "err", err)
		}
	}
	return Principal{Account: req.Account, UserID: sess.UserID, Method: "session", SecondFactor: sess.SecondFactor, SessionID: sess.ID}, nil
}

// Logout deletes the session of token. An unknown token is not an error.
func (s *Service) Logout(ctx context.Context, account gdprkit.AccountID, token string) error {
	if err := account.Validate(); err != nil {
		return err
	}
	sess, err := s.st.SessionByHash(ctx, account, secretHash(token))
	if errors.Is(err, gdprkit.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("authn: logout: %w", err)
	}
	if err := s.st.DeleteSession(ctx, account, sess.UserID, sess.ID); err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
		return fmt.Errorf("authn: logout: %w", err)
	}
	s.event(ctx, account, EventLogout, sess.UserID, nil)
	return nil
}

// RevokeSession deletes one session of the user by its ID (from a "your
// sessions" page); ErrNotFound when the user has no such session.
func (s *Service) RevokeSession(ctx context.Context, account gdprkit.AccountID, userID, sessionID string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	if err := s.st.DeleteSession(ctx, account, userID, sessionID); err != nil {
		return fmt.Errorf("authn: revoke session: %w", err)
	}
	s.event(ctx, account, EventSessionsRevoked, userID, map[string]string{"reason": "requested", "sessions": "1"})
	return nil
}

// Sessions lists the user's sessions (for a "your sessions" page), oldest
// first. Hashes are cleared.
func (s *Service) Sessions(ctx context.Context, account gdprkit.AccountID, userID string) ([]Session, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return nil, err
	}
	ss, err := s.st.Sessions(ctx, account, userID)
	for i := range ss {
		ss[i].Hash = nil
	}
	return ss, err
}

// PurgeSessions deletes the account's sessions that passed their idle or
// absolute timeout, for a periodic sweep.
func (s *Service) PurgeSessions(ctx context.Context, account gdprkit.AccountID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	now := s.clock.Now()
	return s.st.DeleteSessionsBefore(ctx, account, now, now.Add(-s.cfg.SessionIdle))
}

// APIRequest authenticates a REST API request: a username with either an
// API token or the user's password.
type APIRequest struct {
	Account  gdprkit.AccountID
	Username string
	// Secret is an API token (recognised by its prefix and checksum) or
	// the password.
	Secret string
	IP     netip.Addr
	// Surface defaults to gdprkit.SurfaceAPI.
	Surface gdprkit.Surface
}

// AuthenticateAPI checks "username + API token" or "username + password".
// A token must belong to the named user, who must not be disabled, be live
// and unexpired, and not be older than the user's last password change; its
// LastUsedAt is recorded in batches. A live token refused because its user
// is disabled or changed their password is revoked. A password is accepted only for users
// without TOTP: for them a password alone is not enough, and the error
// (wrapping gdprkit.ErrForbidden) tells them to use a token. Errors
// otherwise wrap gdprkit.ErrUnauthenticated, ErrLocked or the gates' errors.
func (s *Service) AuthenticateAPI(ctx context.Context, req APIRequest) (Principal, error) {
	if req.Surface == "" {
		req.Surface = gdprkit.SurfaceAPI
	}
	if ParseAPIToken(req.Secret, s.cfg.TokenPrefix) != nil {
		u, err := s.passwordStep(ctx, req.Account, req.Username, req.Secret, req.Surface, req.IP)
		if err != nil {
			return Principal{}, err
		}
		if _, err := s.st.TOTP(ctx, req.Account, u.ID, false); err == nil {
			s.event(ctx, req.Account, EventAPIPasswordRefused, u.ID, nil)
			return Principal{}, fmt.Errorf("%w: this user has two-factor authentication; use an API token", gdprkit.ErrForbidden)
		} else if !errors.Is(err, gdprkit.ErrNotFound) {
			return Principal{}, fmt.Errorf("authn: api: %w", err)
		}
		s.event(ctx, req.Account, EventLoginSucceeded, u.ID, map[string]string{"surface": string(req.Surface), "factors": "password"})
		return Principal{Account: req.Account, UserID: u.ID, Method: "password"}, nil
	}
	if err := req.Account.Validate(); err != nil {
		return Principal{}, err
	}
	if err := s.gates(ctx, req.Account, req.Surface, req.IP); err != nil {
		return Principal{}, err
	}
	bad := fmt.Errorf("%w: wrong username or token", gdprkit.ErrUnauthenticated)
	name, err := s.canonicalUsername(req.Username)
	if err != nil {
		return Principal{}, bad
	}
	t, err := s.st.TokenByHash(ctx, req.Account, secretHash(req.Secret))
	if errors.Is(err, gdprkit.ErrNotFound) {
		s.event(ctx, req.Account, EventTokenFailed, "", map[string]string{"reason": "unknown_token"})
		return Principal{}, bad
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authn: api: %w", err)
	}
	u, err := s.st.UserByUsername(ctx, req.Account, name)
	if err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
		return Principal{}, fmt.Errorf("authn: api: %w", err)
	}
	now := s.clock.Now()
	why := ""
	switch {
	case err != nil || u.ID != t.UserID:
		why = "wrong_user"
	case u.Disabled:
		why = "disabled"
	case !t.RevokedAt.IsZero():
		why = "revoked"
	case credentialPredates(u, t.CreatedAt):
		why = "password_changed"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		why = "expired"
	}
	if (why == "disabled" || why == "password_changed") && t.RevokedAt.IsZero() {
		// A token created while a revocation ran (see CreateToken).
		if err := s.st.RevokeToken(ctx, req.Account, t.UserID, t.ID, now); err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
			s.log.Warn("authn: cannot revoke a token that outlived its user's revocation", "err", err)
		}
	}
	if why != "" {
		s.event(ctx, req.Account, EventTokenFailed, t.UserID, map[string]string{"reason": why, "token": t.ID})
		return Principal{}, bad
	}
	s.recordUsage(ctx, req.Account, t.ID, now)
	s.event(ctx, req.Account, EventTokenUsed, u.ID, map[string]string{"token": t.ID, "surface": string(req.Surface)})
	return Principal{Account: req.Account, UserID: u.ID, Method: "token", TokenID: t.ID, Scopes: t.Scopes}, nil
}

// recordUsage notes a token use and flushes the batch when it is due.
func (s *Service) recordUsage(ctx context.Context, account gdprkit.AccountID, id string, at time.Time) {
	s.usageMu.Lock()
	m := s.usage[account]
	if m == nil {
		m = map[string]time.Time{}
		s.usage[account] = m
	}
	if at.After(m[id]) {
		m[id] = at
	}
	due := at.Sub(s.lastFlush) >= s.cfg.TokenUsageFlush
	s.usageMu.Unlock()
	if due {
		if err := s.FlushTokenUsage(ctx); err != nil {
			s.log.Warn("authn: token usage flush failed", "err", err)
		}
	}
}

// FlushTokenUsage writes the batched LastUsedAt times of API tokens, one
// store call per account. Requests call it when Config.TokenUsageFlush has
// passed; hosts call it on shutdown. Failed batches are kept for the next
// flush.
func (s *Service) FlushTokenUsage(ctx context.Context) error {
	s.usageMu.Lock()
	batch := s.usage
	s.usage = map[gdprkit.AccountID]map[string]time.Time{}
	s.lastFlush = s.clock.Now()
	s.usageMu.Unlock()
	var errs []error
	for account, used := range batch {
		if err := s.st.TouchTokens(ctx, account, used); err != nil {
			errs = append(errs, err)
			s.usageMu.Lock()
			m := s.usage[account]
			if m == nil {
				s.usage[account] = used
			} else {
				for id, t := range used {
					if t.After(m[id]) {
						m[id] = t
					}
				}
			}
			s.usageMu.Unlock()
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("authn: flush token usage (%s batches kept): %w", strconv.Itoa(len(errs)), errors.Join(errs...))
	}
	return nil
}
