package sqltarget

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
)

// stmt builds one statement with '?' placeholders, rebound for the
// dialect when it is run.
type stmt struct {
	d    sqldb.Dialect
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
	s.b.WriteString("?")
	return s
}

func (s *stmt) String() string { return s.d.Rebind(s.b.String()) }

// view is one target's statements over its table: the spec resolved
// against the schema.
type view struct {
	d    sqldb.Dialect
	spec *Spec
	f    *facts
	kind string // for error messages
}

func (v view) stmt() *stmt { return &stmt{d: v.d} }

// col returns the schema's name of a spec column, quoted.
func (v view) col(name string) string {
	if n, ok := v.f.cols[strings.ToLower(name)]; ok {
		return v.d.Quote(n)
	}
	return v.d.Quote(name)
}

func (v view) colName(name string) string {
	if n, ok := v.f.cols[strings.ToLower(name)]; ok {
		return n
	}
	return name
}

func (v view) table() string { return v.d.Quote(v.f.table.Name) }

// val converts an ID for binding to column col: integers for integer
// columns, an error wrapping gdprkit.ErrInvalid when it is not one.
func (v view) val(col, id string) (any, error) {
	if !v.f.ints[v.colName(col)] {
		return id, nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: sqltarget %s: %q is not an integer for column %s", gdprkit.ErrInvalid, v.kind, truncate(id), v.colName(col))
	}
	return n, nil
}

// in writes "col IN (…)" (one array parameter on PostgreSQL, so the
// statement text is the same for every batch size).
func (v view) in(s *stmt, col string, ids []string) error {
	if len(ids) == 0 {
		s.sql("1 = 0")
		return nil
	}
	if v.d == sqldb.Postgres {
		var arr any = ids
		if v.f.ints[v.colName(col)] {
			ns := make([]int64, len(ids))
			for i, id := range ids {
				x, err := v.val(col, id)
				if err != nil {
					return err
				}
				ns[i] = x.(int64)
			}
			arr = ns
		}
		s.sql(v.col(col), " = ANY(").arg(arr).sql(")")
		return nil
	}
	s.sql(v.col(col), " IN (")
	for i, id := range ids {
		x, err := v.val(col, id)
		if err != nil {
			return err
		}
		if i > 0 {
			s.sql(", ")
		}
		s.arg(x)
	}
	s.sql(")")
	return nil
}

// filters writes the row filters every statement applies (tenant, Where,
// Filter), each followed by " AND ".
func (v view) filters(s *stmt, account gdprkit.AccountID) {
	if v.spec.AccountColumn != "" {
		s.sql(v.col(v.spec.AccountColumn), " = ").arg(v.accountVal(account)).sql(" AND ")
	}
	for _, c := range v.spec.Where {
		v.cond(s, c)
		s.sql(" AND ")
	}
	if v.spec.Filter != "" {
		s.sql("(", v.spec.Filter, ")")
		s.args = append(s.args, v.spec.FilterArgs...)
		s.sql(" AND ")
	}
}

// accountVal binds the tenant: as an integer when the column is one and
// the account ID is a number.
func (v view) accountVal(account gdprkit.AccountID) any {
	if v.f.ints[v.colName(v.spec.AccountColumn)] {
		if n, err := strconv.ParseInt(string(account), 10, 64); err == nil {
			return n
		}
	}
	return string(account)
}

// unmarked writes the predicate "the marker is not set".
func (v view) unmarked(s *stmt) {
	m := v.col(v.spec.Marker)
	if v.spec.MarkerValue != nil {
		s.sql("(", m, " IS NULL OR ", m, " <> ").arg(v.spec.MarkerValue).sql(")")
		return
	}
	switch v.f.kinds[v.colName(v.spec.Marker)] {
	case sqldb.KindBool:
		s.sql("(", m, " IS NULL OR ", m, " = ").arg(false).sql(")")
	case sqldb.KindInteger:
		s.sql("(", m, " IS NULL OR ", m, " = 0)")
	default:
		s.sql(m, " IS NULL")
	}
}

// markValue writes the value a marker is set to.
func (v view) markValue(s *stmt) {
	if v.spec.MarkerValue != nil {
		s.arg(v.spec.MarkerValue)
		return
	}
	switch v.f.kinds[v.colName(v.spec.Marker)] {
	case sqldb.KindBool:
		s.arg(true)
	case sqldb.KindInteger:
		s.sql("1")
	case sqldb.KindText:
		s.arg("erased")
	default:
		s.sql("CURRENT_TIMESTAMP")
	}
}

func (v view) cond(s *stmt, c Cond) {
	col := v.col(c.Column)
	switch c.Op {
	case OpEq, OpNe:
		s.sql(col, " ", string(c.Op), " ").arg(c.Values[0])
	case OpIn, OpNotIn:
		s.sql(col, " ", strings.ToUpper(string(c.Op)), " (")
		for i, x := range c.Values {
			if i > 0 {
				s.sql(", ")
			}
			s.arg(x)
		}
		s.sql(")")
	case OpNull:
		s.sql(col, " IS NULL")
	case OpNotNull:
		s.sql(col, " IS NOT NULL")
	}
}

// notDistinct writes "a IS NOT DISTINCT FROM b" for the dialect (NULLs
// equal).
func (v view) notDistinct(s *stmt, col string, val func()) {
	switch v.d {
	case sqldb.Postgres:
		s.sql(col, " IS NOT DISTINCT FROM ")
	case sqldb.MySQL:
		s.sql(col, " <=> ")
	default:
		s.sql(col, " IS ")
	}
	val()
}

// textOf writes a column as text for LIKE searches.
func (v view) textOf(col string) string {
	switch {
	case v.d == sqldb.Postgres:
		return "LOWER(" + v.col(col) + "::text)"
	case v.d == sqldb.MySQL && v.f.kinds[v.colName(col)] == sqldb.KindJSON:
		return "LOWER(CAST(" + v.col(col) + " AS CHAR))"
	default:
		return "LOWER(" + v.col(col) + ")"
	}
}

// likeArg escapes s for a LIKE pattern that contains it.
func likeArg(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// like writes "text LIKE ? ESCAPE '\'" for the dialect.
func (v view) like(s *stmt, text, pattern string) {
	s.sql(text, " LIKE ").arg(pattern)
	if v.d == sqldb.MySQL {
		s.sql(` ESCAPE '\\'`)
	} else {
		s.sql(` ESCAPE '\'`)
	}
}
