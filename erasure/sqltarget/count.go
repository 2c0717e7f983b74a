package sqltarget

import (
	"context"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Counting (erasure.Caps.Count): a spec counts its subject's records with
// one statement when its parent chain up to the root is made of plain
// specs of the same binding (no Mentions, which are matched in Go): the
// child's parent column IN (the parent's keys for the subject), nested up
// to the root's subject column. The predicates are Find's, filters,
// FindWhere and markers included.

// countable reports whether kind k of the binding can be counted with
// nested subqueries.
func (b *Binding) countable(k erasure.Kind) bool {
	for depth := 0; depth < 64; depth++ {
		t := b.target(k)
		if t == nil || len(t.spec.Mentions) > 0 {
			return false
		}
		if t.spec.Parent == "" {
			return true
		}
		k = t.spec.Parent
	}
	return false
}

func (b *Binding) target(k erasure.Kind) *Target {
	for _, t := range b.targets {
		if t.spec.Kind == k {
			return t
		}
	}
	return nil
}

// reach writes "SELECT <col> FROM <table> WHERE <Find's predicate for the
// subject>" for t, nesting its parents' keys for a child.
func (t *Target) reach(s *stmt, col string, account gdprkit.AccountID, q erasure.Query) error {
	v, err := t.view()
	if err != nil {
		return err
	}
	s.sql("SELECT ", v.col(col), " FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	if t.spec.Parent == "" {
		subject := q.Subject
		if t.spec.SubjectKey != "" {
			subject = q.Keys[t.spec.SubjectKey]
		}
		x, err := v.val(t.spec.SubjectColumn, string(subject))
		if err != nil || subject == "" {
			s.sql("1 = 0") // a subject that cannot be in this column has no rows here
			return nil
		}
		s.sql(v.col(t.spec.SubjectColumn), " = ").arg(x)
		for _, c := range t.spec.FindWhere {
			s.sql(" AND ")
			v.cond(s, c)
		}
	} else {
		p := t.b.target(t.spec.Parent)
		if p == nil {
			return fmt.Errorf("%w: sqltarget %s: parent %s is not in the binding", erasure.ErrUnsupported, t.spec.Kind, t.spec.Parent)
		}
		s.sql(v.col(t.spec.ParentColumn), " IN (")
		if err := p.reach(s, p.spec.Key, account, q); err != nil {
			return err
		}
		s.sql(")")
	}
	if t.spec.Marker != "" {
		s.sql(" AND ")
		v.unmarked(s)
	}
	return nil
}

// Count implements erasure.Target (Caps.Count): one COUNT over Find's
// predicate, joined up the parent chain.
func (t *Target) Count(ctx context.Context, account gdprkit.AccountID, q erasure.Query, without []erasure.Kind) (int64, error) {
	if !t.b.countable(t.spec.Kind) {
		return 0, erasure.ErrUnsupported
	}
	v, err := t.view()
	if err != nil {
		return 0, err
	}
	key := v.col(t.spec.Key)
	s := v.stmt()
	s.sql("SELECT COUNT(DISTINCT ", key, ") FROM (")
	if err := t.reach(s, t.spec.Key, account, q); err != nil {
		return 0, err
	}
	s.sql(") ", t.b.d.Quote("counted"))
	for i, k := range without {
		o := t.b.target(k)
		if o == nil || !t.b.countable(k) || !strings.EqualFold(o.spec.Table, t.spec.Table) || !strings.EqualFold(o.spec.Key, t.spec.Key) {
			return 0, erasure.ErrUnsupported
		}
		if i == 0 {
			s.sql(" WHERE ")
		} else {
			s.sql(" AND ")
		}
		s.sql(key, " NOT IN (")
		if err := o.reach(s, o.spec.Key, account, q); err != nil {
			return 0, err
		}
		s.sql(")")
	}
	return t.b.scalar(ctx, s, t.spec.Kind)
}

func (b *Binding) scalar(ctx context.Context, s *stmt, k erasure.Kind) (int64, error) {
	var n int64
	if err := b.run.q().QueryRowContext(ctx, s.String(), s.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqltarget %s: count: %w", k, sqldb.Classify(err))
	}
	return n, nil
}

// Count implements erasure.Target (Caps.Count) for a simple blob index
// under a countable parent: the distinct file keys its rows name under
// the subject's parent records. It counts index entries, not files on
// disk: a file already missing is counted.
func (t *blobTarget) Count(ctx context.Context, account gdprkit.AccountID, q erasure.Query, without []erasure.Kind) (int64, error) {
	x := blobIndex{t}
	p := t.b.target(t.spec.Parent)
	if !x.simple() || p == nil || !t.b.countable(t.spec.Parent) || len(without) > 0 {
		return 0, erasure.ErrUnsupported
	}
	v, err := x.view()
	if err != nil {
		return 0, err
	}
	key := v.col(t.spec.KeyColumn)
	s := v.stmt()
	s.sql("SELECT COUNT(DISTINCT ", key, ") FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	s.sql(key, " IS NOT NULL AND ", v.col(t.spec.ParentColumn), " IN (")
	if err := p.reach(s, p.spec.Key, account, q); err != nil {
		return 0, err
	}
	s.sql(")")
	return t.b.scalar(ctx, s, t.spec.Kind)
}
