package sqltarget

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// timeColumn checks Spec.TimeColumn's type: a date/time column, an
// integer (Unix seconds), or, on SQLite, where times are text, a text
// column.
func (a *analysis) timeColumn(s *Spec, t *sqldb.Table, c *sqldb.Column) {
	if c == nil {
		return
	}
	switch {
	case c.Kind == sqldb.KindTime, c.Kind == sqldb.KindInteger:
	case a.b.d == sqldb.SQLite && (c.Kind == sqldb.KindText || c.Kind == sqldb.KindOther):
	default:
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: c.Name, Class: "type",
			Message: fmt.Sprintf("TimeColumn needs a date/time column or an integer of Unix seconds, not %s", c.Type)})
	}
}

// Locate implements erasure.Target (Caps.Locate, Spec.TimeColumn): the
// account's records (matching Where and Filter, not anonymised in place)
// with a row whose time column lies in the period, in key order. NULL
// times are found only by a query without bounds.
//
// PostgreSQL and MySQL compare in SQL, so an index on (tenant, time)
// serves it: a timestamp without time zone is read as UTC, a MySQL
// DATETIME in the connection's time zone (the driver's loc, UTC by
// default). An integer column holds Unix seconds. SQLite keeps times as
// text in whatever layout the host wrote, so there the rows are read in
// key order and their times parsed: RFC 3339, "2006-01-02 15:04:05"
// with or without fraction and zone (SQLite's CURRENT_TIMESTAMP), Go's
// time.Time.String() layout (what modernc.org/sqlite writes for a
// time.Time), a date, or Unix seconds; a value none of these reads fails
// the call with an error wrapping gdprkit.ErrInvalid.
func (t *Target) Locate(ctx context.Context, account gdprkit.AccountID, q erasure.LocateQuery) ([]erasure.Ref, error) {
	if t.spec.TimeColumn == "" {
		return nil, erasure.ErrUnsupported
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	v, err := t.view()
	if err != nil {
		return nil, err
	}
	col := v.f.table.Column(v.colName(t.spec.TimeColumn))
	if col == nil {
		return nil, fmt.Errorf("%w: sqltarget %s: no time column", gdprkit.ErrInvalid, t.spec.Kind)
	}
	if t.b.d == sqldb.SQLite && col.Kind != sqldb.KindInteger {
		return t.locateScan(ctx, v, account, q)
	}
	s := t.locateBase(v, account, q.After)
	if err := s.err; err != nil {
		return nil, err
	}
	tc := v.col(t.spec.TimeColumn)
	unbounded := q.From.IsZero() && q.Until.IsZero()
	if !unbounded {
		s.sql(" AND ", tc, " IS NOT NULL")
	}
	for _, b := range []struct {
		at time.Time
		op string
	}{{q.From, " >= "}, {q.Until, " <= "}} {
		if b.at.IsZero() {
			continue
		}
		s.sql(" AND ", tc, b.op)
		switch {
		case col.Kind == sqldb.KindInteger:
			s.arg(b.at.Unix())
		case t.b.d == sqldb.Postgres && !strings.Contains(col.Type, "with time zone"):
			s.sql("CAST(").arg(b.at.UTC().Format("2006-01-02 15:04:05.999999")).sql(" AS timestamp)")
		default:
			s.arg(b.at.UTC())
		}
	}
	s.sql(" ORDER BY ", v.col(t.spec.Key), " LIMIT ").arg(q.Limit)
	rows, err := t.b.run.q().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("sqltarget %s: locate: %w", t.spec.Kind, sqldb.Classify(err))
	}
	defer rows.Close()
	var out []erasure.Ref
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return nil, sqldb.Classify(err)
		}
		if id.Valid {
			out = append(out, erasure.Ref{ID: id.String})
		}
	}
	return out, sqldb.Classify(rows.Err())
}

// locateStmt is a statement being built, with the first error met.
type locateStmt struct {
	*stmt
	err error
}

// locateBase writes "SELECT [DISTINCT] key FROM table WHERE filters AND
// key > after" (and the marker test).
func (t *Target) locateBase(v view, account gdprkit.AccountID, after string) locateStmt {
	s := v.stmt()
	distinct := ""
	if !v.f.unique {
		distinct = "DISTINCT "
	}
	s.sql("SELECT ", distinct, v.col(t.spec.Key), " FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	s.sql("1 = 1")
	if t.spec.Marker != "" {
		s.sql(" AND ")
		v.unmarked(s)
	}
	if after != "" {
		x, err := v.val(t.spec.Key, after)
		if err != nil {
			return locateStmt{s, err}
		}
		s.sql(" AND ", v.col(t.spec.Key), " > ").arg(x)
	}
	return locateStmt{stmt: s}
}

// locateChunk is how many rows one SQLite scan step reads.
const locateChunk = 1000

// locateScan is Locate on SQLite: rows in key order, their times parsed
// here.
func (t *Target) locateScan(ctx context.Context, v view, account gdprkit.AccountID, q erasure.LocateQuery) ([]erasure.Ref, error) {
	key, tc := v.col(t.spec.Key), v.col(t.spec.TimeColumn)
	unbounded := q.From.IsZero() && q.Until.IsZero()
	var out []erasure.Ref
	matched := map[string]bool{}
	after, inclusive := q.After, false
	for len(out) < q.Limit {
		s := v.stmt()
		s.sql("SELECT ", key, ", ", tc, " FROM ", v.table(), " WHERE ")
		v.filters(s, account)
		s.sql("1 = 1")
		if t.spec.Marker != "" {
			s.sql(" AND ")
			v.unmarked(s)
		}
		if after != "" {
			x, err := v.val(t.spec.Key, after)
			if err != nil {
				return nil, err
			}
			op := " > "
			if inclusive {
				op = " >= "
			}
			s.sql(" AND ", key, op).arg(x)
		}
		s.sql(" ORDER BY ", key, " LIMIT ").arg(locateChunk)
		type row struct {
			id string
			at any
		}
		var got []row
		err := func() error {
			rows, err := t.b.run.q().QueryContext(ctx, s.String(), s.args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id sql.NullString
				var at any
				if err := rows.Scan(&id, &at); err != nil {
					return err
				}
				if id.Valid {
					got = append(got, row{id.String, at})
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("sqltarget %s: locate: %w", t.spec.Kind, sqldb.Classify(err))
		}
		for _, r := range got {
			if matched[r.id] || len(out) == q.Limit {
				continue
			}
			at, ok, err := parseTime(r.at)
			if err != nil {
				return nil, fmt.Errorf("%w: sqltarget %s: a value of %s.%s is not a time: %v", gdprkit.ErrInvalid, t.spec.Kind, t.spec.Table, t.spec.TimeColumn, err)
			}
			if (!ok && unbounded) || (ok && q.Contains(at)) {
				matched[r.id] = true
				out = append(out, erasure.Ref{ID: r.id})
			}
		}
		if len(got) < locateChunk {
			break
		}
		// A record may be a group of rows: the next chunk starts at the
		// last key again, unless the whole chunk was that one key.
		last := got[len(got)-1].id
		inclusive = got[0].id != last && !v.f.unique
		after = last
	}
	return out, nil
}

// timeLayouts are the text layouts SQLite hosts write times in.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 -0700 MST", // Go's time.Time.String()
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTime reads a scanned time value; ok is false for NULL.
func parseTime(x any) (time.Time, bool, error) {
	switch v := x.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return v.UTC(), true, nil
	case int64:
		return time.Unix(v, 0).UTC(), true, nil
	case float64:
		sec := int64(v)
		return time.Unix(sec, int64((v-float64(sec))*1e9)).UTC(), true, nil
	case []byte:
		return parseTime(string(v))
	case string:
		s := strings.TrimSpace(v)
		if i := strings.Index(s, " m="); i > 0 {
			s = s[:i] // a monotonic clock reading Go's String() appends
		}
		for _, l := range timeLayouts {
			if at, err := time.Parse(l, s); err == nil {
				return at.UTC(), true, nil
			}
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC(), true, nil
		}
		return time.Time{}, false, fmt.Errorf("unknown layout of %d bytes", len(s))
	}
	return time.Time{}, false, fmt.Errorf("a value of type %T", x)
}
