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

// StepUp checks a password or a second-factor code for the session of
// req.Principal, throttled like a login, and on success records the time
// on the session and returns the principal with VerifiedAt set to it.
// Errors wrap gdprkit.ErrUnauthenticated (wrong password or code, or the
// session is gone), gdprkit.ErrLocked, gdprkit.ErrInvalid (neither or both
// of Password and Code) or the store's error.
func (s *Service) StepUp(ctx context.Context, req StepUpRequest) (Principal, error) {
	p := req.Principal
	if err := checkAccountUser(p.Account, p.UserID); err != nil {
		return Principal{}, err
	}
	if (req.Password == "") == (req.Code == "") {
		return Principal{}, fmt.Errorf("%w: a step-up needs a password or a code", gdprkit.ErrInvalid)
	}
	if p.Method != "session" || p.SessionID == "" {
		return Principal{}, fmt.Errorf("%w: only a session can be stepped up", gdprkit.ErrUnauthenticated)
	}
	if _, err := s.liveSession(ctx, p); err != nil {
		return Principal{}, err
	}
	u, err := s.st.User(ctx, p.Account, p.UserID)
	if errors.Is(err, gdprkit.ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: no valid session", gdprkit.ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authn: step-up: %w", err)
	}
	client := deviceClient(s.openDevice(p.Account, u, req.Device))
	factor := "password"
	if req.Password != "" {
		if len(req.Password) > maxPasswordBytes {
			req.Password = ""
		}
		if _, err := s.passwordAttempt(ctx, p.Account, &u, "", req.Password, client, sourceOf(req.IP), true); err != nil {
			return Principal{}, err
		}
	} else if factor, err = s.secondFactor(ctx, p.Account, u.ID, req.Code, client, sourceOf(req.IP)); err != nil {
		return Principal{}, err
	}
	now := s.clock.Now()
	if err := s.st.SetSessionVerified(ctx, p.Account, p.UserID, p.SessionID, now); err != nil {
		if errors.Is(err, gdprkit.ErrNotFound) {
			return Principal{}, fmt.Errorf("%w: no valid session", gdprkit.ErrUnauthenticated)
		}
		return Principal{}, fmt.Errorf("authn: step-up: %w", err)
	}
	s.event(ctx, p.Account, EventStepUp, p.UserID, map[string]string{"factor": factor})
	p.VerifiedAt = now
	return p, nil
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
