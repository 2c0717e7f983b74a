package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
)

// Dialect names the SQL database behind the *sql.DB. The host chooses the
// driver; the dialect tells the adapter which SQL to speak.
type Dialect string

// The supported dialects and the drivers they are tested with.
const (
	// SQLite, tested with modernc.org/sqlite (pure Go, no cgo). Use a DSN
	// such as SQLiteDSN returns: WAL, a busy timeout, foreign keys, and
	// immediate transactions so concurrent writers queue instead of failing.
	SQLite Dialect = "sqlite"
	// Postgres, tested with github.com/jackc/pgx/v5/stdlib. The SQL used is
	// kept to what CockroachDB and YugabyteDB also accept.
	Postgres Dialect = "postgres"
	// MySQL covers MySQL 8 and MariaDB 10.6+, tested with
	// github.com/go-sql-driver/mysql. The DSN must set parseTime=true.
	MySQL Dialect = "mysql"
)

// ParseDialect accepts "sqlite", "postgres" (or "postgresql", "pgx") and
// "mysql" (or "mariadb").
func ParseDialect(s string) (Dialect, error) {
	switch strings.ToLower(s) {
	case "sqlite", "sqlite3":
		return SQLite, nil
	case "postgres", "postgresql", "pgx":
		return Postgres, nil
	case "mysql", "mariadb":
		return MySQL, nil
	}
	return "", fmt.Errorf("sqlstore: unknown dialect %q", s)
}

func (d Dialect) valid() bool { return d == SQLite || d == Postgres || d == MySQL }

// SQLiteDSN returns the DSN this adapter expects for a SQLite database file
// with modernc.org/sqlite: WAL journal, 10 s busy timeout, foreign keys on,
// and BEGIN IMMEDIATE for transactions (so two writers wait for each other
// rather than one failing with SQLITE_BUSY on lock upgrade).
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// rebind rewrites '?' placeholders to '$1', '$2', … for PostgreSQL. Queries
// in this package never contain a literal '?' inside a string.
func (d Dialect) rebind(q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
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
func (d Dialect) forUpdate() string {
	if d == SQLite {
		return ""
	}
	return " FOR UPDATE"
}

// skipLocked is the suffix for a SELECT that claims work: rows locked by
// another worker are skipped. SQLite serialises writers instead.
func (d Dialect) skipLocked() string {
	if d == SQLite {
		return ""
	}
	return " FOR UPDATE SKIP LOCKED"
}

// insertIgnore returns an INSERT that does nothing when the key exists.
// cols is the column list with parentheses, conflict the key columns.
func (d Dialect) insertIgnore(table, cols, values, conflict string) string {
	switch d {
	case MySQL:
		return "INSERT IGNORE INTO " + table + " " + cols + " VALUES " + values
	default:
		return "INSERT INTO " + table + " " + cols + " VALUES " + values + " ON CONFLICT " + conflict + " DO NOTHING"
	}
}

// upsert returns an INSERT that updates setCols (a comma list of columns) on
// a key conflict with the inserted values.
func (d Dialect) upsert(table, cols, values, conflict string, setCols []string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " " + cols + " VALUES " + values)
	if d == MySQL {
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
