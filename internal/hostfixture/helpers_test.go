package hostfixture

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// catalogFK is a foreign key as the database's catalog reports it.
type catalogFK struct {
	ForeignKey
	// Raw is the ON DELETE rule as the catalog spells it.
	Raw string
}

// catalogForeignKeys reads every single-column foreign key of the current
// namespace from the catalog, sorted by table and column.
func catalogForeignKeys(t testing.TB, q Queryer, d sqldb.Dialect) []catalogFK {
	t.Helper()
	ctx := context.Background()
	var query string
	switch d {
	case sqlstore.SQLite:
		query = `SELECT '', m.name, f."from", f."table", f."to", f.on_delete FROM sqlite_master m
			JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`
	case sqlstore.Postgres:
		query = `SELECT con.conname, cl.relname, a.attname, rcl.relname, ra.attname, con.confdeltype::text
			FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
			JOIN pg_class rcl ON rcl.oid = con.confrelid
			JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
			JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1]
			WHERE con.contype = 'f' AND n.nspname = current_schema()`
	case sqlstore.MySQL:
		query = `SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE
			FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r
			ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
			WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL`
	}
	rows, err := q.QueryContext(ctx, query)
	require.NoError(t, err)
	defer rows.Close()
	var out []catalogFK
	for rows.Next() {
		var k catalogFK
		require.NoError(t, rows.Scan(&k.Name, &k.Table, &k.Column, &k.RefTable, &k.RefColumn, &k.Raw))
		switch k.Raw {
		case "c", "CASCADE":
			k.OnDelete = "CASCADE"
		case "n", "SET NULL":
			k.OnDelete = "SET NULL"
		case "a", "r", "NO ACTION", "RESTRICT":
			k.OnDelete = "NO ACTION"
		default:
			k.OnDelete = k.Raw
		}
		out = append(out, k)
	}
	require.NoError(t, rows.Err())
	sortFKs(out)
	return out
}

func sortFKs[T interface{ key() string }](ks []T) {
	sort.Slice(ks, func(i, j int) bool { return ks[i].key() < ks[j].key() })
}

func (k ForeignKey) key() string { return k.Table + "." + k.Column }
func (k catalogFK) key() string  { return k.Table + "." + k.Column }

// rebind rewrites ? placeholders to $1, $2, ... on PostgreSQL.
func rebind(d sqldb.Dialect, q string) string {
	if d != sqlstore.Postgres {
		return q
	}
	var b []byte
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b = append(b, '$')
			b = append(b, []byte(strconv.Itoa(n))...)
			continue
		}
		b = append(b, q[i])
	}
	return string(b)
}

// execer is *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// mustExec runs a statement written with ? placeholders.
func mustExec(t testing.TB, db execer, d sqldb.Dialect, q string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(context.Background(), rebind(d, q), args...)
	require.NoError(t, err, q)
	return res
}

// snap takes a snapshot or fails the test.
func snap(t testing.TB, q Queryer, d sqldb.Dialect, blobDir string, skip ...string) *Snapshot {
	t.Helper()
	s, err := TakeSnapshot(context.Background(), q, d, blobDir, skip...)
	require.NoError(t, err)
	return s
}
