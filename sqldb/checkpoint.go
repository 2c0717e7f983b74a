package sqldb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gdprkit/gdprkit"
)

// Checkpoint moves everything in SQLite's write-ahead log into the database
// file and truncates the log to zero bytes (PRAGMA wal_checkpoint(TRUNCATE)).
// Together with PRAGMA secure_delete, which zeroes deleted content in the
// pages it frees or rewrites, this leaves no copy of deleted rows in the .db
// or -wal file: run it after an erasure. It waits for readers and writers
// up to the connection's busy timeout; when they still hold the log it
// returns an error wrapping gdprkit.ErrUnavailable and the log is only
// partly moved.
//
// On PostgreSQL and MySQL it does nothing and returns nil: deleted row
// versions there are removed by VACUUM (PostgreSQL) or the purge thread
// (InnoDB), and copies remain in WAL / binary log archives and backups
// until they expire; that is the host's retention to configure.
func Checkpoint(ctx context.Context, q Querier, d Dialect) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if d != SQLite {
		return nil
	}
	if q == nil {
		return fmt.Errorf("sqldb: checkpoint: nil Querier: %w", gdprkit.ErrInvalid)
	}
	rows, err := q.QueryContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	if err != nil {
		return fmt.Errorf("sqldb: checkpoint: %w", Classify(err))
	}
	defer rows.Close()
	var busy, logFrames, moved sql.NullInt64
	if rows.Next() {
		if err := rows.Scan(&busy, &logFrames, &moved); err != nil {
			return fmt.Errorf("sqldb: checkpoint: %w", Classify(err))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqldb: checkpoint: %w", Classify(err))
	}
	if busy.Int64 != 0 {
		return fmt.Errorf("sqldb: checkpoint: %d of %d log frames moved, the log is in use: %w", moved.Int64, logFrames.Int64, gdprkit.ErrUnavailable)
	}
	return nil
}
