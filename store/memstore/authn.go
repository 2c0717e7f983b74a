package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// Authn returns the authentication store.
func (s *Store) Authn() authn.Store { return domain(s, "authn", newAuthnMem) }

type authnMem struct {
	mu       sync.Mutex
	accounts map[gdprkit.AccountID]*authnAcct
}

type throttleKey struct {
	user   string
	factor authn.Factor
}

type totpKey struct {
	user    string
	pending bool
}

type authnAcct struct {
	users     map[string]authn.User
	usernames map[string]string // username -> user ID
	throttle  map[throttleKey]authn.Throttle
	totp      map[totpKey]authn.TOTPRecord
	recovery  map[string]map[string]bool // user -> hash -> present
	tokens    map[string]authn.APIToken  // id -> token
	tokenHash map[string]string          // hash -> id
	sessions  map[string]authn.Session   // id -> session
	sessHash  map[string]string          // hash -> id
}

func newAuthnMem() *authnMem { return &authnMem{accounts: map[gdprkit.AccountID]*authnAcct{}} }

func (m *authnMem) acct(a gdprkit.AccountID) *authnAcct {
	c := m.accounts[a]
	if c == nil {
		c = &authnAcct{
			users: map[string]authn.User{}, usernames: map[string]string{},
			throttle: map[throttleKey]authn.Throttle{}, totp: map[totpKey]authn.TOTPRecord{},
			recovery: map[string]map[string]bool{}, tokens: map[string]authn.APIToken{},
			tokenHash: map[string]string{}, sessions: map[string]authn.Session{}, sessHash: map[string]string{},
		}
		m.accounts[a] = c
	}
	return c
}

// lock validates the account and returns its data with the mutex held.
func (m *authnMem) lock(a gdprkit.AccountID) (*authnAcct, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	return m.acct(a), nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func cloneToken(t authn.APIToken) authn.APIToken {
	t.Hash = bytes.Clone(t.Hash)
	t.Scopes = slices.Clone(t.Scopes)
	return t
}

func cloneTOTP(r authn.TOTPRecord) authn.TOTPRecord {
	r.Sealed = bytes.Clone(r.Sealed)
	return r
}

func cloneSession(s authn.Session) authn.Session {
	s.Hash = bytes.Clone(s.Hash)
	return s
}

func (m *authnMem) CreateUser(ctx context.Context, a gdprkit.AccountID, u authn.User) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := c.users[u.ID]; ok {
		return fmt.Errorf("user exists: %w", gdprkit.ErrConflict)
	}
	if _, ok := c.usernames[u.Username]; ok {
		return fmt.Errorf("username taken: %w", gdprkit.ErrConflict)
	}
	u.CreatedAt, u.PasswordChangedAt = utc(u.CreatedAt), utc(u.PasswordChangedAt)
	c.users[u.ID] = u
	c.usernames[u.Username] = u.ID
	return nil
}

func (m *authnMem) User(ctx context.Context, a gdprkit.AccountID, id string) (authn.User, error) {
	if err := live(ctx); err != nil {
		return authn.User{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.User{}, err
	}
	defer m.mu.Unlock()
	if u, ok := c.users[id]; ok {
		return u, nil
	}
	return authn.User{}, fmt.Errorf("user: %w", gdprkit.ErrNotFound)
}

func (m *authnMem) UserByUsername(ctx context.Context, a gdprkit.AccountID, username string) (authn.User, error) {
	if err := live(ctx); err != nil {
		return authn.User{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.User{}, err
	}
	defer m.mu.Unlock()
	if id, ok := c.usernames[username]; ok {
		return c.users[id], nil
	}
	return authn.User{}, fmt.Errorf("user: %w", gdprkit.ErrNotFound)
}

func (m *authnMem) SetPassword(ctx context.Context, a gdprkit.AccountID, id, hash string, at time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	u, ok := c.users[id]
	if !ok {
		return fmt.Errorf("user: %w", gdprkit.ErrNotFound)
	}
	u.PasswordHash, u.PasswordChangedAt = hash, utc(at)
	c.users[id] = u
	return nil
}

func (m *authnMem) RehashPassword(ctx context.Context, a gdprkit.AccountID, id, old, new string) (bool, error) {
	if err := live(ctx); err != nil {
		return false, err
	}
	c, err := m.lock(a)
	if err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	u, ok := c.users[id]
	if !ok || u.PasswordHash != old {
		return false, nil
	}
	u.PasswordHash = new
	c.users[id] = u
	return true, nil
}

func (m *authnMem) SetUserDisabled(ctx context.Context, a gdprkit.AccountID, id string, disabled bool) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	u, ok := c.users[id]
	if !ok {
		return fmt.Errorf("user: %w", gdprkit.ErrNotFound)
	}
	u.Disabled = disabled
	c.users[id] = u
	return nil
}

func (m *authnMem) DeleteUser(ctx context.Context, a gdprkit.AccountID, id string) (authn.Counts, error) {
	if err := live(ctx); err != nil {
		return authn.Counts{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.Counts{}, err
	}
	defer m.mu.Unlock()
	return c.user(id, true), nil
}

func (m *authnMem) CountUser(ctx context.Context, a gdprkit.AccountID, id string) (authn.Counts, error) {
	if err := live(ctx); err != nil {
		return authn.Counts{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.Counts{}, err
	}
	defer m.mu.Unlock()
	return c.user(id, false), nil
}

// user counts, and with del deletes, everything of user id.
func (c *authnAcct) user(id string, del bool) authn.Counts {
	var n authn.Counts
	if u, ok := c.users[id]; ok {
		if del {
			delete(c.usernames, u.Username)
			delete(c.users, id)
		}
		n.Users = 1
	}
	for k := range c.throttle {
		if k.user == id {
			if del {
				delete(c.throttle, k)
			}
			n.Throttles++
		}
	}
	for _, p := range []bool{false, true} {
		if _, ok := c.totp[totpKey{id, p}]; ok {
			if del {
				delete(c.totp, totpKey{id, p})
			}
			n.TOTP++
		}
	}
	n.RecoveryCodes = len(c.recovery[id])
	if del {
		delete(c.recovery, id)
	}
	for tid, t := range c.tokens {
		if t.UserID == id {
			if del {
				delete(c.tokenHash, string(t.Hash))
				delete(c.tokens, tid)
			}
			n.Tokens++
		}
	}
	for sid, s := range c.sessions {
		if s.UserID == id {
			if del {
				delete(c.sessHash, string(s.Hash))
				delete(c.sessions, sid)
			}
			n.Sessions++
		}
	}
	return n
}

func (m *authnMem) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (authn.Counts, error) {
	if err := live(ctx); err != nil {
		return authn.Counts{}, err
	}
	var n authn.Counts
	c, err := m.lock(a)
	if err != nil {
		return n, err
	}
	defer m.mu.Unlock()
	n.Users, n.Throttles, n.TOTP = len(c.users), len(c.throttle), len(c.totp)
	for _, r := range c.recovery {
		n.RecoveryCodes += len(r)
	}
	n.Tokens, n.Sessions = len(c.tokens), len(c.sessions)
	delete(m.accounts, a)
	return n, nil
}

func (m *authnMem) Throttle(ctx context.Context, a gdprkit.AccountID, user string, f authn.Factor) (authn.Throttle, error) {
	if err := live(ctx); err != nil {
		return authn.Throttle{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.Throttle{}, err
	}
	defer m.mu.Unlock()
	return c.throttle[throttleKey{user, f}], nil
}

func (m *authnMem) SwapThrottle(ctx context.Context, a gdprkit.AccountID, user string, f authn.Factor, old int, t authn.Throttle) (bool, error) {
	if err := live(ctx); err != nil {
		return false, err
	}
	c, err := m.lock(a)
	if err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	k := throttleKey{user, f}
	if c.throttle[k].Failures != old {
		return false, nil
	}
	t.Last = utc(t.Last)
	c.throttle[k] = t
	return true, nil
}

func (m *authnMem) ResetThrottle(ctx context.Context, a gdprkit.AccountID, user string, f authn.Factor) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	for k := range c.throttle {
		if k.user == user && (f == "" || k.factor == f) {
			delete(c.throttle, k)
		}
	}
	return nil
}

func (m *authnMem) PutPendingTOTP(ctx context.Context, a gdprkit.AccountID, r authn.TOTPRecord) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	r = cloneTOTP(r)
	r.Pending = true
	r.CreatedAt = utc(r.CreatedAt)
	c.totp[totpKey{r.UserID, true}] = r
	return nil
}

func (m *authnMem) TOTP(ctx context.Context, a gdprkit.AccountID, user string, pending bool) (authn.TOTPRecord, error) {
	if err := live(ctx); err != nil {
		return authn.TOTPRecord{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.TOTPRecord{}, err
	}
	defer m.mu.Unlock()
	if r, ok := c.totp[totpKey{user, pending}]; ok {
		return cloneTOTP(r), nil
	}
	return authn.TOTPRecord{}, fmt.Errorf("totp: %w", gdprkit.ErrNotFound)
}

func (m *authnMem) ActivateTOTP(ctx context.Context, a gdprkit.AccountID, user, id string, step int64) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	r, ok := c.totp[totpKey{user, true}]
	if !ok || r.ID != id {
		return fmt.Errorf("pending totp: %w", gdprkit.ErrNotFound)
	}
	delete(c.totp, totpKey{user, true})
	r.Pending, r.LastStep = false, step
	c.totp[totpKey{user, false}] = r
	return nil
}

func (m *authnMem) AdvanceTOTPStep(ctx context.Context, a gdprkit.AccountID, user, id string, step int64) (bool, error) {
	if err := live(ctx); err != nil {
		return false, err
	}
	c, err := m.lock(a)
	if err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	r, ok := c.totp[totpKey{user, false}]
	if !ok || r.ID != id || r.LastStep >= step {
		return false, nil
	}
	r.LastStep = step
	c.totp[totpKey{user, false}] = r
	return true, nil
}

func (m *authnMem) DeleteTOTP(ctx context.Context, a gdprkit.AccountID, user string) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	c, err := m.lock(a)
	if err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for _, p := range []bool{false, true} {
		if _, ok := c.totp[totpKey{user, p}]; ok {
			delete(c.totp, totpKey{user, p})
			n++
		}
	}
	return n, nil
}

func (m *authnMem) TOTPSealedWith(ctx context.Context, a gdprkit.AccountID, notKeyID string, limit int) ([]authn.TOTPRecord, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	c, err := m.lock(a)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []authn.TOTPRecord
	for _, r := range c.totp {
		if r.KeyID != notKeyID {
			out = append(out, cloneTOTP(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *authnMem) ResealTOTP(ctx context.Context, a gdprkit.AccountID, user, id, oldKeyID, keyID string, sealed []byte) (bool, error) {
	if err := live(ctx); err != nil {
		return false, err
	}
	c, err := m.lock(a)
	if err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	for _, p := range []bool{false, true} {
		k := totpKey{user, p}
		if r, ok := c.totp[k]; ok && r.ID == id && r.KeyID == oldKeyID {
			r.KeyID, r.Sealed = keyID, bytes.Clone(sealed)
			c.totp[k] = r
			return true, nil
		}
	}
	return false, nil
}

func (m *authnMem) ReplaceRecoveryCodes(ctx context.Context, a gdprkit.AccountID, user string, hashes [][]byte, _ time.Time) error {
	if err := live(ctx); err != nil {
		return err
	}
	c, err := m.lock(a)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	set := make(map[string]bool, len(hashes))
	for _, h := range hashes {
		set[string(h)] = true
	}
	c.recovery[user] = set
	return nil
}

func (m *authnMem) UseRecoveryCode(ctx context.Context, a gdprkit.AccountID, user string, hash []byte) (bool, error) {
	if err := live(ctx); err != nil {
		return false, err
	}
	c, err := m.lock(a)
	if err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	if c.recovery[user][string(hash)] {
		delete(c.recovery[user], string(hash))
		return true, nil
	}
	return false, nil
}

func (m *authnMem) RecoveryCodesLeft(ctx context.Context, a gdprkit.AccountID, user string) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	c, err := m.lock(a)
	if err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	return len(c.recovery[user]), nil
}

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
	s = cloneSession(s)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = utc(s.CreatedAt), utc(s.LastSeenAt), utc(s.ExpiresAt)
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
