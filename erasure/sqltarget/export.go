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

// Reading a subject's rows: identifiers for the verify pass, the access
// export, and the residue search.

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

// Residue implements erasure.Target (Caps.Residue): rows of the table, in
// the account, whose text or JSON columns (but Spec.NoResidue and the
// account column) still hold one of the identifiers. It reads the table
// once, whatever the number of columns and identifiers: one statement
// whose condition ORs every column's LIKE tests, the column that matched
// told apart in Go (a finding per row and column, word boundaries
// checked), so a verify pass costs one scan per table.
func (t *Target) Residue(ctx context.Context, account gdprkit.AccountID, rq erasure.ResidueQuery) ([]erasure.Finding, error) {
	v, err := t.view()
	if err != nil {
		return nil, err
	}
	ns := needles(rq.Identifiers)
	cols := v.f.residue
	if len(ns) == 0 || len(cols) == 0 || rq.Limit <= 0 {
		return nil, nil
	}
	lows := make([]string, len(ns))
	for i, n := range ns {
		lows[i] = strings.ToLower(n.Value)
	}
	s := v.stmt()
	s.sql("SELECT ", v.col(t.spec.Key))
	for _, col := range cols {
		s.sql(", ", v.col(col))
	}
	s.sql(" FROM ", v.table(), " WHERE ")
	if t.spec.AccountColumn != "" {
		s.sql(v.col(t.spec.AccountColumn), " = ").arg(v.accountVal(account)).sql(" AND ")
	}
	s.sql("(")
	for j, col := range cols {
		for i, n := range ns {
			if i > 0 || j > 0 {
				s.sql(" OR ")
			}
			v.like(s, v.textOf(col), likeArg(n.Value))
		}
	}
	s.sql(") LIMIT ").arg(rq.Limit)
	rows, err := t.b.run.q().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: residue: %w", t.spec.Kind, sqldb.Classify(err))
	}
	defer rows.Close()
	var out []erasure.Finding
	vals := make([]sql.NullString, len(cols)+1)
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() && len(out) < rq.Limit {
		if err := rows.Scan(dest...); err != nil {
			return nil, sqldb.Classify(err)
		}
		for j, col := range cols {
			low := strings.ToLower(vals[j+1].String)
			for i, n := range ns {
				if containsWord(low, lows[i]) {
					out = append(out, erasure.Finding{Kind: t.spec.Kind, Record: vals[0].String, Field: col, Identifier: n.Kind})
					break
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, sqldb.Classify(err)
	}
	if len(out) > rq.Limit {
		out = out[:rq.Limit]
	}
	return out, nil
}
