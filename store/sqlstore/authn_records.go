package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// recordTable says where the records of one authn.RecordKind live and
// which column is their ID within a user's records.
type recordTable struct {
	kind  authn.RecordKind
	table string
	col   string // "" for throttles, keyed by (factor, client)
}

// recordTables are in the order of authn.RecordKinds.
var recordTables = []recordTable{
	{authn.RecordUser, "gdpr_authn_users", "user_id"},
	{authn.RecordTOTP, "gdpr_authn_totp", "id"},
	{authn.RecordRecovery, "gdpr_authn_recovery", "code_hash"},
	{authn.RecordToken, "gdpr_authn_tokens", "id"},
	{authn.RecordSession, "gdpr_authn_sessions", "id"},
	{authn.RecordThrottle, "gdpr_authn_throttles", ""},
}

// recordKey returns the ID a ref names in its table's key column: the
// hash bytes of a recovery code, the ID itself otherwise; ok is false for
// a recovery ref whose ID is not a hash.
func recordKey(r authn.RecordRef) (any, bool) {
	if r.Kind == authn.RecordRecovery {
		h, ok := r.RecoveryHash()
		return h, ok
	}
	return r.ID, true
}

// UserRecords reads kind after kind, each in one indexed query ordered by
// the table's key, until the page is full. Within a kind the database's
// own ordering of the key column is the order (byte order on SQLite and
// MySQL, where every key is binary; the column's collation on
// PostgreSQL), used for both the ORDER BY and the comparison with after,
// so pages neither skip nor repeat a record.
func (c authnSQL) UserRecords(ctx context.Context, a gdprkit.AccountID, user string, after authn.RecordRef, limit int) ([]authn.RecordRef, error) {
	const what = "user records"
	if err := ctx.Err(); err != nil {
		return nil, mapErr(err, what)
	}
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, fmt.Errorf("%w: %s: limit %d", gdprkit.ErrInvalid, what, limit)
	}
	from := 0
	if after != (authn.RecordRef{}) {
		if from = after.Kind.Rank(); from < 0 {
			return nil, fmt.Errorf("%w: %s: unknown kind %q", gdprkit.ErrInvalid, what, after.Kind)
		}
	}
	var out []authn.RecordRef
	for _, rt := range recordTables[from:] {
		q := "SELECT "
		args := []any{string(a), user}
		if rt.col == "" {
			q += "factor, client FROM " + rt.table + " WHERE account_id = ? AND user_id = ?"
		} else {
			q += rt.col + " FROM " + rt.table + " WHERE account_id = ? AND user_id = ?"
		}
		if after != (authn.RecordRef{}) && after.Kind == rt.kind {
			if rt.col == "" {
				f, client, ok := after.Throttle()
				if !ok {
					return nil, fmt.Errorf("%w: %s: a throttle record ID is factor/client", gdprkit.ErrInvalid, what)
				}
				q += " AND (factor > ? OR (factor = ? AND client > ?))"
				args = append(args, string(f), string(f), client)
			} else {
				key, ok := recordKey(after)
				if !ok {
					return nil, fmt.Errorf("%w: %s: malformed recovery record ID", gdprkit.ErrInvalid, what)
				}
				q += " AND " + rt.col + " > ?"
				args = append(args, key)
			}
		}
		if rt.col == "" {
			q += " ORDER BY factor, client"
		} else {
			q += " ORDER BY " + rt.col
		}
		q += " LIMIT ?"
		args = append(args, limit-len(out))
		page, err := c.recordPage(ctx, rt, q, args)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, page...)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func (c authnSQL) recordPage(ctx context.Context, rt recordTable, q string, args []any) ([]authn.RecordRef, error) {
	rows, err := c.db.QueryContext(ctx, c.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []authn.RecordRef
	for rows.Next() {
		switch {
		case rt.col == "":
			var k authn.ThrottleKey
			var f string
			if err := rows.Scan(&f, &k.Client); err != nil {
				return nil, err
			}
			k.Factor = authn.Factor(f)
			out = append(out, authn.ThrottleRef(k))
		case rt.kind == authn.RecordRecovery:
			var h []byte
			if err := rows.Scan(&h); err != nil {
				return nil, err
			}
			out = append(out, authn.RecordRef{Kind: rt.kind, ID: hex.EncodeToString(h)})
		default:
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			out = append(out, authn.RecordRef{Kind: rt.kind, ID: id})
		}
	}
	return out, rows.Err()
}

// maxRecordDelete bounds the refs of one DELETE statement.
const maxRecordDelete = 500

// DeleteUserRecords deletes in one transaction, with one DELETE per kind
// (and per 500 refs) of the refs given, counting the rows each removed.
func (c authnSQL) DeleteUserRecords(ctx context.Context, a gdprkit.AccountID, user string, refs []authn.RecordRef) (authn.Counts, error) {
	const what = "delete user records"
	if err := ctx.Err(); err != nil {
		return authn.Counts{}, mapErr(err, what)
	}
	if err := checkAccount(a); err != nil {
		return authn.Counts{}, err
	}
	byKind := map[authn.RecordKind][]authn.RecordRef{}
	for _, r := range refs {
		byKind[r.Kind] = append(byKind[r.Kind], r)
	}
	var n authn.Counts
	err := c.tx(ctx, what, func(tx *sql.Tx) error {
		n = authn.Counts{}
		for _, rt := range recordTables {
			for part := byKind[rt.kind]; len(part) > 0; {
				chunk := part[:min(maxRecordDelete, len(part))]
				part = part[len(chunk):]
				k, err := c.deleteRecords(ctx, tx, rt, a, user, chunk)
				if err != nil {
					return err
				}
				switch rt.kind {
				case authn.RecordUser:
					n.Users += k
				case authn.RecordTOTP:
					n.TOTP += k
				case authn.RecordRecovery:
					n.RecoveryCodes += k
				case authn.RecordToken:
					n.Tokens += k
				case authn.RecordSession:
					n.Sessions += k
				case authn.RecordThrottle:
					n.Throttles += k
				}
			}
		}
		return nil
	})
	if err != nil {
		return authn.Counts{}, err
	}
	return n, nil
}

// deleteRecords deletes the user's records of one kind that refs name;
// refs whose ID cannot name a record of the kind are left out.
func (c authnSQL) deleteRecords(ctx context.Context, tx *sql.Tx, rt recordTable, a gdprkit.AccountID, user string, refs []authn.RecordRef) (int, error) {
	args := []any{string(a), user}
	var conds []string
	seen := map[string]bool{}
	for _, r := range refs {
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		if rt.col == "" {
			f, client, ok := r.Throttle()
			if !ok {
				continue
			}
			conds = append(conds, "(factor = ? AND client = ?)")
			args = append(args, string(f), client)
			continue
		}
		key, ok := recordKey(r)
		if !ok {
			continue
		}
		conds = append(conds, "?")
		args = append(args, key)
	}
	if len(conds) == 0 {
		return 0, nil
	}
	q := "DELETE FROM " + rt.table + " WHERE account_id = ? AND user_id = ? AND "
	if rt.col == "" {
		q += "(" + strings.Join(conds, " OR ") + ")"
	} else {
		q += rt.col + " IN (" + strings.Join(conds, ", ") + ")"
	}
	res, err := tx.ExecContext(ctx, c.q(q), args...)
	if err != nil {
		return 0, err
	}
	k, err := res.RowsAffected()
	return int(k), err
}
