package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// CompactOptions says how far Compact goes. The zero value cleans without
// rewriting: an SQLite checkpoint, a plain PostgreSQL VACUUM.
type CompactOptions struct {
	// Full rewrites instead of cleaning in place. On SQLite it runs
	// VACUUM before the checkpoint: the whole file is rebuilt from its
	// live rows, which also removes deleted content that secure_delete
	// did not zero (a database opened without it), at the cost of an
	// exclusive lock and free disk space of the file's size for as long
	// as it takes. On PostgreSQL it runs VACUUM FULL: each table is
	// rewritten into a new file under an ACCESS EXCLUSIVE lock; a plain
	// VACUUM makes the space of deleted rows reusable and removes their
	// index entries, but leaves their bytes in the table's pages until new
	// rows overwrite them. MySQL's OPTIMIZE TABLE always rebuilds an
	// InnoDB table, so Full changes nothing there.
	Full bool
	// Incremental, on SQLite, runs PRAGMA incremental_vacuum before the
	// checkpoint: the free pages go back to the file system and the file
	// shrinks. It does anything only in a database created with
	// PRAGMA auto_vacuum=INCREMENTAL; with secure_delete on, free pages
	// are already zeroed. Ignored on the other dialects.
	Incremental bool
}

// Compact asks the database to drop what deleted rows leave in its files,
// as far as SQL can, and returns what it ran, naming tables but no values
// ("postgres: VACUUM hd_messages, hd_tickets"):
//
//   - SQLite: [VACUUM or PRAGMA incremental_vacuum, per o], then
//     PRAGMA wal_checkpoint(TRUNCATE) (see Checkpoint); the whole database
//     file, so tables is not used. When the connection has secure_delete
//     off, the description ends with "; secure_delete off": deleted
//     content then stays in free space of the .db file unless o.Full.
//   - PostgreSQL: VACUUM (or VACUUM FULL, per o) of tables, in one
//     statement; VACUUM cannot run in a transaction, hence db is a pool.
//     A table the connection's role does not own is skipped by the
//     server with a warning, not an error.
//   - MySQL / MariaDB: OPTIMIZE TABLE of tables, which rebuilds InnoDB
//     tables (recreate + analyze); a table the server reports an error
//     for fails the call. It is written to the binary log, so replicas
//     rebuild too.
//
// With no tables it does nothing on PostgreSQL and MySQL and returns "".
// Table names are quoted, never spliced raw; an empty name is an error
// wrapping gdprkit.ErrInvalid. Database errors are Classify'd (a busy or
// unreachable database is gdprkit.ErrUnavailable). What remains after it
// (WAL segments, binary logs, backups) is in docs/physical-erasure.md.
func Compact(ctx context.Context, db *sql.DB, d Dialect, tables []string, o CompactOptions) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	if db == nil {
		return "", fmt.Errorf("sqldb: compact: nil *sql.DB: %w", gdprkit.ErrInvalid)
	}
	names, err := uniqueNames(tables)
	if err != nil {
		return "", err
	}
	switch d {
	case SQLite:
		return compactSQLite(ctx, db, o)
	case Postgres:
		if len(names) == 0 {
			return "", nil
		}
		verb := "VACUUM"
		if o.Full {
			verb = "VACUUM FULL"
		}
		desc := "postgres: " + verb + " " + strings.Join(names, ", ")
		if _, err := db.ExecContext(ctx, verb+" "+quoteAll(d, names)); err != nil {
			return desc, fmt.Errorf("sqldb: compact: %s: %w", verb, Classify(err))
		}
		return desc, nil
	default:
		if len(names) == 0 {
			return "", nil
		}
		desc := "mysql: OPTIMIZE TABLE " + strings.Join(names, ", ")
		return desc, optimizeMySQL(ctx, db, quoteAll(d, names))
	}
}

func compactSQLite(ctx context.Context, db *sql.DB, o CompactOptions) (string, error) {
	var ran []string
	var secure sql.NullInt64
	if err := db.QueryRowContext(ctx, "PRAGMA secure_delete").Scan(&secure); err != nil {
		return "sqlite: wal_checkpoint(TRUNCATE)", fmt.Errorf("sqldb: compact: %w", Classify(err))
	}
	if o.Full {
		ran = append(ran, "VACUUM")
		if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
			return "sqlite: VACUUM", fmt.Errorf("sqldb: compact: VACUUM: %w", Classify(err))
		}
	} else if o.Incremental {
		ran = append(ran, "incremental_vacuum")
		// The pragma returns one empty row per freed page; reading them
		// all is what makes it run to the end.
		rows, err := db.QueryContext(ctx, "PRAGMA incremental_vacuum")
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if err != nil {
			return "sqlite: incremental_vacuum", fmt.Errorf("sqldb: compact: incremental_vacuum: %w", Classify(err))
		}
	}
	ran = append(ran, "wal_checkpoint(TRUNCATE)")
	desc := "sqlite: " + strings.Join(ran, "; ")
	if secure.Int64 == 0 {
		desc += "; secure_delete off"
	}
	return desc, Checkpoint(ctx, db, SQLite)
}

// optimizeMySQL runs OPTIMIZE TABLE and reads its report: the statement
// itself succeeds when a table fails, with an "error" row for it.
func optimizeMySQL(ctx context.Context, db *sql.DB, tables string) error {
	rows, err := db.QueryContext(ctx, "OPTIMIZE TABLE "+tables)
	if err != nil {
		return fmt.Errorf("sqldb: compact: OPTIMIZE TABLE: %w", Classify(err))
	}
	defer rows.Close()
	var failed []string
	for rows.Next() {
		var table, op, typ, text sql.NullString
		if err := rows.Scan(&table, &op, &typ, &text); err != nil {
			return fmt.Errorf("sqldb: compact: OPTIMIZE TABLE: %w", Classify(err))
		}
		if strings.EqualFold(typ.String, "error") {
			// The message is left out (it is the server's text); the table
			// says where to look.
			failed = append(failed, table.String)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqldb: compact: OPTIMIZE TABLE: %w", Classify(err))
	}
	if len(failed) > 0 {
		return fmt.Errorf("sqldb: compact: OPTIMIZE TABLE reported an error for %s: %w", strings.Join(failed, ", "), gdprkit.ErrConflict)
	}
	return nil
}

// uniqueNames sorts tables and drops repeats (compared without regard to
// case, the first spelling kept).
func uniqueNames(tables []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, t := range tables {
		if strings.TrimSpace(t) == "" {
			return nil, fmt.Errorf("sqldb: compact: empty table name: %w", gdprkit.ErrInvalid)
		}
		if k := strings.ToLower(t); !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}

func quoteAll(d Dialect, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = d.Quote(n)
	}
	return strings.Join(q, ", ")
}
