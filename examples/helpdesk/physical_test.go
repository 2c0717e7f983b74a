package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// After a customer is erased on SQLite, nothing of what she wrote or who
// she was can be found in the raw bytes of the database files: the app
// opens SQLite with secure_delete (sqlstore.SQLiteDSN) and its erasure
// service checkpoints after every erasure (issue 14, item 6). The other
// customers' text is still found, so the search itself works.
func TestErasedCustomerLeavesNoTextInTheSQLiteFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hd.db")
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	e := newEnvDB(t, db, sqlstore.SQLite, false)

	const message = "my invoice lists two seats but we only have one"
	grep := func(needle string) []string {
		var in []string
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(path + suffix)
			if os.IsNotExist(err) {
				continue
			}
			require.NoError(t, err)
			if bytes.Contains(b, []byte(needle)) {
				in = append(in, filepath.Base(path+suffix))
			}
		}
		return in
	}
	require.NotEmpty(t, grep(message), "Carla's message is in the files before the erasure")

	ctx := context.Background()
	r, err := e.app.kit.Erasure.Submit(ctx, e.app.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "c-carla", By: "u-agent", Verified: true})
	require.NoError(t, err)
	require.NoError(t, e.app.RunErasureJobs(ctx))
	rc, err := e.app.kit.Erasure.Receipt(ctx, e.app.acct, r.ID)
	require.NoError(t, err)
	assert.Equal(t, []erasure.PhysicalResult{{Step: "sqlite: wal_checkpoint(TRUNCATE)"}}, rc.Physical, "the receipt records the checkpoint")

	for _, needle := range []string{message, "Invoice 2291 is wrong", "Carla Customer", "carla@example.com", "c-carla"} {
		assert.Empty(t, grep(needle), "%q is still in the database files", needle)
	}
	assert.Equal(t, []string{"hd.db"}, grep("export last month's reports"), "Ben's message stays, in the checkpointed .db file")
}
