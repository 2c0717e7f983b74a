package authn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gdprkit/gdprkit"
)

// Step-up. A session proves who its holder is only at login; a security
// change made later (replacing the TOTP, creating an API token,
// regenerating recovery codes, changing IP rules) needs a fresh proof, so
// that a stolen session cookie alone cannot entrench an attacker (OWASP
// ASVS 5.0 V7.5.3, NIST SP 800-63B rev 4 §2.2.3 reauthentication). The
// session records when its holder last proved their password or a second
// factor (Session.VerifiedAt: the login, then each StepUp); RequireStepUp
// accepts a session verified within Config.StepUpWindow. The library's own
// security changes call it (BeginTOTP, ConfirmTOTP, RemoveTOTP,
// GenerateRecoveryCodes, CreateToken) and ipfilter calls CheckStepUp when
// it is given this Service as its StepUp gate.

// ErrStepUpRequired is returned (wrapping gdprkit.ErrForbidden) when a
// security change needs the session's holder to prove their password or a
// second factor again: call StepUp, then retry.
var ErrStepUpRequired = fmt.Errorf("%w: authn: confirm your password or a second factor first (step-up required)", gdprkit.ErrForbidden)

// StepUpRequest proves again who holds a session.
type StepUpRequest struct {
	// Principal is what AuthenticateSession returned for the session.
	Principal Principal
	// Password is the user's password, or empty when Code is used.
	Password string
	// Code is a TOTP code or a recovery code (which it uses up), or empty
	// when Password is used.
	Code string
	// IP is the client address, for throttling by source.
	IP netip.Addr
	// Device is the client's device token, as in LoginRequest.
	Device string
}

// StepUpResult is a stepped-up session.
type StepUpResult struct {
	// Principal acts for the new session, verified now.
	Principal Principal
	// SessionToken replaces the session's token: a step-up is an
	// authentication, so the session gets a new token and the old one
	// stops working (OWASP ASVS 5.0 V7.2.4). Set it as the new cookie.
	SessionToken string
	// Session describes the new session. Its absolute timeout is the old
	// one's: a step-up does not extend a session's lifetime.
	Session Session
	// DeviceToken renews the client's trusted-device token, as a login
	// does.
	DeviceToken string
}

// StepUp checks a password or a second-factor code for the session of
// req.Principal, throttled like a login. On success it replaces the
// session with a new one (new token, same user, second-factor flag and
// absolute timeout) whose VerifiedAt is now, so security changes are
// allowed for Config.StepUpWindow. Errors wrap gdprkit.ErrUnauthenticated
// (wrong password or code, or the session is gone), gdprkit.ErrLocked,
// gdprkit.ErrInvalid (neither or both of Password and Code), or the
// store's error (gdprkit.ErrUnavailable); on any error the old session is
// left as it was.
func (s *Service) StepUp(ctx context.Context, req StepUpRequest) (StepUpResult, error) {
	p := req.Principal
	if err := checkAccountUser(p.Account, p.UserID); err != nil {
		return StepUpResult{}, err
	}
	if (req.Password == "") == (req.Code == "") {
		return StepUpResult{}, fmt.Errorf("%w: a step-up needs a password or a code", gdprkit.ErrInvalid)
	}
	if p.Method != "session" || p.SessionID == "" {
		return StepUpResult{}, fmt.Errorf("%w: only a session can be stepped up", gdprkit.ErrUnauthenticated)
	}
	old, err := s.liveSession(ctx, p)
	if err != nil {
		return StepUpResult{}, err
	}
	u, err := s.st.User(ctx, p.Account, p.UserID)
	if errors.Is(err, gdprkit.ErrNotFound) {
		return StepUpResult{}, fmt.Errorf("%w: no valid session", gdprkit.ErrUnauthenticated)
	}
	if err != nil {
		return StepUpResult{}, fmt.Errorf("authn: step-up: %w", err)
	}
	device := s.openDevice(p.Account, u, req.Device)
	client := deviceClient(device)
	factor := "password"
	if req.Password != "" {
		if len(req.Password) > maxPasswordBytes {
			req.Password = ""
		}
		if u, err = s.passwordAttempt(ctx, p.Account, &u, "", req.Password, client, sourceOf(req.IP), true); err != nil {
			return StepUpResult{}, err
		}
	} else if factor, err = s.secondFactor(ctx, p.Account, u.ID, req.Code, client, sourceOf(req.IP)); err != nil {
		return StepUpResult{}, err
	}
	tok, sess, err := s.startSession(ctx, p.Account, u, old.SecondFactor, old.ExpiresAt)
	if err != nil {
		return StepUpResult{}, err
	}
	if err := s.st.DeleteSession(ctx, p.Account, p.UserID, p.SessionID); err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
		s.log.Warn("authn: cannot end the session a step-up replaced", "err", err)
	}
	s.event(ctx, p.Account, EventStepUp, p.UserID, map[string]string{"factor": factor})
	p.SessionID, p.VerifiedAt = sess.ID, sess.VerifiedAt
	return StepUpResult{Principal: p, SessionToken: tok, Session: sess, DeviceToken: s.sealDevice(p.Account, u, device)}, nil
}

// liveSession reads p's session and checks it has not ended.
func (s *Service) liveSession(ctx context.Context, p Principal) (Session, error) {
	sess, err := s.st.Session(ctx, p.Account, p.UserID, p.SessionID)
	if errors.Is(err, gdprkit.ErrNotFound) {
		return Session{}, fmt.Errorf("%w: no valid session", gdprkit.ErrUnauthenticated)
	}
	if err != nil {
		return Session{}, fmt.Errorf("authn: session: %w", err)
	}
	now := s.clock.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.SessionIdle {
		return Session{}, fmt.Errorf("%w: no valid session", gdprkit.ErrUnauthenticated)
	}
	return sess, nil
}

// RequireStepUp returns nil when p is a session (from AuthenticateSession)
// whose holder proved their password or a second factor within
// Config.StepUpWindow, read from the store (a Principal's own VerifiedAt is
// not trusted). Otherwise it returns ErrStepUpRequired (tokens and
// password-authenticated API calls can never make security changes), an
// error wrapping gdprkit.ErrUnauthenticated when the session has ended, or
// the store's error.
func (s *Service) RequireStepUp(ctx context.Context, p Principal) error {
	if err := checkAccountUser(p.Account, p.UserID); err != nil {
		return err
	}
	if p.Method != "session" || p.SessionID == "" {
		return ErrStepUpRequired
	}
	sess, err := s.liveSession(ctx, p)
	if err != nil {
		return err
	}
	if s.clock.Now().Sub(sess.VerifiedAt) >= s.cfg.StepUpWindow {
		return ErrStepUpRequired
	}
	return nil
}

// CheckStepUp is RequireStepUp for a change made by actor (a user ID)
// through their session sessionID. ipfilter.Filter calls it before it
// changes IP rules (it implements ipfilter.StepUpGate).
func (s *Service) CheckStepUp(ctx context.Context, account gdprkit.AccountID, actor gdprkit.ActorID, sessionID string) error {
	return s.RequireStepUp(ctx, Principal{Account: account, UserID: string(actor), Method: "session", SessionID: sessionID})
}
