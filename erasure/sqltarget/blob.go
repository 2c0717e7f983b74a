package sqltarget

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// blobTarget is the erasure.BlobTarget over a BlobSpec: the table is its
// index, the spec's Store holds the files.
type blobTarget struct {
	b    *Binding
	spec BlobSpec
}

var _ erasure.Target = (*blobTarget)(nil)

func (t *blobTarget) target() erasure.Target {
	return erasure.BlobTarget(t.spec.Kind, t.spec.Parent, blobIndex{t}, t.spec.Store)
}

func (t *blobTarget) Info() erasure.TargetInfo {
	info := t.target().Info()
	info.Provided = t.spec.Provided
	info.Caps.Count = blobIndex{t}.simple() && t.b.target(t.spec.Parent) != nil && t.b.countable(t.spec.Parent)
	if len(t.spec.Categories) > 0 {
		info.Categories = append([]string(nil), t.spec.Categories...)
	}
	return info
}

func (t *blobTarget) Find(ctx context.Context, a gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	return t.target().Find(ctx, a, q)
}

func (t *blobTarget) Delete(ctx context.Context, a gdprkit.AccountID, s gdprkit.SubjectID, refs []erasure.Ref) (erasure.Change, error) {
	return t.target().Delete(ctx, a, s, refs)
}

func (t *blobTarget) Anonymize(ctx context.Context, a gdprkit.AccountID, refs []erasure.Ref, an erasure.Anon) (erasure.Change, error) {
	return t.target().Anonymize(ctx, a, refs, an)
}

func (t *blobTarget) Export(ctx context.Context, a gdprkit.AccountID, s gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
	return t.target().Export(ctx, a, s, refs)
}

func (t *blobTarget) ParentsOf(ctx context.Context, a gdprkit.AccountID, keys []string) (map[string]string, error) {
	return t.target().ParentsOf(ctx, a, keys)
}

func (t *blobTarget) Identifiers(ctx context.Context, a gdprkit.AccountID, refs []erasure.Ref) ([]erasure.Identifier, error) {
	return t.target().Identifiers(ctx, a, refs)
}

func (t *blobTarget) EraseAccount(ctx context.Context, a gdprkit.AccountID) (erasure.Change, error) {
	return t.target().EraseAccount(ctx, a)
}

func (t *blobTarget) Predict(ctx context.Context, a gdprkit.AccountID, refs []erasure.Ref, act erasure.Action, an erasure.Anon) (erasure.Change, error) {
	return t.target().Predict(ctx, a, refs, act, an)
}

func (t *blobTarget) Residue(ctx context.Context, a gdprkit.AccountID, q erasure.ResidueQuery) ([]erasure.Finding, error) {
	return t.target().Residue(ctx, a, q)
}

func (t *blobTarget) Check(ctx context.Context, c erasure.CheckRequest) error {
	return t.target().Check(ctx, c)
}

func (t *blobTarget) Locate(ctx context.Context, a gdprkit.AccountID, q erasure.LocateQuery) ([]erasure.Ref, error) {
	return t.target().Locate(ctx, a, q)
}

// blobIndex is an erasure.BlobIndex over the spec's table.
type blobIndex struct{ t *blobTarget }

func (x blobIndex) view() (view, error) {
	f := x.t.b.state().facts[x.t.spec.Kind]
	if f == nil {
		return view{}, fmt.Errorf("%w: sqltarget %s: not bound", gdprkit.ErrInvalid, x.t.spec.Kind)
	}
	s := &Spec{Kind: x.t.spec.Kind, Table: x.t.spec.Table, Key: x.t.spec.KeyColumn, ParentColumn: x.t.spec.ParentColumn,
		AccountColumn: x.t.spec.AccountColumn, Where: x.t.spec.Where}
	return view{d: x.t.b.d, spec: s, f: f, kind: string(x.t.spec.Kind)}, nil
}

// simple reports whether the spec's keys are one column's values, with no
// folders or variants to expand.
func (x blobIndex) simple() bool {
	return x.t.spec.Keys == nil && !x.t.spec.Prefix && x.t.spec.Variants == nil
}

// BlobKeys implements erasure.BlobIndex: the file keys of the parent
// records (of every row of the account when parents is nil), in key
// order. Computed keys, folders and variants are expanded in Go.
func (x blobIndex) BlobKeys(ctx context.Context, account gdprkit.AccountID, parents []string, after string, limit int) ([]string, error) {
	v, err := x.view()
	if err != nil {
		return nil, err
	}
	if parents != nil && len(parents) == 0 {
		return nil, nil
	}
	if !x.simple() {
		byParent, err := x.expand(ctx, v, account, parents)
		if err != nil {
			return nil, err
		}
		var all []string
		for _, ks := range byParent {
			all = append(all, ks...)
		}
		sort.Strings(all)
		var out []string
		for i, k := range all {
			if k > after && (i == 0 || all[i-1] != k) && len(out) < limit {
				out = append(out, k)
			}
		}
		return out, nil
	}
	key := v.col(x.t.spec.KeyColumn)
	s := v.stmt()
	s.sql("SELECT DISTINCT ", key, " FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	if parents == nil {
		s.sql(key, " IS NOT NULL")
	} else if err := v.in(s, x.t.spec.ParentColumn, parents); err != nil {
		return nil, err
	}
	if after != "" {
		s.sql(" AND ", key, " > ").arg(after)
	}
	s.sql(" ORDER BY ", key, " LIMIT ").arg(limit)
	rows, err := x.t.b.run.q().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: blob keys: %w", x.t.spec.Kind, sqldb.Classify(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k sql.NullString
		if err := rows.Scan(&k); err != nil {
			return nil, sqldb.Classify(err)
		}
		if k.Valid && k.String != "" {
			out = append(out, k.String)
		}
	}
	return out, sqldb.Classify(rows.Err())
}

// expand reads the parents' rows and returns, by parent, every file key:
// computed from the row, with variants, and folders listed in the store.
func (x blobIndex) expand(ctx context.Context, v view, account gdprkit.AccountID, parents []string) (map[string][]string, error) {
	spec := x.t.spec
	cols := spec.Columns
	if spec.Keys == nil {
		cols = []string{spec.KeyColumn}
	}
	s := v.stmt()
	s.sql("SELECT ", v.col(spec.ParentColumn))
	for _, c := range cols {
		s.sql(", ", v.col(c))
	}
	s.sql(" FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	if parents == nil {
		s.sql("1 = 1")
	} else if err := v.in(s, spec.ParentColumn, parents); err != nil {
		return nil, err
	}
	rows, err := x.t.b.run.q().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: blob keys: %w", spec.Kind, sqldb.Classify(err))
	}
	type found struct {
		parent string
		keys   []string
	}
	var list []found
	for rows.Next() {
		parent, vals, err := scanRow(rows, len(cols))
		if err != nil {
			rows.Close()
			return nil, err
		}
		var keys []string
		if spec.Keys != nil {
			keys = spec.Keys(vals)
		} else if k, ok := text(vals[0]); ok && k != "" {
			keys = []string{k}
		}
		list = append(list, found{parent, keys})
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	out := map[string][]string{}
	for _, f := range list {
		keys := f.keys
		if spec.Variants != nil {
			for _, k := range f.keys {
				keys = append(keys, spec.Variants(k)...)
			}
		}
		for _, k := range keys {
			if spec.Prefix && !strings.HasSuffix(k, "/") {
				k += "/" // a folder: never "…/1" matching "…/10/"
			}
			if !strings.HasSuffix(k, "/") {
				out[f.parent] = append(out[f.parent], k)
				continue
			}
			err := spec.Store.Walk(ctx, account, k, func(key string, _ int64) error {
				out[f.parent] = append(out[f.parent], key)
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("sqltarget %s: list %s: %w", spec.Kind, k, err)
			}
		}
	}
	return out, nil
}

// BlobParents implements erasure.BlobIndex: one SELECT of the key and
// parent columns for the batch.
func (x blobIndex) BlobParents(ctx context.Context, account gdprkit.AccountID, keys []string) (map[string]string, error) {
	out := map[string]string{}
	if len(keys) == 0 {
		return out, nil
	}
	if !x.simple() {
		return nil, erasure.ErrUnsupported // a computed key cannot be looked up
	}
	v, err := x.view()
	if err != nil {
		return nil, err
	}
	s := v.stmt()
	s.sql("SELECT ", v.col(x.t.spec.KeyColumn), ", ", v.col(x.t.spec.ParentColumn), " FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	if err := v.in(s, x.t.spec.KeyColumn, keys); err != nil {
		return nil, err
	}
	rows, err := x.t.b.run.q().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: blob parents: %w", x.t.spec.Kind, sqldb.Classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var k, p sql.NullString
		if err := rows.Scan(&k, &p); err != nil {
			return nil, sqldb.Classify(err)
		}
		if k.Valid && p.Valid {
			out[k.String] = p.String
		}
	}
	return out, sqldb.Classify(rows.Err())
}
