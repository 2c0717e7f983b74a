package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/gdprkit/gdprkit/sqldb"
)

// conn is what statements run on: the *sql.DB, the host's *sql.Tx, or
// guarded.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// WithTx returns the store working inside the host's transaction tx, so
// that what gdprkit writes commits, or rolls back, with the host's own
// rows: for example the customer, their ticket and the consent that allows
// it. It shares s's database, dialect and logger; s itself is unchanged,
// and a nil tx returns a store like s.
//
// The rules of a bound store:
//
//   - It never commits or rolls back tx; the host does, after the calls
//     return. Until then other connections do not see what it wrote.
//   - A method that writes several rows in one atomic step (consent's
//     Append and Rewrite, a policy publication, a batch of deletions…)
//     runs it under a SAVEPOINT of tx: it either happens completely or,
//     when it returns an error, is rolled back to the savepoint, and tx
//     stays usable. On PostgreSQL, where any failed statement aborts the
//     whole transaction, every other write runs under a savepoint too, so
//     that an expected failure (a key that exists: gdprkit.ErrConflict)
//     leaves the host's transaction as it was. Reads are not guarded: one
//     that fails there for another reason than a missing row (an ended
//     context, a lost connection) leaves PostgreSQL's transaction aborted,
//     and the host rolls back. Savepoint names start with
//     gdprkit_store_sp_.
//   - Nothing is retried inside tx. An unbound store runs a transaction
//     again after a deadlock, serialization failure, lock timeout or busy
//     SQLite; bound, it returns that error (it wraps
//     gdprkit.ErrUnavailable and sqldb.Retryable reports it), and the host
//     must roll back and run its whole transaction again: MySQL has then
//     already rolled tx back, and PostgreSQL may refuse to commit it.
//   - Locks the store takes (for example the consent chain's head row,
//     which serialises every append of an account) are held until the host
//     commits: record consent late in a transaction, not before slow work.
//   - tx's isolation level is the host's choice. The store's own
//     transactions use the database's default (READ COMMITTED on
//     PostgreSQL, REPEATABLE READ on MySQL); under a stronger level a
//     concurrent append can fail with a serialization failure, returned as
//     above.
//   - On SQLite a transaction begun with a plain BEGIN takes the write lock
//     only at its first write and may then find the database busy
//     (returned as above); a host that writes there should serialise its
//     writers or begin with BEGIN IMMEDIATE (SQLiteDSN's _txlock=immediate).
//   - Migrate refuses to run on a bound store and Checkpoint does nothing
//     there: both act on the database, not on one transaction.
//   - Like tx, a bound store serves one goroutine at a time.
//
// Services keep their own guarantees inside tx when every store they write
// through is bound to it: give the service a store over s.WithTx(tx) (for
// consent: consent.Service.WithStore), never the unbound one, whose writes
// would commit on their own — and on SQLite would wait for the lock tx
// holds. Consent's guarantees inside a host transaction are tested
// (Record: every decision of a call or none, the chain serialised per
// account). Services that keep state in memory (ipfilter's rule cache,
// spam's model, authn's throttling budgets) keep it per Service value and
// may cache what tx wrote before the host rolls back: build such a
// Service per transaction and drop it with the transaction.
func (s *Store) WithTx(tx *sql.Tx) *Store {
	ns := *s
	ns.host, ns.db = tx, s.pool
	switch {
	case tx == nil:
	case s.d.Dialect == Postgres:
		ns.db = guarded{tx}
	default:
		ns.db = tx
	}
	return &ns
}

// Tx returns the host's transaction the store is bound to (WithTx), or
// nil.
func (s *Store) Tx() *sql.Tx { return s.host }

// savepoints numbers savepoint names; a name only has to be unique within
// one transaction.
var savepoints atomic.Uint64

// savepoint runs fn in tx under a savepoint: released when fn returns nil,
// rolled back to when it returns an error, so fn's statements all happen
// or none does. It never commits or rolls back tx. Errors are returned as
// the driver gave them (mapErr shapes them later); when rolling back to
// the savepoint fails too (MySQL has already rolled back the whole
// transaction after a deadlock), both are reported, classified.
func savepoint(ctx context.Context, tx *sql.Tx, fn func(tx *sql.Tx) error) error {
	name := "gdprkit_store_sp_" + strconv.FormatUint(savepoints.Add(1), 10)
	if _, err := tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if _, rerr := tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return fmt.Errorf("%w (and rolling back to savepoint %s failed: %w)", sqldb.Classify(err), name, sqldb.Classify(rerr))
		}
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
	return err
}

// guarded runs a PostgreSQL store's single-statement writes inside the
// host's transaction each under a savepoint (see WithTx); reads run as
// they are.
type guarded struct{ tx *sql.Tx }

func (g guarded) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := savepoint(ctx, g.tx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

func (g guarded) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return g.tx.QueryContext(ctx, query, args...)
}

func (g guarded) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return g.tx.QueryRowContext(ctx, query, args...)
}
