package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// Querier runs a query: *sql.DB, *sql.Tx and *sql.Conn all are one.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Schema is what ReadSchema found in one database schema.
type Schema struct {
	// Dialect is the dialect the schema was read with.
	Dialect Dialect
	// Tables holds the tables and views, sorted by name.
	Tables []*Table
}

// Table returns the table or view called name (compared without regard to
// case), or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if strings.EqualFold(t.Name, name) {
			return t
		}
	}
	return nil
}

// ReferencesTo returns every foreign key of any table of the schema whose
// RefTable is table (compared without regard to case), sorted by the
// referencing table's name and then its columns. Self-references are
// included.
func (s *Schema) ReferencesTo(table string) []ForeignKey {
	var out []ForeignKey
	for _, t := range s.Tables {
		for _, fk := range t.ForeignKeys {
			if strings.EqualFold(fk.RefTable, table) {
				out = append(out, fk)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b ForeignKey) int {
		return cmp.Or(strings.Compare(a.Table, b.Table), slices.Compare(a.Columns, b.Columns), strings.Compare(a.Name, b.Name))
	})
	return out
}

// Table is a table or a view.
type Table struct {
	// Name is the table's name as the database spells it.
	Name string
	// View is true for a view (on PostgreSQL also a materialized view).
	View bool
	// Columns holds the columns in ordinal order.
	Columns []Column
	// PrimaryKey names the primary key's columns in key order; empty when
	// there is none (views, tables without a primary key).
	PrimaryKey []string
	// Unique holds the column lists of the unique constraints and unique
	// indexes other than the primary key, sorted. Partial and expression
	// indexes, and MySQL prefix indexes, are left out: they do not make the
	// columns unique.
	Unique [][]string
	// ForeignKeys holds the table's foreign keys, sorted by name and then
	// columns.
	ForeignKeys []ForeignKey
}

// Column returns the column called name (compared without regard to case),
// or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return &t.Columns[i]
		}
	}
	return nil
}

// IsUnique reports whether the primary key or a unique key consists of
// exactly cols, in any order (names compared without regard to case). No
// columns is never unique.
func (t *Table) IsUnique(cols ...string) bool {
	if len(cols) == 0 {
		return false
	}
	if sameSet(t.PrimaryKey, cols) {
		return true
	}
	for _, u := range t.Unique {
		if sameSet(u, cols) {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	norm := func(s []string) []string {
		out := make([]string, len(s))
		for i, x := range s {
			out[i] = strings.ToLower(x)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

// Column is one column of a table or view.
type Column struct {
	// Name is the column's name as the database spells it.
	Name string
	// Type is the declared type in lower case, as the database reports it:
	// "bigint", "character varying", "jsonb", "integer[]" on PostgreSQL
	// (lengths are in MaxLength), "varchar(64)", "longtext", "tinyint(1)" on
	// MySQL, the declaration as written on SQLite.
	Type string
	// Kind is the normalised class of Type.
	Kind Kind
	// Elem is the class of an array column's elements (KindOther otherwise).
	Elem Kind
	// Nullable is false for a NOT NULL column (and for every column of a
	// primary key). View columns are nullable.
	Nullable bool
	// MaxLength is the most characters the database accepts: n of
	// PostgreSQL's varchar(n) and char(n), and of MySQL's VARCHAR(n) and
	// CHAR(n). 0 means unbounded or not enforced (SQLite never enforces a
	// declared length).
	MaxLength int
	// HasDefault is true when an INSERT may leave the column out and get a
	// value other than NULL: a declared default, an identity or
	// auto-increment column, a generated column, SQLite's INTEGER PRIMARY
	// KEY.
	HasDefault bool
}

// Kind is the normalised class of a column type, the same on every
// dialect.
type Kind int

// The kinds.
const (
	KindOther   Kind = iota // anything below does not cover (enum, interval, geometry, …)
	KindInteger             // integer types of any width
	KindDecimal             // numeric, decimal, float, real, double
	KindText                // char, varchar, text and their variants
	KindJSON                // json, jsonb; MariaDB's JSON (LONGTEXT + json_valid check); SQLite JSON
	KindArray               // a PostgreSQL array; see Column.Elem
	KindBool                // boolean; MySQL's tinyint(1)
	KindTime                // date, time, timestamp, datetime
	KindBinary              // bytea, blob, binary, varbinary
	KindUUID                // uuid
)

var kindNames = [...]string{"other", "integer", "decimal", "text", "json", "array", "bool", "time", "binary", "uuid"}

// String returns the kind's lower-case name ("integer", "json", …).
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ForeignKey is a foreign key of Table.
type ForeignKey struct {
	// Name is the constraint's name. SQLite does not report it: empty there.
	Name string
	// Table is the referencing (child) table.
	Table string
	// Columns are the referencing columns, in key order.
	Columns []string
	// RefTable is the referenced (parent) table. A table in another
	// PostgreSQL schema is written schema.table.
	RefTable string
	// RefColumns are the referenced columns, matching Columns one to one.
	RefColumns []string
	// OnDelete is what the database does to these rows when the parent row
	// is deleted. Without a clause it is NoAction, except on MariaDB, which
	// reports Restrict (InnoDB treats the two alike).
	OnDelete RefAction
	// OnUpdate is what it does when the parent's key changes.
	OnUpdate RefAction
}

// RefAction is a foreign key's ON DELETE or ON UPDATE action.
type RefAction string

// The actions, spelled as in SQL.
const (
	NoAction   RefAction = "NO ACTION"
	Restrict   RefAction = "RESTRICT"
	Cascade    RefAction = "CASCADE"
	SetNull    RefAction = "SET NULL"
	SetDefault RefAction = "SET DEFAULT"
)

// ReadSchema reads the tables, views, columns, keys and foreign keys of the
// current schema: on PostgreSQL current_schema() (the first schema of the
// search_path that exists), on MySQL/MariaDB DATABASE(), on SQLite "main".
// Other schemas and databases are not read, so a same-named table elsewhere
// is never mistaken for the one the connection uses.
//
// It runs a fixed handful of catalog queries however many tables there are
// (3 on PostgreSQL and SQLite, 6 on MariaDB, 5 on MySQL), never one per
// table, and changes nothing. The queries may run on different connections
// of a *sql.DB; when the current schema is a per-session setting (SET
// search_path, USE), pass the *sql.Conn or *sql.Tx that made it.
//
// SQLite enforces foreign keys only on connections that ran PRAGMA
// foreign_keys=ON (sqlstore.SQLiteDSN turns it on); ReadSchema reports the
// declared foreign keys either way.
//
// An unknown dialect or a nil q is an error wrapping gdprkit.ErrInvalid;
// database errors are classified by Classify.
func ReadSchema(ctx context.Context, q Querier, d Dialect) (*Schema, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if q == nil {
		return nil, fmt.Errorf("sqldb: read schema: nil Querier: %w", gdprkit.ErrInvalid)
	}
	r := &reader{ctx: ctx, q: q, s: &Schema{Dialect: d}, byName: map[string]*Table{}}
	var err error
	switch d {
	case Postgres:
		err = r.postgres()
	case MySQL:
		err = r.mysql()
	case SQLite:
		err = r.sqlite()
	}
	if err != nil {
		return nil, fmt.Errorf("sqldb: read %s schema: %w", d, Classify(err))
	}
	r.finish()
	return r.s, nil
}

// reader accumulates a schema from catalog rows.
type reader struct {
	ctx    context.Context
	q      Querier
	s      *Schema
	byName map[string]*Table
	fks    map[string]*ForeignKey // key: table + "\x00" + constraint id
	fkList []*ForeignKey
	uniq   map[string][]string // key: table + "\x00" + index name
	uniqs  []string
}

// table returns the table called name, creating it.
func (r *reader) table(name string) *Table {
	t := r.byName[name]
	if t == nil {
		t = &Table{Name: name}
		r.byName[name] = t
		r.s.Tables = append(r.s.Tables, t)
	}
	return t
}

// each runs query and calls scan for every row.
func (r *reader) each(query string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := r.q.QueryContext(r.ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// fkColumn adds one column pair to the foreign key id of table.
func (r *reader) fkColumn(table, id, name, col, refTable, refCol string, onDelete, onUpdate RefAction) {
	if r.fks == nil {
		r.fks = map[string]*ForeignKey{}
	}
	k := table + "\x00" + id
	fk := r.fks[k]
	if fk == nil {
		fk = &ForeignKey{Name: name, Table: table, RefTable: refTable, OnDelete: onDelete, OnUpdate: onUpdate}
		r.fks[k] = fk
		r.fkList = append(r.fkList, fk)
	}
	fk.Columns = append(fk.Columns, col)
	fk.RefColumns = append(fk.RefColumns, refCol)
}

// uniqueColumn adds col to the unique index name of table; a nil-marked
// index (see dropUnique) stays dropped.
func (r *reader) uniqueColumn(table, name, col string) {
	if r.uniq == nil {
		r.uniq = map[string][]string{}
	}
	k := table + "\x00" + name
	cols, seen := r.uniq[k]
	if seen && cols == nil {
		return
	}
	if !seen {
		r.uniqs = append(r.uniqs, k)
	}
	r.uniq[k] = append(cols, col)
}

// dropUnique marks the unique index name of table as not making its
// columns unique (partial, expression or prefix index).
func (r *reader) dropUnique(table, name string) {
	if r.uniq == nil {
		r.uniq = map[string][]string{}
	}
	k := table + "\x00" + name
	if _, seen := r.uniq[k]; !seen {
		r.uniqs = append(r.uniqs, k)
	}
	r.uniq[k] = nil
}

// finish attaches keys to their tables and sorts everything.
func (r *reader) finish() {
	for _, fk := range r.fkList {
		if t := r.byName[fk.Table]; t != nil {
			t.ForeignKeys = append(t.ForeignKeys, *fk)
		}
	}
	for _, k := range r.uniqs {
		cols := r.uniq[k]
		tname, _, _ := strings.Cut(k, "\x00")
		t := r.byName[tname]
		if t == nil || cols == nil || sameSet(cols, t.PrimaryKey) {
			continue
		}
		dup := false
		for _, u := range t.Unique {
			if sameSet(u, cols) {
				dup = true
				break
			}
		}
		if !dup {
			t.Unique = append(t.Unique, cols)
		}
	}
	slices.SortFunc(r.s.Tables, func(a, b *Table) int { return strings.Compare(a.Name, b.Name) })
	for _, t := range r.s.Tables {
		slices.SortFunc(t.Unique, slices.Compare)
		slices.SortFunc(t.ForeignKeys, func(a, b ForeignKey) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), slices.Compare(a.Columns, b.Columns), strings.Compare(a.RefTable, b.RefTable))
		})
	}
}
