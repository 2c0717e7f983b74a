package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// Authn returns the authentication store.
func (s *Store) Authn() authn.Store { return authnSQL{s} }

type authnSQL struct{ *Store }

type scanner interface{ Scan(...any) error }

const userCols = "user_id, username, password_hash, disabled, created_at, password_changed_at"

func scanUser(sc scanner) (authn.User, error) {
	var u authn.User
	err := sc.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Disabled, tscan(&u.CreatedAt), tscan(&u.PasswordChangedAt))
	return u, err
}

// exec runs one statement in a retried transaction and returns the rows it
// affected.
func (c authnSQL) exec(ctx context.Context, what, query string, args ...any) (int64, error) {
	var n int64
	err := c.tx(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, c.q(query), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// updateUser updates one user row and reports ErrNotFound when there is no
// such user. MySQL counts only changed rows, so a zero count is checked.
func (c authnSQL) updateUser(ctx context.Context, a gdprkit.AccountID, id, what, set string, args ...any) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return c.tx(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, c.q("UPDATE gdpr_authn_users SET "+set+" WHERE account_id = ? AND user_id = ?"), append(args, string(a), id)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var one int
		return mapErr(tx.QueryRowContext(ctx, c.q("SELECT 1 FROM gdpr_authn_users WHERE account_id = ? AND user_id = ?"), string(a), id).Scan(&one), "user")
	})
}

func (c authnSQL) CreateUser(ctx context.Context, a gdprkit.AccountID, u authn.User) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	_, err := c.db.ExecContext(ctx, c.q("INSERT INTO gdpr_authn_users (account_id, "+userCols+") VALUES (?, ?, ?, ?, ?, ?, ?)"),
		string(a), u.ID, u.Username, u.PasswordHash, u.Disabled, c.ts(u.CreatedAt), c.ts(u.PasswordChangedAt))
	return mapErr(err, "create user")
}

func (c authnSQL) User(ctx context.Context, a gdprkit.AccountID, id string) (authn.User, error) {
	if err := checkAccount(a); err != nil {
		return authn.User{}, err
	}
	u, err := scanUser(c.db.QueryRowContext(ctx, c.q("SELECT "+userCols+" FROM gdpr_authn_users WHERE account_id = ? AND user_id = ?"), string(a), id))
	return u, mapErr(err, "user")
}

func (c authnSQL) UserByUsername(ctx context.Context, a gdprkit.AccountID, username string) (authn.User, error) {
	if err := checkAccount(a); err != nil {
		return authn.User{}, err
	}
	u, err := scanUser(c.db.QueryRowContext(ctx, c.q("SELECT "+userCols+" FROM gdpr_authn_users WHERE account_id = ? AND username = ?"), string(a), username))
	return u, mapErr(err, "user")
}

func (c authnSQL) SetPassword(ctx context.Context, a gdprkit.AccountID, id, hash string, at time.Time) error {
	return c.updateUser(ctx, a, id, "set password", "password_hash = ?, password_changed_at = ?", hash, c.ts(at))
}

func (c authnSQL) RehashPassword(ctx context.Context, a gdprkit.AccountID, id, old, new string) (bool, error) {
	if err := checkAccount(a); err != nil {
		return false, err
	}
	n, err := c.exec(ctx, "rehash password", "UPDATE gdpr_authn_users SET password_hash = ? WHERE account_id = ? AND user_id = ? AND password_hash = ?",
		new, string(a), id, old)
	return n == 1, err
}

func (c authnSQL) SetUserDisabled(ctx context.Context, a gdprkit.AccountID, id string, disabled bool) error {
	return c.updateUser(ctx, a, id, "set user disabled", "disabled = ?", disabled)
}

// deleteCounted runs the deletes of an erasure in one transaction.
func (c authnSQL) deleteCounted(ctx context.Context, what, where string, args ...any) (authn.Counts, error) {
	var n authn.Counts
	err := c.tx(ctx, what, func(tx *sql.Tx) error {
		n = authn.Counts{}
		for _, d := range []struct {
			table string
			dst   *int
		}{
			{"gdpr_authn_sessions", &n.Sessions}, {"gdpr_authn_tokens", &n.Tokens},
			{"gdpr_authn_recovery", &n.RecoveryCodes}, {"gdpr_authn_totp", &n.TOTP},
			{"gdpr_authn_throttles", &n.Throttles}, {"gdpr_authn_users", &n.Users},
		} {
			res, err := tx.ExecContext(ctx, c.q("DELETE FROM "+d.table+" WHERE "+where), args...)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			*d.dst = int(k)
		}
		return nil
	})
	return n, err
}

func (c authnSQL) DeleteUser(ctx context.Context, a gdprkit.AccountID, id string) (authn.Counts, error) {
	if err := checkAccount(a); err != nil {
		return authn.Counts{}, err
	}
	return c.deleteCounted(ctx, "delete user", "account_id = ? AND user_id = ?", string(a), id)
}

func (c authnSQL) CountUser(ctx context.Context, a gdprkit.AccountID, id string) (authn.Counts, error) {
	if err := checkAccount(a); err != nil {
		return authn.Counts{}, err
	}
	var n authn.Counts
	err := c.db.QueryRowContext(ctx, c.q(`SELECT
	(SELECT COUNT(*) FROM gdpr_authn_users WHERE account_id = ? AND user_id = ?),
	(SELECT COUNT(*) FROM gdpr_authn_totp WHERE account_id = ? AND user_id = ?),
	(SELECT COUNT(*) FROM gdpr_authn_recovery WHERE account_id = ? AND user_id = ?),
	(SELECT COUNT(*) FROM gdpr_authn_tokens WHERE account_id = ? AND user_id = ?),
	(SELECT COUNT(*) FROM gdpr_authn_sessions WHERE account_id = ? AND user_id = ?),
	(SELECT COUNT(*) FROM gdpr_authn_throttles WHERE account_id = ? AND user_id = ?)`),
		string(a), id, string(a), id, string(a), id, string(a), id, string(a), id, string(a), id).
		Scan(&n.Users, &n.TOTP, &n.RecoveryCodes, &n.Tokens, &n.Sessions, &n.Throttles)
	return n, mapErr(err, "count user")
}

func (c authnSQL) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (authn.Counts, error) {
	if err := checkAccount(a); err != nil {
		return authn.Counts{}, err
	}
	return c.deleteCounted(ctx, "delete account", "account_id = ?", string(a))
}

const throttleCols = "failures, last_at, pending, pending_at, version"

func (c authnSQL) Throttle(ctx context.Context, a gdprkit.AccountID, k authn.ThrottleKey) (authn.Throttle, error) {
	if err := checkAccount(a); err != nil {
		return authn.Throttle{}, err
	}
	var t authn.Throttle
	err := c.db.QueryRowContext(ctx, c.q("SELECT "+throttleCols+" FROM gdpr_authn_throttles WHERE account_id = ? AND user_id = ? AND factor = ? AND client = ?"),
		string(a), k.User, string(k.Factor), k.Client).Scan(&t.Failures, tscan(&t.Last), &t.Pending, tscan(&t.PendingAt), &t.Version)
	if err == sql.ErrNoRows {
		return authn.Throttle{}, nil
	}
	return t, mapErr(err, "throttle")
}

// SwapThrottle is one statement either way: an UPDATE guarded by the old
// version, or an insert that does nothing when a concurrent one won.
func (c authnSQL) SwapThrottle(ctx context.Context, a gdprkit.AccountID, k authn.ThrottleKey, old int64, t authn.Throttle) (bool, error) {
	if err := checkAccount(a); err != nil {
		return false, err
	}
	if old != 0 {
		n, err := c.exec(ctx, "swap throttle", "UPDATE gdpr_authn_throttles SET failures = ?, last_at = ?, pending = ?, pending_at = ?, version = ? WHERE account_id = ? AND user_id = ? AND factor = ? AND client = ? AND version = ?",
			t.Failures, c.ts(t.Last), t.Pending, c.ts(t.PendingAt), t.Version, string(a), k.User, string(k.Factor), k.Client, old)
		return n == 1, err
	}
	n, err := c.exec(ctx, "swap throttle", c.d.insertIgnore("gdpr_authn_throttles", "(account_id, user_id, factor, client, "+throttleCols+")",
		"(?, ?, ?, ?, ?, ?, ?, ?, ?)", "(account_id, user_id, factor, client)"),
		string(a), k.User, string(k.Factor), k.Client, t.Failures, c.ts(t.Last), t.Pending, c.ts(t.PendingAt), t.Version)
	return n == 1, err
}

func (c authnSQL) ResetThrottle(ctx context.Context, a gdprkit.AccountID, user string, f authn.Factor) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	q, args := "DELETE FROM gdpr_authn_throttles WHERE account_id = ? AND user_id = ?", []any{string(a), user}
	if f != "" {
		q += " AND factor = ?"
		args = append(args, string(f))
	}
	_, err := c.exec(ctx, "reset throttle", q, args...)
	return err
}

func (c authnSQL) PurgeThrottles(ctx context.Context, a gdprkit.AccountID, before time.Time) (int, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	n, err := c.exec(ctx, "purge throttles", "DELETE FROM gdpr_authn_throttles WHERE account_id = ? AND last_at < ? AND pending_at < ? AND (failures = 0 OR user_id = ?)",
		string(a), c.ts(before), c.ts(before), "")
	return int(n), err
}

const totpCols = "id, user_id, slot, key_id, sealed, algorithm, digits, period, last_step, created_at"

func scanTOTP(sc scanner) (authn.TOTPRecord, error) {
	var r authn.TOTPRecord
	var slot, alg int
	err := sc.Scan(&r.ID, &r.UserID, &slot, &r.KeyID, &r.Sealed, &alg, &r.Params.Digits, &r.Params.Period, &r.LastStep, tscan(&r.CreatedAt))
	r.Pending, r.Params.Algorithm = slot == 1, authn.Algorithm(alg)
	return r, err
}

func slotOf(pending bool) int {
	if pending {
		return 1
	}
	return 0
}

func (c authnSQL) PutPendingTOTP(ctx context.Context, a gdprkit.AccountID, r authn.TOTPRecord) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return c.tx(ctx, "put pending totp", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, c.q("DELETE FROM gdpr_authn_totp WHERE account_id = ? AND user_id = ? AND slot = 1"), string(a), r.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, c.q("INSERT INTO gdpr_authn_totp (account_id, "+totpCols+") VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)"),
			string(a), r.ID, r.UserID, r.KeyID, r.Sealed, int(r.Params.Algorithm), r.Params.Digits, r.Params.Period, r.LastStep, c.ts(r.CreatedAt))
		return err
	})
}

func (c authnSQL) TOTP(ctx context.Context, a gdprkit.AccountID, user string, pending bool) (authn.TOTPRecord, error) {
	if err := checkAccount(a); err != nil {
		return authn.TOTPRecord{}, err
	}
	r, err := scanTOTP(c.db.QueryRowContext(ctx, c.q("SELECT "+totpCols+" FROM gdpr_authn_totp WHERE account_id = ? AND user_id = ? AND slot = ?"),
		string(a), user, slotOf(pending)))
	return r, mapErr(err, "totp")
}

func (c authnSQL) ActivateTOTP(ctx context.Context, a gdprkit.AccountID, user, id string, step int64) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return c.tx(ctx, "activate totp", func(tx *sql.Tx) error {
		var got string
		if err := tx.QueryRowContext(ctx, c.q("SELECT id FROM gdpr_authn_totp WHERE account_id = ? AND user_id = ? AND slot = 1"+c.d.forUpdate()),
			string(a), user).Scan(&got); err != nil {
			return mapErr(err, "pending totp")
		}
		if got != id {
			return fmt.Errorf("pending totp: %w", gdprkit.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, c.q("DELETE FROM gdpr_authn_totp WHERE account_id = ? AND user_id = ? AND slot = 0"), string(a), user); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, c.q("UPDATE gdpr_authn_totp SET slot = 0, last_step = ? WHERE account_id = ? AND user_id = ? AND slot = 1 AND id = ?"),
			step, string(a), user, id)
		return err
	})
}

func (c authnSQL) AdvanceTOTPStep(ctx context.Context, a gdprkit.AccountID, user, id string, step int64) (bool, error) {
	if err := checkAccount(a); err != nil {
		return false, err
	}
	n, err := c.exec(ctx, "advance totp step", "UPDATE gdpr_authn_totp SET last_step = ? WHERE account_id = ? AND user_id = ? AND slot = 0 AND id = ? AND last_step < ?",
		step, string(a), user, id, step)
	return n == 1, err
}

func (c authnSQL) DeleteTOTP(ctx context.Context, a gdprkit.AccountID, user string) (int, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	n, err := c.exec(ctx, "delete totp", "DELETE FROM gdpr_authn_totp WHERE account_id = ? AND user_id = ?", string(a), user)
	return int(n), err
}

func (c authnSQL) TOTPSealedWith(ctx context.Context, a gdprkit.AccountID, notKeyID string, limit int) ([]authn.TOTPRecord, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	rows, err := c.db.QueryContext(ctx, c.q("SELECT "+totpCols+" FROM gdpr_authn_totp WHERE account_id = ? AND key_id <> ? ORDER BY id LIMIT ?"),
		string(a), notKeyID, limit)
	if err != nil {
		return nil, mapErr(err, "totp sealed with")
	}
	defer rows.Close()
	var out []authn.TOTPRecord
	for rows.Next() {
		r, err := scanTOTP(rows)
		if err != nil {
			return nil, mapErr(err, "totp sealed with")
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err(), "totp sealed with")
}

func (c authnSQL) ResealTOTP(ctx context.Context, a gdprkit.AccountID, user, id, oldKeyID, keyID string, sealed []byte) (bool, error) {
	if err := checkAccount(a); err != nil {
		return false, err
	}
	n, err := c.exec(ctx, "reseal totp", "UPDATE gdpr_authn_totp SET key_id = ?, sealed = ? WHERE account_id = ? AND user_id = ? AND id = ? AND key_id = ?",
		keyID, sealed, string(a), user, id, oldKeyID)
	return n == 1, err
}

func (c authnSQL) ReplaceRecoveryCodes(ctx context.Context, a gdprkit.AccountID, user string, hashes [][]byte, at time.Time) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return c.tx(ctx, "replace recovery codes", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, c.q("DELETE FROM gdpr_authn_recovery WHERE account_id = ? AND user_id = ?"), string(a), user); err != nil {
			return err
		}
		if len(hashes) == 0 {
			return nil
		}
		args := make([]any, 0, 4*len(hashes))
		for _, h := range hashes {
			args = append(args, string(a), user, h, c.ts(at))
		}
		_, err := tx.ExecContext(ctx, c.q("INSERT INTO gdpr_authn_recovery (account_id, user_id, code_hash, created_at) VALUES "+valueRows(len(hashes), 4)), args...)
		return err
	})
}

func (c authnSQL) UseRecoveryCode(ctx context.Context, a gdprkit.AccountID, user string, hash []byte) (bool, error) {
	if err := checkAccount(a); err != nil {
		return false, err
	}
	n, err := c.exec(ctx, "use recovery code", "DELETE FROM gdpr_authn_recovery WHERE account_id = ? AND user_id = ? AND code_hash = ?", string(a), user, hash)
	return n == 1, err
}

func (c authnSQL) RecoveryCodesLeft(ctx context.Context, a gdprkit.AccountID, user string) (int, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	var n int
	err := c.db.QueryRowContext(ctx, c.q("SELECT COUNT(*) FROM gdpr_authn_recovery WHERE account_id = ? AND user_id = ?"), string(a), user).Scan(&n)
	return n, mapErr(err, "recovery codes left")
}

const tokenCols = "id, user_id, token_hash, name, scopes, surfaces, created_at, expires_at, revoked_at, last_used_at"

func scanToken(sc scanner) (authn.APIToken, error) {
	var t authn.APIToken
	var scopes, surfaces string
	err := sc.Scan(&t.ID, &t.UserID, &t.Hash, &t.Name, &scopes, &surfaces, tscan(&t.CreatedAt), tscan(&t.ExpiresAt), tscan(&t.RevokedAt), tscan(&t.LastUsedAt))
	if scopes != "" {
		t.Scopes = strings.Fields(scopes)
	}
	for _, s := range strings.Fields(surfaces) {
		t.Surfaces = append(t.Surfaces, gdprkit.Surface(s))
	}
	if len(t.Surfaces) == 0 {
		t.Surfaces = []gdprkit.Surface{gdprkit.SurfaceAPI}
	}
	return t, err
}

func (c authnSQL) CreateToken(ctx context.Context, a gdprkit.AccountID, t authn.APIToken) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	surfaces := make([]string, len(t.Surfaces))
	for i, s := range t.Surfaces {
		surfaces[i] = string(s)
	}
	_, err := c.db.ExecContext(ctx, c.q("INSERT INTO gdpr_authn_tokens (account_id, "+tokenCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		string(a), t.ID, t.UserID, t.Hash, t.Name, strings.Join(t.Scopes, " "), strings.Join(surfaces, " "), c.ts(t.CreatedAt), c.nts(t.ExpiresAt), c.nts(t.RevokedAt), c.nts(t.LastUsedAt))
	return mapErr(err, "create token")
}

func (c authnSQL) TokenByHash(ctx context.Context, a gdprkit.AccountID, hash []byte) (authn.APIToken, error) {
	if err := checkAccount(a); err != nil {
		return authn.APIToken{}, err
	}
	t, err := scanToken(c.db.QueryRowContext(ctx, c.q("SELECT "+tokenCols+" FROM gdpr_authn_tokens WHERE account_id = ? AND token_hash = ?"), string(a), hash))
	return t, mapErr(err, "token")
}

func (c authnSQL) Tokens(ctx context.Context, a gdprkit.AccountID, user string) ([]authn.APIToken, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	rows, err := c.db.QueryContext(ctx, c.q("SELECT "+tokenCols+" FROM gdpr_authn_tokens WHERE account_id = ? AND user_id = ? ORDER BY created_at, id"), string(a), user)
	if err != nil {
		return nil, mapErr(err, "tokens")
	}
	defer rows.Close()
	var out []authn.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, mapErr(err, "tokens")
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err(), "tokens")
}

func (c authnSQL) RevokeToken(ctx context.Context, a gdprkit.AccountID, user, id string, at time.Time) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return c.tx(ctx, "revoke token", func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, c.q("SELECT 1 FROM gdpr_authn_tokens WHERE account_id = ? AND id = ? AND user_id = ?"+c.d.forUpdate()),
			string(a), id, user).Scan(&one); err != nil {
			return mapErr(err, "token")
		}
		_, err := tx.ExecContext(ctx, c.q("UPDATE gdpr_authn_tokens SET revoked_at = ? WHERE account_id = ? AND id = ? AND revoked_at IS NULL"),
			c.ts(at), string(a), id)
		return err
	})
}

func (c authnSQL) TouchTokens(ctx context.Context, a gdprkit.AccountID, used map[string]time.Time) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	if len(used) == 0 {
		return nil
	}
	return c.tx(ctx, "touch tokens", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, c.q("UPDATE gdpr_authn_tokens SET last_used_at = ? WHERE account_id = ? AND id = ? AND (last_used_at IS NULL OR last_used_at < ?)"))
		if err != nil {
			return err
		}
		defer st.Close()
		for id, at := range used {
			if _, err := st.ExecContext(ctx, c.ts(at), string(a), id, c.ts(at)); err != nil {
				return err
			}
		}
		return nil
	})
}

const sessionCols = "id, user_id, session_hash, second_factor, created_at, last_seen_at, expires_at, verified_at"

func scanSession(sc scanner) (authn.Session, error) {
	var s authn.Session
	err := sc.Scan(&s.ID, &s.UserID, &s.Hash, &s.SecondFactor, tscan(&s.CreatedAt), tscan(&s.LastSeenAt), tscan(&s.ExpiresAt), tscan(&s.VerifiedAt))
	if s.VerifiedAt.IsZero() {
		s.VerifiedAt = s.CreatedAt
	}
	return s, err
}

func (c authnSQL) CreateSession(ctx context.Context, a gdprkit.AccountID, s authn.Session) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	verified := s.VerifiedAt
	if verified.IsZero() {
		verified = s.CreatedAt
	}
	_, err := c.db.ExecContext(ctx, c.q("INSERT INTO gdpr_authn_sessions (account_id, "+sessionCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		string(a), s.ID, s.UserID, s.Hash, s.SecondFactor, c.ts(s.CreatedAt), c.ts(s.LastSeenAt), c.ts(s.ExpiresAt), c.ts(verified))
	return mapErr(err, "create session")
}

func (c authnSQL) SessionByHash(ctx context.Context, a gdprkit.AccountID, hash []byte) (authn.Session, error) {
	if err := checkAccount(a); err != nil {
		return authn.Session{}, err
	}
	s, err := scanSession(c.db.QueryRowContext(ctx, c.q("SELECT "+sessionCols+" FROM gdpr_authn_sessions WHERE account_id = ? AND session_hash = ?"), string(a), hash))
	return s, mapErr(err, "session")
}

func (c authnSQL) Session(ctx context.Context, a gdprkit.AccountID, user, id string) (authn.Session, error) {
	if err := checkAccount(a); err != nil {
		return authn.Session{}, err
	}
	s, err := scanSession(c.db.QueryRowContext(ctx, c.q("SELECT "+sessionCols+" FROM gdpr_authn_sessions WHERE account_id = ? AND id = ? AND user_id = ?"), string(a), id, user))
	return s, mapErr(err, "session")
}

// SetSessionVerified never lowers verified_at. A session stored without
// one (NULL) counts as verified when it was created.
func (c authnSQL) SetSessionVerified(ctx context.Context, a gdprkit.AccountID, user, id string, at time.Time) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return c.tx(ctx, "set session verified", func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, c.q("SELECT 1 FROM gdpr_authn_sessions WHERE account_id = ? AND id = ? AND user_id = ?"+c.d.forUpdate()),
			string(a), id, user).Scan(&one); err != nil {
			return mapErr(err, "session")
		}
		_, err := tx.ExecContext(ctx, c.q("UPDATE gdpr_authn_sessions SET verified_at = ? WHERE account_id = ? AND id = ? AND user_id = ? AND (verified_at IS NULL OR verified_at < ?)"),
			c.ts(at), string(a), id, user, c.ts(at))
		return err
	})
}

func (c authnSQL) Sessions(ctx context.Context, a gdprkit.AccountID, user string) ([]authn.Session, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	rows, err := c.db.QueryContext(ctx, c.q("SELECT "+sessionCols+" FROM gdpr_authn_sessions WHERE account_id = ? AND user_id = ? ORDER BY created_at, id"), string(a), user)
	if err != nil {
		return nil, mapErr(err, "sessions")
	}
	defer rows.Close()
	var out []authn.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, mapErr(err, "sessions")
		}
		out = append(out, s)
	}
	return out, mapErr(rows.Err(), "sessions")
}

func (c authnSQL) TouchSession(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	_, err := c.exec(ctx, "touch session", "UPDATE gdpr_authn_sessions SET last_seen_at = ? WHERE account_id = ? AND id = ? AND last_seen_at < ?",
		c.ts(at), string(a), id, c.ts(at))
	return err
}

func (c authnSQL) DeleteSession(ctx context.Context, a gdprkit.AccountID, user, id string) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	n, err := c.exec(ctx, "delete session", "DELETE FROM gdpr_authn_sessions WHERE account_id = ? AND id = ? AND user_id = ?", string(a), id, user)
	if err == nil && n == 0 {
		err = fmt.Errorf("session: %w", gdprkit.ErrNotFound)
	}
	return err
}

func (c authnSQL) DeleteSessionsBefore(ctx context.Context, a gdprkit.AccountID, expiredBefore, idleBefore time.Time) (int, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	n, err := c.exec(ctx, "delete expired sessions", "DELETE FROM gdpr_authn_sessions WHERE account_id = ? AND (expires_at < ? OR last_seen_at < ?)",
		string(a), c.ts(expiredBefore), c.ts(idleBefore))
	return int(n), err
}

func (c authnSQL) revoke(ctx context.Context, what, where string, at time.Time, args ...any) (authn.Counts, error) {
	var n authn.Counts
	err := c.tx(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, c.q("DELETE FROM gdpr_authn_sessions WHERE "+where), args...)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n.Sessions = int(k)
		res, err = tx.ExecContext(ctx, c.q("UPDATE gdpr_authn_tokens SET revoked_at = ? WHERE "+where+" AND revoked_at IS NULL"), append([]any{c.ts(at)}, args...)...)
		if err != nil {
			return err
		}
		k, err = res.RowsAffected()
		n.Tokens = int(k)
		return err
	})
	return n, err
}

func (c authnSQL) RevokeUser(ctx context.Context, a gdprkit.AccountID, user string, at time.Time) (authn.Counts, error) {
	if err := checkAccount(a); err != nil {
		return authn.Counts{}, err
	}
	return c.revoke(ctx, "revoke user", "account_id = ? AND user_id = ?", at, string(a), user)
}

func (c authnSQL) RevokeAccount(ctx context.Context, a gdprkit.AccountID, at time.Time) (authn.Counts, error) {
	if err := checkAccount(a); err != nil {
		return authn.Counts{}, err
	}
	return c.revoke(ctx, "revoke account", "account_id = ?", at, string(a))
}
