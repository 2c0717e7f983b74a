package hostfixture

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Name names a fixture schema.
type Name string

// The fixtures.
const (
	// Convo is a multi-tenant conversation inbox modelled on Chatwoot and
	// Zammad: one users table for contacts and staff, integer keys, and
	// references to users that mostly CASCADE or SET NULL (issue #13).
	Convo Name = "convo"
	// Restrict is a single-tenant ticket system modelled on Znuny/OTRS:
	// agents and customers in separate tables, customers referenced by
	// login string, every foreign key NO ACTION, many tables without a
	// primary key (issue #24).
	Restrict Name = "restrict"
)

// Fixtures lists every fixture.
func Fixtures() []Name { return []Name{Convo, Restrict} }

//go:embed schema/*.sql
var schemaFiles embed.FS

func schemaOf(f Name) (*schemaDef, error) {
	switch f {
	case Convo:
		return convoSchema(), nil
	case Restrict:
		return restrictSchema(), nil
	}
	return nil, fmt.Errorf("hostfixture: unknown fixture %q: %w", f, gdprkit.ErrInvalid)
}

func checkDialect(d sqldb.Dialect) error {
	switch d {
	case sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL:
		return nil
	}
	return fmt.Errorf("hostfixture: unknown dialect %q: %w", d, gdprkit.ErrInvalid)
}

// DDL returns the schema file Create executes for fixture f on dialect d:
// the tables, their indexes, the installer's rows and the foreign keys.
func DDL(f Name, d sqldb.Dialect) (string, error) {
	if _, err := schemaOf(f); err != nil {
		return "", err
	}
	if err := checkDialect(d); err != nil {
		return "", err
	}
	b, err := schemaFiles.ReadFile("schema/" + string(f) + "." + string(d) + ".sql")
	if err != nil {
		return "", fmt.Errorf("hostfixture: schema file of %s on %s: %w", f, d, err)
	}
	return string(b), nil
}

// Create creates fixture f's tables in db's current namespace (the SQLite
// file, the PostgreSQL schema on the search path, the MySQL database) and
// inserts the rows the modelled application's installer inserts (for
// Restrict: its admin agent, validity, ticket states, default queues; for
// Convo: nothing).
//
// It refuses with an error wrapping gdprkit.ErrConflict when one of the
// fixture's tables already exists, and with gdprkit.ErrInvalid for an
// unknown fixture or dialect, or, on SQLite, when foreign keys are not
// enforced on db's connections (open it with a DSN holding
// _pragma=foreign_keys(1), as sqlstore.SQLiteDSN and internal/testdb do).
// On SQLite and PostgreSQL it runs in one transaction and a failure leaves
// nothing behind; MySQL commits each CREATE TABLE by itself, so a failed
// Create there may leave tables behind.
func Create(ctx context.Context, db *sql.DB, d sqldb.Dialect, f Name) error {
	s, err := schemaOf(f)
	if err != nil {
		return err
	}
	ddl, err := DDL(f, d)
	if err != nil {
		return err
	}
	existing, err := listTables(ctx, db, d)
	if err != nil {
		return fmt.Errorf("hostfixture: create %s: %w", f, err)
	}
	have := map[string]bool{}
	for _, t := range existing {
		have[t] = true
	}
	for _, t := range s.tables {
		if have[t.name] {
			return fmt.Errorf("hostfixture: create %s: table %s already exists: %w", f, t.name, gdprkit.ErrConflict)
		}
	}
	if d == sqlstore.SQLite {
		if err := sqliteForeignKeysOn(ctx, db); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("hostfixture: create %s: %w", f, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if d == sqlstore.SQLite {
		// The installer's rows reference each other in a cycle
		// (users.valid_id, valid.create_by): check them at COMMIT.
		if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
			return fmt.Errorf("hostfixture: create %s: %w", f, err)
		}
	}
	for _, st := range splitStatements(ddl) {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("hostfixture: create %s on %s: %w\n%s", f, d, err, firstLine(st))
		}
	}
	if d == sqlstore.Postgres {
		if err := resetSequences(ctx, tx, s); err != nil {
			return fmt.Errorf("hostfixture: create %s: %w", f, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("hostfixture: create %s: %w", f, err)
	}
	return nil
}

// sqliteForeignKeysOn fails unless a connection of db enforces foreign
// keys. (PRAGMA foreign_keys is per connection and cannot change inside a
// transaction, so the DSN is the only reliable way to turn it on for a
// pool: every connection it opens runs the DSN's pragmas.)
func sqliteForeignKeysOn(ctx context.Context, db *sql.DB) error {
	var on int
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
		return fmt.Errorf("hostfixture: reading PRAGMA foreign_keys: %w", err)
	}
	if on != 1 {
		return fmt.Errorf("hostfixture: SQLite foreign keys are off on this connection pool; open it with _pragma=foreign_keys(1) in the DSN (see sqlstore.SQLiteDSN): %w", gdprkit.ErrInvalid)
	}
	return nil
}

// resetSequences moves each serial column's sequence past the largest key,
// after rows were inserted with explicit keys (PostgreSQL does not do it by
// itself; MySQL and SQLite do).
func resetSequences(ctx context.Context, tx *sql.Tx, s *schemaDef) error {
	for _, t := range s.tables {
		k := t.serialKey()
		if k == "" {
			continue
		}
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, false)`, t.name, k, k, t.name)
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sequence of %s.%s: %w", t.name, k, err)
		}
	}
	return nil
}

// splitStatements splits a schema file into statements: a statement ends
// with a line ending in ';' outside a string literal. Comment lines between
// statements are dropped. It is meant for the schema files here: a comment
// inside a statement must not hold a quote.
func splitStatements(script string) []string {
	var out []string
	var cur strings.Builder
	quotes := 0
	for _, line := range strings.Split(script, "\n") {
		if cur.Len() == 0 && (strings.HasPrefix(strings.TrimSpace(line), "--") || strings.TrimSpace(line) == "") {
			continue
		}
		cur.WriteString(line)
		quotes += strings.Count(line, "'")
		if quotes%2 == 0 && strings.HasSuffix(strings.TrimRight(line, " \t\r"), ";") {
			if st := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")); st != "" {
				out = append(out, st)
			}
			cur.Reset()
			quotes = 0
			continue
		}
		cur.WriteString("\n")
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// ForeignKey is one foreign key a fixture declares.
type ForeignKey struct {
	// Name is the constraint name (PostgreSQL and MySQL; SQLite's catalog
	// does not report it).
	Name string
	// Table and Column are the referencing side.
	Table, Column string
	// RefTable and RefColumn are the referenced key.
	RefTable, RefColumn string
	// OnDelete is "CASCADE", "SET NULL" or "NO ACTION" (declared by
	// leaving the clause out; MariaDB's catalog reports it as RESTRICT,
	// which behaves the same there).
	OnDelete string
}

// String renders the key as "table.column -> ref_table.ref_column ON DELETE X".
func (k ForeignKey) String() string {
	return fmt.Sprintf("%s.%s -> %s.%s ON DELETE %s", k.Table, k.Column, k.RefTable, k.RefColumn, k.OnDelete)
}

// ForeignKeys lists every foreign key fixture f declares, in table order.
func ForeignKeys(f Name) ([]ForeignKey, error) {
	s, err := schemaOf(f)
	if err != nil {
		return nil, err
	}
	var out []ForeignKey
	for _, t := range s.tables {
		for _, k := range t.fks {
			on := k.onDelete
			if on == "" {
				on = "NO ACTION"
			}
			out = append(out, ForeignKey{Name: s.fkName(t.name, k), Table: t.name, Column: k.col, RefTable: k.refTable, RefColumn: k.refCol, OnDelete: on})
		}
	}
	return out, nil
}

// TableDef describes one table of a fixture.
type TableDef struct {
	// Name is the table name.
	Name string
	// Comment says what the table holds, as the schema file does.
	Comment string
	// Columns are the column names in declaration order.
	Columns []string
	// PrimaryKey lists the primary key's columns; empty when the table has
	// none.
	PrimaryKey []string
}

// Tables describes fixture f's tables in creation order.
func Tables(f Name) ([]TableDef, error) {
	s, err := schemaOf(f)
	if err != nil {
		return nil, err
	}
	out := make([]TableDef, 0, len(s.tables))
	for _, t := range s.tables {
		td := TableDef{Name: t.name, Comment: t.comment, PrimaryKey: append([]string(nil), t.pk...)}
		for _, c := range t.cols {
			td.Columns = append(td.Columns, c.name)
		}
		out = append(out, td)
	}
	return out, nil
}
