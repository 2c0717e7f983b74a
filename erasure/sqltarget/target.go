package sqltarget

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Target is one bound table. It implements erasure.Target.
type Target struct {
	erasure.Base
	b    *Binding
	spec Spec
}

var _ erasure.Target = (*Target)(nil)

func (t *Target) view() (view, error) {
	f := t.b.state().facts[t.spec.Kind]
	if f == nil {
		return view{}, fmt.Errorf("%w: sqltarget %s: not bound", gdprkit.ErrInvalid, t.spec.Kind)
	}
	return view{d: t.b.d, spec: &t.spec, f: f, kind: string(t.spec.Kind)}, nil
}

// Info implements erasure.Target.
func (t *Target) Info() erasure.TargetInfo {
	st := t.b.state()
	f := st.facts[t.spec.Kind]
	desc := t.spec.Description
	if desc == "" {
		desc = "rows of table " + t.spec.Table
	}
	info := erasure.TargetInfo{Kind: t.spec.Kind, Parent: t.spec.Parent, Actions: actionsOf(t.spec), Description: desc,
		After: append([]erasure.Kind(nil), t.spec.After...), Classes: t.spec.Classes, NoExport: t.spec.NoExportKind,
		Categories: t.spec.Categories, Provided: t.spec.Provided,
		Caps: erasure.Caps{Parents: t.spec.ParentColumn != "", Identifiers: len(t.spec.Identifiers) > 0 || len(t.spec.NameColumns) > 0,
			EraseAccount: t.spec.AccountColumn != "", Predict: true, Check: true, Locate: t.spec.TimeColumn != ""}}
	info.Default = t.spec.Default
	if info.Default.Action == "" {
		info.Default = erasure.Rule{Action: defaultAction(t.spec)}
	}
	if f != nil {
		info.Records = f.records
		info.After = append(info.After, f.after...)
		info.Caps.Residue = t.searchesResidue(st)
	}
	return info
}

// searchesResidue: one target per table searches it (the first spec on
// it), so a finding is reported once.
func (t *Target) searchesResidue(st *state) bool {
	f := st.facts[t.spec.Kind]
	if f == nil || len(f.residue) == 0 {
		return false
	}
	if t.spec.AccountColumn == "" {
		// Without a tenant column a search would read every account's
		// rows: only a single-tenant binding (no spec has one) searches.
		for _, s := range t.b.cfg.Specs {
			if s.AccountColumn != "" {
				return false
			}
		}
	}
	for _, s := range t.b.cfg.Specs {
		if g := st.facts[s.Kind]; g != nil && strings.EqualFold(g.table.Name, f.table.Name) {
			return s.Kind == t.spec.Kind
		}
	}
	return false
}

// Check implements erasure.Target: the binding is checked again against
// the live schema, with the request's rules.
func (t *Target) Check(ctx context.Context, c erasure.CheckRequest) error { return t.b.check(ctx, c) }

// Find implements erasure.Target. Roots come in key order, children in
// (parent, key) order — the order of an index on (tenant, parent, key) —
// with a Ref.Cursor holding both.
func (t *Target) Find(ctx context.Context, account gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	v, err := t.view()
	if err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		return nil, nil
	}
	if len(t.spec.Mentions) > 0 && !q.All {
		return t.findMentions(ctx, v, account, q)
	}
	child := t.spec.Parent != "" && !q.All && !strings.EqualFold(t.spec.ParentColumn, t.spec.Key)
	s := v.stmt()
	distinct := ""
	if !v.f.unique {
		distinct = "DISTINCT "
	}
	key := v.col(t.spec.Key)
	if child {
		s.sql("SELECT ", distinct, key, ", ", v.col(t.spec.ParentColumn), " FROM ", v.table(), " WHERE ")
	} else {
		s.sql("SELECT ", distinct, key, " FROM ", v.table(), " WHERE ")
	}
	v.filters(s, account)
	switch {
	case q.All:
		s.sql("1 = 1")
	case t.spec.Parent == "":
		subject := q.Subject
		if t.spec.SubjectKey != "" {
			subject = q.Keys[t.spec.SubjectKey]
		}
		x, err := v.val(t.spec.SubjectColumn, string(subject))
		if err != nil || subject == "" {
			return nil, nil // a subject that cannot be in this column has no rows here
		}
		s.sql(v.col(t.spec.SubjectColumn), " = ").arg(x)
		for _, c := range t.spec.FindWhere {
			s.sql(" AND ")
			v.cond(s, c)
		}
	default:
		if len(q.Parents) == 0 {
			return nil, nil
		}
		if err := v.in(s, t.spec.ParentColumn, q.Parents); err != nil {
			return nil, err
		}
	}
	if t.spec.Marker != "" && !q.All {
		s.sql(" AND ")
		v.unmarked(s)
	}
	switch {
	case q.After == "":
	case child:
		var cur [2]string
		if err := json.Unmarshal([]byte(q.After), &cur); err != nil {
			return nil, fmt.Errorf("%w: sqltarget %s: bad cursor", gdprkit.ErrInvalid, t.spec.Kind)
		}
		pv, err := v.val(t.spec.ParentColumn, cur[0])
		if err != nil {
			return nil, err
		}
		kv, err := v.val(t.spec.Key, cur[1])
		if err != nil {
			return nil, err
		}
		pc := v.col(t.spec.ParentColumn)
		s.sql(" AND (", pc, " > ").arg(pv).sql(" OR (", pc, " = ").arg(pv).sql(" AND ", key, " > ").arg(kv).sql("))")
	default:
		x, err := v.val(t.spec.Key, q.After)
		if err != nil {
			return nil, err
		}
		s.sql(" AND ", key, " > ").arg(x)
	}
	if child {
		s.sql(" ORDER BY ", v.col(t.spec.ParentColumn), ", ", key)
	} else {
		s.sql(" ORDER BY ", key)
	}
	s.sql(" LIMIT ").arg(q.Limit)
	rows, err := t.b.run.q().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: find: %w", t.spec.Kind, sqldb.Classify(err))
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
			return nil, sqldb.Classify(err)
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
	return out, sqldb.Classify(rows.Err())
}

// findMentions finds the rows whose mention columns name the subject:
// candidates by a text search, kept only when anonymising them would
// change something.
func (t *Target) findMentions(ctx context.Context, v view, account gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	ns := needles(q.Identifiers)
	key := string(q.Subject)
	var out []erasure.Ref
	after := q.After
	for len(out) < q.Limit {
		s := v.stmt()
		s.sql("SELECT ", v.col(t.spec.Key))
		cols := t.editColumns()
		for _, c := range cols {
			s.sql(", ", v.col(c))
		}
		s.sql(" FROM ", v.table(), " WHERE ")
		v.filters(s, account)
		s.sql("(")
		any := false
		for _, m := range t.spec.Mentions {
			if v.d == sqldb.Postgres && v.f.kinds[v.colName(m)] == sqldb.KindArray {
				if key == "" {
					continue
				}
				x, err := v.elemVal(m, key)
				if err != nil {
					continue
				}
				if any {
					s.sql(" OR ")
				}
				any = true
				s.arg(x).sql(" = ANY(", v.col(m), ")")
				continue
			}
			terms := ns
			if v.f.kinds[v.colName(m)] == sqldb.KindArray || v.f.kinds[v.colName(m)] == sqldb.KindJSON {
				if key != "" {
					terms = append(terms[:len(terms):len(terms)], erasure.Identifier{Kind: "key", Value: key})
				}
			}
			for _, n := range terms {
				if any {
					s.sql(" OR ")
				}
				any = true
				v.like(s, v.textOf(m), likeArg(n.Value))
			}
		}
		if !any {
			return nil, nil
		}
		s.sql(")")
		if after != "" {
			x, err := v.val(t.spec.Key, after)
			if err != nil {
				return nil, err
			}
			s.sql(" AND ", v.col(t.spec.Key), " > ").arg(x)
		}
		if t.spec.Marker != "" {
			s.sql(" AND ")
			v.unmarked(s)
		}
		page := q.Limit * 2
		s.sql(" ORDER BY ", v.col(t.spec.Key), " LIMIT ").arg(page)
		rows, err := t.b.run.q().QueryContext(ctx, s.String(), s.args...)
		if err != nil {
			return nil, fmt.Errorf("sqltarget %s: find: %w", t.spec.Kind, sqldb.Classify(err))
		}
		n := 0
		var last string
		for rows.Next() {
			n++
			id, vals, err := scanRow(rows, len(cols))
			if err != nil {
				rows.Close()
				return nil, err
			}
			last = id
			if len(out) < q.Limit {
				if _, changed, err := t.edit(v, cols, vals, erasure.Anon{Subject: q.Subject, Identifiers: q.Identifiers}); err == nil && changed {
					out = append(out, erasure.Ref{ID: id})
				}
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, sqldb.Classify(err)
		}
		if n < page || len(out) >= q.Limit {
			break
		}
		after = last
	}
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

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

func scanRow(rows *sql.Rows, n int) (string, []any, error) {
	var id sql.NullString
	vals := make([]any, n)
	dest := []any{&id}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	if err := rows.Scan(dest...); err != nil {
		return "", nil, sqldb.Classify(err)
	}
	return id.String, vals, nil
}

// text returns a scanned value as text (nil for NULL).
func text(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case []byte:
		return string(x), true
	case string:
		return x, true
	default:
		return fmt.Sprint(x), true
	}
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

// ids returns the refs' IDs.
func ids(refs []erasure.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}

// Delete implements erasure.Target: in one transaction, it checks that no
// row a target should have handled first still references the batch,
// counts what the database will cascade, deletes the batch, and checks
// the rows affected and that the cascades happened.
func (t *Target) Delete(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) (erasure.Change, error) {
	if len(refs) == 0 {
		return erasure.Change{}, nil
	}
	v, err := t.view()
	if err != nil {
		return erasure.Change{}, err
	}
	keys := ids(refs)
	var ch erasure.Change
	err = t.b.run.atomic(ctx, func(q execer) error {
		ch = erasure.Change{}
		groups, rows, err := t.countRows(ctx, q, v, account, keys, nil)
		if err != nil {
			return err
		}
		effects, err := t.plan(ctx, q, v, account, keys, true, nil)
		if err != nil {
			return err
		}
		s := v.stmt()
		s.sql("DELETE FROM ", v.table(), " WHERE ")
		v.filters(s, account)
		if err := v.in(s, t.spec.Key, keys); err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, s.String(), s.args...)
		if err != nil {
			return fmt.Errorf("sqltarget %s: delete: %w", t.spec.Kind, sqldb.Classify(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return sqldb.Classify(err)
		}
		if n != rows {
			return fmt.Errorf("%w: %w: sqltarget %s: deleted %d rows of %s where %d matched", erasure.ErrDeviation, gdprkit.ErrConflict, t.spec.Kind, n, v.f.table.Name, rows)
		}
		if err := t.verifyCascades(ctx, q, v, account, keys); err != nil {
			return err
		}
		ch = erasure.Change{Records: groups, Rows: n, Effects: effects}
		return nil
	})
	return ch, err
}

// countRows counts the records (distinct keys) and rows the batch holds.
func (t *Target) countRows(ctx context.Context, q execer, v view, account gdprkit.AccountID, keys []string, gone map[string]map[string]bool) (groups, rows int64, err error) {
	s := v.stmt()
	s.sql("SELECT COUNT(DISTINCT ", v.col(t.spec.Key), "), COUNT(*) FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	if err := v.in(s, t.spec.Key, keys); err != nil {
		return 0, 0, err
	}
	if err := t.notGone(s, t.spec.Table, account, gone); err != nil {
		return 0, 0, err
	}
	if err := q.QueryRowContext(ctx, s.String(), s.args...).Scan(&groups, &rows); err != nil {
		return 0, 0, fmt.Errorf("sqltarget %s: count: %w", t.spec.Kind, sqldb.Classify(err))
	}
	return groups, rows, nil
}

// refSource writes the subquery of the referenced key values: the batch's
// rows of this table, or, nested, the rows a cascade reaches.
type refSource func(s *stmt, cols []string) error

// plan walks the foreign keys into the table for a delete of keys: rows
// handled by other targets must be gone already (strict), and rows the
// database cascades are counted as effects.
func (t *Target) plan(ctx context.Context, q execer, v view, account gdprkit.AccountID, keys []string, strict bool, gone map[string]map[string]bool) ([]erasure.Effect, error) {
	src := func(s *stmt, cols []string) error {
		s.sql("SELECT ")
		for i, c := range cols {
			if i > 0 {
				s.sql(", ")
			}
			s.sql(t.b.d.Quote(c))
		}
		s.sql(" FROM ", v.table(), " WHERE ")
		v.filters(s, account)
		return v.in(s, t.spec.Key, keys)
	}
	var out []erasure.Effect
	err := t.walkRefs(ctx, q, account, v.f.refs, src, strict, gone, &out)
	return out, err
}

func (t *Target) walkRefs(ctx context.Context, q execer, account gdprkit.AccountID, refs []ref, src refSource, strict bool, gone map[string]map[string]bool, out *[]erasure.Effect) error {
	for _, r := range refs {
		n, err := t.countRefs(ctx, q, account, r.fk, src, gone)
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		cols := strings.Join(r.fk.Columns, ",")
		if r.handled {
			if strict {
				return fmt.Errorf("%w: sqltarget %s: %d rows of %s (%s) still reference these %s rows, though %s should have handled them first; nothing was deleted",
					gdprkit.ErrConflict, t.spec.Kind, n, r.fk.Table, cols, r.fk.RefTable, kindsString(r.by))
			}
			continue
		}
		switch r.fk.OnDelete {
		case sqldb.Cascade:
			*out = append(*out, erasure.Effect{Table: r.fk.Table, Action: erasure.EffectDeleted, Rows: n})
			fk := r.fk
			nested := func(s *stmt, cols []string) error {
				s.sql("SELECT ")
				for i, c := range cols {
					if i > 0 {
						s.sql(", ")
					}
					s.sql(t.b.d.Quote(c))
				}
				s.sql(" FROM ", t.b.d.Quote(fk.Table), " WHERE ")
				return t.refWhere(s, fk, src)
			}
			if err := t.walkRefs(ctx, q, account, r.nested, nested, strict, gone, out); err != nil {
				return err
			}
		default:
			*out = append(*out, erasure.Effect{Table: r.fk.Table, Column: cols, Action: erasure.EffectNulled, Rows: n})
		}
	}
	return nil
}

func kindsString(ks []erasure.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// refWhere writes "(fk columns) IN (source of the referenced columns)".
func (t *Target) refWhere(s *stmt, fk sqldb.ForeignKey, src refSource) error {
	if len(fk.Columns) == 1 {
		s.sql(t.b.d.Quote(fk.Columns[0]), " IN (")
	} else {
		s.sql("(")
		for i, c := range fk.Columns {
			if i > 0 {
				s.sql(", ")
			}
			s.sql(t.b.d.Quote(c))
		}
		s.sql(") IN (")
	}
	if err := src(s, fk.RefColumns); err != nil {
		return err
	}
	s.sql(")")
	return nil
}

// countRefs counts the rows of fk's table that reference the source rows,
// leaving out those gone says an earlier step of a dry run deletes.
func (t *Target) countRefs(ctx context.Context, q execer, account gdprkit.AccountID, fk sqldb.ForeignKey, src refSource, gone map[string]map[string]bool) (int64, error) {
	s := &stmt{d: t.b.d}
	s.sql("SELECT COUNT(*) FROM ", t.b.d.Quote(fk.Table), " WHERE ")
	if err := t.refWhere(s, fk, src); err != nil {
		return 0, err
	}
	if err := t.notGone(s, fk.Table, account, gone); err != nil {
		return 0, err
	}
	var n int64
	if err := q.QueryRowContext(ctx, s.String(), s.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqltarget %s: count references from %s: %w", t.spec.Kind, fk.Table, sqldb.Classify(err))
	}
	return n, nil
}

// notGone adds to s, in a dry run, "AND NOT (...)" for the rows of table
// that an earlier step over the same table would have deleted (gone
// holds their keys by records space), so a prediction does not count
// them twice.
func (t *Target) notGone(s *stmt, table string, account gdprkit.AccountID, gone map[string]map[string]bool) error {
	if len(gone) == 0 {
		return nil
	}
	st := t.b.state()
	for _, o := range t.b.cfg.Specs {
		f := st.facts[o.Kind]
		if f == nil || !strings.EqualFold(f.table.Name, table) || len(gone[f.records]) == 0 {
			continue
		}
		ids := make([]string, 0, len(gone[f.records]))
		for id := range gone[f.records] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		ov := view{d: t.b.d, spec: &o, f: f, kind: string(o.Kind)}
		s.sql(" AND NOT (")
		ov.filters(s, account) // only the rows that step would have taken
		if err := ov.in(s, o.Key, ids); err != nil {
			return err
		}
		s.sql(")")
	}
	return nil
}

// verifyCascades checks, after the delete, that no row references the
// deleted keys any more: the database applied its ON DELETE actions.
func (t *Target) verifyCascades(ctx context.Context, q execer, v view, account gdprkit.AccountID, keys []string) error {
	for _, r := range v.f.refs {
		if r.handled {
			continue
		}
		// The referenced rows are gone, so compare with the keys directly
		// when the foreign key points at the key column.
		if len(r.fk.RefColumns) != 1 || !strings.EqualFold(r.fk.RefColumns[0], v.colName(t.spec.Key)) {
			continue
		}
		s := v.stmt()
		s.sql("SELECT COUNT(*) FROM ", t.b.d.Quote(r.fk.Table), " WHERE ")
		vv := v
		vv.f = &facts{cols: map[string]string{strings.ToLower(r.fk.Columns[0]): r.fk.Columns[0]}, ints: map[string]bool{r.fk.Columns[0]: v.f.ints[v.colName(t.spec.Key)]}}
		if err := vv.in(s, r.fk.Columns[0], keys); err != nil {
			return err
		}
		var n int64
		if err := q.QueryRowContext(ctx, s.String(), s.args...).Scan(&n); err != nil {
			return fmt.Errorf("sqltarget %s: verify %s: %w", t.spec.Kind, r.fk.Table, sqldb.Classify(err))
		}
		if n > 0 {
			return fmt.Errorf("%w: %w: sqltarget %s: the database did not apply ON DELETE %s to %d rows of %s (%s); on SQLite, foreign keys need PRAGMA foreign_keys=ON; nothing was deleted",
				erasure.ErrDeviation, gdprkit.ErrConflict, t.spec.Kind, r.fk.OnDelete, n, r.fk.Table, strings.Join(r.fk.Columns, ","))
		}
	}
	return nil
}

// Predict implements erasure.Target: what Delete or Anonymize would change
// on refs, changing nothing.
func (t *Target) Predict(ctx context.Context, account gdprkit.AccountID, refs []erasure.Ref, action erasure.Action, a erasure.Anon) (erasure.Change, error) {
	v, err := t.view()
	if err != nil {
		return erasure.Change{}, err
	}
	keys := ids(refs)
	q := t.b.run.q()
	switch action {
	case erasure.Delete:
		groups, rows, err := t.countRows(ctx, q, v, account, keys, a.Gone)
		if err != nil {
			return erasure.Change{}, err
		}
		effects, err := t.plan(ctx, q, v, account, keys, false, a.Gone)
		if err != nil {
			return erasure.Change{}, err
		}
		return erasure.Change{Records: groups, Rows: rows, Effects: effects}, nil
	case erasure.Anonymize:
		n, rows, err := t.anonymize(ctx, q, v, account, keys, a, false)
		return erasure.Change{Records: n, Rows: rows}, err
	}
	return erasure.Change{}, nil
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
	s.sql(" AND (")
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

// anonymizeRows reads the batch's rows, computes the Go-side values, and
// updates each row that changes.
func (t *Target) anonymizeRows(ctx context.Context, q execer, v view, account gdprkit.AccountID, keys []string, a erasure.Anon, sets []setter, write bool) (int64, int64, error) {
	cols := t.editColumns()
	s := v.stmt()
	s.sql("SELECT ", v.col(t.spec.Key))
	for _, c := range cols {
		s.sql(", ", v.col(c))
	}
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
		id, vals, err := scanRow(rows, len(cols))
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		next, changed, err := t.edit(v, cols, vals, a)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		if changed {
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
			u.sql(", ", x.col, " = ")
			x.val(u)
		}
		if t.spec.Marker != "" {
			u.sql(", ", v.col(t.spec.Marker), " = ")
			v.markValue(u)
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

// ParentsOf implements erasure.Target (Caps.Parents): one SELECT of the
// key and parent columns for the batch.
func (t *Target) ParentsOf(ctx context.Context, account gdprkit.AccountID, keys []string) (map[string]string, error) {
	out := map[string]string{}
	if t.spec.ParentColumn == "" || len(keys) == 0 {
		return out, nil
	}
	v, err := t.view()
	if err != nil {
		return nil, err
	}
	s := v.stmt()
	s.sql("SELECT ", v.col(t.spec.Key), ", ", v.col(t.spec.ParentColumn), " FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	if err := v.in(s, t.spec.Key, keys); err != nil {
		return nil, err
	}
	rows, err := t.b.run.q().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: parents: %w", t.spec.Kind, sqldb.Classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent sql.NullString
		if err := rows.Scan(&id, &parent); err != nil {
			return nil, sqldb.Classify(err)
		}
		if id.Valid && parent.Valid {
			out[id.String] = parent.String
		}
	}
	return out, sqldb.Classify(rows.Err())
}

// Identifiers implements erasure.Target (Caps.Identifiers): the values of
// the spec's identifier columns in the batch's rows.
func (t *Target) Identifiers(ctx context.Context, account gdprkit.AccountID, refs []erasure.Ref) ([]erasure.Identifier, error) {
	if (len(t.spec.Identifiers) == 0 && len(t.spec.NameColumns) == 0) || len(refs) == 0 {
		return nil, nil
	}
	v, err := t.view()
	if err != nil {
		return nil, err
	}
	kinds := make([]string, 0, len(t.spec.Identifiers))
	for k := range t.spec.Identifiers {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	cols := make([]string, 0, len(kinds)+len(t.spec.NameColumns))
	for _, k := range kinds {
		cols = append(cols, t.spec.Identifiers[k])
	}
	cols = append(cols, t.spec.NameColumns...)
	s := v.stmt()
	s.sql("SELECT ")
	for i, c := range cols {
		if i > 0 {
			s.sql(", ")
		}
		s.sql(v.col(c))
	}
	s.sql(" FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	if err := v.in(s, t.spec.Key, ids(refs)); err != nil {
		return nil, err
	}
	rows, err := t.b.run.q().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: identifiers: %w", t.spec.Kind, sqldb.Classify(err))
	}
	defer rows.Close()
	var out []erasure.Identifier
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, sqldb.Classify(err)
		}
		for i, k := range kinds {
			if vals[i].Valid && strings.TrimSpace(vals[i].String) != "" {
				out = append(out, erasure.Identifier{Kind: k, Value: vals[i].String})
			}
		}
		var name []string
		for _, v := range vals[len(kinds):] {
			if v.Valid && strings.TrimSpace(v.String) != "" {
				name = append(name, strings.TrimSpace(v.String))
			}
		}
		if len(name) > 0 {
			out = append(out, erasure.Identifier{Kind: "name", Value: strings.Join(name, " ")})
		}
	}
	return out, sqldb.Classify(rows.Err())
}

// Export implements erasure.Target: every column but those in
// Spec.NoExport of each row matching Spec.ExportWhere, as a JSON object
// (JSON columns as JSON, arrays as JSON arrays, binary as base64); a
// record that is a group of rows exports as {"key": …, "rows": […]}.
func (t *Target) Export(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	v, err := t.view()
	if err != nil {
		return nil, err
	}
	s := v.stmt()
	s.sql("SELECT * FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	for _, c := range t.spec.ExportWhere {
		v.cond(s, c)
		s.sql(" AND ")
	}
	if err := v.in(s, t.spec.Key, ids(refs)); err != nil {
		return nil, err
	}
	s.sql(" ORDER BY ", v.col(t.spec.Key))
	rows, err := t.b.run.q().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: export: %w", t.spec.Kind, sqldb.Classify(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	keyCol := v.colName(t.spec.Key)
	var out []json.RawMessage
	var groupKey string
	var group []json.RawMessage
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		b, err := json.Marshal(map[string]any{"key": groupKey, "rows": group})
		if err != nil {
			return err
		}
		out, group = append(out, b), nil
		return nil
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, sqldb.Classify(err)
		}
		m := make(map[string]any, len(cols))
		key := ""
		for i, c := range cols {
			if strings.EqualFold(c, keyCol) {
				key, _ = text(vals[i])
			}
			if t.noExport(c) {
				continue
			}
			m[c] = v.exportValue(c, vals[i])
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		if v.f.unique {
			out = append(out, b)
			continue
		}
		if key != groupKey {
			if err := flush(); err != nil {
				return nil, err
			}
			groupKey = key
		}
		group = append(group, b)
	}
	if err := rows.Err(); err != nil {
		return nil, sqldb.Classify(err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// exportValue turns a scanned value into what JSON should show.
func (v view) exportValue(col string, x any) any {
	c := v.f.table.Column(col)
	switch y := x.(type) {
	case []byte:
		if c != nil && c.Kind == sqldb.KindBinary {
			return base64.StdEncoding.EncodeToString(y)
		}
		return v.textValue(c, string(y))
	case string:
		return v.textValue(c, y)
	case time.Time:
		return y.UTC().Format(time.RFC3339Nano)
	case int64:
		if c != nil && c.Kind == sqldb.KindBool {
			return y != 0 // SQLite and MySQL keep booleans as numbers
		}
	}
	return x
}

func (v view) textValue(c *sqldb.Column, s string) any {
	if c == nil {
		return s
	}
	switch c.Kind {
	case sqldb.KindJSON:
		if json.Valid([]byte(s)) {
			return json.RawMessage(s)
		}
	case sqldb.KindArray:
		if v.d == sqldb.Postgres {
			if j, err := pgArrayJSON(s, c.Elem == sqldb.KindInteger || c.Elem == sqldb.KindDecimal); err == nil {
				return j
			}
		}
	}
	return s
}

func (t *Target) noExport(col string) bool {
	for _, c := range t.spec.NoExport {
		if strings.EqualFold(c, col) {
			return true
		}
	}
	return false
}

// EraseAccount implements erasure.Target (Caps.EraseAccount): every row of
// the account (matching Where) goes, with the same checks as Delete.
func (t *Target) EraseAccount(ctx context.Context, account gdprkit.AccountID) (erasure.Change, error) {
	if t.spec.AccountColumn == "" {
		return erasure.Change{}, erasure.ErrUnsupported
	}
	var total erasure.Change
	for {
		refs, err := t.Find(ctx, account, erasure.Query{All: true, Limit: 500})
		if err != nil {
			return total, err
		}
		if len(refs) == 0 {
			return total, nil
		}
		ch, err := t.Delete(ctx, account, "", refs)
		if err != nil {
			return total, err
		}
		total.Records += ch.Records
		total.Rows += ch.Rows
		total.Effects = append(total.Effects, ch.Effects...)
		if ch.Records == 0 {
			return total, nil
		}
	}
}

// Residue implements erasure.Target (Caps.Residue): rows of the table, in
// the account, whose text or JSON columns (but Spec.NoResidue) still hold
// one of the identifiers.
func (t *Target) Residue(ctx context.Context, account gdprkit.AccountID, rq erasure.ResidueQuery) ([]erasure.Finding, error) {
	v, err := t.view()
	if err != nil {
		return nil, err
	}
	ns := needles(rq.Identifiers)
	if len(ns) == 0 || rq.Limit <= 0 {
		return nil, nil
	}
	var out []erasure.Finding
	for _, col := range v.f.residue {
		s := v.stmt()
		s.sql("SELECT ", v.col(t.spec.Key), ", ", v.col(col), " FROM ", v.table(), " WHERE ")
		if t.spec.AccountColumn != "" {
			s.sql(v.col(t.spec.AccountColumn), " = ").arg(v.accountVal(account)).sql(" AND ")
		}
		s.sql("(")
		for i, n := range ns {
			if i > 0 {
				s.sql(" OR ")
			}
			v.like(s, v.textOf(col), likeArg(n.Value))
		}
		s.sql(") LIMIT ").arg(rq.Limit - len(out))
		rows, err := t.b.run.q().QueryContext(ctx, s.String(), s.args...)
		if err != nil {
			return nil, fmt.Errorf("sqltarget %s: residue: %w", t.spec.Kind, sqldb.Classify(err))
		}
		for rows.Next() {
			var id, val sql.NullString
			if err := rows.Scan(&id, &val); err != nil {
				rows.Close()
				return nil, sqldb.Classify(err)
			}
			low := strings.ToLower(val.String)
			for _, n := range ns {
				if containsWord(low, strings.ToLower(n.Value)) {
					out = append(out, erasure.Finding{Kind: t.spec.Kind, Record: id.String, Field: col, Identifier: n.Kind})
					break
				}
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, sqldb.Classify(err)
		}
		if len(out) >= rq.Limit {
			break
		}
	}
	return out, nil
}
