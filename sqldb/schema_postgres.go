package sqldb

import (
	"database/sql"
)

// PostgreSQL: three queries over pg_catalog, each for the whole schema.
// Partitions are left out (their parent is the table a host writes to), and
// so are the constraints PostgreSQL clones onto partitions (conparentid).

const pgColumns = `SELECT c.relname, c.relkind::text, a.attname, lower(format_type(a.atttypid, NULL)),
	bt.typname, bt.typcategory::text, COALESCE(et.typname, ''), NOT a.attnotnull,
	a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '',
	CASE WHEN bt.typname IN ('varchar', 'bpchar') AND bt.typcategory <> 'A'
		THEN GREATEST(CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END - 4, 0) ELSE 0 END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_type et ON bt.typcategory = 'A' AND et.oid = bt.typelem
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
ORDER BY c.relname, a.attnum`

const pgKeys = `SELECT c.relname, con.conname, con.contype::text, a.attname,
	COALESCE(CASE WHEN rn.nspname = current_schema() THEN rc.relname ELSE rn.nspname || '.' || rc.relname END, ''),
	COALESCE(ra.attname, ''), con.confdeltype::text, con.confupdtype::text
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[k.ord]
WHERE n.nspname = current_schema() AND con.contype IN ('p', 'f') AND con.conparentid = 0 AND NOT c.relispartition
ORDER BY c.relname, con.conname, k.ord`

const pgUnique = `SELECT c.relname, i.relname, COALESCE(a.attname, ''), x.indpred IS NOT NULL OR x.indexprs IS NOT NULL
FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE n.nspname = current_schema() AND x.indisunique AND NOT x.indisprimary AND x.indisvalid
	AND k.ord <= x.indnkeyatts AND NOT c.relispartition
ORDER BY c.relname, i.relname, k.ord`

func (r *reader) postgres() error {
	err := r.each(pgColumns, func(rows *sql.Rows) error {
		var rel, kind string
		var name, typ, base, cat, elem sql.NullString
		var nullable, def sql.NullBool
		var maxLen sql.NullInt64
		if err := rows.Scan(&rel, &kind, &name, &typ, &base, &cat, &elem, &nullable, &def, &maxLen); err != nil {
			return err
		}
		t := r.table(rel)
		t.View = kind == "v" || kind == "m"
		if !name.Valid {
			return nil // a table without columns
		}
		c := Column{Name: name.String, Type: typ.String, Nullable: nullable.Bool, HasDefault: def.Bool, MaxLength: int(maxLen.Int64)}
		c.Kind = pgKind(base.String, cat.String)
		if c.Kind == KindArray {
			c.Elem = pgKind(elem.String, "")
		}
		t.Columns = append(t.Columns, c)
		return nil
	})
	if err != nil {
		return err
	}
	err = r.each(pgKeys, func(rows *sql.Rows) error {
		var rel, name, typ, col, ref, refCol, del, upd string
		if err := rows.Scan(&rel, &name, &typ, &col, &ref, &refCol, &del, &upd); err != nil {
			return err
		}
		if typ == "p" {
			t := r.table(rel)
			t.PrimaryKey = append(t.PrimaryKey, col)
			return nil
		}
		r.fkColumn(rel, name, name, col, ref, refCol, pgAction(del), pgAction(upd))
		return nil
	})
	if err != nil {
		return err
	}
	return r.each(pgUnique, func(rows *sql.Rows) error {
		var rel, index, col string
		var partial bool
		if err := rows.Scan(&rel, &index, &col, &partial); err != nil {
			return err
		}
		if partial || col == "" {
			r.dropUnique(rel, index)
			return nil
		}
		r.uniqueColumn(rel, index, col)
		return nil
	})
}

// pgAction decodes pg_constraint.confdeltype / confupdtype.
func pgAction(c string) RefAction {
	switch c {
	case "r":
		return Restrict
	case "c":
		return Cascade
	case "n":
		return SetNull
	case "d":
		return SetDefault
	}
	return NoAction
}

// pgKind classifies a PostgreSQL base type by name, then by category.
func pgKind(typname, category string) Kind {
	switch typname {
	case "int2", "int4", "int8", "oid":
		return KindInteger
	case "numeric", "float4", "float8", "money":
		return KindDecimal
	case "text", "varchar", "bpchar", "char", "name", "citext":
		return KindText
	case "json", "jsonb":
		return KindJSON
	case "bool":
		return KindBool
	case "date", "time", "timetz", "timestamp", "timestamptz":
		return KindTime
	case "bytea":
		return KindBinary
	case "uuid":
		return KindUUID
	}
	switch category {
	case "A":
		return KindArray
	case "S":
		return KindText
	case "D":
		return KindTime
	case "B":
		return KindBool
	}
	return KindOther
}
