package sqldb_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// TestCheckpoint truncates the log, reports a log held by a reader as
// unavailable, and does nothing on the server databases.
func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, sqldb.SQLite)
	exec(t, db.DB, "CREATE TABLE t (x TEXT)", "INSERT INTO t VALUES ('a')")
	require.NoError(t, sqldb.Checkpoint(ctx, db.DB, sqldb.SQLite))
	info, err := os.Stat(sqliteFile(t, db) + "-wal")
	require.NoError(t, err)
	assert.Zero(t, info.Size(), "the log was truncated")

	// A reader in the middle of a transaction keeps the log in use: the
	// checkpoint cannot truncate it and says so.
	open := func() *sql.DB {
		p, err := sql.Open("sqlite", "file:"+sqliteFile(t, db)+"?_pragma=busy_timeout(100)")
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		return p
	}
	reader, checkpointer := open(), open()
	tx, err := reader.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	var n int
	require.NoError(t, tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n))
	exec(t, db.DB, "INSERT INTO t VALUES ('b')")
	err = sqldb.Checkpoint(ctx, checkpointer, sqldb.SQLite)
	assert.ErrorIs(t, err, gdprkit.ErrUnavailable)
	require.NoError(t, tx.Rollback())
	assert.NoError(t, sqldb.Checkpoint(ctx, checkpointer, sqldb.SQLite), "free again")

	assert.NoError(t, sqldb.Checkpoint(ctx, nil, sqldb.Postgres), "a no-op on PostgreSQL")
	assert.NoError(t, sqldb.Checkpoint(ctx, nil, sqldb.MySQL), "a no-op on MySQL")
	assert.ErrorIs(t, sqldb.Checkpoint(ctx, nil, sqldb.SQLite), gdprkit.ErrInvalid)
	assert.ErrorIs(t, sqldb.Checkpoint(ctx, db.DB, "oracle"), gdprkit.ErrInvalid)
}
