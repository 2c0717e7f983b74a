package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Example reads a host's schema and finds what points at its users table,
// then classifies a duplicate-key error without the duplicated value.
func Example() {
	dir, _ := os.MkdirTemp("", "sqldb-example-")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, ddl := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE, prefs JSON)`,
		`CREATE TABLE tickets (id INTEGER PRIMARY KEY, requester_id INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
			assignee_id INTEGER REFERENCES users (id) ON DELETE SET NULL, subject TEXT NOT NULL)`,
	} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			panic(err)
		}
	}

	s, err := sqldb.ReadSchema(ctx, db, sqldb.SQLite)
	if err != nil {
		panic(err)
	}
	for _, c := range s.Table("users").Columns {
		fmt.Printf("users.%s %s nullable=%v\n", c.Name, c.Kind, c.Nullable)
	}
	for _, fk := range s.ReferencesTo("users") {
		fmt.Printf("%s(%s) -> users(%s) ON DELETE %s\n", fk.Table, strings.Join(fk.Columns, ","), strings.Join(fk.RefColumns, ","), fk.OnDelete)
	}

	insert := "INSERT INTO users (email) VALUES (?)"
	_, _ = db.ExecContext(ctx, insert, "ada@example.com")
	_, err = db.ExecContext(ctx, insert, "ada@example.com")
	err = sqldb.Classify(err)
	fmt.Println(errors.Is(err, gdprkit.ErrConflict), err)
	// Output:
	// users.id integer nullable=false
	// users.email text nullable=false
	// users.prefs json nullable=true
	// tickets(assignee_id) -> users(id) ON DELETE SET NULL
	// tickets(requester_id) -> users(id) ON DELETE CASCADE
	// true sqldb: unique violation (table "users", column "email", code 2067): gdprkit: conflict
}

// ExampleDialect_Rebind shows the placeholders of each dialect.
func ExampleDialect_Rebind() {
	q := "SELECT id FROM tickets WHERE subject <> '?' AND requester_id = ? AND status = ?"
	fmt.Println(sqldb.Postgres.Rebind(q))
	fmt.Println(sqldb.MySQL.Rebind(q))
	fmt.Println(sqldb.MySQL.Quote("order"), sqldb.Postgres.Quote("order"))
	// Output:
	// SELECT id FROM tickets WHERE subject <> '?' AND requester_id = $1 AND status = $2
	// SELECT id FROM tickets WHERE subject <> '?' AND requester_id = ? AND status = ?
	// `order` "order"
}
