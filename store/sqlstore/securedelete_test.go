package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/store/sqlstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// TestSQLiteDeletedRowsLeaveNoTrace (#14 item 6): a distinctive string is
// written into a host table (with an index over it) and into gdprkit's own
// tables, deleted, and the log checkpointed. Neither the .db nor the -wal
// file may still hold its bytes. The control case, the same DSN without
// secure_delete, shows the check can fail.
func TestSQLiteDeletedRowsLeaveNoTrace(t *testing.T) {
	for _, c := range []struct {
		name       string
		dsn        func(path string) string
		wantTraces bool
	}{
		{"SQLiteDSN", sqlstore.SQLiteDSN, false},
		{"without secure_delete (control)", func(path string) string {
			return strings.Replace(sqlstore.SQLiteDSN(path), "secure_delete(1)", "secure_delete(0)", 1)
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.db")
			db, err := sql.Open("sqlite", c.dsn(path))
			require.NoError(t, err)
			defer db.Close()
			ctx := context.Background()
			st, err := sqlstore.New(db, sqlstore.SQLite)
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))

			const needle = "erase-me-3f9a1c77-needle"
			_, err = db.ExecContext(ctx, "CREATE TABLE messages (id INTEGER PRIMARY KEY, author TEXT NOT NULL, body TEXT NOT NULL)")
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "CREATE INDEX messages_author ON messages (author)")
			require.NoError(t, err)
			// Neighbours on the same pages, which stay.
			for i := range 20 {
				_, err = db.ExecContext(ctx, "INSERT INTO messages (author, body) VALUES (?, ?)", "someone else", strings.Repeat("kept ", 10+i))
				require.NoError(t, err)
			}
			_, err = db.ExecContext(ctx, "INSERT INTO messages (author, body) VALUES (?, ?)", needle, "hello from "+needle)
			require.NoError(t, err)
			a := storetest.NewAccount(t)
			require.NoError(t, st.Consent().CreatePurpose(ctx, a, consent.Purpose{Key: "chat", Name: needle, CreatedAt: storetest.T0}))

			require.NoError(t, st.Checkpoint(ctx))
			require.True(t, holds(t, path, needle), "the needle is in the file before the delete")

			_, err = db.ExecContext(ctx, "DELETE FROM messages WHERE author = ?", needle)
			require.NoError(t, err)
			_, err = st.Consent().DeleteAccount(ctx, a)
			require.NoError(t, err)
			require.NoError(t, st.Checkpoint(ctx))

			info, err := os.Stat(path + "-wal")
			require.NoError(t, err)
			assert.Zero(t, info.Size(), "the checkpoint truncated the log")
			assert.Equal(t, c.wantTraces, holds(t, path, needle))
			var n int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM messages").Scan(&n))
			assert.Equal(t, 20, n, "the neighbours are intact")
		})
	}
}

// holds reports whether the database file or its log contains needle.
func holds(t *testing.T, path, needle string) bool {
	t.Helper()
	found := false
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		found = found || bytes.Contains(b, []byte(needle))
	}
	return found
}
