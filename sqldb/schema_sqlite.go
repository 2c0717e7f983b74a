package sqldb

import (
	"database/sql"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// SQLite: sqlite_master joined with the table-valued pragma functions,
// three queries for the whole "main" schema.

const liteColumns = `SELECT m.name, m.type, COALESCE(m.sql, ''), p.name, p.type, p."notnull", p.dflt_value IS NOT NULL, p.pk, p.hidden
FROM sqlite_master m LEFT JOIN pragma_table_xinfo(m.name) p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, p.cid`

const liteForeignKeys = `SELECT m.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete
FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, f.id, f.seq`

const liteUnique = `SELECT m.name, il.name, il.origin, il.partial, ii.name
FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND il."unique" = 1
ORDER BY m.name, il.name, ii.seqno`

var (
	liteWithoutRowid = regexp.MustCompile(`(?i)\bWITHOUT\s+ROWID\b`)
	liteJSONValid    = regexp.MustCompile("(?i)\\bjson_valid\\s*\\(\\s*(?:\"((?:[^\"]|\"\")+)\"|`((?:[^`]|``)+)`|\\[([^\\]]+)\\]|([A-Za-z_][A-Za-z0-9_$]*))\\s*\\)")
)

func (r *reader) sqlite() error {
	type pkCol struct {
		pos  int
		name string
	}
	pks := map[string][]pkCol{}
	withoutRowid := map[string]bool{}
	err := r.each(liteColumns, func(rows *sql.Rows) error {
		var table, typ, ddl string
		var name, decl sql.NullString
		var notNull, def sql.NullBool
		var pk, hidden sql.NullInt64
		if err := rows.Scan(&table, &typ, &ddl, &name, &decl, &notNull, &def, &pk, &hidden); err != nil {
			return err
		}
		t := r.table(table)
		t.View = typ == "view"
		withoutRowid[table] = liteWithoutRowid.MatchString(ddl)
		if !name.Valid || hidden.Int64 == 1 {
			return nil // no columns, or a virtual table's hidden column
		}
		c := Column{Name: name.String, Type: strings.ToLower(strings.TrimSpace(decl.String)), Nullable: !notNull.Bool, HasDefault: def.Bool || hidden.Int64 >= 2}
		c.Kind = liteKind(c.Type)
		if c.Kind != KindJSON && liteJSONChecked(ddl, c.Name) {
			c.Kind = KindJSON
		}
		if pk.Int64 > 0 {
			pks[table] = append(pks[table], pkCol{int(pk.Int64), c.Name})
			// SQLite lets a PRIMARY KEY column hold NULL unless declared NOT
			// NULL (a historical quirk), except in WITHOUT ROWID tables and for
			// INTEGER PRIMARY KEY, which is the rowid.
			if c.Type == "integer" || withoutRowid[table] {
				c.Nullable = false
			}
		}
		t.Columns = append(t.Columns, c)
		return nil
	})
	if err != nil {
		return err
	}
	for table, cols := range pks {
		slices.SortFunc(cols, func(a, b pkCol) int { return a.pos - b.pos })
		t := r.byName[table]
		for _, c := range cols {
			t.PrimaryKey = append(t.PrimaryKey, c.name)
		}
		// INTEGER PRIMARY KEY is an alias of the rowid (WITHOUT ROWID tables
		// have none): an INSERT without it gets the next rowid.
		if c := t.Column(cols[0].name); len(cols) == 1 && c.Type == "integer" && !t.View && !withoutRowid[table] {
			c.HasDefault = true
		}
	}
	type fkRow struct {
		table, ref, from string
		id               int
		to               sql.NullString
		onUpdate, onDel  string
	}
	var fkRows []fkRow
	err = r.each(liteForeignKeys, func(rows *sql.Rows) error {
		var f fkRow
		if err := rows.Scan(&f.table, &f.id, &f.ref, &f.from, &f.to, &f.onUpdate, &f.onDel); err != nil {
			return err
		}
		fkRows = append(fkRows, f)
		return nil
	})
	if err != nil {
		return err
	}
	seq := map[string]int{} // position within each foreign key
	for _, f := range fkRows {
		ref := f.ref
		if t := r.s.Table(ref); t != nil {
			ref = t.Name // the declaration may spell it in another case
		}
		id := f.table + "\x00" + strconv.Itoa(f.id)
		n := seq[id]
		seq[id] = n + 1
		to := f.to.String
		if !f.to.Valid || to == "" {
			// REFERENCES parent without columns: the parent's primary key.
			if t := r.s.Table(ref); t != nil && n < len(t.PrimaryKey) {
				to = t.PrimaryKey[n]
			}
		}
		r.fkColumn(f.table, id, "", f.from, ref, to, liteAction(f.onDel), liteAction(f.onUpdate))
	}
	return r.each(liteUnique, func(rows *sql.Rows) error {
		var table, index, origin string
		var partial bool
		var col sql.NullString
		if err := rows.Scan(&table, &index, &origin, &partial, &col); err != nil {
			return err
		}
		switch {
		case origin == "pk":
			// the primary key's own index (WITHOUT ROWID or a non-integer key)
		case partial || !col.Valid:
			r.dropUnique(table, index)
		default:
			r.uniqueColumn(table, index, col.String)
		}
		return nil
	})
}

// liteJSONChecked reports whether the table's DDL checks col with
// json_valid(col).
func liteJSONChecked(ddl, col string) bool {
	if ddl == "" {
		return false
	}
	for _, m := range liteJSONValid.FindAllStringSubmatch(ddl, -1) {
		name := m[1] + m[2] + m[3] + m[4]
		name = strings.NewReplacer(`""`, `"`, "``", "`").Replace(name)
		if strings.EqualFold(name, col) {
			return true
		}
	}
	return false
}

func liteAction(a string) RefAction {
	switch strings.ToUpper(a) {
	case "RESTRICT":
		return Restrict
	case "CASCADE":
		return Cascade
	case "SET NULL":
		return SetNull
	case "SET DEFAULT":
		return SetDefault
	}
	return NoAction
}

// liteKind classifies a declared type by SQLite's affinity rules
// (https://sqlite.org/datatype3.html#determination_of_column_affinity),
// after the declarations whose meaning is a convention rather than an
// affinity: JSON, BOOLEAN, DATE/TIME/TIMESTAMP/DATETIME and UUID.
func liteKind(decl string) Kind {
	d := strings.ToUpper(decl)
	switch {
	case d == "":
		return KindOther // no affinity: any value
	case strings.Contains(d, "JSON"):
		return KindJSON
	case strings.Contains(d, "BOOL"):
		return KindBool
	case strings.Contains(d, "DATE") || strings.Contains(d, "TIME"):
		return KindTime
	case strings.Contains(d, "UUID"):
		return KindUUID
	case strings.Contains(d, "INT"):
		return KindInteger
	case strings.Contains(d, "CHAR") || strings.Contains(d, "CLOB") || strings.Contains(d, "TEXT"):
		return KindText
	case strings.Contains(d, "BLOB"):
		return KindBinary
	}
	return KindDecimal // REAL, FLOAT, DOUBLE and NUMERIC affinity
}
