package sqltarget

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Foreign keys into a table being deleted from: which rows reference the
// batch, which must be gone first (rows other kinds handle), which the
// database cascades into (counted as effects), and the check after a
// delete that it did.

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
	if err := t.notGone(s, fk.Table, account, gone, "", nil); err != nil {
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
//
// When the statement already limits table's rows to key IN within (within
// not nil), only the gone keys among within can matter for a step keyed
// by the same column, so only those are sent: a dry run over a large
// subject stays linear instead of sending every earlier batch's keys
// with each statement.
func (t *Target) notGone(s *stmt, table string, account gdprkit.AccountID, gone map[string]map[string]bool, key string, within []string) error {
	if len(gone) == 0 {
		return nil
	}
	st := t.b.state()
	for _, o := range t.b.cfg.Specs {
		f := st.facts[o.Kind]
		if f == nil || !strings.EqualFold(f.table.Name, table) || len(gone[f.records]) == 0 {
			continue
		}
		var ids []string
		if within != nil && strings.EqualFold(o.Key, key) {
			for _, id := range within {
				if gone[f.records][id] {
					ids = append(ids, id)
				}
			}
			if len(ids) == 0 {
				continue
			}
		} else {
			ids = make([]string, 0, len(gone[f.records]))
			for id := range gone[f.records] {
				ids = append(ids, id)
			}
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

// mayBeGone reports whether gone (a dry run's deleted keys by records
// space) may hold a row of this target's table among keys: some spec over
// the same table has gone keys and either one of keys is among them or
// its key column differs (then nobody can tell without asking).
func (t *Target) mayBeGone(keys []string, gone map[string]map[string]bool) bool {
	if len(gone) == 0 {
		return false
	}
	st := t.b.state()
	for _, o := range t.b.cfg.Specs {
		f := st.facts[o.Kind]
		if f == nil || !strings.EqualFold(f.table.Name, t.spec.Table) || len(gone[f.records]) == 0 {
			continue
		}
		if !strings.EqualFold(o.Key, t.spec.Key) {
			return true
		}
		for _, k := range keys {
			if gone[f.records][k] {
				return true
			}
		}
	}
	return false
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
