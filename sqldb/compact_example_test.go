package sqldb_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gdprkit/gdprkit/sqldb"
)

// After a delete, Compact checkpoints SQLite: the -wal file is empty and,
// with secure_delete on, the deleted row is gone from the .db file too.
func ExampleCompact() {
	dir, _ := os.MkdirTemp("", "sqldb-compact-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.db")
	db, _ := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=secure_delete(1)")
	defer db.Close()
	ctx := context.Background()
	_, _ = db.ExecContext(ctx, "CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT)")
	_, _ = db.ExecContext(ctx, "INSERT INTO messages VALUES (1, 'call me on +351 900 000 001')")
	_, _ = db.ExecContext(ctx, "DELETE FROM messages WHERE id = 1")

	desc, err := sqldb.Compact(ctx, db, sqldb.SQLite, nil, sqldb.CompactOptions{})
	wal, _ := os.Stat(path + "-wal")
	fmt.Println(desc, err, wal.Size())
	// Output: sqlite: wal_checkpoint(TRUNCATE) <nil> 0
}
