package sqltarget

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

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
			EraseAccount: t.spec.AccountColumn != "", Predict: true, Check: true, Locate: t.spec.TimeColumn != "",
			Count: t.b.countable(t.spec.Kind)}}
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
	if err := t.notGone(s, t.spec.Table, account, gone, t.spec.Key, keys); err != nil {
		return 0, 0, err
	}
	if err := q.QueryRowContext(ctx, s.String(), s.args...).Scan(&groups, &rows); err != nil {
		return 0, 0, fmt.Errorf("sqltarget %s: count: %w", t.spec.Kind, sqldb.Classify(err))
	}
	return groups, rows, nil
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
		// Refs come from Find a moment ago: when the key is unique and no
		// earlier step of a dry run took any of them, every ref is one
		// row, and counting them again would only cost a round trip per
		// batch.
		groups, rows := int64(len(keys)), int64(len(keys))
		if !v.f.unique || t.mayBeGone(keys, a.Gone) {
			groups, rows, err = t.countRows(ctx, q, v, account, keys, a.Gone)
			if err != nil {
				return erasure.Change{}, err
			}
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
