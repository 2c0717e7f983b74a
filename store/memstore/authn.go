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

type totpKey struct {
	user    string
	pending bool
}

type authnAcct struct {
	users     map[string]authn.User
	usernames map[string]string // username -> user ID
	throttle  map[authn.ThrottleKey]authn.Throttle
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
			throttle: map[authn.ThrottleKey]authn.Throttle{}, totp: map[totpKey]authn.TOTPRecord{},
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
	t.Surfaces = slices.Clone(t.Surfaces)
	if len(t.Surfaces) == 0 {
		t.Surfaces = []gdprkit.Surface{gdprkit.SurfaceAPI}
	}
	return t
}

func cloneTOTP(r authn.TOTPRecord) authn.TOTPRecord {
	r.Sealed = bytes.Clone(r.Sealed)
	return r
}

func cloneSession(s authn.Session) authn.Session {
	s.Hash = bytes.Clone(s.Hash)
	if s.VerifiedAt.IsZero() {
		s.VerifiedAt = s.CreatedAt
	}
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
		if k.User == id {
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

func (m *authnMem) Throttle(ctx context.Context, a gdprkit.AccountID, k authn.ThrottleKey) (authn.Throttle, error) {
	if err := live(ctx); err != nil {
		return authn.Throttle{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.Throttle{}, err
	}
	defer m.mu.Unlock()
	return c.throttle[k], nil
}

func (m *authnMem) SwapThrottle(ctx context.Context, a gdprkit.AccountID, k authn.ThrottleKey, old int64, t authn.Throttle) (bool, error) {
	if err := live(ctx); err != nil {
		return false, err
	}
	c, err := m.lock(a)
	if err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	if c.throttle[k].Version != old {
		return false, nil
	}
	t.Last, t.PendingAt = utc(t.Last), utc(t.PendingAt)
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
		if k.User == user && (f == "" || k.Factor == f) {
			delete(c.throttle, k)
		}
	}
	return nil
}

func (m *authnMem) PurgeThrottles(ctx context.Context, a gdprkit.AccountID, before time.Time) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	c, err := m.lock(a)
	if err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for k, t := range c.throttle {
		if t.Last.Before(before) && t.PendingAt.Before(before) && (t.Failures == 0 || k.User == "") {
			delete(c.throttle, k)
			n++
		}
	}
	return n, nil
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
