package authn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gdprkit/gdprkit"
)

// newSession creates and stores a session with a fresh random token,
// verified now, expiring at expires (zero: after Config.SessionLifetime).
func (s *Service) newSession(ctx context.Context, account gdprkit.AccountID, user string, second bool, expires time.Time) (string, Session, error) {
	tok := newSessionToken()
	now := s.clock.Now()
	if expires.IsZero() {
		expires = now.Add(s.cfg.SessionLifetime)
	}
	sess := Session{
		ID: gdprkit.NewID(), UserID: user, Hash: secretHash(tok), SecondFactor: second,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: expires, VerifiedAt: now,
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
func (s *Service) startSession(ctx context.Context, account gdprkit.AccountID, u User, second bool, expires time.Time) (string, Session, error) {
	tok, sess, err := s.newSession(ctx, account, u.ID, second, expires)
	if err != nil {
		return "", Session{}, err
	}
	cur, err := s.st.User(ctx, account, u.ID)
	if err == nil && !revokedSince(u, cur) {
		return tok, sess, nil
	}
	if err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
		// The store failed: nothing says the user changed. The session's
		// token is dropped here, so the row is unusable; it expires.
		return "", Session{}, fmt.Errorf("authn: login: %w", err)
	}
	if derr := s.st.DeleteSession(ctx, account, u.ID, sess.ID); derr != nil && !errors.Is(derr, gdprkit.ErrNotFound) {
		s.log.Warn("authn: cannot delete the session of a login that lost a race", "err", derr)
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
	return Principal{Account: req.Account, UserID: sess.UserID, Method: "session", SecondFactor: sess.SecondFactor, SessionID: sess.ID,
		VerifiedAt: sess.VerifiedAt}, nil
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
