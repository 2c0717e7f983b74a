package sqldb

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// Dialect names the SQL database behind a *sql.DB. The host chooses the
// driver; the dialect tells gdprkit which SQL to speak. It is the one
// dialect type of the module: store/sqlstore and erasure/sqltarget take it.
type Dialect string

// The supported dialects and the drivers they are tested with.
const (
	// SQLite, tested with modernc.org/sqlite (pure Go, no cgo).
	SQLite Dialect = "sqlite"
	// Postgres is PostgreSQL, tested with github.com/jackc/pgx/v5/stdlib.
	// The SQL gdprkit writes is kept to what CockroachDB and YugabyteDB also
	// accept.
	Postgres Dialect = "postgres"
	// MySQL covers MySQL 8 and MariaDB 10.6+, tested with
	// github.com/go-sql-driver/mysql (the DSN must set parseTime=true).
	MySQL Dialect = "mysql"
)

// ParseDialect accepts "sqlite" (or "sqlite3"), "postgres" (or
// "postgresql", "pgx") and "mysql" (or "mariadb"), in any case. Anything
// else is an error wrapping gdprkit.ErrInvalid.
func ParseDialect(s string) (Dialect, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sqlite", "sqlite3":
		return SQLite, nil
	case "postgres", "postgresql", "pgx":
		return Postgres, nil
	case "mysql", "mariadb":
		return MySQL, nil
	}
	return "", fmt.Errorf("sqldb: unknown dialect %q: %w", s, gdprkit.ErrInvalid)
}

// Validate returns nil for SQLite, Postgres and MySQL, and an error wrapping
// gdprkit.ErrInvalid for anything else (the zero value included).
func (d Dialect) Validate() error {
	switch d {
	case SQLite, Postgres, MySQL:
		return nil
	}
	return fmt.Errorf("sqldb: unknown dialect %q: %w", string(d), gdprkit.ErrInvalid)
}

// Quote returns ident as a quoted identifier of the dialect: "ident" with
// embedded double quotes doubled, or `ident` with embedded backquotes
// doubled on MySQL (which gdprkit does not run in ANSI_QUOTES mode). The
// result is safe to splice into SQL whatever ident holds.
func (d Dialect) Quote(ident string) string {
	q := byte('"')
	if d == MySQL {
		q = '`'
	}
	var b strings.Builder
	b.Grow(len(ident) + 2)
	b.WriteByte(q)
	for i := 0; i < len(ident); i++ {
		if ident[i] == q {
			b.WriteByte(q)
		}
		b.WriteByte(ident[i])
	}
	b.WriteByte(q)
	return b.String()
}

// Placeholder returns the n-th (1-based) bind parameter: "$n" on
// PostgreSQL, "?" on SQLite and MySQL.
func (d Dialect) Placeholder(n int) string {
	if d == Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// Rebind rewrites a query written with '?' placeholders for the dialect:
// on PostgreSQL each '?' becomes $1, $2, … in order; other dialects get q
// back unchanged. A '?' inside a string literal ('…', E'…', $tag$…$tag$), a
// quoted identifier ("…") or a comment (-- …, /* … */) is left alone.
// PostgreSQL's jsonb operators ?, ?| and ?& cannot be written through
// Rebind; use jsonb_exists, jsonb_exists_any and jsonb_exists_all.
func (d Dialect) Rebind(q string) string {
	if d != Postgres || strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
			continue
		case c == '\'':
			escapes := i > 0 && (q[i-1] == 'E' || q[i-1] == 'e') && (i == 1 || !identByte(q[i-2]))
			j := skipQuoted(q, i, '\'', escapes)
			b.WriteString(q[i:j])
			i = j
			continue
		case c == '"':
			j := skipQuoted(q, i, '"', false)
			b.WriteString(q[i:j])
			i = j
			continue
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
			continue
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := skipBlockComment(q, i)
			b.WriteString(q[i:j])
			i = j
			continue
		case c == '$' && (i == 0 || !identByte(q[i-1])):
			if j, ok := skipDollarQuoted(q, i); ok {
				b.WriteString(q[i:j])
				i = j
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// identByte reports bytes that can continue an unquoted identifier.
func identByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// skipQuoted returns the index just past the literal opened by q[i] == quote.
// A doubled quote stands for itself; with escapes, so does a backslash pair.
// An unterminated literal runs to the end of q.
func skipQuoted(q string, i int, quote byte, escapes bool) int {
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			if escapes {
				j++
			}
		case quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// skipBlockComment returns the index just past the comment opening at i.
// PostgreSQL block comments nest.
func skipBlockComment(q string, i int) int {
	depth := 0
	for j := i; j+1 < len(q); j++ {
		switch {
		case q[j] == '/' && q[j+1] == '*':
			depth++
			j++
		case q[j] == '*' && q[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(q)
}

// skipDollarQuoted recognises $tag$…$tag$ at i and returns the index past
// it. A '$' that does not open such a string ($1, a lone $) is not one.
func skipDollarQuoted(q string, i int) (int, bool) {
	j := i + 1
	for j < len(q) && q[j] != '$' {
		c := q[j]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || j > i+1 && c >= '0' && c <= '9') {
			return 0, false
		}
		j++
	}
	if j >= len(q) {
		return 0, false
	}
	tag := q[i : j+1]
	end := strings.Index(q[j+1:], tag)
	if end < 0 {
		return len(q), true
	}
	return j + 1 + end + len(tag), true
}
