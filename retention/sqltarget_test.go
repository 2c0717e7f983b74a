package retention_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// sqlTickets is an example-style retention target over a host's own SQL
// tables, as examples/helpdesk binds hd_tickets (built here so the crash
// tests and the benchmark need not import the example): tickets with
// messages, attachments and a file per attachment on disk. Holds are a
// column the selector sees. A batch is deleted in one transaction that
// locks the tickets it removes, so Removed is exactly what this call
// deleted; files go before the rows, so a crash never leaves a file that
// no row names.
type sqlTickets struct {
	db  *sql.DB
	d   sqldb.Dialect
	dir string // files live under dir/<account>/<blob key>
	// slow, when set, is called inside every delete transaction.
	slow func()
	// phases, when set, adds up where Find and Delete spend their time
	// (the drain benchmark logs it).
	phases *targetPhases
}

// targetPhases is the wall time sqlTickets spent in each part of its work.
type targetPhases struct {
	find, lock, lookup, files, deletes, commit time.Duration
}

func (p *targetPhases) String() string {
	return fmt.Sprintf("find %v, lock %v, lookup %v, files %v, deletes %v, commit %v",
		p.find.Round(time.Millisecond), p.lock.Round(time.Millisecond), p.lookup.Round(time.Millisecond),
		p.files.Round(time.Millisecond), p.deletes.Round(time.Millisecond), p.commit.Round(time.Millisecond))
}

// mark adds the time since *t0 to *d and restarts *t0, when phases are kept.
func (s *sqlTickets) mark(d *time.Duration, t0 *time.Time) {
	if s.phases == nil {
		return
	}
	now := time.Now()
	*d += now.Sub(*t0)
	*t0 = now
}

var sqlTicketFields = []string{"created_at", "closed_at"}

var sqlTicketTables = []struct{ name, cols, index string }{
	{"rt_tickets", "account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, status VARCHAR(16) NOT NULL, created_at VARCHAR(32) NOT NULL, closed_at VARCHAR(32) NULL, held SMALLINT NOT NULL, PRIMARY KEY (account_id, id)", "status, closed_at, id"},
	{"rt_messages", "account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, ticket_id BIGINT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (account_id, id)", "ticket_id"},
	{"rt_attachments", "account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, message_id BIGINT NOT NULL, blob_key VARCHAR(200) NOT NULL, PRIMARY KEY (account_id, id)", "message_id"},
}

func newSQLTickets(t testing.TB, db *sql.DB, d sqldb.Dialect, dir string) *sqlTickets {
	t.Helper()
	for _, tb := range sqlTicketTables {
		cols := tb.cols
		if d == sqlstore.MySQL {
			cols += ", INDEX " + tb.name + "_k (account_id, " + tb.index + ")"
		}
		ddl := "CREATE TABLE IF NOT EXISTS " + tb.name + " (" + cols + ")"
		if d == sqlstore.MySQL {
			ddl += " ENGINE=InnoDB"
		}
		if _, err := db.Exec(ddl); err != nil {
			t.Fatal(err)
		}
		if d != sqlstore.MySQL {
			if _, err := db.Exec("CREATE INDEX IF NOT EXISTS " + tb.name + "_k ON " + tb.name + " (account_id, " + tb.index + ")"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &sqlTickets{db: db, d: d, dir: dir}
}

func (s *sqlTickets) q(query string) string { return rebind(query, s.d) }

func (s *sqlTickets) Schema() retention.TargetSchema {
	return retention.TargetSchema{Statuses: []string{"open", "closed", "spam"}, Fields: sqlTicketFields}
}

func (s *sqlTickets) Find(ctx context.Context, acct gdprkit.AccountID, sel retention.Selector, limit int) ([]retention.Candidate, error) {
	if !slices.Contains(sqlTicketFields, sel.Field) {
		return nil, fmt.Errorf("%w: no time field %q", gdprkit.ErrInvalid, sel.Field)
	}
	f := sel.Field
	if s.phases != nil {
		t0 := time.Now()
		defer s.mark(&s.phases.find, &t0)
	}
	where := " FROM rt_tickets WHERE account_id = ? AND " + f + " IS NOT NULL AND " + f + " < ?"
	args := []any{string(acct), ts(sel.Before)}
	if sel.Status != "" {
		where += " AND status = ?"
		args = append(args, sel.Status)
	}
	if !sel.After.IsZero() {
		after, err := strconv.ParseInt(sel.After.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: bad cursor", gdprkit.ErrInvalid)
		}
		// The redundant "f >= ?" gives the index scan its start: the OR
		// alone is only a filter, and every Find would walk the index
		// from the oldest entry, dead ones of deleted rows included.
		where += " AND " + f + " >= ? AND (" + f + " > ? OR (" + f + " = ? AND id > ?))"
		args = append(args, ts(sel.After.At), ts(sel.After.At), ts(sel.After.At), after)
	}
	kept, keepArgs := "0", []any{}
	for _, k := range sel.Keep {
		if !slices.Contains(sqlTicketFields, k.Field) {
			continue
		}
		if kept == "0" {
			kept = "CASE WHEN "
		} else {
			kept += " OR "
		}
		kept += "(" + k.Field + " >= ?"
		keepArgs = append(keepArgs, ts(k.Since))
		if k.Status != "" {
			kept += " AND status = ?"
			keepArgs = append(keepArgs, k.Status)
		}
		kept += ")"
	}
	if kept != "0" {
		kept += " THEN 1 ELSE 0 END"
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT id, "+f+", held, "+kept+where+" ORDER BY "+f+", id LIMIT ?"), append(append(keepArgs, args...), limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []retention.Candidate
	for rows.Next() {
		var id, held, k int64
		var at string
		if err := rows.Scan(&id, &at, &held, &k); err != nil {
			return nil, err
		}
		out = append(out, retention.Candidate{ID: strconv.FormatInt(id, 10), At: parseTime(at), Held: held != 0, Kept: k != 0})
	}
	return out, rows.Err()
}

func (s *sqlTickets) Delete(ctx context.Context, acct gdprkit.AccountID, ids []string) (retention.DeleteResult, error) {
	var res retention.DeleteResult
	if len(ids) == 0 {
		return res, nil
	}
	keys := make([]any, 0, len(ids)+1)
	keys = append(keys, string(acct))
	for _, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			continue // not one of ours: nothing to delete
		}
		keys = append(keys, n)
	}
	if len(keys) == 1 {
		return res, nil
	}
	in := "(?" + strings.Repeat(", ?", len(keys)-2) + ")"
	t0 := time.Now()
	var ph targetPhases
	if s.phases != nil {
		defer func() {
			s.phases.lock += ph.lock
			s.phases.lookup += ph.lookup
			s.phases.files += ph.files
			s.phases.deletes += ph.deletes
			s.phases.commit += ph.commit
		}()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	lock := " FOR UPDATE"
	if s.d == sqlstore.SQLite {
		lock = "" // BEGIN IMMEDIATE already serialises writers
	}
	rows, err := tx.QueryContext(ctx, s.q("SELECT id, held FROM rt_tickets WHERE account_id = ? AND id IN "+in+lock), keys...)
	if err != nil {
		return res, err
	}
	del := []any{string(acct)}
	for rows.Next() {
		var id, held int64
		if err := rows.Scan(&id, &held); err != nil {
			rows.Close()
			return res, err
		}
		if held != 0 {
			res.Held = append(res.Held, strconv.FormatInt(id, 10))
		} else {
			del = append(del, id)
			res.Removed = append(res.Removed, strconv.FormatInt(id, 10))
		}
	}
	if err := rows.Close(); err != nil {
		return res, err
	}
	if len(del) == 1 {
		return res, tx.Commit()
	}
	s.mark(&ph.lock, &t0)
	in = "(?" + strings.Repeat(", ?", len(del)-2) + ")"
	// The tickets' messages first, then their attachments by message ID:
	// both are index lookups whatever the tables' size. (A join, or an
	// IN (SELECT …), let PostgreSQL hash-join a full scan of
	// rt_attachments into every batch, so a batch's cost grew with the
	// table: 4.6x per ticket at 200,000 tickets against 20,000.)
	rows, err = tx.QueryContext(ctx, s.q("SELECT id FROM rt_messages WHERE account_id = ? AND ticket_id IN "+in), del...)
	if err != nil {
		return res, err
	}
	msgs := []any{string(acct)}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return res, err
		}
		msgs = append(msgs, id)
	}
	if err := rows.Close(); err != nil {
		return res, err
	}
	// A batch is 100 tickets of about ten messages: one IN list each.
	var msgIn string
	var files []string
	if len(msgs) > 1 {
		msgIn = "(?" + strings.Repeat(", ?", len(msgs)-2) + ")"
		rows, err = tx.QueryContext(ctx, s.q("SELECT blob_key FROM rt_attachments WHERE account_id = ? AND message_id IN "+msgIn), msgs...)
		if err != nil {
			return res, err
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return res, err
			}
			files = append(files, k)
		}
		if err := rows.Close(); err != nil {
			return res, err
		}
	}
	s.mark(&ph.lookup, &t0)
	if err := s.removeFiles(acct, files); err != nil {
		return res, err
	}
	s.mark(&ph.files, &t0)
	if s.slow != nil {
		s.slow()
	}
	if len(msgs) > 1 {
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM rt_attachments WHERE account_id = ? AND message_id IN "+msgIn), msgs...); err != nil {
			return res, err
		}
	}
	if _, err := tx.ExecContext(ctx, s.q("DELETE FROM rt_messages WHERE account_id = ? AND ticket_id IN "+in), del...); err != nil {
		return res, err
	}
	r, err := tx.ExecContext(ctx, s.q("DELETE FROM rt_tickets WHERE account_id = ? AND id IN "+in), del...)
	if err != nil {
		return res, err
	}
	if n, err := r.RowsAffected(); err != nil || n != int64(len(del)-1) {
		return retention.DeleteResult{}, fmt.Errorf("deleted %d tickets of %d locked (%v)", n, len(del)-1, err)
	}
	s.mark(&ph.deletes, &t0)
	if err := tx.Commit(); err != nil {
		return retention.DeleteResult{}, err
	}
	s.mark(&ph.commit, &t0)
	return res, nil
}

// removeFiles removes a batch's files, eight at a time: unlinking a file
// whose blocks are on disk takes ~0.1-0.2 ms of file system work here (its
// blocks freed, discarded and journalled), more than all of the ticket's
// rows, and the unlinks of different files overlap. All are gone (or
// missing already) before it returns; the rows go after, so a crash still
// never leaves a file that no row names.
func (s *sqlTickets) removeFiles(acct gdprkit.AccountID, files []string) error {
	const workers = 8
	var (
		next int64 = -1
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range min(workers, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(len(files)) {
					return
				}
				if err := os.Remove(filepath.Join(s.dir, string(acct), files[i])); err != nil && !errors.Is(err, os.ErrNotExist) {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

const tsLayout = "2006-01-02T15:04:05.000000Z"

func ts(t time.Time) string { return t.UTC().Format(tsLayout) }

func parseTime(s string) time.Time { t, _ := time.Parse(tsLayout, s); return t }

// seed inserts n closed tickets of acct, ids from first, closed at
// closed(i), each with msgs messages and one attachment (and its file) on
// the first message. Rows go in multi-row INSERTs of up to 500 rows.
func (s *sqlTickets) seed(t testing.TB, acct gdprkit.AccountID, first, n, msgs int, closed func(i int) time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(s.dir, string(acct)), 0o755); err != nil {
		t.Fatal(err)
	}
	const per = 500
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var tq, aq strings.Builder
		var targs, aargs []any
		tq.WriteString("INSERT INTO rt_tickets (account_id, id, status, created_at, closed_at, held) VALUES ")
		aq.WriteString("INSERT INTO rt_attachments (account_id, id, message_id, blob_key) VALUES ")
		for i := start; i < end; i++ {
			id := int64(first + i)
			if i > start {
				tq.WriteString(", ")
				aq.WriteString(", ")
			}
			tq.WriteString("(?, ?, 'closed', ?, ?, 0)")
			c := closed(i)
			targs = append(targs, string(acct), id, ts(c.Add(-30*day)), ts(c))
			key := fmt.Sprintf("f%d.bin", id)
			aq.WriteString("(?, ?, ?, ?)")
			aargs = append(aargs, string(acct), id, id*100, key)
			if err := os.WriteFile(filepath.Join(s.dir, string(acct), key), []byte("attachment of ticket "+strconv.FormatInt(id, 10)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(tq.String()), targs...); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, s.q(aq.String()), aargs...); err != nil {
			t.Fatal(err)
		}
		for m := 0; m < msgs; m++ {
			var mq strings.Builder
			var margs []any
			mq.WriteString("INSERT INTO rt_messages (account_id, id, ticket_id, body) VALUES ")
			for i := start; i < end; i++ {
				id := int64(first + i)
				if i > start {
					mq.WriteString(", ")
				}
				mq.WriteString("(?, ?, ?, ?)")
				margs = append(margs, string(acct), id*100+int64(m), id, "message body of a customer's ticket, long enough to look like one")
			}
			if _, err := tx.ExecContext(ctx, s.q(mq.String()), margs...); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *sqlTickets) count(t testing.TB, table string, acct gdprkit.AccountID) int64 {
	t.Helper()
	var n int64
	if err := s.db.QueryRow(s.q("SELECT COUNT(*) FROM "+table+" WHERE account_id = ?"), string(acct)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (s *sqlTickets) files(t testing.TB, acct gdprkit.AccountID) int {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(s.dir, string(acct)))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return len(es)
}
