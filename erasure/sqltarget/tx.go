package sqltarget

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/gdprkit/gdprkit/sqldb"
)

// execer is what statements run on: *sql.DB, *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// runner runs statements on the host's database, or inside the host's
// transaction when tx is set.
type runner struct {
	db *sql.DB
	tx *sql.Tx
	d  sqldb.Dialect
}

func (r runner) q() execer {
	if r.tx != nil {
		return r.tx
	}
	return r.db
}

var savepoints atomic.Uint64

// atomic runs fn in a transaction of its own, or, inside the host's
// transaction, under a savepoint it rolls back to on error: either way fn's
// statements all happen or none does, and the host's transaction is never
// committed or rolled back here.
func (r runner) atomic(ctx context.Context, fn func(q execer) error) error {
	if r.tx == nil {
		tx, err := r.db.BeginTx(ctx, nil)
		if err != nil {
			return sqldb.Classify(err)
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		return sqldb.Classify(tx.Commit())
	}
	name := "gdprkit_sp_" + strconv.FormatUint(savepoints.Add(1), 10)
	if _, err := r.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return sqldb.Classify(err)
	}
	if err := fn(r.tx); err != nil {
		if _, rerr := r.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return fmt.Errorf("%w (and rolling back to the savepoint failed: %w)", err, sqldb.Classify(rerr))
		}
		return err
	}
	if _, err := r.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return sqldb.Classify(err)
	}
	return nil
}
