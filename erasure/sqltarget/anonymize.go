package sqltarget

import (
	"context"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Anonymising rows in place: one UPDATE when every new value is SQL, or
// per-row edits computed in Go (JSON, arrays, redaction of text).

// elemVal binds the subject's key as an element of a PostgreSQL array.
func (v view) elemVal(col, key string) (any, error) {
	c := v.f.table.Column(col)
	if c != nil && c.Elem == sqldb.KindInteger {
		var n int64
		if _, err := fmt.Sscan(key, &n); err != nil || fmt.Sprint(n) != key {
			return nil, fmt.Errorf("%w: not an integer", gdprkit.ErrInvalid)
		}
		return n, nil
	}
	return key, nil
}

// editColumns returns the columns whose new value is computed in Go.
func (t *Target) editColumns() []string {
	var out []string
	for _, c := range t.spec.Columns {
		switch c.Action {
		case RemoveJSON, ReplaceJSON, Redact:
			out = append(out, c.Name)
		case RemoveElement:
			out = append(out, c.Name)
		}
	}
	return out
}

// edit computes the Go-side columns' new values for one row: the values
// (nil for an unchanged column) and whether anything changes.
func (t *Target) edit(v view, cols []string, vals []any, a erasure.Anon) ([]any, bool, error) {
	ns := needles(a.Identifiers)
	out := make([]any, len(cols))
	changed := false
	for i, name := range cols {
		var c Column
		for _, x := range t.spec.Columns {
			if strings.EqualFold(x.Name, name) {
				c = x
			}
		}
		s, ok := text(vals[i])
		if !ok {
			continue
		}
		var next string
		var ch bool
		switch c.Action {
		case RemoveJSON, ReplaceJSON:
			var paths [][]pathSeg
			for _, p := range c.Paths {
				ps, err := parsePath(p)
				if err != nil {
					return nil, false, err
				}
				paths = append(paths, ps)
			}
			label := ""
			if c.Action == ReplaceJSON {
				label = a.Label
				if label == "" {
					label = redacted
				}
			}
			b, did, err := editJSON([]byte(s), paths, ns, "", label)
			if err != nil {
				continue // not JSON: nothing of the subject to find in it
			}
			next, ch = string(b), did
		case RemoveElement:
			if v.d == sqldb.Postgres && v.f.kinds[v.colName(name)] == sqldb.KindArray {
				els, err := pgArray(s)
				if err != nil {
					continue
				}
				for _, e := range els {
					if e != nil && *e == string(a.Subject) {
						changed = true // applied in SQL with array_remove, not here
					}
				}
				continue
			} else {
				b, did, err := removeFromJSONArray([]byte(s), string(a.Subject))
				if err != nil {
					continue
				}
				next, ch = string(b), did
			}
		case Redact:
			next, ch = redact(s, ns)
		}
		if ch {
			out[i], changed = next, true
		}
	}
	return out, changed, nil
}

// Anonymize implements erasure.Target: one UPDATE of the batch's rows that
// would change (rows already anonymised are left and not counted), or,
// when a column's value is computed in Go, one transaction of per-row
// UPDATEs. a.Fields may override a column: Keep leaves it, Delete sets
// NULL, Anonymize sets the pseudonym.
func (t *Target) Anonymize(ctx context.Context, account gdprkit.AccountID, refs []erasure.Ref, a erasure.Anon) (erasure.Change, error) {
	if !canDo(t.spec, erasure.Anonymize) {
		return erasure.Change{}, erasure.ErrUnsupported
	}
	if len(refs) == 0 {
		return erasure.Change{}, nil
	}
	v, err := t.view()
	if err != nil {
		return erasure.Change{}, err
	}
	var n, rows int64
	err = t.b.run.atomic(ctx, func(q execer) error {
		var err error
		n, rows, err = t.anonymize(ctx, q, v, account, ids(refs), a, true)
		return err
	})
	return erasure.Change{Records: n, Rows: rows}, err
}

// setter is one column's new value in SQL.
type setter struct {
	col string
	val func(s *stmt)
	cmp bool // compared for "already anonymised"
}

// setters returns the SQL-computed column changes for a.
func (t *Target) setters(v view, a erasure.Anon) ([]setter, error) {
	var out []setter
	for _, c := range t.spec.Columns {
		act := c.Action
		switch a.Fields[c.Name] {
		case erasure.Keep:
			if !strings.EqualFold(c.Name, t.spec.SubjectColumn) {
				continue
			}
		case erasure.Delete:
			act = Null
		case erasure.Anonymize:
			act = Pseudonym
		}
		col := v.col(c.Name)
		switch act {
		case Null:
			out = append(out, setter{col, func(s *stmt) { s.sql("NULL") }, true})
		case Blank:
			out = append(out, setter{col, func(s *stmt) { s.arg("") }, true})
		case Fixed:
			val := c.Value
			out = append(out, setter{col, func(s *stmt) { s.arg(val) }, true})
		case Pseudonym:
			ps := string(a.Pseudonym)
			out = append(out, setter{col, func(s *stmt) { s.arg(ps) }, true})
		case Label:
			l := a.Label
			out = append(out, setter{col, func(s *stmt) { s.arg(l) }, true})
		case Reassign:
			if a.ReassignTo == "" {
				val := c.Value
				out = append(out, setter{col, func(s *stmt) {
					if val == nil {
						s.sql("NULL")
					} else {
						s.arg(val)
					}
				}, true})
			} else {
				x, err := v.val(c.Name, string(a.ReassignTo))
				if err != nil {
					return nil, fmt.Errorf("%w: the agent to reassign to does not fit %s", err, v.colName(c.Name))
				}
				out = append(out, setter{col, func(s *stmt) { s.arg(x) }, true})
			}
		case RemoveElement:
			if v.d == sqldb.Postgres && v.f.kinds[v.colName(c.Name)] == sqldb.KindArray {
				x, err := v.elemVal(c.Name, string(a.Subject))
				if err != nil {
					continue // the subject's key cannot be in this array
				}
				out = append(out, setter{col, func(s *stmt) { s.sql("array_remove(", col, ", ").arg(x).sql(")") }, false})
			}
		}
	}
	return out, nil
}

// goSide reports whether a column of the spec is computed in Go.
func (t *Target) goSide(v view) bool {
	for _, c := range t.spec.Columns {
		switch c.Action {
		case RemoveJSON, ReplaceJSON, Redact:
			return true
		case RemoveElement:
			if !(v.d == sqldb.Postgres && v.f.kinds[v.colName(c.Name)] == sqldb.KindArray) {
				return true
			}
		}
	}
	return false
}

// anonymize counts (write false) or applies (write true) the
// anonymisation of keys and returns how many records change.
func (t *Target) anonymize(ctx context.Context, q execer, v view, account gdprkit.AccountID, keys []string, a erasure.Anon, write bool) (records, rows int64, err error) {
	sets, err := t.setters(v, a)
	if err != nil {
		return 0, 0, err
	}
	if t.goSide(v) {
		return t.anonymizeRows(ctx, q, v, account, keys, a, sets, write)
	}
	if len(sets) == 0 && t.spec.Marker == "" {
		return 0, 0, nil
	}
	s := v.stmt()
	if write {
		s.sql("UPDATE ", v.table(), " SET ")
		for i, x := range sets {
			if i > 0 {
				s.sql(", ")
			}
			s.sql(x.col, " = ")
			x.val(s)
		}
		if t.spec.Marker != "" {
			if len(sets) > 0 {
				s.sql(", ")
			}
			s.sql(v.col(t.spec.Marker), " = ")
			v.markValue(s)
		}
		s.sql(" WHERE ")
	} else {
		s.sql("SELECT COUNT(DISTINCT ", v.col(t.spec.Key), "), COUNT(*) FROM ", v.table(), " WHERE ")
	}
	v.filters(s, account)
	if err := v.in(s, t.spec.Key, keys); err != nil {
		return 0, 0, err
	}
	// Only rows that would change: re-applying counts nothing.
	s.sql(" AND ")
	t.wouldChange(s, v, sets)
	if !write {
		if err := q.QueryRowContext(ctx, s.String(), s.args...).Scan(&records, &rows); err != nil {
			return 0, 0, fmt.Errorf("sqltarget %s: count: %w", t.spec.Kind, sqldb.Classify(err))
		}
		return records, rows, nil
	}
	res, err := q.ExecContext(ctx, s.String(), s.args...)
	if err != nil {
		return 0, 0, fmt.Errorf("sqltarget %s: anonymize: %w", t.spec.Kind, sqldb.Classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, 0, sqldb.Classify(err)
	}
	if !v.f.unique {
		// A group's rows changed together; count records, not rows.
		return min(n, int64(len(keys))), n, nil
	}
	return n, n, nil
}

// wouldChange writes the predicate "a setter or the marker would change
// this row" (FALSE when there is neither).
func (t *Target) wouldChange(s *stmt, v view, sets []setter) {
	if len(sets) == 0 && t.spec.Marker == "" {
		s.sql("1 = 0")
		return
	}
	s.sql("(")
	first := true
	or := func() {
		if !first {
			s.sql(" OR ")
		}
		first = false
	}
	for _, x := range sets {
		or()
		if !x.cmp {
			s.sql("1 = 1")
			continue
		}
		s.sql("NOT (")
		v.notDistinct(s, x.col, func() { x.val(s) })
		s.sql(")")
	}
	if t.spec.Marker != "" {
		or()
		v.unmarked(s)
	}
	s.sql(")")
}

// anonymizeRows reads the batch's rows, computes the Go-side values, and
// updates each row that changes.
func (t *Target) anonymizeRows(ctx context.Context, q execer, v view, account gdprkit.AccountID, keys []string, a erasure.Anon, sets []setter, write bool) (int64, int64, error) {
	cols := t.editColumns()
	s := v.stmt()
	s.sql("SELECT ", v.col(t.spec.Key))
	for _, c := range cols {
		s.sql(", ", v.col(c))
	}
	// Whether the SQL-side setters (a column set NULL beside a redacted
	// one) or the marker would change the row, even when no Go-side value
	// does.
	s.sql(", CASE WHEN ")
	t.wouldChange(s, v, sets)
	s.sql(" THEN 1 ELSE 0 END")
	s.sql(" FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	if err := v.in(s, t.spec.Key, keys); err != nil {
		return 0, 0, err
	}
	if write && v.d != sqldb.SQLite {
		s.sql(" FOR UPDATE")
	}
	rows, err := q.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return 0, 0, fmt.Errorf("sqltarget %s: read for anonymising: %w", t.spec.Kind, sqldb.Classify(err))
	}
	type change struct {
		id   string
		vals []any
		old  []any
	}
	var todo []change
	for rows.Next() {
		id, vals, err := scanRow(rows, len(cols)+1)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		flag, _ := text(vals[len(cols)])
		vals = vals[:len(cols)]
		next, changed, err := t.edit(v, cols, vals, a)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		if changed || flag == "1" {
			todo = append(todo, change{id, next, vals})
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, 0, sqldb.Classify(err)
	}
	records := int64(len(todo))
	if !v.f.unique {
		// A record is the group of rows sharing the key: count groups.
		keys := map[string]bool{}
		for _, c := range todo {
			keys[c.id] = true
		}
		records = int64(len(keys))
	}
	if !write {
		return records, int64(len(todo)), nil
	}
	for _, c := range todo {
		u := v.stmt()
		u.sql("UPDATE ", v.table(), " SET ")
		n := 0
		for i, col := range cols {
			if c.vals[i] == nil {
				continue
			}
			if n > 0 {
				u.sql(", ")
			}
			n++
			u.sql(v.col(col), " = ").arg(c.vals[i])
		}
		for _, x := range sets {
			if n > 0 {
				u.sql(", ")
			}
			n++
			u.sql(x.col, " = ")
			x.val(u)
		}
		if t.spec.Marker != "" {
			if n > 0 {
				u.sql(", ")
			}
			n++
			u.sql(v.col(t.spec.Marker), " = ")
			v.markValue(u)
		}
		if n == 0 {
			continue
		}
		u.sql(" WHERE ")
		v.filters(u, account)
		x, err := v.val(t.spec.Key, c.id)
		if err != nil {
			return 0, 0, err
		}
		u.sql(v.col(t.spec.Key), " = ").arg(x)
		if !v.f.unique {
			// Rows of a group share the key: the row is the one whose
			// edited columns still hold what was read.
			for i, col := range cols {
				if c.vals[i] == nil {
					continue
				}
				old, _ := text(c.old[i])
				u.sql(" AND ")
				v.notDistinct(u, v.col(col), func() { u.arg(old) })
			}
		}
		if _, err := q.ExecContext(ctx, u.String(), u.args...); err != nil {
			return 0, 0, fmt.Errorf("sqltarget %s: anonymize: %w", t.spec.Kind, sqldb.Classify(err))
		}
	}
	return records, int64(len(todo)), nil
}
