package authn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
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
	// Surface is where the request arrived, as the host's routing knows it
	// (never a value the client sends); defaults to gdprkit.SurfaceAPI. A
	// token is accepted only on the surfaces it is bound to
	// (TokenSpec.Surfaces), and the IP rules of this surface apply.
	Surface gdprkit.Surface
	// Device is the client's device token, as in LoginRequest; API
	// clients usually have none.
	Device string
}

// AuthenticateAPI checks "username + API token" or "username + password".
//
// A token must belong to the named user, who must not be disabled, be live
// and unexpired, be bound to req.Surface, and not be older than the user's
// last password change; its LastUsedAt is recorded in batches. A live
// token refused because its user is disabled or changed their password is
// revoked.
//
// A password is checked (and throttled) like a login, and accepted only
// for users without TOTP. For a user with TOTP a password alone is never
// enough, so it is not checked at all: the attempt does the same work,
// counts as a failure and gets the same answer as a wrong password, which
// tells nobody whether it was right.
//
// Every refused credential gets one error (wrapping
// gdprkit.ErrUnauthenticated) whatever the reason; otherwise errors wrap
// gdprkit.ErrLocked (a *ThrottledError), the gates' errors,
// gdprkit.ErrInvalid, or gdprkit.ErrUnavailable when the store failed.
func (s *Service) AuthenticateAPI(ctx context.Context, req APIRequest) (Principal, error) {
	if req.Surface == "" {
		req.Surface = gdprkit.SurfaceAPI
	}
	if err := req.Surface.Validate(); err != nil {
		return Principal{}, err
	}
	if ParseAPIToken(req.Secret, s.cfg.TokenPrefix) != nil {
		u, _, err := s.passwordStep(ctx, req.Account, req.Username, req.Secret, req.Surface, req.IP, req.Device, true)
		if errors.Is(err, errBadCredentials) {
			return Principal{}, errBadAPICredentials
		}
		if err != nil {
			return Principal{}, err
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
	name, err := s.canonicalUsername(req.Username)
	if err != nil {
		return Principal{}, errBadAPICredentials
	}
	t, err := s.st.TokenByHash(ctx, req.Account, secretHash(req.Secret))
	if errors.Is(err, gdprkit.ErrNotFound) {
		s.event(ctx, req.Account, EventTokenFailed, "", map[string]string{"reason": "unknown_token"})
		return Principal{}, errBadAPICredentials
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
	case !slices.Contains(t.Surfaces, req.Surface):
		why = "wrong_surface"
	}
	if (why == "disabled" || why == "password_changed") && t.RevokedAt.IsZero() {
		// A token created while a revocation ran (see CreateToken).
		if err := s.st.RevokeToken(ctx, req.Account, t.UserID, t.ID, now); err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
			s.log.Warn("authn: cannot revoke a token that outlived its user's revocation", "err", err)
		}
	}
	if why != "" {
		s.event(ctx, req.Account, EventTokenFailed, t.UserID, map[string]string{"reason": why, "token": t.ID, "surface": string(req.Surface)})
		return Principal{}, errBadAPICredentials
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
