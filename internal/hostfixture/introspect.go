package hostfixture

import (
	"context"
	"sort"
	"strings"

	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// valueKind says how a column's values are canonicalised.
type valueKind int

type colInfo struct {
	name string
	kind valueKind
}

type tableInfo struct {
	name string
	cols []colInfo
	pk   []string
}

func quoteIdent(d sqldb.Dialect, s string) string {
	if d == sqlstore.MySQL {
		return "`" + strings.ReplaceAll(s, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// listTables lists the base tables of the current namespace, sorted.
func listTables(ctx context.Context, q Queryer, d sqldb.Dialect) ([]string, error) {
	var query string
	switch d {
	case sqlstore.SQLite:
		query = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`
	case sqlstore.Postgres:
		query = `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname`
	case sqlstore.MySQL:
		query = `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`
	default:
		return nil, checkDialect(d)
	}
	return queryStrings(ctx, q, query)
}

func queryStrings(ctx context.Context, q Queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// describeTables reads every base table's columns (with how to
// canonicalise them) and primary key, in a few catalog queries.
func describeTables(ctx context.Context, q Queryer, d sqldb.Dialect) ([]tableInfo, error) {
	names, err := listTables(ctx, q, d)
	if err != nil {
		return nil, err
	}
	byName := map[string]*tableInfo{}
	out := make([]tableInfo, len(names))
	for i, n := range names {
		out[i].name = n
		byName[n] = &out[i]
	}
	type colRow struct{ table, col, typ, extra string }
	var colRows []colRow
	var pkRows [][2]string
	jsonChecked := map[[2]string]bool{} // (table, column) checked with json_valid
	switch d {
	case sqlstore.SQLite:
		rows, err := q.QueryContext(ctx, `SELECT m.name, p.name, p.type, p.pk, COALESCE(m.sql, '') FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' ORDER BY m.name, p.cid`)
		if err != nil {
			return nil, err
		}
		type pkcol struct {
			t, c string
			n    int
		}
		var pks []pkcol
		ddl := map[string]string{}
		for rows.Next() {
			var r colRow
			var pk int
			var sqlText string
			if err := rows.Scan(&r.table, &r.col, &r.typ, &pk, &sqlText); err != nil {
				rows.Close()
				return nil, err
			}
			colRows = append(colRows, r)
			ddl[r.table] = sqlText
			if pk > 0 {
				pks = append(pks, pkcol{r.table, r.col, pk})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		sort.SliceStable(pks, func(i, j int) bool {
			if pks[i].t != pks[j].t {
				return pks[i].t < pks[j].t
			}
			return pks[i].n < pks[j].n
		})
		for _, p := range pks {
			pkRows = append(pkRows, [2]string{p.t, p.c})
		}
		for t, s := range ddl {
			for _, c := range jsonValidColumns(s) {
				jsonChecked[[2]string{t, c}] = true
			}
		}
	case sqlstore.Postgres:
		rows, err := q.QueryContext(ctx, `SELECT c.relname, a.attname, t.typname, t.typcategory
			FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_type t ON t.oid = a.atttypid
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
			ORDER BY c.relname, a.attnum`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r colRow
			if err := rows.Scan(&r.table, &r.col, &r.typ, &r.extra); err != nil {
				rows.Close()
				return nil, err
			}
			colRows = append(colRows, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		pkRows, err = queryPairs(ctx, q, `SELECT c.relname, a.attname FROM pg_index i
			JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
			WHERE n.nspname = current_schema() AND i.indisprimary ORDER BY c.relname, k.ord`)
		if err != nil {
			return nil, err
		}
	case sqlstore.MySQL:
		rows, err := q.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r colRow
			if err := rows.Scan(&r.table, &r.col, &r.typ, &r.extra); err != nil {
				rows.Close()
				return nil, err
			}
			colRows = append(colRows, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		pkRows, err = queryPairs(ctx, q, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
			WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY TABLE_NAME, ORDINAL_POSITION`)
		if err != nil {
			return nil, err
		}
		// MariaDB's JSON is LONGTEXT with a json_valid CHECK; MySQL 8 has a
		// real JSON type and no TABLE_NAME in CHECK_CONSTRAINTS, so this
		// query failing just means there is nothing to learn from it.
		if checks, err := queryPairs(ctx, q, `SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
			WHERE CONSTRAINT_SCHEMA = DATABASE()`); err == nil {
			for _, c := range checks {
				for _, col := range jsonValidColumns(c[1]) {
					jsonChecked[[2]string{c[0], col}] = true
				}
			}
		}
	}
	for _, r := range colRows {
		ti := byName[r.table]
		if ti == nil {
			continue
		}
		k := columnKind(d, r.typ, r.extra)
		if jsonChecked[[2]string{r.table, r.col}] {
			k = kJSON
		}
		ti.cols = append(ti.cols, colInfo{name: r.col, kind: k})
	}
	for _, p := range pkRows {
		if ti := byName[p[0]]; ti != nil {
			ti.pk = append(ti.pk, p[1])
		}
	}
	return out, nil
}

func queryPairs(ctx context.Context, q Queryer, query string) ([][2]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return nil, err
		}
		out = append(out, [2]string{a, b})
	}
	return out, rows.Err()
}

// jsonValidColumns finds the columns a CHECK (json_valid(col)) names in
// DDL or a check clause.
func jsonValidColumns(s string) []string {
	var out []string
	low := strings.ToLower(s)
	for {
		i := strings.Index(low, "json_valid(")
		if i < 0 {
			return out
		}
		low = low[i+len("json_valid("):]
		s = s[i+len("json_valid("):]
		j := strings.IndexByte(s, ')')
		if j < 0 {
			return out
		}
		name := strings.Trim(strings.TrimSpace(s[:j]), "`\"[]")
		if name != "" {
			out = append(out, name)
		}
	}
}

// columnKind maps a catalog type to how values are canonicalised. typ is
// the declared type (SQLite), pg_type.typname (PostgreSQL) or DATA_TYPE
// (MySQL); extra is typcategory (PostgreSQL) or COLUMN_TYPE (MySQL).
func columnKind(d sqldb.Dialect, typ, extra string) valueKind {
	t := strings.ToLower(typ)
	switch d {
	case sqlstore.Postgres:
		if extra == "A" {
			return kArray
		}
		switch t {
		case "int2", "int4", "int8", "oid":
			return kInt
		case "bool":
			return kBool
		case "timestamp", "timestamptz", "date":
			return kTime
		case "numeric", "float4", "float8":
			return kNumber
		case "json", "jsonb":
			return kJSON
		case "bytea":
			return kBinary
		}
		return kText
	case sqlstore.MySQL:
		switch t {
		case "tinyint":
			if strings.HasPrefix(strings.ToLower(extra), "tinyint(1)") {
				return kBool
			}
			return kInt
		case "smallint", "mediumint", "int", "integer", "bigint":
			return kInt
		case "datetime", "timestamp", "date":
			return kTime
		case "decimal", "float", "double":
			return kNumber
		case "json":
			return kJSON
		case "binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob":
			return kBinary
		}
		return kText
	}
	// SQLite: the declared type, by SQLite's own affinity rules, with the
	// names ORMs use for booleans, times and JSON first.
	switch {
	case strings.Contains(t, "bool"):
		return kBool
	case strings.Contains(t, "date") || strings.Contains(t, "time"):
		return kTime
	case strings.Contains(t, "json"):
		return kJSON
	case strings.Contains(t, "int"):
		return kInt
	case strings.Contains(t, "char") || strings.Contains(t, "clob") || strings.Contains(t, "text"):
		return kText
	case strings.Contains(t, "blob"):
		return kBinary
	case strings.Contains(t, "real") || strings.Contains(t, "floa") || strings.Contains(t, "doub") || strings.Contains(t, "dec") || strings.Contains(t, "num"):
		return kNumber
	}
	return kText
}
