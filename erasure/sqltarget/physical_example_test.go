package sqltarget_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Binding.Compact is the post-erasure physical step for the binding's
// database: on SQLite a checkpoint, on PostgreSQL a VACUUM and on MySQL an
// OPTIMIZE TABLE of the tables an erasure touched. The erasure service
// runs it (erasure.Config.Physical); here it is run by hand.
func ExampleBinding_Compact() {
	dir, _ := os.MkdirTemp("", "sqltarget-compact-")
	defer os.RemoveAll(dir)
	db, _ := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "host.db")))
	defer db.Close()
	ctx := context.Background()
	_, _ = db.ExecContext(ctx, "CREATE TABLE users (id VARCHAR(64) NOT NULL PRIMARY KEY, email VARCHAR(200))")
	b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db, Dialect: sqldb.SQLite,
		Specs: []sqltarget.Spec{{Kind: erasure.KindEndUser, Table: "users", Key: "id", SubjectColumn: "id"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	step := b.Compact(sqltarget.CompactOptions{})
	desc, err := step.Run(ctx, erasure.PhysicalRun{Account: "acme", Kinds: []erasure.Kind{erasure.KindEndUser}})
	fmt.Println(desc, err)
	// Output: sqlite: wal_checkpoint(TRUNCATE) <nil>
}
