package authn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

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
