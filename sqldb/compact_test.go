package sqldb_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

const compactSecret = "OKAPI-deleted-row-3141"

// seedDeleted writes filler rows and one row with compactSecret into
// phys_t, then deletes that row.
func seedDeleted(t *testing.T, db *sql.DB, d sqldb.Dialect) {
	t.Helper()
	exec(t, db, "CREATE TABLE phys_t (id INT NOT NULL PRIMARY KEY, body VARCHAR(200) NOT NULL)")
	for i := 1; i <= 40; i++ {
		body := fmt.Sprintf("filler row %d", i)
		if i == 20 {
			body = compactSecret
		}
		_, err := db.Exec(d.Rebind("INSERT INTO phys_t (id, body) VALUES (?, ?)"), i, body)
		require.NoError(t, err)
	}
	_, err := db.Exec(d.Rebind("DELETE FROM phys_t WHERE id = ?"), 20)
	require.NoError(t, err)
}

// pgPages returns the raw pages of a PostgreSQL table (pageinspect), or
// skips when the extension cannot be created here.
func pgPages(t *testing.T, db *sql.DB, table string) []byte {
	t.Helper()
	var out []byte
	rows, err := db.Query("SELECT get_raw_page($1::text, g::int) FROM generate_series(0, pg_relation_size($1::text::regclass) / current_setting('block_size')::int - 1) g", table)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var p []byte
		require.NoError(t, rows.Scan(&p))
		out = append(out, p...)
	}
	require.NoError(t, rows.Err())
	return out
}

// Compact runs each dialect's statement and says what it ran; a plain
// PostgreSQL VACUUM is seen in the statistics, and VACUUM FULL (Full)
// takes the deleted row's bytes out of the table's pages.
func TestCompactRunsPerDialect(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := testdb.Open(t, d)
			seedDeleted(t, db.DB, d)
			switch d {
			case sqldb.SQLite:
				desc, err := sqldb.Compact(ctx, db.DB, d, []string{"not used on sqlite"}, sqldb.CompactOptions{})
				require.NoError(t, err)
				assert.Equal(t, "sqlite: wal_checkpoint(TRUNCATE)", desc)
				for _, suffix := range []string{"", "-wal"} {
					b, err := os.ReadFile(sqliteFile(t, db) + suffix)
					require.NoError(t, err)
					assert.False(t, bytes.Contains(b, []byte(compactSecret)), "deleted row in %s", suffix)
					assert.Equal(t, suffix == "", bytes.Contains(b, []byte("filler row 21")), "live rows are in the .db file only")
				}
			case sqldb.Postgres:
				_, extErr := db.Exec("CREATE EXTENSION IF NOT EXISTS pageinspect")
				if extErr == nil {
					require.True(t, bytes.Contains(pgPages(t, db.DB, "phys_t"), []byte(compactSecret)), "the deleted row's bytes are in the page before")
				}
				desc, err := sqldb.Compact(ctx, db.DB, d, []string{"phys_t", "PHYS_T", "phys_t"}, sqldb.CompactOptions{})
				require.NoError(t, err)
				assert.Equal(t, "postgres: VACUUM phys_t", desc)
				deadline := time.Now().Add(10 * time.Second)
				for {
					var n int
					require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'phys_t' AND last_vacuum IS NOT NULL").Scan(&n))
					if n == 1 {
						break
					}
					require.True(t, time.Now().Before(deadline), "no VACUUM in pg_stat_user_tables")
					time.Sleep(100 * time.Millisecond)
				}
				// VACUUM FULL copies a deleted row that a transaction still
				// open anywhere in the database might see (other tests'
				// transactions, in CI): it is gone once none can, so the
				// check repeats the compaction until then.
				deadline = time.Now().Add(60 * time.Second)
				var pages []byte
				for {
					desc, err = sqldb.Compact(ctx, db.DB, d, []string{"phys_t"}, sqldb.CompactOptions{Full: true})
					require.NoError(t, err)
					assert.Equal(t, "postgres: VACUUM FULL phys_t", desc)
					if extErr != nil {
						t.Logf("pageinspect not available (%v): the bytes of the deleted row were not inspected", extErr)
						return
					}
					pages = pgPages(t, db.DB, "phys_t")
					if !bytes.Contains(pages, []byte(compactSecret)) || time.Now().After(deadline) {
						break
					}
					time.Sleep(200 * time.Millisecond)
				}
				assert.False(t, bytes.Contains(pages, []byte(compactSecret)), "VACUUM FULL rewrote the table without the deleted row")
				assert.True(t, bytes.Contains(pages, []byte("filler row 21")))
			case sqldb.MySQL:
				desc, err := sqldb.Compact(ctx, db.DB, d, []string{"phys_t"}, sqldb.CompactOptions{})
				require.NoError(t, err)
				assert.Equal(t, "mysql: OPTIMIZE TABLE phys_t", desc)
			}
			var n int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM phys_t").Scan(&n))
			assert.Equal(t, 39, n, "compaction keeps every live row")
		})
	}
}

// Bad input is refused before anything runs; a table the server does not
// have is an error, not a silent success.
func TestCompactRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, sqldb.SQLite)
	_, err := sqldb.Compact(ctx, db.DB, sqldb.Dialect("oracle"), nil, sqldb.CompactOptions{})
	assert.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = sqldb.Compact(ctx, nil, sqldb.SQLite, nil, sqldb.CompactOptions{})
	assert.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = sqldb.Compact(ctx, db.DB, sqldb.SQLite, []string{" "}, sqldb.CompactOptions{})
	assert.ErrorIs(t, err, gdprkit.ErrInvalid)

	for _, d := range testdb.Dialects(t) {
		if d == sqldb.SQLite {
			continue
		}
		t.Run(string(d), func(t *testing.T) {
			db := testdb.Open(t, d)
			desc, err := sqldb.Compact(ctx, db.DB, d, nil, sqldb.CompactOptions{})
			require.NoError(t, err)
			assert.Empty(t, desc, "no tables, nothing to do")
			desc, err = sqldb.Compact(ctx, db.DB, d, []string{"no_such_table"}, sqldb.CompactOptions{})
			require.Error(t, err)
			assert.Contains(t, desc, "no_such_table", "the description says what was attempted")
			if d == sqldb.MySQL {
				assert.ErrorIs(t, err, gdprkit.ErrConflict)
			}
		})
	}
}

// Incremental returns the free pages of an auto_vacuum=INCREMENTAL
// database to the file system: the file shrinks.
func TestCompactIncrementalShrinksSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inc.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=auto_vacuum(INCREMENTAL)&_pragma=journal_mode(WAL)&_pragma=secure_delete(1)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	exec(t, db, "CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT)",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO big SELECT i, printf('%0500d', i) FROM n")
	_, err = sqldb.Compact(ctx, db, sqldb.SQLite, nil, sqldb.CompactOptions{})
	require.NoError(t, err)
	before, err := os.Stat(path)
	require.NoError(t, err)
	exec(t, db, "DELETE FROM big")
	desc, err := sqldb.Compact(ctx, db, sqldb.SQLite, nil, sqldb.CompactOptions{Incremental: true})
	require.NoError(t, err)
	assert.Equal(t, "sqlite: incremental_vacuum; wal_checkpoint(TRUNCATE)", desc)
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.Less(t, after.Size(), before.Size()/4, "the freed pages went back to the file system")
}
