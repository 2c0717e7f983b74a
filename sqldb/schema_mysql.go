package sqldb

import (
	"database/sql"
	"regexp"
	"strings"
)

// MySQL and MariaDB: information_schema, every query filtered by
// TABLE_SCHEMA = DATABASE(): six queries for the whole database.

const myTables = `SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')`

const myColumns = `SELECT TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE), LOWER(COLUMN_TYPE), IS_NULLABLE = 'YES',
	CASE WHEN LOWER(DATA_TYPE) IN ('varchar', 'char') THEN COALESCE(CHARACTER_MAXIMUM_LENGTH, 0) ELSE 0 END,
	(COLUMN_DEFAULT IS NOT NULL AND UPPER(COLUMN_DEFAULT) <> 'NULL') OR EXTRA LIKE '%auto_increment%' OR EXTRA LIKE '%GENERATED%'
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION`

const myForeignKeys = `SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,
	k.REFERENCED_TABLE_SCHEMA = DATABASE(), k.REFERENCED_TABLE_SCHEMA, r.DELETE_RULE, r.UPDATE_RULE
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
	ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`

const myUnique = `SELECT TABLE_NAME, INDEX_NAME, COALESCE(COLUMN_NAME, ''), SUB_PART IS NOT NULL
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`

// MariaDB's JSON is LONGTEXT with a column CHECK (json_valid(`col`)); its
// CHECK_CONSTRAINTS has a TABLE_NAME column (MySQL 8's has not, and MySQL 8
// has a real JSON type).
const mariaChecks = `SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()`

var jsonValidRe = regexp.MustCompile("(?i)^\\s*\\(?\\s*json_valid\\s*\\(\\s*`((?:[^`]|``)+)`\\s*\\)\\s*\\)?\\s*$")

func (r *reader) mysql() error {
	var version string
	if err := r.each("SELECT VERSION()", func(rows *sql.Rows) error { return rows.Scan(&version) }); err != nil {
		return err
	}
	err := r.each(myTables, func(rows *sql.Rows) error {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return err
		}
		r.table(name).View = typ == "VIEW"
		return nil
	})
	if err != nil {
		return err
	}
	// jsonChecked holds table + "\x00" + column of MariaDB JSON columns.
	jsonChecked := map[string]bool{}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		err = r.each(mariaChecks, func(rows *sql.Rows) error {
			var table, clause string
			if err := rows.Scan(&table, &clause); err != nil {
				return err
			}
			if m := jsonValidRe.FindStringSubmatch(clause); m != nil {
				jsonChecked[table+"\x00"+strings.ReplaceAll(m[1], "``", "`")] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	err = r.each(myColumns, func(rows *sql.Rows) error {
		var table, name, dataType, colType string
		var nullable, def bool
		var maxLen int64
		if err := rows.Scan(&table, &name, &dataType, &colType, &nullable, &maxLen, &def); err != nil {
			return err
		}
		t := r.byName[table]
		if t == nil {
			return nil // a sequence or another object not listed as a table
		}
		c := Column{Name: name, Type: colType, Nullable: nullable, HasDefault: def, MaxLength: int(maxLen)}
		c.Kind = myKind(dataType, colType)
		if c.Kind == KindText && jsonChecked[table+"\x00"+name] {
			c.Kind = KindJSON
		}
		t.Columns = append(t.Columns, c)
		return nil
	})
	if err != nil {
		return err
	}
	err = r.each(myForeignKeys, func(rows *sql.Rows) error {
		var table, name, col, ref, refCol, refSchema, del, upd string
		var sameSchema bool
		if err := rows.Scan(&table, &name, &col, &ref, &refCol, &sameSchema, &refSchema, &del, &upd); err != nil {
			return err
		}
		if !sameSchema {
			ref = refSchema + "." + ref
		}
		r.fkColumn(table, name, name, col, ref, refCol, myAction(del), myAction(upd))
		return nil
	})
	if err != nil {
		return err
	}
	return r.each(myUnique, func(rows *sql.Rows) error {
		var table, index, col string
		var prefix bool
		if err := rows.Scan(&table, &index, &col, &prefix); err != nil {
			return err
		}
		t := r.byName[table]
		if t == nil {
			return nil
		}
		switch {
		case prefix || col == "":
			r.dropUnique(table, index)
		case index == "PRIMARY":
			t.PrimaryKey = append(t.PrimaryKey, col)
		default:
			r.uniqueColumn(table, index, col)
		}
		return nil
	})
}

func myAction(rule string) RefAction {
	switch strings.ToUpper(rule) {
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

// myKind classifies information_schema's DATA_TYPE (and COLUMN_TYPE for
// tinyint(1), MySQL's boolean).
func myKind(dataType, colType string) Kind {
	switch dataType {
	case "tinyint":
		if strings.HasPrefix(colType, "tinyint(1)") {
			return KindBool
		}
		return KindInteger
	case "smallint", "mediumint", "int", "integer", "bigint":
		return KindInteger
	case "decimal", "numeric", "float", "double", "real":
		return KindDecimal
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		return KindText
	case "json":
		return KindJSON
	case "bool", "boolean":
		return KindBool
	case "date", "time", "datetime", "timestamp", "year":
		return KindTime
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return KindBinary
	case "uuid":
		return KindUUID
	}
	return KindOther
}
