package sqlstore

import (
	"strings"

	"github.com/gdprkit/gdprkit/sqldb"
)

// The dialects, as sqldb's constants, for callers' convenience:
// sqlstore.New(db, sqlstore.SQLite) reads as before. ParseDialect moved to
// sqldb.ParseDialect.
const (
	// SQLite, tested with modernc.org/sqlite (pure Go, no cgo). Use a DSN
	// such as SQLiteDSN returns: WAL, a busy timeout, foreign keys, secure
	// delete, and immediate transactions so concurrent writers queue instead
	// of failing.
	SQLite = sqldb.SQLite
	// Postgres, tested with github.com/jackc/pgx/v5/stdlib. The SQL used is
	// kept to what CockroachDB and YugabyteDB also accept.
	Postgres = sqldb.Postgres
	// MySQL covers MySQL 8 and MariaDB 10.6+, tested with
	// github.com/go-sql-driver/mysql. The DSN must set parseTime=true.
	MySQL = sqldb.MySQL
)

// dialect is the store's sqldb.Dialect with the SQL fragments the adapter
// builds on it (row locks, insert-or-ignore, upserts). Compare its Dialect
// field with the constants above.
type dialect struct{ sqldb.Dialect }

// SQLiteDSN returns the DSN this adapter expects for a SQLite database file
// with modernc.org/sqlite: WAL journal, 10 s busy timeout, foreign keys on,
// BEGIN IMMEDIATE for transactions (so two writers wait for each other
// rather than one failing with SQLITE_BUSY on lock upgrade), and
// secure_delete on.
//
// With secure_delete SQLite overwrites deleted content with zeros in the
// pages it rewrites and frees, so an erased row does not stay readable in
// the database file; the write-ahead log still holds earlier versions of
// those pages until a checkpoint, which Store.Checkpoint (or
// sqldb.Checkpoint) forces and truncates. The cost is some extra writing on
// deletes.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(1)&_txlock=immediate"
}

// placeholders returns "(?, ?, …)" with n marks, for IN lists and rows.
func placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// valueRows returns the VALUES list of a multi-row INSERT: rows groups of
// cols '?' placeholders, "(?, ?), (?, ?)". Every batch insert of the
// adapter builds its statement with it.
func valueRows(rows, cols int) string {
	group := placeholders(cols)
	var b strings.Builder
	b.Grow(rows * (len(group) + 2))
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(group)
	}
	return b.String()
}

// forUpdate is the row-locking suffix for a SELECT inside a transaction.
// SQLite has none: its transactions are already serialised (BEGIN IMMEDIATE).
func (d dialect) forUpdate() string {
	if d.Dialect == SQLite {
		return ""
	}
	return " FOR UPDATE"
}

// skipLocked is the suffix for a SELECT that claims work: rows locked by
// another worker are skipped. SQLite serialises writers instead.
func (d dialect) skipLocked() string {
	if d.Dialect == SQLite {
		return ""
	}
	return " FOR UPDATE SKIP LOCKED"
}

// insertIgnore returns an INSERT that does nothing when the key exists.
// cols is the column list with parentheses, conflict the key columns.
func (d dialect) insertIgnore(table, cols, values, conflict string) string {
	switch d.Dialect {
	case MySQL:
		return "INSERT IGNORE INTO " + table + " " + cols + " VALUES " + values
	default:
		return "INSERT INTO " + table + " " + cols + " VALUES " + values + " ON CONFLICT " + conflict + " DO NOTHING"
	}
}

// upsert returns an INSERT that updates setCols (a comma list of columns) on
// a key conflict with the inserted values.
func (d dialect) upsert(table, cols, values, conflict string, setCols []string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " " + cols + " VALUES " + values)
	if d.Dialect == MySQL {
		b.WriteString(" ON DUPLICATE KEY UPDATE ")
		for i, c := range setCols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = VALUES(" + c + ")")
		}
		return b.String()
	}
	b.WriteString(" ON CONFLICT " + conflict + " DO UPDATE SET ")
	for i, c := range setCols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}
