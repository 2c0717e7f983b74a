package memstore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// The authn store's API tokens, sessions and revocation (authn.TokenStore,
// authn.SessionStore and authn.RevocationStore); users, throttles and
// factors are in authn.go.

func (m *authnMem) CreateToken(ctx context.Context, a gdprkit.AccountID, t authn.APIToken) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := c.tokens[t.ID]; ok {
		return fmt.Errorf("token exists: %w", gdprkit.ErrConflict)
	}
	if _, ok := c.tokenHash[string(t.Hash)]; ok {
		return fmt.Errorf("token exists: %w", gdprkit.ErrConflict)
	}
	t = cloneToken(t)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt = utc(t.CreatedAt), utc(t.ExpiresAt), utc(t.RevokedAt), utc(t.LastUsedAt)
	c.tokens[t.ID] = t
	c.tokenHash[string(t.Hash)] = t.ID
	return nil
}

func (m *authnMem) TokenByHash(ctx context.Context, a gdprkit.AccountID, hash []byte) (authn.APIToken, error) {
	if err := live(ctx); err != nil {
		return authn.APIToken{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.APIToken{}, err
	}
	defer m.mu.Unlock()
	if id, ok := c.tokenHash[string(hash)]; ok {
		return cloneToken(c.tokens[id]), nil
	}
	return authn.APIToken{}, fmt.Errorf("token: %w", gdprkit.ErrNotFound)
}

func (m *authnMem) Tokens(ctx context.Context, a gdprkit.AccountID, user string) ([]authn.APIToken, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	c, err := m.lock(a)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []authn.APIToken
	for _, t := range c.tokens {
		if t.UserID == user {
			out = append(out, cloneToken(t))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (m *authnMem) RevokeToken(ctx context.Context, a gdprkit.AccountID, user, id string, at time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	t, ok := c.tokens[id]
	if !ok || t.UserID != user {
		return fmt.Errorf("token: %w", gdprkit.ErrNotFound)
	}
	if t.RevokedAt.IsZero() {
		t.RevokedAt = utc(at)
		c.tokens[id] = t
	}
	return nil
}

func (m *authnMem) TouchTokens(ctx context.Context, a gdprkit.AccountID, used map[string]time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	for id, at := range used {
		if t, ok := c.tokens[id]; ok && utc(at).After(t.LastUsedAt) {
			t.LastUsedAt = utc(at)
			c.tokens[id] = t
		}
	}
	return nil
}

func (m *authnMem) CreateSession(ctx context.Context, a gdprkit.AccountID, s authn.Session) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := c.sessions[s.ID]; ok {
		return fmt.Errorf("session exists: %w", gdprkit.ErrConflict)
	}
	if _, ok := c.sessHash[string(s.Hash)]; ok {
		return fmt.Errorf("session exists: %w", gdprkit.ErrConflict)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.VerifiedAt = utc(s.CreatedAt), utc(s.LastSeenAt), utc(s.ExpiresAt), utc(s.VerifiedAt)
	s = cloneSession(s)
	c.sessions[s.ID] = s
	c.sessHash[string(s.Hash)] = s.ID
	return nil
}

func (m *authnMem) SessionByHash(ctx context.Context, a gdprkit.AccountID, hash []byte) (authn.Session, error) {
	if err := live(ctx); err != nil {
		return authn.Session{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.Session{}, err
	}
	defer m.mu.Unlock()
	if id, ok := c.sessHash[string(hash)]; ok {
		return cloneSession(c.sessions[id]), nil
	}
	return authn.Session{}, fmt.Errorf("session: %w", gdprkit.ErrNotFound)
}

func (m *authnMem) Session(ctx context.Context, a gdprkit.AccountID, user, id string) (authn.Session, error) {
	if err := live(ctx); err != nil {
		return authn.Session{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.Session{}, err
	}
	defer m.mu.Unlock()
	if s, ok := c.sessions[id]; ok && s.UserID == user {
		return cloneSession(s), nil
	}
	return authn.Session{}, fmt.Errorf("session: %w", gdprkit.ErrNotFound)
}

func (m *authnMem) SetSessionVerified(ctx context.Context, a gdprkit.AccountID, user, id string, at time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	s, ok := c.sessions[id]
	if !ok || s.UserID != user {
		return fmt.Errorf("session: %w", gdprkit.ErrNotFound)
	}
	if at = utc(at); at.After(s.VerifiedAt) {
		s.VerifiedAt = at
		c.sessions[id] = s
	}
	return nil
}

func (m *authnMem) Sessions(ctx context.Context, a gdprkit.AccountID, user string) ([]authn.Session, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	c, err := m.lock(a)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []authn.Session
	for _, s := range c.sessions {
		if s.UserID == user {
			out = append(out, cloneSession(s))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (m *authnMem) TouchSession(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	if s, ok := c.sessions[id]; ok && utc(at).After(s.LastSeenAt) {
		s.LastSeenAt = utc(at)
		c.sessions[id] = s
	}
	return nil
}

func (m *authnMem) DeleteSession(ctx context.Context, a gdprkit.AccountID, user, id string) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	s, ok := c.sessions[id]
	if !ok || s.UserID != user {
		return fmt.Errorf("session: %w", gdprkit.ErrNotFound)
	}
	delete(c.sessHash, string(s.Hash))
	delete(c.sessions, id)
	return nil
}

func (m *authnMem) DeleteSessionsBefore(ctx context.Context, a gdprkit.AccountID, expiredBefore, idleBefore time.Time) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	c, err := m.lock(a)
	if err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for id, s := range c.sessions {
		if s.ExpiresAt.Before(expiredBefore) || s.LastSeenAt.Before(idleBefore) {
			delete(c.sessHash, string(s.Hash))
			delete(c.sessions, id)
			n++
		}
	}
	return n, nil
}

// revoke ends sessions and revokes tokens of users matching keep.
func (c *authnAcct) revoke(match func(user string) bool, at time.Time) authn.Counts {
	var n authn.Counts
	for id, s := range c.sessions {
		if match(s.UserID) {
			delete(c.sessHash, string(s.Hash))
			delete(c.sessions, id)
			n.Sessions++
		}
	}
	for id, t := range c.tokens {
		if match(t.UserID) && t.RevokedAt.IsZero() {
			t.RevokedAt = utc(at)
			c.tokens[id] = t
			n.Tokens++
		}
	}
	return n
}

func (m *authnMem) RevokeUser(ctx context.Context, a gdprkit.AccountID, user string, at time.Time) (authn.Counts, error) {
	if err := live(ctx); err != nil {
		return authn.Counts{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.Counts{}, err
	}
	defer m.mu.Unlock()
	return c.revoke(func(u string) bool { return u == user }, at), nil
}

func (m *authnMem) RevokeAccount(ctx context.Context, a gdprkit.AccountID, at time.Time) (authn.Counts, error) {
	if err := live(ctx); err != nil {
		return authn.Counts{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.Counts{}, err
	}
	defer m.mu.Unlock()
	return c.revoke(func(string) bool { return true }, at), nil
}
