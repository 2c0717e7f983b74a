package hostdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
)

// conn is what queries run on: the *sql.DB, or the transaction of InTx.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is the helpdesk's data layer over one database. It is safe for
// concurrent use; the DB that InTx hands its function is not, and is valid
// only until the function returns.
type DB struct {
	db    *sql.DB
	c     conn
	tx    *sql.Tx
	d     sqldb.Dialect
	clock gdprkit.Clock
	// writer, on SQLite, is the one writer's turn: write transactions
	// queue for it in arrival order before they take a connection.
	writer chan struct{}
}

// New returns the data layer over db, which speaks d. clock stamps the
// rows it creates (default: the system clock). It does not touch the
// database; call Migrate before first use.
func New(db *sql.DB, d sqldb.Dialect, clock gdprkit.Clock) (*DB, error) {
	if db == nil {
		return nil, fmt.Errorf("hostdb: nil *sql.DB: %w", gdprkit.ErrInvalid)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("hostdb: %w", err)
	}
	if clock == nil {
		clock = gdprkit.SystemClock{}
	}
	s := &DB{db: db, c: db, d: d, clock: clock}
	if d == sqldb.SQLite {
		s.writer = make(chan struct{}, 1)
	}
	return s, nil
}

// Writing runs fn as the database's one writer: on SQLite, where one
// transaction at a time may write, it waits in arrival order until no
// InTx of this DB (nor another fn given to Writing) is writing, and holds
// that turn until fn returns; elsewhere it just runs fn. Use it for writes
// that go through another store on the same database (gdprkit's
// sqlstore), so that they wait their turn here, holding nothing, and not
// in SQLite's busy handler, which sleeps in steps of up to 100 ms while
// holding a pooled connection. It returns an error wrapping
// gdprkit.ErrUnavailable when ctx ends first.
func (s *DB) Writing(ctx context.Context, fn func() error) error {
	if s.writer == nil || s.tx != nil {
		return fn()
	}
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return classify(ctx.Err(), "wait to write")
	}
	defer func() { <-s.writer }()
	return fn()
}

// SQL returns the database the layer was built on.
func (s *DB) SQL() *sql.DB { return s.db }

// Dialect returns the database's dialect.
func (s *DB) Dialect() sqldb.Dialect { return s.d }

// Tx returns the transaction of a DB handed to an InTx function, nil
// otherwise: gdprkit's stores join it (sqlstore's WithTx), so the host's
// rows and gdprkit's commit together.
func (s *DB) Tx() *sql.Tx { return s.tx }

// maxTxAttempts bounds how often InTx runs a transaction that a deadlock,
// serialization failure or busy database aborted.
const maxTxAttempts = 8

// InTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise, so either every row fn wrote is stored or none is. On
// SQLite it first waits for the writer's turn (see Writing). A
// transaction the database aborted as transient (deadlock, serialization
// failure, lock timeout, busy SQLite: sqldb.Retryable) is run again after a
// short backoff, so fn must do nothing outside the transaction that cannot
// be repeated. fn's own error is returned as it is; database errors are
// classified (gdprkit.ErrUnavailable when the database cannot be reached
// or ctx ended).
func (s *DB) InTx(ctx context.Context, fn func(tx *DB) error) error {
	if s.tx != nil {
		return fn(s) // already inside one: join it
	}
	var err error
	for attempt := range maxTxAttempts {
		if attempt > 0 {
			d := time.Duration(1<<min(attempt, 6))*time.Millisecond + time.Duration(rand.Int64N(int64(4*time.Millisecond)))
			select {
			case <-ctx.Done():
				return classify(ctx.Err(), "transaction")
			case <-time.After(d):
			}
		}
		if err = s.Writing(ctx, func() error { return s.tryTx(ctx, fn) }); err == nil || !sqldb.Retryable(err) {
			break
		}
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, gdprkit.ErrUnavailable) {
		// The request ended mid-transaction: whatever the driver said
		// after that, the cause is the ended context.
		return classify(ctx.Err(), "transaction")
	}
	return err
}

func (s *DB) tryTx(ctx context.Context, fn func(tx *DB) error) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err, "begin")
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	in := *s
	in.c, in.tx = tx, tx
	if err = fn(&in); err != nil {
		return err
	}
	return classify(tx.Commit(), "commit")
}

// q rebinds '?' placeholders for the dialect.
func (s *DB) q(query string) string { return s.d.Rebind(query) }

// now is the layer's current time.
func (s *DB) now() time.Time { return s.clock.Now().UTC() }

// classify wraps a database error with what was being done, mapped to
// gdprkit's sentinels: a missing row is gdprkit.ErrNotFound.
func classify(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("hostdb: %s: %w", what, gdprkit.ErrNotFound)
	}
	return fmt.Errorf("hostdb: %s: %w", what, sqldb.Classify(err))
}

// tsFormat is how times are stored: fixed-width, so text order is time
// order.
const tsFormat = "2006-01-02T15:04:05.000000Z"

func ts(t time.Time) string { return t.UTC().Format(tsFormat) }

func nullTS(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: ts(t), Valid: true}
}

func parseTS(s string) time.Time {
	t, _ := time.Parse(tsFormat, s)
	return t
}

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// placeholders returns "?, ?, ?" with n marks.
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// likePattern makes a LIKE pattern that finds s anywhere, with LIKE's
// wildcards in s escaped by '!'.
func likePattern(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// insertID runs an INSERT into a table with a generated id and returns the
// id: RETURNING on PostgreSQL, LastInsertId elsewhere.
func (s *DB) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	if s.d == sqldb.Postgres {
		var id int64
		err := s.c.QueryRowContext(ctx, s.q(query+" RETURNING id"), args...).Scan(&id)
		return id, err
	}
	res, err := s.c.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// forUpdate is the locking suffix of a SELECT that must see the latest
// committed row inside a transaction (MySQL's REPEATABLE READ would
// otherwise read its snapshot); SQLite's transactions are already
// serialised.
func (s *DB) forUpdate() string {
	if s.d == sqldb.SQLite || s.tx == nil {
		return ""
	}
	return " FOR UPDATE"
}
