package hostfixture

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
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
	Dialect Dialect
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
func TakeSnapshot(ctx context.Context, q Queryer, d Dialect, blobDir string, skipTablePrefix ...string) (*Snapshot, error) {
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

// valueKind says how a column's values are canonicalised.
type valueKind int

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

type colInfo struct {
	name string
	kind valueKind
}

type tableInfo struct {
	name string
	cols []colInfo
	pk   []string
}

func quoteIdent(d Dialect, s string) string {
	if d == sqlstore.MySQL {
		return "`" + strings.ReplaceAll(s, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// listTables lists the base tables of the current namespace, sorted.
func listTables(ctx context.Context, q Queryer, d Dialect) ([]string, error) {
	var query string
	switch d {
	case sqlstore.SQLite:
		query = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`
	case sqlstore.Postgres:
		query = `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname`
	case sqlstore.MySQL:
		query = `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`
	default:
		return nil, checkDialect(d)
	}
	return queryStrings(ctx, q, query)
}

func queryStrings(ctx context.Context, q Queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// describeTables reads every base table's columns (with how to
// canonicalise them) and primary key, in a few catalog queries.
func describeTables(ctx context.Context, q Queryer, d Dialect) ([]tableInfo, error) {
	names, err := listTables(ctx, q, d)
	if err != nil {
		return nil, err
	}
	byName := map[string]*tableInfo{}
	out := make([]tableInfo, len(names))
	for i, n := range names {
		out[i].name = n
		byName[n] = &out[i]
	}
	type colRow struct{ table, col, typ, extra string }
	var colRows []colRow
	var pkRows [][2]string
	jsonChecked := map[[2]string]bool{} // (table, column) checked with json_valid
	switch d {
	case sqlstore.SQLite:
		rows, err := q.QueryContext(ctx, `SELECT m.name, p.name, p.type, p.pk, COALESCE(m.sql, '') FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' ORDER BY m.name, p.cid`)
		if err != nil {
			return nil, err
		}
		type pkcol struct {
			t, c string
			n    int
		}
		var pks []pkcol
		ddl := map[string]string{}
		for rows.Next() {
			var r colRow
			var pk int
			var sqlText string
			if err := rows.Scan(&r.table, &r.col, &r.typ, &pk, &sqlText); err != nil {
				rows.Close()
				return nil, err
			}
			colRows = append(colRows, r)
			ddl[r.table] = sqlText
			if pk > 0 {
				pks = append(pks, pkcol{r.table, r.col, pk})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		sort.SliceStable(pks, func(i, j int) bool {
			if pks[i].t != pks[j].t {
				return pks[i].t < pks[j].t
			}
			return pks[i].n < pks[j].n
		})
		for _, p := range pks {
			pkRows = append(pkRows, [2]string{p.t, p.c})
		}
		for t, s := range ddl {
			for _, c := range jsonValidColumns(s) {
				jsonChecked[[2]string{t, c}] = true
			}
		}
	case sqlstore.Postgres:
		rows, err := q.QueryContext(ctx, `SELECT c.relname, a.attname, t.typname, t.typcategory
			FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_type t ON t.oid = a.atttypid
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
			ORDER BY c.relname, a.attnum`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r colRow
			if err := rows.Scan(&r.table, &r.col, &r.typ, &r.extra); err != nil {
				rows.Close()
				return nil, err
			}
			colRows = append(colRows, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		pkRows, err = queryPairs(ctx, q, `SELECT c.relname, a.attname FROM pg_index i
			JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
			WHERE n.nspname = current_schema() AND i.indisprimary ORDER BY c.relname, k.ord`)
		if err != nil {
			return nil, err
		}
	case sqlstore.MySQL:
		rows, err := q.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r colRow
			if err := rows.Scan(&r.table, &r.col, &r.typ, &r.extra); err != nil {
				rows.Close()
				return nil, err
			}
			colRows = append(colRows, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		pkRows, err = queryPairs(ctx, q, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
			WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY TABLE_NAME, ORDINAL_POSITION`)
		if err != nil {
			return nil, err
		}
		// MariaDB's JSON is LONGTEXT with a json_valid CHECK; MySQL 8 has a
		// real JSON type and no TABLE_NAME in CHECK_CONSTRAINTS, so this
		// query failing just means there is nothing to learn from it.
		if checks, err := queryPairs(ctx, q, `SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
			WHERE CONSTRAINT_SCHEMA = DATABASE()`); err == nil {
			for _, c := range checks {
				for _, col := range jsonValidColumns(c[1]) {
					jsonChecked[[2]string{c[0], col}] = true
				}
			}
		}
	}
	for _, r := range colRows {
		ti := byName[r.table]
		if ti == nil {
			continue
		}
		k := columnKind(d, r.typ, r.extra)
		if jsonChecked[[2]string{r.table, r.col}] {
			k = kJSON
		}
		ti.cols = append(ti.cols, colInfo{name: r.col, kind: k})
	}
	for _, p := range pkRows {
		if ti := byName[p[0]]; ti != nil {
			ti.pk = append(ti.pk, p[1])
		}
	}
	return out, nil
}

func queryPairs(ctx context.Context, q Queryer, query string) ([][2]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return nil, err
		}
		out = append(out, [2]string{a, b})
	}
	return out, rows.Err()
}

// jsonValidColumns finds the columns a CHECK (json_valid(col)) names in
// DDL or a check clause.
func jsonValidColumns(s string) []string {
	var out []string
	low := strings.ToLower(s)
	for {
		i := strings.Index(low, "json_valid(")
		if i < 0 {
			return out
		}
		low = low[i+len("json_valid("):]
		s = s[i+len("json_valid("):]
		j := strings.IndexByte(s, ')')
		if j < 0 {
			return out
		}
		name := strings.Trim(strings.TrimSpace(s[:j]), "`\"[]")
		if name != "" {
			out = append(out, name)
		}
	}
}

// columnKind maps a catalog type to how values are canonicalised. typ is
// the declared type (SQLite), pg_type.typname (PostgreSQL) or DATA_TYPE
// (MySQL); extra is typcategory (PostgreSQL) or COLUMN_TYPE (MySQL).
func columnKind(d Dialect, typ, extra string) valueKind {
	t := strings.ToLower(typ)
	switch d {
	case sqlstore.Postgres:
		if extra == "A" {
			return kArray
		}
		switch t {
		case "int2", "int4", "int8", "oid":
			return kInt
		case "bool":
			return kBool
		case "timestamp", "timestamptz", "date":
			return kTime
		case "numeric", "float4", "float8":
			return kNumber
		case "json", "jsonb":
			return kJSON
		case "bytea":
			return kBinary
		}
		return kText
	case sqlstore.MySQL:
		switch t {
		case "tinyint":
			if strings.HasPrefix(strings.ToLower(extra), "tinyint(1)") {
				return kBool
			}
			return kInt
		case "smallint", "mediumint", "int", "integer", "bigint":
			return kInt
		case "datetime", "timestamp", "date":
			return kTime
		case "decimal", "float", "double":
			return kNumber
		case "json":
			return kJSON
		case "binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob":
			return kBinary
		}
		return kText
	}
	// SQLite: the declared type, by SQLite's own affinity rules, with the
	// names ORMs use for booleans, times and JSON first.
	switch {
	case strings.Contains(t, "bool"):
		return kBool
	case strings.Contains(t, "date") || strings.Contains(t, "time"):
		return kTime
	case strings.Contains(t, "json"):
		return kJSON
	case strings.Contains(t, "int"):
		return kInt
	case strings.Contains(t, "char") || strings.Contains(t, "clob") || strings.Contains(t, "text"):
		return kText
	case strings.Contains(t, "blob"):
		return kBinary
	case strings.Contains(t, "real") || strings.Contains(t, "floa") || strings.Contains(t, "doub") || strings.Contains(t, "dec") || strings.Contains(t, "num"):
		return kNumber
	}
	return kText
}

func readTable(ctx context.Context, q Queryer, d Dialect, ti tableInfo) (*Table, error) {
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

const canonicalTime = "2006-01-02 15:04:05.999999"

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04",
	"2006-01-02",
}

// canonical turns a scanned value into its canonical Value.
func canonical(k valueKind, v any) Value {
	if v == nil {
		return Null
	}
	var s string
	isText := false
	switch x := v.(type) {
	case []byte:
		if k == kBinary {
			return Text(`\x` + hex.EncodeToString(x))
		}
		s, isText = string(x), true
	case string:
		s, isText = x, true
	case int64:
		switch k {
		case kBool:
			if x == 0 || x == 1 {
				return Text(strconv.FormatBool(x == 1))
			}
		case kTime:
			return Text(time.Unix(x, 0).UTC().Format(canonicalTime))
		}
		return Text(strconv.FormatInt(x, 10))
	case int32:
		return canonical(k, int64(x))
	case int16:
		return canonical(k, int64(x))
	case int8:
		return canonical(k, int64(x))
	case int:
		return canonical(k, int64(x))
	case float64:
		if k == kInt && x == float64(int64(x)) {
			return Text(strconv.FormatInt(int64(x), 10))
		}
		return Text(strconv.FormatFloat(x, 'f', -1, 64))
	case float32:
		return canonical(k, float64(x))
	case bool:
		return Text(strconv.FormatBool(x))
	case time.Time:
		return Text(x.UTC().Format(canonicalTime))
	default:
		return Text(fmt.Sprint(v))
	}
	if !isText {
		return Text(s)
	}
	switch k {
	case kInt:
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return Text(strconv.FormatInt(n, 10))
		}
	case kBool:
		switch strings.ToLower(s) {
		case "1", "t", "true":
			return Text("true")
		case "0", "f", "false":
			return Text("false")
		}
	case kTime:
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return Text(t.UTC().Format(canonicalTime))
			}
		}
	case kNumber:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return Text(strconv.FormatFloat(f, 'f', -1, 64))
		}
	case kJSON:
		if j, ok := canonicalJSON([]byte(s)); ok {
			return Text(j)
		}
	case kArray:
		if j, ok := pgArrayToJSON(s); ok {
			return Text(j)
		}
	}
	return Text(s)
}

// canonicalJSON re-encodes a JSON document compactly, object keys sorted,
// numbers as written, without HTML escaping.
func canonicalJSON(b []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", false
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", false
	}
	return strings.TrimSuffix(out.String(), "\n"), true
}

// pgArrayToJSON converts a one-dimensional PostgreSQL array literal
// ({1,2,NULL} or {"a b",c}) to a canonical JSON array: elements that are
// numbers stay numbers, NULL becomes null, everything else a string.
func pgArrayToJSON(s string) (string, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return "", false
	}
	body := s[1 : len(s)-1]
	var elems []any
	if body != "" {
		for i := 0; i <= len(body); {
			if i < len(body) && body[i] == '{' {
				return "", false // multi-dimensional: keep the literal
			}
			var el string
			quoted := false
			if i < len(body) && body[i] == '"' {
				quoted = true
				var b strings.Builder
				i++
				for i < len(body) && body[i] != '"' {
					if body[i] == '\\' && i+1 < len(body) {
						i++
					}
					b.WriteByte(body[i])
					i++
				}
				i++ // closing quote
				el = b.String()
			} else {
				j := strings.IndexByte(body[i:], ',')
				if j < 0 {
					j = len(body) - i
				}
				el = body[i : i+j]
				i += j
			}
			switch {
			case !quoted && el == "NULL":
				elems = append(elems, nil)
			case !quoted && isJSONNumber(el):
				elems = append(elems, json.Number(el))
			default:
				elems = append(elems, el)
			}
			if i >= len(body) {
				break
			}
			if body[i] != ',' {
				return "", false
			}
			i++
		}
	}
	if elems == nil {
		elems = []any{}
	}
	b, err := json.Marshal(elems)
	if err != nil {
		return "", false
	}
	return canonicalJSON(b)
}

func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	return (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) && json.Valid([]byte(s))
}

// naturalLess orders strings with runs of digits compared as numbers, so
// "id=9" sorts before "id=10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
