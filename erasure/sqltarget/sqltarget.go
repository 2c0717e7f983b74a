// Package sqltarget binds a host's existing SQL table to the erasure
// cascade declaratively: the table, its key column, the column that links
// a row to its subject (for a root) or to its parent record, an optional
// tenant column, and per column what anonymisation does — set it to NULL,
// blank it, replace it with a fixed value, or replace it with the
// subject's keyed pseudonym.
//
// New checks the spec against the live schema: an unknown table or column
// is an error when the target is registered, not when a subject is being
// erased. It uses only database/sql; the host passes its own *sql.DB and
// says which Dialect it speaks.
//
// Choices made here: every statement is parameterised and names the
// tenant column when the spec has one (a host with one database per tenant
// may leave it empty); Find orders by the key column and pages with
// "key > last"; integer key and link columns are detected from the schema
// and bound as integers; a batch of rows is deleted or updated with one
// statement ("… WHERE key IN (…)"), never one round trip per row.
package sqltarget

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Dialect says which SQL the *sql.DB speaks.
type Dialect string

// The dialects: placeholders are "?" except on PostgreSQL ("$1"), and
// identifiers are quoted with double quotes except on MySQL (backticks).
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
	MySQL    Dialect = "mysql"
)

// ColumnAction is what anonymisation does to a column.
type ColumnAction string

// The column actions.
const (
	// Null sets the column to NULL: the value is deleted.
	Null ColumnAction = "null"
	// Blank sets the column to the empty string.
	Blank ColumnAction = "blank"
	// Fixed sets the column to Column.Value.
	Fixed ColumnAction = "fixed"
	// Pseudonym sets the column to the subject's keyed pseudonym.
	Pseudonym ColumnAction = "pseudonym"
	// Reassign sets the column to the agent who takes over the subject's
	// work (erasure.Config.ReassignTo or the request's), or to NULL — the
	// unassigned queue — when there is none. For an assignee column.
	Reassign ColumnAction = "reassign"
	// Label sets the column to a short display name ("Former user
	// 3f9a1c2e") so threads and reports still read. For an author-name
	// column.
	Label ColumnAction = "label"
)

// Column is the anonymisation of one column.
type Column struct {
	Name   string
	Action ColumnAction
	// Value is the replacement for Fixed.
	Value any
}

// Spec declares one table as a target.
type Spec struct {
	// Kind and Parent place the target in the graph.
	Kind   erasure.Kind
	Parent erasure.Kind
	// Table is the host table; Key its primary key column.
	Table string
	Key   string
	// SubjectColumn holds the subject ID (roots only).
	SubjectColumn string
	// ParentColumn holds the parent record's key (children only).
	ParentColumn string
	// AccountColumn, when set, holds the tenant: every statement filters
	// by it, and the target can erase a whole account.
	AccountColumn string
	// Columns is what Anonymize does. Without columns the target can only
	// delete. A root that anonymises must change SubjectColumn, so an
	// anonymised row no longer points at the subject.
	Columns []Column
	// Default is the rule when the policy names none. Default: Delete.
	Default erasure.Rule
	// Description and Records are copied to the TargetInfo.
	Description string
	Records     string
	// NoExport names columns that access exports leave out: secrets such
	// as password hashes or tokens, which erasure must never hand out.
	// Export writes every other column.
	NoExport []string
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Target is a validated table target. It implements erasure.Target and
// erasure.AccountEraser.
type Target struct {
	erasure.Base
	db      *sql.DB
	d       Dialect
	spec    Spec
	intCols map[string]bool
	info    erasure.TargetInfo
	byKey   bool // BlobIndex: children in key order
}

// New validates spec against the live schema of db and returns the target.
// It returns an error wrapping gdprkit.ErrInvalid for a bad spec, an
// unknown table or an unknown column.
func New(ctx context.Context, db *sql.DB, d Dialect, spec Spec) (*Target, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: sqltarget: nil *sql.DB", gdprkit.ErrInvalid)
	}
	if d != SQLite && d != Postgres && d != MySQL {
		return nil, fmt.Errorf("%w: sqltarget: unknown dialect %q", gdprkit.ErrInvalid, d)
	}
	if err := spec.Kind.Validate(); err != nil {
		return nil, err
	}
	if (spec.Parent == "") == (spec.SubjectColumn == "") || (spec.Parent == "") != (spec.ParentColumn == "") {
		return nil, fmt.Errorf("%w: sqltarget %s: a root needs SubjectColumn, a child Parent and ParentColumn", gdprkit.ErrInvalid, spec.Kind)
	}
	names := []string{spec.Table, spec.Key}
	for _, c := range []string{spec.SubjectColumn, spec.ParentColumn, spec.AccountColumn} {
		if c != "" {
			names = append(names, c)
		}
	}
	names = append(names, spec.NoExport...)
	cutsLink := false
	for _, c := range spec.Columns {
		names = append(names, c.Name)
		switch c.Action {
		case Null, Blank, Pseudonym, Reassign, Label:
		case Fixed:
			if c.Value == nil {
				return nil, fmt.Errorf("%w: sqltarget %s: column %s: Fixed needs a Value", gdprkit.ErrInvalid, spec.Kind, c.Name)
			}
		default:
			return nil, fmt.Errorf("%w: sqltarget %s: column %s: unknown action %q", gdprkit.ErrInvalid, spec.Kind, c.Name, c.Action)
		}
		if c.Name == spec.SubjectColumn {
			cutsLink = true
		}
	}
	for _, n := range names {
		if !identRe.MatchString(n) {
			return nil, fmt.Errorf("%w: sqltarget %s: %q is not a plain SQL identifier", gdprkit.ErrInvalid, spec.Kind, truncate(n))
		}
	}
	if spec.Parent == "" && len(spec.Columns) > 0 && !cutsLink {
		return nil, fmt.Errorf("%w: sqltarget %s: anonymising must change the subject column %s", gdprkit.ErrInvalid, spec.Kind, spec.SubjectColumn)
	}
	cols, err := columns(ctx, db, d, spec.Table)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: sqltarget %s: table %s does not exist", gdprkit.ErrInvalid, spec.Kind, spec.Table)
	}
	t := &Target{db: db, d: d, spec: spec, intCols: map[string]bool{}}
	for _, n := range names[1:] {
		typ, ok := cols[strings.ToLower(n)]
		if !ok {
			return nil, fmt.Errorf("%w: sqltarget %s: table %s has no column %s", gdprkit.ErrInvalid, spec.Kind, spec.Table, n)
		}
		if strings.Contains(typ, "int") {
			t.intCols[n] = true
		}
	}
	if spec.Default.Action == "" {
		spec.Default = erasure.Rule{Action: erasure.Delete}
	}
	t.spec = spec
	actions := []erasure.Action{erasure.Delete}
	if len(spec.Columns) > 0 {
		actions = append(actions, erasure.Anonymize)
	}
	desc := spec.Description
	if desc == "" {
		desc = "rows of table " + spec.Table
	}
	t.info = erasure.TargetInfo{Kind: spec.Kind, Parent: spec.Parent, Default: spec.Default, Actions: actions, Description: desc, Records: spec.Records,
		Caps: erasure.Caps{Parents: spec.ParentColumn != "", EraseAccount: spec.AccountColumn != ""}}
	return t, nil
}

// columns returns the table's column names (lower case) and data types.
func columns(ctx context.Context, db *sql.DB, d Dialect, table string) (map[string]string, error) {
	var q string
	switch d {
	case SQLite:
		q = "SELECT name, type FROM pragma_table_info(?)"
	case Postgres:
		q = "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
	case MySQL:
		q = "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
	}
	rows, err := db.QueryContext(ctx, q, table)
	if err != nil {
		return nil, fmt.Errorf("sqltarget: read the schema of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		out[strings.ToLower(name)] = strings.ToLower(typ)
	}
	return out, rows.Err()
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Info implements erasure.Target.
func (t *Target) Info() erasure.TargetInfo { return t.info }

func (t *Target) quote(id string) string {
	if t.d == MySQL {
		return "`" + id + "`"
	}
	return `"` + id + `"`
}

// stmt builds SQL with '?' placeholders rebound for the dialect.
type stmt struct {
	t    *Target
	b    strings.Builder
	args []any
}

func (s *stmt) sql(parts ...string) *stmt {
	for _, p := range parts {
		s.b.WriteString(p)
	}
	return s
}

func (s *stmt) arg(v any) *stmt {
	s.args = append(s.args, v)
	if s.t.d == Postgres {
		s.b.WriteString("$" + strconv.Itoa(len(s.args)))
	} else {
		s.b.WriteString("?")
	}
	return s
}

// val converts an ID string for binding to column col.
func (t *Target) val(col, v string) (any, error) {
	if !t.intCols[col] {
		return v, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: sqltarget %s: %q is not an integer for column %s", gdprkit.ErrInvalid, t.spec.Kind, truncate(v), col)
	}
	return n, nil
}

func (s *stmt) in(col string, ids []string) error {
	if s.t.d == Postgres {
		// One array parameter: the statement text is the same for every
		// batch size, so PostgreSQL plans it once.
		var arr any = ids
		if s.t.intCols[col] {
			ns := make([]int64, len(ids))
			for i, id := range ids {
				v, err := s.t.val(col, id)
				if err != nil {
					return err
				}
				ns[i] = v.(int64)
			}
			arr = ns
		}
		s.sql(s.t.quote(col), " = ANY(").arg(arr).sql(")")
		return nil
	}
	s.sql(s.t.quote(col), " IN (")
	for i, id := range ids {
		v, err := s.t.val(col, id)
		if err != nil {
			return err
		}
		if i > 0 {
			s.sql(", ")
		}
		s.arg(v)
	}
	s.sql(")")
	return nil
}

func (t *Target) where(s *stmt, account gdprkit.AccountID) {
	s.sql(" WHERE ")
	if t.spec.AccountColumn != "" {
		s.sql(t.quote(t.spec.AccountColumn), " = ").arg(string(account)).sql(" AND ")
	}
}

// Find implements erasure.Target. A root's rows come in key order. A
// child's rows come in (parent, key) order, the order of an index on
// (tenant, parent, key), so a page costs the same however much else the
// table holds; their Ref.Cursor carries both values.
func (t *Target) Find(ctx context.Context, account gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	s := &stmt{t: t}
	key := t.quote(t.spec.Key)
	child := t.spec.Parent != "" && !t.byKey
	if child {
		s.sql("SELECT ", key, ", ", t.quote(t.spec.ParentColumn), " FROM ", t.quote(t.spec.Table))
	} else {
		s.sql("SELECT ", key, " FROM ", t.quote(t.spec.Table))
	}
	t.where(s, account)
	if q.All {
		s.sql("1 = 1")
	} else if t.spec.Parent == "" {
		v, err := t.val(t.spec.SubjectColumn, string(q.Subject))
		if err != nil {
			return nil, nil // an ID that cannot be in an integer column has no rows
		}
		s.sql(t.quote(t.spec.SubjectColumn), " = ").arg(v)
	} else {
		if len(q.Parents) == 0 {
			return nil, nil
		}
		if err := s.in(t.spec.ParentColumn, q.Parents); err != nil {
			return nil, err
		}
	}
	switch {
	case q.After == "":
	case child:
		var cur [2]string
		if err := json.Unmarshal([]byte(q.After), &cur); err != nil {
			return nil, fmt.Errorf("%w: sqltarget %s: bad cursor", gdprkit.ErrInvalid, t.spec.Kind)
		}
		pv, err := t.val(t.spec.ParentColumn, cur[0])
		if err != nil {
			return nil, err
		}
		kv, err := t.val(t.spec.Key, cur[1])
		if err != nil {
			return nil, err
		}
		pc := t.quote(t.spec.ParentColumn)
		s.sql(" AND (", pc, " > ").arg(pv).sql(" OR (", pc, " = ").arg(pv).sql(" AND ", key, " > ").arg(kv).sql("))")
	default:
		v, err := t.val(t.spec.Key, q.After)
		if err != nil {
			return nil, err
		}
		s.sql(" AND ", key, " > ").arg(v)
	}
	if child {
		s.sql(" ORDER BY ", t.quote(t.spec.ParentColumn), ", ", key)
	} else {
		s.sql(" ORDER BY ", key)
	}
	s.sql(" LIMIT ").arg(q.Limit)
	rows, err := t.db.QueryContext(ctx, s.b.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: find: %w", t.spec.Kind, err)
	}
	defer rows.Close()
	var out []erasure.Ref
	for rows.Next() {
		var id, parent sql.NullString
		dest := []any{&id}
		if child {
			dest = append(dest, &parent)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if !id.Valid {
			continue
		}
		r := erasure.Ref{ID: id.String}
		if child {
			c, _ := json.Marshal([2]string{parent.String, id.String})
			r.Cursor = string(c)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func ids(refs []erasure.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}

// Delete implements erasure.Target: one DELETE for the batch.
func (t *Target) Delete(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) (erasure.Change, error) {
	if len(refs) == 0 {
		return erasure.Change{}, nil
	}
	s := &stmt{t: t}
	s.sql("DELETE FROM ", t.quote(t.spec.Table))
	t.where(s, account)
	if err := s.in(t.spec.Key, ids(refs)); err != nil {
		return erasure.Change{}, err
	}
	res, err := t.db.ExecContext(ctx, s.b.String(), s.args...)
	if err != nil {
		return erasure.Change{}, fmt.Errorf("sqltarget %s: delete: %w", t.spec.Kind, err)
	}
	n, _ := res.RowsAffected()
	return erasure.Change{Records: n}, nil
}

// Anonymize implements erasure.Target: one UPDATE for the batch. a.Fields
// may override a column: Keep leaves it, Delete sets NULL, Anonymize sets
// the pseudonym.
func (t *Target) Anonymize(ctx context.Context, account gdprkit.AccountID, refs []erasure.Ref, a erasure.Anon) (erasure.Change, error) {
	if len(t.spec.Columns) == 0 {
		return erasure.Change{}, erasure.ErrUnsupported
	}
	if len(refs) == 0 {
		return erasure.Change{}, nil
	}
	s := &stmt{t: t}
	s.sql("UPDATE ", t.quote(t.spec.Table), " SET ")
	n := 0
	for _, c := range t.spec.Columns {
		act := c.Action
		switch a.Fields[c.Name] {
		case erasure.Keep:
			if c.Name != t.spec.SubjectColumn {
				continue
			}
		case erasure.Delete:
			act = Null
		case erasure.Anonymize:
			act = Pseudonym
		}
		if n > 0 {
			s.sql(", ")
		}
		n++
		s.sql(t.quote(c.Name), " = ")
		switch act {
		case Null:
			s.sql("NULL")
		case Blank:
			s.arg("")
		case Fixed:
			s.arg(c.Value)
		case Pseudonym:
			s.arg(string(a.Pseudonym))
		case Reassign:
			if a.ReassignTo == "" {
				s.sql("NULL")
			} else {
				s.arg(string(a.ReassignTo))
			}
		case Label:
			s.arg(a.Label)
		}
	}
	if n == 0 {
		return erasure.Change{}, nil
	}
	t.where(s, account)
	if err := s.in(t.spec.Key, ids(refs)); err != nil {
		return erasure.Change{}, err
	}
	res, err := t.db.ExecContext(ctx, s.b.String(), s.args...)
	if err != nil {
		return erasure.Change{}, fmt.Errorf("sqltarget %s: anonymize: %w", t.spec.Kind, err)
	}
	rows, _ := res.RowsAffected()
	return erasure.Change{Records: rows}, nil
}

// ParentsOf implements erasure.ParentFinder for child specs: one SELECT
// of the key and parent columns for the batch. A root spec knows no
// parents and returns none.
func (t *Target) ParentsOf(ctx context.Context, account gdprkit.AccountID, keys []string) (map[string]string, error) {
	out := map[string]string{}
	if t.spec.ParentColumn == "" || len(keys) == 0 {
		return out, nil
	}
	s := &stmt{t: t}
	s.sql("SELECT ", t.quote(t.spec.Key), ", ", t.quote(t.spec.ParentColumn), " FROM ", t.quote(t.spec.Table))
	t.where(s, account)
	if err := s.in(t.spec.Key, keys); err != nil {
		return nil, err
	}
	rows, err := t.db.QueryContext(ctx, s.b.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: parents: %w", t.spec.Kind, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent sql.NullString
		if err := rows.Scan(&id, &parent); err != nil {
			return nil, err
		}
		if id.Valid && parent.Valid {
			out[id.String] = parent.String
		}
	}
	return out, rows.Err()
}

// Export implements erasure.Target: every column of each row but those in
// Spec.NoExport, as a JSON object.
func (t *Target) Export(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	s := &stmt{t: t}
	s.sql("SELECT * FROM ", t.quote(t.spec.Table))
	t.where(s, account)
	if err := s.in(t.spec.Key, ids(refs)); err != nil {
		return nil, err
	}
	s.sql(" ORDER BY ", t.quote(t.spec.Key))
	rows, err := t.db.QueryContext(ctx, s.b.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: export: %w", t.spec.Kind, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			if t.noExport(c) {
				continue
			}
			if b, ok := vals[i].([]byte); ok {
				m[c] = string(b)
			} else {
				m[c] = vals[i]
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func (t *Target) noExport(col string) bool {
	for _, c := range t.spec.NoExport {
		if strings.EqualFold(c, col) {
			return true
		}
	}
	return false
}

// EraseAccount implements erasure.AccountEraser: it deletes every row of
// the account when the spec has an AccountColumn, and does nothing
// otherwise.
func (t *Target) EraseAccount(ctx context.Context, account gdprkit.AccountID) (erasure.Change, error) {
	if t.spec.AccountColumn == "" {
		return erasure.Change{}, erasure.ErrUnsupported
	}
	s := &stmt{t: t}
	s.sql("DELETE FROM ", t.quote(t.spec.Table), " WHERE ", t.quote(t.spec.AccountColumn), " = ").arg(string(account))
	res, err := t.db.ExecContext(ctx, s.b.String(), s.args...)
	if err != nil {
		return erasure.Change{}, fmt.Errorf("sqltarget %s: erase account: %w", t.spec.Kind, err)
	}
	n, _ := res.RowsAffected()
	return erasure.Change{Records: n}, nil
}

// BlobIndexSpec declares the table that maps parent records to blob keys
// (usually the attachments table itself: its key and its blob key column).
type BlobIndexSpec struct {
	Table         string
	IDColumn      string
	KeyColumn     string
	AccountColumn string
}

// BlobIndex is an erasure.BlobIndex over a table.
type BlobIndex struct{ t *Target }

// NewBlobIndex validates spec against the live schema, like New.
func NewBlobIndex(ctx context.Context, db *sql.DB, d Dialect, spec BlobIndexSpec) (*BlobIndex, error) {
	t, err := New(ctx, db, d, Spec{Kind: "blob-index", Parent: "parent", Table: spec.Table, Key: spec.KeyColumn,
		ParentColumn: spec.IDColumn, AccountColumn: spec.AccountColumn})
	if err != nil {
		return nil, err
	}
	t.byKey = true
	return &BlobIndex{t}, nil
}

// BlobKeys implements erasure.BlobIndex.
func (b *BlobIndex) BlobKeys(ctx context.Context, account gdprkit.AccountID, parents []string, after string, limit int) ([]string, error) {
	refs, err := b.t.Find(ctx, account, erasure.Query{Parents: parents, After: after, Limit: limit, All: parents == nil})
	if err != nil {
		return nil, err
	}
	return ids(refs), nil
}

// BlobParents implements erasure.BlobParentIndex: one SELECT of the key
// and ID columns for the batch.
func (b *BlobIndex) BlobParents(ctx context.Context, account gdprkit.AccountID, keys []string) (map[string]string, error) {
	return b.t.ParentsOf(ctx, account, keys)
}

var (
	_ erasure.Target    = (*Target)(nil)
	_ erasure.BlobIndex = (*BlobIndex)(nil)
)
