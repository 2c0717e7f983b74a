// Package testdb opens real databases for tests: a temporary SQLite file
// always, PostgreSQL when GDPRKIT_TEST_POSTGRES holds a DSN, and MySQL or
// MariaDB when GDPRKIT_TEST_MYSQL does. Each call gets an empty namespace of
// its own (a fresh SQLite file, PostgreSQL schema or MySQL database) that is
// dropped when the test ends, so tests that scan globally (sweepers, job
// queues) never see each other's rows.
//
// When the environment variable CI is set and a DSN is missing, the test
// fails instead of skipping: CI must never pass by silently running less.
//
// It is internal: it imports the SQL drivers, which library packages never do.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"

	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Environment variables naming the databases.
const (
	EnvPostgres = "GDPRKIT_TEST_POSTGRES"
	EnvMySQL    = "GDPRKIT_TEST_MYSQL"
)

// DB is an open test database and its dialect.
type DB struct {
	*sql.DB
	Dialect sqldb.Dialect
	// DSN opens the same namespace again (for a second "process").
	DSN string
	// Driver is the database/sql driver name for DSN.
	Driver string
}

// Dialects lists the dialects available in this environment, SQLite first.
// Under CI it fails the test when PostgreSQL or MySQL is not configured.
func Dialects(t testing.TB) []sqldb.Dialect {
	t.Helper()
	ds := []sqldb.Dialect{sqldb.SQLite}
	for _, c := range []struct {
		env string
		d   sqldb.Dialect
	}{{EnvPostgres, sqldb.Postgres}, {EnvMySQL, sqldb.MySQL}} {
		if os.Getenv(c.env) != "" {
			ds = append(ds, c.d)
		} else if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is empty: the %s tests must run in CI", c.env, c.d)
		}
	}
	return ds
}

// Open returns a fresh, empty database of dialect d, or skips the test (fails
// it under CI) when d is not configured. The database is closed and its
// namespace dropped at the end of the test.
func Open(t testing.TB, d sqldb.Dialect) *DB {
	t.Helper()
	switch d {
	case sqldb.SQLite:
		return openSQLite(t)
	case sqldb.Postgres:
		return openPostgres(t, need(t, EnvPostgres))
	case sqldb.MySQL:
		return openMySQL(t, need(t, EnvMySQL))
	}
	t.Fatalf("testdb: unknown dialect %q", d)
	return nil
}

// OpenStore is Open followed by sqlstore.New and Migrate.
func OpenStore(t testing.TB, d sqldb.Dialect) (*sqlstore.Store, *DB) {
	t.Helper()
	db := Open(t, d)
	s, err := sqlstore.New(db.DB, d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return s, db
}

// Reopen opens a second connection pool onto db's namespace, as a second
// process would.
func Reopen(t testing.TB, db *DB) *sql.DB {
	t.Helper()
	other, err := sql.Open(db.Driver, db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	configure(other, db.Dialect)
	t.Cleanup(func() { other.Close() })
	return other
}

func need(t testing.TB, env string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is empty", env)
		}
		t.Skipf("%s not set; skipping (set it to a DSN to run this test)", env)
	}
	return dsn
}

func randName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func configure(db *sql.DB, d sqldb.Dialect) {
	switch d {
	case sqldb.SQLite:
		db.SetMaxOpenConns(8)
	default:
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
	}
	db.SetConnMaxIdleTime(time.Minute)
}

func openSQLite(t testing.TB) *DB {
	dsn := sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "gdprkit.db"))
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	configure(db, sqldb.SQLite)
	t.Cleanup(func() { db.Close() })
	return &DB{DB: db, Dialect: sqldb.SQLite, DSN: dsn, Driver: "sqlite"}
}

func openPostgres(t testing.TB, base string) *DB {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := randName("gdpr_t_")
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("postgres: %v (is %s right?)", err, EnvPostgres)
	}
	dsn := withParam(base, "search_path", schema)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	configure(db, sqldb.Postgres)
	t.Cleanup(func() {
		db.Close()
		a, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
			a.Close()
		}
	})
	return &DB{DB: db, Dialect: sqldb.Postgres, DSN: dsn, Driver: "pgx"}
}

// withParam adds a runtime parameter to a URL or key=value PostgreSQL DSN.
func withParam(dsn, k, v string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set(k, v)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " " + k + "=" + v
}

func openMySQL(t testing.TB, base string) *DB {
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("mysql: bad %s: %v", EnvMySQL, err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := randName("gdpr_t_")
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("mysql: %v (is %s right?)", err, EnvMySQL)
	}
	cfg.DBName = name
	dsn := cfg.FormatDSN()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	configure(db, sqldb.MySQL)
	t.Cleanup(func() {
		db.Close()
		c2, _ := mysql.ParseDSN(base)
		a, err := sql.Open("mysql", c2.FormatDSN())
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name)
			a.Close()
		}
	})
	return &DB{DB: db, Dialect: sqldb.MySQL, DSN: dsn, Driver: "mysql"}
}
