package authn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// TokenSpec describes a new API token.
type TokenSpec struct {
	// Name is the owner's label, at most 100 bytes.
	Name string
	// Scopes granted; each 1 to 64 characters of [a-z0-9:._-].
	Scopes []string
	// ExpiresAt is when the token stops working; zero for never (refused
	// when Config.MaxTokenLifetime is set).
	ExpiresAt time.Time
	// Surfaces the token may be used on: AuthenticateAPI refuses it on
	// any other, whatever surface its caller names. At most 8, each valid
	// (gdprkit.Surface.Validate). Default: gdprkit.SurfaceAPI only.
	Surfaces []gdprkit.Surface
}

func validScope(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == ':' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CreateToken issues an API token for the user p acts for and returns it
// with its stored record. p must come from AuthenticateSession and be
// stepped up (see RequireStepUp), so neither a token nor a stale session
// can mint tokens. The token is shown once; only its SHA-256 is stored. A
// disabled user gets none (gdprkit.ErrForbidden); when the user is disabled
// or changes their password while the token is being created, the token is
// revoked again and the error wraps gdprkit.ErrConflict.
func (s *Service) CreateToken(ctx context.Context, p Principal, spec TokenSpec) (string, APIToken, error) {
	if err := checkAccountUser(p.Account, p.UserID); err != nil {
		return "", APIToken{}, err
	}
	account, userID := p.Account, p.UserID
	if len(spec.Name) > 100 {
		return "", APIToken{}, fmt.Errorf("%w: token name longer than 100 bytes", gdprkit.ErrInvalid)
	}
	if len(spec.Scopes) > 64 {
		return "", APIToken{}, fmt.Errorf("%w: more than 64 scopes", gdprkit.ErrInvalid)
	}
	for _, sc := range spec.Scopes {
		if !validScope(sc) {
			return "", APIToken{}, fmt.Errorf("%w: bad scope %q", gdprkit.ErrInvalid, sc)
		}
	}
	surfaces := []gdprkit.Surface{gdprkit.SurfaceAPI}
	if len(spec.Surfaces) > 0 {
		if len(spec.Surfaces) > 8 {
			return "", APIToken{}, fmt.Errorf("%w: more than 8 surfaces", gdprkit.ErrInvalid)
		}
		surfaces = nil
		for _, sf := range spec.Surfaces {
			if err := sf.Validate(); err != nil {
				return "", APIToken{}, err
			}
			if !slices.Contains(surfaces, sf) {
				surfaces = append(surfaces, sf)
			}
		}
	}
	now := s.clock.Now()
	if !spec.ExpiresAt.IsZero() && !spec.ExpiresAt.After(now) {
		return "", APIToken{}, fmt.Errorf("%w: token expiry in the past", gdprkit.ErrInvalid)
	}
	if m := s.cfg.MaxTokenLifetime; m > 0 && (spec.ExpiresAt.IsZero() || spec.ExpiresAt.Sub(now) > m) {
		return "", APIToken{}, fmt.Errorf("%w: token lifetime above the allowed %s", gdprkit.ErrInvalid, m)
	}
	if err := s.RequireStepUp(ctx, p); err != nil {
		return "", APIToken{}, err
	}
	u, err := s.st.User(ctx, account, userID)
	if err != nil {
		return "", APIToken{}, fmt.Errorf("authn: create token: %w", err)
	}
	if u.Disabled {
		return "", APIToken{}, fmt.Errorf("%w: user is disabled", gdprkit.ErrForbidden)
	}
	tok := newAPIToken(s.cfg.TokenPrefix)
	t := APIToken{ID: gdprkit.NewID(), UserID: userID, Hash: secretHash(tok), Name: spec.Name,
		Scopes: append([]string(nil), spec.Scopes...), Surfaces: surfaces, CreatedAt: now}
	if !spec.ExpiresAt.IsZero() {
		t.ExpiresAt = spec.ExpiresAt.UTC().Truncate(time.Microsecond)
	}
	if err := s.st.CreateToken(ctx, account, t); err != nil {
		return "", APIToken{}, fmt.Errorf("authn: create token: %w", err)
	}
	// DisableUser, SetPassword or ChangePassword may have revoked the
	// user's tokens since u was read, before this one was stored: read the
	// user again and take the token back if so (they write the user before
	// revoking, so a change this read misses revokes the token after it).
	cur, err := s.st.User(ctx, account, userID)
	if err != nil || revokedSince(u, cur) {
		if rerr := s.st.RevokeToken(ctx, account, userID, t.ID, s.clock.Now()); rerr != nil && !errors.Is(rerr, gdprkit.ErrNotFound) {
			s.log.Warn("authn: cannot revoke a token that lost a race", "err", rerr)
		}
		if err != nil {
			return "", APIToken{}, fmt.Errorf("authn: create token: %w", err)
		}
		return "", APIToken{}, fmt.Errorf("%w: the user was disabled or changed their password while the token was created", gdprkit.ErrConflict)
	}
	s.event(ctx, account, EventTokenCreated, userID, map[string]string{"token": t.ID, "scopes": strconv.Itoa(len(t.Scopes))})
	return tok, t, nil
}

// Tokens lists the user's API tokens, revoked ones included.
func (s *Service) Tokens(ctx context.Context, account gdprkit.AccountID, userID string) ([]APIToken, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return nil, err
	}
	return s.st.Tokens(ctx, account, userID)
}

// RevokeToken revokes one of the user's API tokens; ErrNotFound when the
// user has no such token.
func (s *Service) RevokeToken(ctx context.Context, account gdprkit.AccountID, userID, tokenID string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	if err := s.st.RevokeToken(ctx, account, userID, tokenID, s.clock.Now()); err != nil {
		return fmt.Errorf("authn: revoke token: %w", err)
	}
	s.event(ctx, account, EventTokenRevoked, userID, map[string]string{"token": tokenID})
	return nil
}
