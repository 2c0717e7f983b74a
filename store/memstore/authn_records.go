package memstore

import (
	"context"
	"fmt"
	"sort"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// records lists every record of user, in authn.RecordStore's order: by
// kind as authn.RecordKinds lists them, then by ID (byte order; recovery
// hashes in hex sort as their bytes do, counters by factor, then client).
func (c *authnAcct) records(user string) []authn.RecordRef {
	var out []authn.RecordRef
	add := func(k authn.RecordKind, ids []string) {
		sort.Strings(ids)
		for _, id := range ids {
			out = append(out, authn.RecordRef{Kind: k, ID: id})
		}
	}
	if _, ok := c.users[user]; ok {
		add(authn.RecordUser, []string{user})
	}
	var ids []string
	for k, r := range c.totp {
		if k.user == user {
			ids = append(ids, r.ID)
		}
	}
	add(authn.RecordTOTP, ids)
	ids = nil
	for h := range c.recovery[user] {
		ids = append(ids, authn.RecoveryRef([]byte(h)).ID)
	}
	add(authn.RecordRecovery, ids)
	ids = nil
	for id, t := range c.tokens {
		if t.UserID == user {
			ids = append(ids, id)
		}
	}
	add(authn.RecordToken, ids)
	ids = nil
	for id, s := range c.sessions {
		if s.UserID == user {
			ids = append(ids, id)
		}
	}
	add(authn.RecordSession, ids)
	var keys []authn.ThrottleKey
	for k := range c.throttle {
		if k.User == user {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Factor != keys[j].Factor {
			return keys[i].Factor < keys[j].Factor
		}
		return keys[i].Client < keys[j].Client
	})
	for _, k := range keys {
		out = append(out, authn.ThrottleRef(k))
	}
	return out
}

// recordAfter reports whether r comes after the ref after in
// authn.RecordStore's order.
func recordAfter(r, after authn.RecordRef) bool {
	if ra, rb := r.Kind.Rank(), after.Kind.Rank(); ra != rb {
		return ra > rb
	}
	if f, client, ok := r.Throttle(); ok {
		af, aclient, _ := after.Throttle()
		if f != af {
			return f > af
		}
		return client > aclient
	}
	return r.ID > after.ID
}

func (m *authnMem) UserRecords(ctx context.Context, a gdprkit.AccountID, user string, after authn.RecordRef, limit int) ([]authn.RecordRef, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, fmt.Errorf("%w: user records: limit %d", gdprkit.ErrInvalid, limit)
	}
	if after != (authn.RecordRef{}) && after.Kind.Rank() < 0 {
		return nil, fmt.Errorf("%w: user records: unknown kind %q", gdprkit.ErrInvalid, after.Kind)
	}
	c, err := m.lock(a)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []authn.RecordRef
	for _, r := range c.records(user) {
		if after == (authn.RecordRef{}) || recordAfter(r, after) {
			out = append(out, r)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func (m *authnMem) DeleteUserRecords(ctx context.Context, a gdprkit.AccountID, user string, refs []authn.RecordRef) (authn.Counts, error) {
	if err := live(ctx); err != nil {
		return authn.Counts{}, err
	}
	c, err := m.lock(a)
	if err != nil {
		return authn.Counts{}, err
	}
	defer m.mu.Unlock()
	var n authn.Counts
	for _, r := range refs {
		switch r.Kind {
		case authn.RecordUser:
			if u, ok := c.users[user]; ok && r.ID == user {
				delete(c.usernames, u.Username)
				delete(c.users, user)
				n.Users++
			}
		case authn.RecordTOTP:
			for _, p := range []bool{false, true} {
				if x, ok := c.totp[totpKey{user, p}]; ok && x.ID == r.ID {
					delete(c.totp, totpKey{user, p})
					n.TOTP++
				}
			}
		case authn.RecordRecovery:
			if h, ok := r.RecoveryHash(); ok && c.recovery[user][string(h)] {
				delete(c.recovery[user], string(h))
				n.RecoveryCodes++
			}
		case authn.RecordToken:
			if t, ok := c.tokens[r.ID]; ok && t.UserID == user {
				delete(c.tokenHash, string(t.Hash))
				delete(c.tokens, r.ID)
				n.Tokens++
			}
		case authn.RecordSession:
			if s, ok := c.sessions[r.ID]; ok && s.UserID == user {
				delete(c.sessHash, string(s.Hash))
				delete(c.sessions, r.ID)
				n.Sessions++
			}
		case authn.RecordThrottle:
			if f, client, ok := r.Throttle(); ok {
				k := authn.ThrottleKey{User: user, Factor: f, Client: client}
				if _, ok := c.throttle[k]; ok {
					delete(c.throttle, k)
					n.Throttles++
				}
			}
		}
	}
	return n, nil
}
