// Package sqlstore is the database/sql adapter of gdprkit: one value that
// implements store.Store over a *sql.DB the host opens with its own driver,
// for SQLite, PostgreSQL and MySQL/MariaDB.
//
// The schema lives in embedded, versioned migrations per dialect (see
// Migrations), applied only by an explicit call to Migrate. Every table is
// prefixed gdpr_ so it can share a database with the host's own schema. All
// SQL is parameterised; every query names the account it touches.
//
// Choices made here: timestamps are stored as UTC with microsecond precision
// (TIMESTAMP(6) on MySQL, TIMESTAMPTZ on PostgreSQL, RFC 3339 text on
// SQLite); transactions that fail with a deadlock, serialization failure,
// lock wait timeout or SQLITE_BUSY (sqldb.Retryable) are retried up to ten
// times with jittered backoff.
//
// Planner statistics: on PostgreSQL every gdpr_ index leads with
// account_id, which in a one-account deployment matches every row. Until a
// table is analyzed the planner may pick such an index for a lookup by a
// unique key and read the whole account; where autovacuum is off (or slow
// to reach tables that fill quickly), call Store.RefreshStatistics every
// few seconds to minutes (see sqldb.RefreshStatistics).
//
// The host's transaction: Store.WithTx binds the store to a *sql.Tx of the
// host's, so that gdprkit's rows commit or roll back with the host's own
// (a customer and the consent that allows their ticket). A bound store
// never commits or rolls back that transaction, makes its multi-row steps
// atomic with savepoints, and retries nothing: a transient failure goes
// back to the host, which runs its whole transaction again. See WithTx
// for every rule.
//
// Errors: every method returns errors that wrap a gdprkit sentinel, mapped
// by sqldb.Classify in one place. A missing row is gdprkit.ErrNotFound, a
// key violation gdprkit.ErrConflict, data the database refuses
// gdprkit.ErrInvalid, and a database that cannot be reached, a transaction
// that kept deadlocking or a context that ended gdprkit.ErrUnavailable
// (nothing was changed; try again later). Driver messages, which can quote
// key values, never appear in the error text; the driver's error stays
// reachable with errors.As.
//
// Library packages never import a driver; the tests and examples use
// modernc.org/sqlite, github.com/jackc/pgx/v5/stdlib and
// github.com/go-sql-driver/mysql.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Options configure a Store. The zero value is valid.
type Options struct {
	// Logger receives operational messages (never personal data).
	// Default: discard.
	Logger *slog.Logger
}

// Store is the SQL adapter. It is safe for concurrent use, and several
// processes may share one database. A Store bound to the host's
// transaction (WithTx) is not: like the *sql.Tx it runs in, it serves one
// goroutine at a time.
type Store struct {
	pool *sql.DB
	// db is what statements outside a transaction of the store's own run
	// on: pool, or the host's transaction (see WithTx).
	db conn
	// host is the host's transaction the store is bound to, nil when it
	// is not.
	host   *sql.Tx
	d      dialect
	logger *slog.Logger
}

// New returns a Store over db speaking d. It does not touch the database;
// call Migrate before first use. A nil db or an unknown dialect is an error
// wrapping gdprkit.ErrInvalid.
func New(db *sql.DB, d sqldb.Dialect, opts ...Options) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("sqlstore: nil *sql.DB: %w", gdprkit.ErrInvalid)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{pool: db, db: db, d: dialect{d}, logger: o.Logger}, nil
}

// DB returns the database the store was built on (for a store bound to a
// transaction too).
func (s *Store) DB() *sql.DB { return s.pool }

// Dialect returns the store's dialect.
func (s *Store) Dialect() sqldb.Dialect { return s.d.Dialect }

// Checkpoint, on SQLite, moves the write-ahead log into the database file
// and truncates it (see sqldb.Checkpoint): with the secure_delete that
// SQLiteDSN turns on, rows deleted before the call are then gone from both
// the .db and the -wal file. Run it after an erasure or account deletion.
// On PostgreSQL and MySQL it does nothing, and so it does on a store bound
// to the host's transaction (WithTx), whose deletions are not final before
// the host commits: call it on the unbound store after the commit. An
// error wraps gdprkit.ErrUnavailable when the log is in use or the
// database cannot be reached.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.host != nil {
		return nil
	}
	return sqldb.Checkpoint(ctx, s.pool, s.d.Dialect)
}

// q rebinds a query written with '?' placeholders for the dialect.
func (s *Store) q(query string) string { return s.d.Rebind(query) }

const maxTxAttempts = 10

// tx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise. A failure sqldb.Retryable accepts (deadlock,
// serialization failure, lock timeout, busy database) is retried with
// backoff; fn must therefore be safe to run again (it only talks to the
// database through tx). In a store bound to the host's transaction it
// runs fn once, under a savepoint of that transaction, and retries
// nothing (see WithTx). The error is mapped with mapErr; when
// ctx ended during the transaction, whatever the driver reported after the
// rollback (sql.ErrTxDone, …) is reported as the ended context, that is
// gdprkit.ErrUnavailable.
func (s *Store) tx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if s.host != nil {
		err := savepoint(ctx, s.host, fn)
		if err != nil && ctx.Err() != nil && !classified(err) {
			err = ctx.Err()
		}
		return mapErr(err, what)
	}
	var err error
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		if attempt > 0 {
			d := time.Duration(1<<min(attempt, 6))*time.Millisecond + time.Duration(rand.Int64N(int64(5*time.Millisecond)))
			select {
			case <-ctx.Done():
				return mapErr(ctx.Err(), what)
			case <-time.After(d):
			}
		}
		err = s.tryTx(ctx, fn)
		if err == nil || !sqldb.Retryable(err) {
			break
		}
		s.logger.Debug("sqlstore: retrying transaction", "op", what, "attempt", attempt+1)
	}
	if err != nil && ctx.Err() != nil && !classified(err) {
		err = ctx.Err()
	}
	return mapErr(err, what)
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ts converts a time for storage: UTC, microseconds. SQLite stores text in
// a fixed-width layout so that text order is time order.
func (s *Store) ts(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if s.d.Dialect == SQLite {
		return t.Format(sqliteTime)
	}
	return t
}

// nts is ts for an optional time: the zero time is stored as NULL.
func (s *Store) nts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.ts(t)
}

const sqliteTime = "2006-01-02T15:04:05.000000Z"

// timeScanner scans any of the dialects' time representations.
type timeScanner struct{ t *time.Time }

func (ts timeScanner) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*ts.t = time.Time{}
	case time.Time:
		*ts.t = x.UTC()
	case string:
		return ts.parse(x)
	case []byte:
		return ts.parse(string(x))
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into time", v)
	}
	return nil
}

func (ts timeScanner) parse(x string) error {
	for _, layout := range []string{sqliteTime, time.RFC3339Nano, "2006-01-02 15:04:05.999999", "2006-01-02 15:04:05.999999-07:00"} {
		if t, err := time.Parse(layout, x); err == nil {
			*ts.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("sqlstore: cannot parse time %q", x)
}

// tscan returns a sql.Scanner that fills *t.
func tscan(t *time.Time) timeScanner { return timeScanner{t} }

// checkAccount validates the tenant key every call receives.
func checkAccount(a gdprkit.AccountID) error { return a.Validate() }
