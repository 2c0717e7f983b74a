package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

// IPFilter returns the IP rules store.
func (s *Store) IPFilter() ipfilter.Store { return ipfilterSQL{s} }

type ipfilterSQL struct{ *Store }

// ipfilterBatch is the most entries written by one INSERT (8 parameters
// each, well under every dialect's placeholder limit).
const ipfilterBatch = 500

func (s ipfilterSQL) Version(ctx context.Context, a gdprkit.AccountID) (int64, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	return s.version(ctx, s.db, a)
}

func (s ipfilterSQL) version(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, a gdprkit.AccountID) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, s.q("SELECT version FROM gdpr_ipfilter_versions WHERE account_id = ?"), string(a)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, mapErr(err, "ipfilter version")
}

// Rules reads the version, the entries, and the version again, retrying
// when a change committed in between: under READ COMMITTED two statements
// may see different snapshots, and this keeps the rules and version
// consistent on every dialect without a stronger isolation level.
func (s ipfilterSQL) Rules(ctx context.Context, a gdprkit.AccountID) (ipfilter.RuleSet, error) {
	if err := checkAccount(a); err != nil {
		return ipfilter.RuleSet{}, err
	}
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		before, err := s.version(ctx, s.db, a)
		if err != nil {
			return ipfilter.RuleSet{}, err
		}
		rs, err := s.entries(ctx, a)
		if err != nil {
			return ipfilter.RuleSet{}, err
		}
		after, err := s.version(ctx, s.db, a)
		if err != nil {
			return ipfilter.RuleSet{}, err
		}
		if before == after {
			rs.Version = after
			return rs, nil
		}
	}
	return ipfilter.RuleSet{}, fmt.Errorf("ipfilter rules: changing too fast to read: %w", gdprkit.ErrUnavailable)
}

func (s ipfilterSQL) entries(ctx context.Context, a gdprkit.AccountID) (ipfilter.RuleSet, error) {
	rs := ipfilter.RuleSet{Account: a}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT surface, kind, prefix, note, added_by, added_at FROM gdpr_ipfilter_entries WHERE account_id = ? ORDER BY surface, kind, pos"), string(a))
	if err != nil {
		return rs, mapErr(err, "ipfilter rules")
	}
	defer rows.Close()
	for rows.Next() {
		var surface, kind, prefix, by string
		var e ipfilter.Entry
		if err := rows.Scan(&surface, &kind, &prefix, &e.Note, &by, tscan(&e.AddedAt)); err != nil {
			return rs, mapErr(err, "ipfilter rules")
		}
		p, err := netip.ParsePrefix(prefix)
		if err != nil {
			return rs, fmt.Errorf("sqlstore: ipfilter rules: stored prefix %q: %w", prefix, err)
		}
		e.Prefix, e.AddedBy = p, gdprkit.ActorID(by)
		if n := len(rs.Surfaces); n == 0 || rs.Surfaces[n-1].Surface != gdprkit.Surface(surface) {
			rs.Surfaces = append(rs.Surfaces, ipfilter.SurfaceRules{Surface: gdprkit.Surface(surface)})
		}
		r := &rs.Surfaces[len(rs.Surfaces)-1]
		switch ipfilter.List(kind) {
		case ipfilter.ListAllow:
			r.Allow = append(r.Allow, e)
		case ipfilter.ListDeny:
			r.Deny = append(r.Deny, e)
		default:
			return rs, fmt.Errorf("sqlstore: ipfilter rules: unknown list %q", kind)
		}
	}
	return rs, mapErr(rows.Err(), "ipfilter rules")
}

// bumpVersion moves the account's version from expected to expected+1 in
// tx; with expected < 0 it bumps whatever is there. It returns the new
// version, or an error wrapping gdprkit.ErrConflict when the version is not
// expected.
func (s ipfilterSQL) bumpVersion(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, expected int64) (int64, error) {
	var cur int64
	err := tx.QueryRowContext(ctx, s.q("SELECT version FROM gdpr_ipfilter_versions WHERE account_id = ?"+s.d.forUpdate()), string(a)).Scan(&cur)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if expected >= 0 && cur != expected {
		return 0, fmt.Errorf("ipfilter rules: version is %d, not %d: %w", cur, expected, gdprkit.ErrConflict)
	}
	if !exists {
		// A concurrent first write inserts the same key: a unique violation,
		// which mapErr turns into ErrConflict.
		_, err = tx.ExecContext(ctx, s.q("INSERT INTO gdpr_ipfilter_versions (account_id, version) VALUES (?, 1)"), string(a))
		return 1, err
	}
	res, err := tx.ExecContext(ctx, s.q("UPDATE gdpr_ipfilter_versions SET version = ? WHERE account_id = ? AND version = ?"), cur+1, string(a), cur)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if n != 1 {
		return 0, fmt.Errorf("ipfilter rules: version moved: %w", gdprkit.ErrConflict)
	}
	return cur + 1, nil
}

func (s ipfilterSQL) ReplaceRules(ctx context.Context, a gdprkit.AccountID, r ipfilter.SurfaceRules, expected int64) (int64, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	if r.Surface == "" {
		return 0, fmt.Errorf("ipfilter rules: empty surface: %w", gdprkit.ErrInvalid)
	}
	if expected < 0 {
		return 0, fmt.Errorf("ipfilter rules: negative expected version: %w", gdprkit.ErrInvalid)
	}
	var version int64
	err := s.tx(ctx, "replace ipfilter rules", func(tx *sql.Tx) error {
		v, err := s.bumpVersion(ctx, tx, a, expected)
		if err != nil {
			return err
		}
		version = v
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM gdpr_ipfilter_entries WHERE account_id = ? AND surface = ?"), string(a), string(r.Surface)); err != nil {
			return err
		}
		return s.insertEntries(ctx, tx, a, r)
	})
	if err != nil {
		return 0, err
	}
	return version, nil
}

func (s ipfilterSQL) insertEntries(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, r ipfilter.SurfaceRules) error {
	type row struct {
		kind ipfilter.List
		pos  int
		e    ipfilter.Entry
	}
	rows := make([]row, 0, len(r.Allow)+len(r.Deny))
	for i, e := range r.Allow {
		rows = append(rows, row{ipfilter.ListAllow, i, e})
	}
	for i, e := range r.Deny {
		rows = append(rows, row{ipfilter.ListDeny, i, e})
	}
	for len(rows) > 0 {
		n := min(len(rows), ipfilterBatch)
		args := make([]any, 0, n*8)
		for _, x := range rows[:n] {
			var at any
			if !x.e.AddedAt.IsZero() {
				at = s.ts(x.e.AddedAt)
			}
			args = append(args, string(a), string(r.Surface), string(x.kind), x.pos, x.e.Prefix.String(), x.e.Note, string(x.e.AddedBy), at)
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO gdpr_ipfilter_entries (account_id, surface, kind, pos, prefix, note, added_by, added_at) VALUES "+valueRows(n, 8)), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

func (s ipfilterSQL) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int64, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	var version int64
	var err error
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		err = s.tx(ctx, "delete ipfilter rules", func(tx *sql.Tx) error {
			v, err := s.bumpVersion(ctx, tx, a, -1)
			if err != nil {
				return err
			}
			version = v
			_, err = tx.ExecContext(ctx, s.q("DELETE FROM gdpr_ipfilter_entries WHERE account_id = ?"), string(a))
			return err
		})
		if err == nil || !errors.Is(err, gdprkit.ErrConflict) {
			break
		}
		// Two first writes raced on the version row; read it again.
		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}
	if err != nil {
		return 0, err
	}
	return version, nil
}
