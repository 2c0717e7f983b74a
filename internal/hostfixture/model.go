package hostfixture

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// The fixtures are described once, as Go data (a schema of tables with
// typed columns, keys, indexes and foreign keys), and rendered into one DDL
// file per dialect under schema/. The rendered files are committed and
// embedded: Create executes them, readers and the binding guide read them,
// and TestSchemaFilesUpToDate fails when they drift from this model. The
// same model answers ForeignKeys and Tables, so the tests can compare what
// the fixture declares with what each database's catalog reports.

// colType is a portable column type; render maps it to each dialect.
type colType int

const (
	tSerial      colType = iota // auto-increment integer primary key (int)
	tSmallSerial                // auto-increment smallint primary key
	tBigSerial                  // auto-increment bigint primary key
	tSmallInt
	tInt
	tBigInt
	tVarchar // size = length
	tText
	tBool
	tTime
	tDecimal // size = precision, scale 2
	tJSON    // jsonb / JSON / TEXT CHECK (json_valid)
	tIntList // integer[] / JSON / TEXT CHECK (json_valid), a JSON array of integers
)

// column is one column of a table.
type column struct {
	name    string
	typ     colType
	size    int
	notNull bool
	def     any // default: int, string or bool; nil for none
}

// fkey is one single-column foreign key. onDelete is "CASCADE", "SET NULL"
// or "" (no action clause: the database's default NO ACTION).
type fkey struct {
	col, refTable, refCol, onDelete string
}

// table is one table of a fixture schema.
type table struct {
	name    string
	comment string
	cols    []column
	pk      []string // primary key columns; empty: the table has none
	uniques [][]string
	indexes [][]string
	fks     []fkey
}

// rowset is a batch of rows of one table, inserted in column order.
type rowset struct {
	table string
	cols  []string
	rows  [][]any
}

// schemaDef is a whole fixture: tables in creation order, rows its
// installer inserts (Create), and its naming habits.
type schemaDef struct {
	name      Name
	title     string
	tables    []table
	bootstrap []rowset
	// indexName and fkName name indexes and foreign-key constraints the
	// way the modelled application does.
	indexName func(t string, cols []string, unique bool) string
	fkName    func(t string, fk fkey) string
}

// Column builders, so schema definitions read like migrations.
func serial(name string) column      { return column{name: name, typ: tSerial, notNull: true} }
func smallserial(name string) column { return column{name: name, typ: tSmallSerial, notNull: true} }
func bigserial(name string) column   { return column{name: name, typ: tBigSerial, notNull: true} }
func smallint(name string) column    { return column{name: name, typ: tSmallInt} }
func integer(name string) column     { return column{name: name, typ: tInt} }
func bigint(name string) column      { return column{name: name, typ: tBigInt} }
func varchar(name string, n int) column {
	return column{name: name, typ: tVarchar, size: n}
}
func text(name string) column           { return column{name: name, typ: tText} }
func boolean(name string) column        { return column{name: name, typ: tBool} }
func timestamp(name string) column      { return column{name: name, typ: tTime} }
func decimal(name string, p int) column { return column{name: name, typ: tDecimal, size: p} }
func jsonCol(name string) column        { return column{name: name, typ: tJSON} }
func intListCol(name string) column     { return column{name: name, typ: tIntList} }

func (c column) nn() column        { c.notNull = true; return c }
func (c column) dflt(v any) column { c.def = v; return c }
func fk(col, ref string) fkey      { return fkey{col: col, refTable: ref, refCol: "id"} }
func cascade(col, ref string) fkey {
	return fkey{col: col, refTable: ref, refCol: "id", onDelete: "CASCADE"}
}
func setNull(col, ref string) fkey {
	return fkey{col: col, refTable: ref, refCol: "id", onDelete: "SET NULL"}
}
func cols(names ...string) []string   { return names }
func idx(sets ...[]string) [][]string { return sets }

func (s *schemaDef) table(name string) *table {
	for i := range s.tables {
		if s.tables[i].name == name {
			return &s.tables[i]
		}
	}
	return nil
}

func (t *table) column(name string) *column {
	for i := range t.cols {
		if t.cols[i].name == name {
			return &t.cols[i]
		}
	}
	return nil
}

// serialKey reports the table's auto-increment key column, if any.
func (t *table) serialKey() string {
	for _, c := range t.cols {
		switch c.typ {
		case tSerial, tSmallSerial, tBigSerial:
			return c.name
		}
	}
	return ""
}

// railsIndexName names an index as Rails does, including its fallback for
// names longer than the 64 characters MySQL allows.
func railsIndexName(t string, cols []string, _ bool) string {
	n := "index_" + t + "_on_" + strings.Join(cols, "_and_")
	if len(n) <= 62 {
		return n
	}
	h := sha256.Sum256([]byte(n))
	short := "idx_on_" + strings.Join(cols, "_")
	if len(short) > 51 {
		short = short[:51]
	}
	return short + "_" + hex.EncodeToString(h[:])[:10]
}

func railsFKName(t string, k fkey) string {
	h := sha256.Sum256([]byte(t + "_" + k.col + "_fk"))
	return "fk_rails_" + hex.EncodeToString(h[:])[:10]
}

func znunyIndexName(t string, cols []string, _ bool) string {
	return t + "_" + strings.Join(cols, "_")
}

func znunyFKName(t string, k fkey) string { return "fk_" + t + "_" + k.col + "_" + k.refCol }

// render returns the DDL of s for dialect d: CREATE TABLE statements, then
// the installer's rows, then indexes and foreign keys. On PostgreSQL and
// MySQL the foreign keys are added by ALTER TABLE after the rows, as the
// modelled installers do (their rows reference each other in a cycle); on
// SQLite, which cannot add a constraint to an existing table, they are
// declared inline and Create defers their check to the end of its
// transaction.
func (s *schemaDef) render(d sqldb.Dialect) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s: %s\n", s.name, s.title)
	fmt.Fprintf(&b, "-- Dialect: %s. Generated from internal/hostfixture/%s_schema.go by\n", d, s.name)
	fmt.Fprintf(&b, "-- `go test ./internal/hostfixture -run TestSchemaFilesUpToDate -update`; do not edit.\n")
	if d == sqlstore.SQLite {
		b.WriteString("-- Foreign keys are enforced only on connections with PRAGMA foreign_keys=ON\n")
		b.WriteString("-- (modernc.org/sqlite DSN: _pragma=foreign_keys(1)); Create refuses to run without it.\n")
	}
	for _, t := range s.tables {
		b.WriteString("\n")
		if t.comment != "" {
			for _, l := range strings.Split(t.comment, "\n") {
				b.WriteString("-- " + l + "\n")
			}
		}
		fmt.Fprintf(&b, "CREATE TABLE %s (\n", t.name)
		var lines []string
		inlinePK := ""
		if k := t.serialKey(); k != "" && len(t.pk) == 1 && t.pk[0] == k && d != sqlstore.MySQL {
			inlinePK = k
		}
		for _, c := range t.cols {
			lines = append(lines, "    "+renderColumn(d, c, c.name == inlinePK))
		}
		if len(t.pk) > 0 && inlinePK == "" {
			lines = append(lines, "    PRIMARY KEY ("+strings.Join(t.pk, ", ")+")")
		}
		if d == sqlstore.SQLite {
			for _, k := range t.fks {
				lines = append(lines, "    CONSTRAINT "+s.fkName(t.name, k)+" "+renderFKClause(k))
			}
		}
		b.WriteString(strings.Join(lines, ",\n"))
		b.WriteString("\n)")
		if d == sqlstore.MySQL {
			b.WriteString(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci")
		}
		b.WriteString(";\n")
		for _, u := range t.uniques {
			fmt.Fprintf(&b, "CREATE UNIQUE INDEX %s ON %s (%s);\n", s.indexName(t.name, u, true), t.name, strings.Join(u, ", "))
		}
		for _, ix := range t.indexes {
			fmt.Fprintf(&b, "CREATE INDEX %s ON %s (%s);\n", s.indexName(t.name, ix, false), t.name, strings.Join(ix, ", "))
		}
	}
	if len(s.bootstrap) > 0 {
		b.WriteString("\n-- The installer's initial rows.\n")
		for _, rs := range s.bootstrap {
			for _, r := range rs.rows {
				vals := make([]string, len(r))
				for i, v := range r {
					vals[i] = literal(d, v)
				}
				fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES (%s);\n", rs.table, strings.Join(rs.cols, ", "), strings.Join(vals, ", "))
			}
		}
	}
	if d != sqlstore.SQLite {
		b.WriteString("\n-- Foreign keys.\n")
		for _, t := range s.tables {
			for _, k := range t.fks {
				fmt.Fprintf(&b, "ALTER TABLE %s ADD CONSTRAINT %s %s;\n", t.name, s.fkName(t.name, k), renderFKClause(k))
			}
		}
	}
	return b.String()
}

func renderFKClause(k fkey) string {
	s := fmt.Sprintf("FOREIGN KEY (%s) REFERENCES %s (%s)", k.col, k.refTable, k.refCol)
	if k.onDelete != "" {
		s += " ON DELETE " + k.onDelete
	}
	return s
}

func renderColumn(d sqldb.Dialect, c column, inlinePK bool) string {
	if inlinePK {
		switch d {
		case sqlstore.SQLite:
			return c.name + " INTEGER PRIMARY KEY"
		case sqlstore.Postgres:
			return c.name + " " + map[colType]string{tSerial: "serial", tSmallSerial: "smallserial", tBigSerial: "bigserial"}[c.typ] + " PRIMARY KEY"
		}
	}
	s := c.name + " " + typeName(d, c)
	if c.notNull {
		s += " NOT NULL"
	}
	if d == sqlstore.MySQL && (c.typ == tSerial || c.typ == tSmallSerial || c.typ == tBigSerial) {
		s += " AUTO_INCREMENT"
	}
	if c.def != nil {
		s += " DEFAULT " + literal(d, c.def)
	}
	if d == sqlstore.SQLite && (c.typ == tJSON || c.typ == tIntList) {
		s += " CHECK (json_valid(" + c.name + "))"
	}
	return s
}

func typeName(d sqldb.Dialect, c column) string {
	switch c.typ {
	case tSerial, tInt:
		return "integer"
	case tSmallSerial, tSmallInt:
		return "smallint"
	case tBigSerial, tBigInt:
		return "bigint"
	case tVarchar:
		return fmt.Sprintf("varchar(%d)", c.size)
	case tText:
		if d == sqlstore.MySQL {
			return "mediumtext"
		}
		return "text"
	case tBool:
		switch d {
		case sqlstore.MySQL:
			return "tinyint(1)"
		case sqlstore.SQLite:
			return "boolean"
		}
		return "boolean"
	case tTime:
		switch d {
		case sqlstore.MySQL:
			return "datetime(6)"
		case sqlstore.SQLite:
			return "datetime"
		}
		return "timestamp"
	case tDecimal:
		return fmt.Sprintf("decimal(%d,2)", c.size)
	case tJSON:
		switch d {
		case sqlstore.Postgres:
			return "jsonb"
		case sqlstore.MySQL:
			return "json"
		}
		return "text"
	case tIntList:
		switch d {
		case sqlstore.Postgres:
			return "integer[]"
		case sqlstore.MySQL:
			return "json"
		}
		return "text"
	}
	panic("hostfixture: unknown column type")
}

// sqliteTime is how timestamps are written to SQLite: the text form
// modernc.org/sqlite parses back into time.Time for DATETIME columns, and
// the form CURRENT_TIMESTAMP produces.
const sqliteTime = "2006-01-02 15:04:05"

// literal renders a Go value as an SQL literal of dialect d. It is used
// only for the fixtures' own constants, never for input from outside.
func literal(d sqldb.Dialect, v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		if d == sqlstore.Postgres {
			return strconv.FormatBool(x)
		}
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return "'" + x.UTC().Format(sqliteTime) + "'"
	case string:
		s := strings.ReplaceAll(x, "'", "''")
		if d == sqlstore.MySQL {
			s = strings.ReplaceAll(s, `\`, `\\`)
		}
		return "'" + s + "'"
	}
	panic(fmt.Sprintf("hostfixture: no literal for %T", v))
}

func withFK(t table, ks ...fkey) table { t.fks = append(t.fks, ks...); return t }
