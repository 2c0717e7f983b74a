package hostfixture

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Queryer runs queries: *sql.DB, *sql.Tx and *sql.Conn all are one.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Value is one canonical column value: NULL, or text.
type Value struct {
	// Null is true for SQL NULL; Text is then empty.
	Null bool
	// Text is the value in canonical form (see TakeSnapshot).
	Text string
}

// Text returns a non-NULL Value.
func Text(s string) Value { return Value{Text: s} }

// Null is the NULL Value.
var Null = Value{Null: true}

// String renders NULL as NULL and text quoted.
func (v Value) String() string {
	if v.Null {
		return "NULL"
	}
	return strconv.Quote(v.Text)
}

// Row is one row of a table in canonical form.
type Row struct {
	// Key identifies the row within its table: "id=5" or
	// "conversation_id=3,label_id=7" (primary key columns in key order), or,
	// in a table without a primary key, "#" and a hash of the whole row.
	Key string
	// Values holds every column by name.
	Values map[string]Value
	// Count is how many identical copies of the row the table holds: 1 in a
	// table with a primary key, possibly more in one without.
	Count int
}

// Get returns the value of column col (NULL when there is no such column).
func (r Row) Get(col string) Value {
	if v, ok := r.Values[col]; ok {
		return v
	}
	return Null
}

// String renders the row as {col=value ...} with columns sorted by name.
func (r Row) String() string {
	names := make([]string, 0, len(r.Values))
	for c := range r.Values {
		names = append(names, c)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c)
		b.WriteByte('=')
		b.WriteString(r.Values[c].String())
	}
	b.WriteByte('}')
	if r.Count > 1 {
		fmt.Fprintf(&b, " x%d", r.Count)
	}
	return b.String()
}

// Table is one table of a Snapshot.
type Table struct {
	// Name is the table name.
	Name string
	// Columns lists the columns in declaration order.
	Columns []string
	// PrimaryKey lists the primary key's columns; empty when there is none
	// (rows are then keyed by a hash of their content, with Count copies).
	PrimaryKey []string
	// Rows holds the rows by Row.Key.
	Rows map[string]Row
}

// Len is the number of rows, copies counted.
func (t *Table) Len() int {
	n := 0
	for _, r := range t.Rows {
		n += r.Count
	}
	return n
}

// Sorted returns the rows ordered by key (numbers in keys compare as
// numbers).
func (t *Table) Sorted() []Row {
	out := make([]Row, 0, len(t.Rows))
	for _, r := range t.Rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i].Key, out[j].Key) })
	return out
}

// Where returns the rows whose column col has canonical text v, by key.
func (t *Table) Where(col, v string) []Row {
	var out []Row
	for _, r := range t.Sorted() {
		if x, ok := r.Values[col]; ok && !x.Null && x.Text == v {
			out = append(out, r)
		}
	}
	return out
}

// Snapshot is the canonical content of every table of a database
// namespace and of every file under a blob directory, for comparing the
// state before and after an operation (Compare).
type Snapshot struct {
	// Dialect is the database's dialect.
	Dialect sqldb.Dialect
	// Tables holds every base table by name.
	Tables map[string]*Table
	// Files maps every regular file under the blob directory, by its
	// slash-separated path relative to that directory, to the hex SHA-256
	// of its content.
	Files map[string]string
}

// Table returns the named table, or nil when the snapshot has none.
func (s *Snapshot) Table(name string) *Table { return s.Tables[name] }

// TableNames lists the snapshot's tables, sorted.
func (s *Snapshot) TableNames() []string {
	out := make([]string, 0, len(s.Tables))
	for n := range s.Tables {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TakeSnapshot reads every base table of q's current namespace (the SQLite
// file, the PostgreSQL schema first on the search path, the MySQL
// database) except those whose name starts with one of skipTablePrefix
// (pass "gdpr_" to leave gdprkit's own tables out), and every regular file
// under blobDir (none when blobDir is "").
//
// Values are canonicalised so that equal content compares equal whatever
// the dialect or driver: integers in decimal; booleans "true"/"false";
// timestamps in UTC as "2006-01-02 15:04:05.999999"; decimals without
// trailing zeros; JSON (jsonb, json, and SQLite or MariaDB text columns
// checked with json_valid) re-encoded compactly with sorted keys;
// PostgreSQL arrays as JSON arrays; binary as \x and hex; everything else
// as its text. Rows are keyed by their primary key, or, in a table
// without one, by a hash of the whole canonical row, keeping how many
// copies there are.
//
// When q is a *sql.DB, the tables are read in one read-only transaction
// (REPEATABLE READ on PostgreSQL and MySQL) so the snapshot is consistent;
// pass a *sql.Tx to read inside a transaction of your own. It changes
// nothing. A blobDir that does not exist is an error wrapping
// gdprkit.ErrNotFound.
func TakeSnapshot(ctx context.Context, q Queryer, d sqldb.Dialect, blobDir string, skipTablePrefix ...string) (*Snapshot, error) {
	if err := checkDialect(d); err != nil {
		return nil, err
	}
	if db, ok := q.(*sql.DB); ok {
		opts := &sql.TxOptions{ReadOnly: true}
		if d != sqlstore.SQLite {
			opts.Isolation = sql.LevelRepeatableRead
		}
		tx, err := db.BeginTx(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("hostfixture: snapshot: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // read-only
		q = tx
	}
	infos, err := describeTables(ctx, q, d)
	if err != nil {
		return nil, fmt.Errorf("hostfixture: snapshot: %w", err)
	}
	s := &Snapshot{Dialect: d, Tables: map[string]*Table{}, Files: map[string]string{}}
tables:
	for _, ti := range infos {
		for _, p := range skipTablePrefix {
			if p != "" && strings.HasPrefix(ti.name, p) {
				continue tables
			}
		}
		t, err := readTable(ctx, q, d, ti)
		if err != nil {
			return nil, fmt.Errorf("hostfixture: snapshot of %s: %w", ti.name, err)
		}
		s.Tables[t.Name] = t
	}
	if blobDir != "" {
		if err := hashFiles(blobDir, s.Files); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func hashFiles(root string, into map[string]string) error {
	if _, err := os.Stat(root); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("hostfixture: snapshot: blob directory %s: %w", root, gdprkit.ErrNotFound)
		}
		return fmt.Errorf("hostfixture: snapshot: %w", err)
	}
	return filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		into[filepath.ToSlash(rel)] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
}

const (
	kText valueKind = iota
	kInt
	kBool
	kTime
	kNumber
	kJSON
	kArray // PostgreSQL array
	kBinary
)

func readTable(ctx context.Context, q Queryer, d sqldb.Dialect, ti tableInfo) (*Table, error) {
	t := &Table{Name: ti.name, PrimaryKey: ti.pk, Rows: map[string]Row{}}
	names := make([]string, len(ti.cols))
	for i, c := range ti.cols {
		t.Columns = append(t.Columns, c.name)
		names[i] = quoteIdent(d, c.name)
	}
	if len(names) == 0 {
		return t, nil
	}
	rows, err := q.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+quoteIdent(d, ti.name))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	raw := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := Row{Values: make(map[string]Value, len(names)), Count: 1}
		for i, c := range ti.cols {
			r.Values[c.name] = canonical(c.kind, raw[i])
		}
		r.Key = rowKey(t, r)
		if old, ok := t.Rows[r.Key]; ok {
			if len(t.PrimaryKey) > 0 {
				return nil, fmt.Errorf("two rows with key %s", r.Key)
			}
			r.Count = old.Count + 1
		}
		t.Rows[r.Key] = r
	}
	return t, rows.Err()
}

// rowKey is "col=value,..." over the primary key, or "#" and the first 16
// hex digits of the SHA-256 of the whole canonical row.
func rowKey(t *Table, r Row) string {
	if len(t.PrimaryKey) > 0 {
		parts := make([]string, len(t.PrimaryKey))
		for i, c := range t.PrimaryKey {
			v := r.Values[c]
			s := v.Text
			if v.Null {
				s = "NULL"
			}
			parts[i] = c + "=" + s
		}
		return strings.Join(parts, ",")
	}
	cols := append([]string(nil), t.Columns...)
	sort.Strings(cols)
	h := sha256.New()
	for _, c := range cols {
		v := r.Values[c]
		io.WriteString(h, c) //nolint:errcheck // hashes do not fail
		h.Write([]byte{0})   //nolint:errcheck
		if v.Null {
			h.Write([]byte{0}) //nolint:errcheck
		} else {
			h.Write([]byte{1})        //nolint:errcheck
			io.WriteString(h, v.Text) //nolint:errcheck
		}
		h.Write([]byte{0}) //nolint:errcheck
	}
	return "#" + hex.EncodeToString(h.Sum(nil))[:16]
}
