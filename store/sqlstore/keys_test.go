package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// TestKeysCompareByteForByte checks the schema rule of issue #15: no string
// column of a gdpr_ table may compare two different byte strings as equal.
// On MySQL/MariaDB every character column must be binary (utf8mb4_bin pads
// with spaces, so "acme " = "acme"); on PostgreSQL no column may use a
// nondeterministic collation; on SQLite no column may declare a collation
// (NOCASE and RTRIM fold or trim). The padded-ID isolation cases of
// store/storetest check the same rule through every domain's store.
func TestKeysCompareByteForByte(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			_, db := testdb.OpenStore(t, d)
			ctx := context.Background()
			var q string
			switch d {
			case sqlstore.MySQL:
				q = `SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME, ' ', COLUMN_TYPE, ' ', COALESCE(COLLATION_NAME, ''))
				FROM information_schema.COLUMNS
				WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'gdpr\_%' AND TABLE_NAME <> 'gdpr_schema_migrations'
				  AND DATA_TYPE IN ('char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set')`
			case sqlstore.Postgres:
				q = `SELECT c.table_name || '.' || c.column_name || ' ' || c.collation_name
				FROM information_schema.columns c
				JOIN pg_collation p ON p.collname = c.collation_name
				WHERE c.table_schema = current_schema() AND c.table_name LIKE 'gdpr\_%' AND NOT p.collisdeterministic`
			case sqlstore.SQLite:
				q = `SELECT name FROM sqlite_master WHERE name LIKE 'gdpr\_%' ESCAPE '\' AND upper(sql) LIKE '%COLLATE%'`
			}
			rows, err := db.QueryContext(ctx, q)
			require.NoError(t, err)
			defer rows.Close()
			var bad []string
			for rows.Next() {
				var s string
				require.NoError(t, rows.Scan(&s))
				bad = append(bad, s)
			}
			require.NoError(t, rows.Err())
			assert.Empty(t, bad, "string columns that may compare padded or folded IDs as equal:\n%s", strings.Join(bad, "\n"))
		})
	}
}
