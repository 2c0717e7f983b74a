package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"

	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Example opens an embedded SQLite database with the recommended DSN and
// applies the migrations. For PostgreSQL use sql.Open("pgx", dsn) with
// sqlstore.Postgres; for MySQL/MariaDB sql.Open("mysql", dsn+"?parseTime=true")
// with sqlstore.MySQL.
func Example() {
	dir, _ := os.MkdirTemp("", "gdprkit-example-")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "app.db")))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		panic(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		panic(err)
	}
	var n int
	_ = db.QueryRow("SELECT COUNT(*) FROM gdpr_schema_migrations").Scan(&n)
	fmt.Println(n > 0)
	// Output: true
}
