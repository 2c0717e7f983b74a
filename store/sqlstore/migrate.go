package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
)

//go:embed migrations
var migrationFS embed.FS

// Migrations returns the embedded migration files of dialect as an fs.FS
// holding files named NNNN_description.sql, for hosts that apply schemas with
// their own tool. Each file is a list of statements separated by lines that
// hold only "-- +statement".
func Migrations(d sqldb.Dialect) (fs.FS, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	return fs.Sub(migrationFS, path.Join("migrations", string(d)))
}

// Migration is one versioned schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Statements splits the migration into its statements.
func (m Migration) Statements() []string {
	var out []string
	for _, part := range strings.Split(m.SQL, "-- +statement") {
		if p := strings.TrimSpace(part); p != "" && !onlyComments(p) {
			out = append(out, p)
		}
	}
	return out
}

func onlyComments(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

// LoadMigrations returns dialect's migrations in version order.
func LoadMigrations(d sqldb.Dialect) ([]Migration, error) {
	fsys, err := Migrations(d)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: bad migration file name %q", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("sqlstore: migrations %q and %q share version %d", other, name, v)
		}
		seen[v] = name
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// Migrate applies every embedded migration not yet recorded in
// gdpr_schema_migrations, in version order. It is idempotent, and safe when
// several processes run it at once:
//
//   - PostgreSQL and SQLite run each migration in one transaction whose first
//     write inserts the version row, so a concurrent migrator blocks on that
//     row and then sees a duplicate key, rolls back, and moves on.
//   - MySQL commits DDL implicitly, so there the migrator holds the named
//     lock GET_LOCK('gdpr_migrate') for the run; statements are written to be
//     re-runnable (IF NOT EXISTS) in case a process died half-way.
//
// A store bound to the host's transaction (WithTx) refuses to migrate,
// with an error wrapping gdprkit.ErrInvalid.
func (s *Store) Migrate(ctx context.Context) error {
	if s.host != nil {
		return fmt.Errorf("sqlstore: Migrate on a store bound to a transaction (migrate before, on the unbound store): %w", gdprkit.ErrInvalid)
	}
	ms, err := LoadMigrations(s.d.Dialect)
	if err != nil {
		return err
	}
	if err := s.createMigrationsTable(ctx); err != nil {
		return err
	}
	if s.d.Dialect == MySQL {
		return s.migrateMySQL(ctx, ms)
	}
	for _, m := range ms {
		if err := s.applyTx(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// RefreshStatistics gathers the query planner's statistics for the gdpr_
// tables that never had any or changed by more than a tenth since
// (sqldb.RefreshStatistics), and returns their names. Call it now and then
// where PostgreSQL's autovacuum is off or slow to reach tables that fill
// quickly: without statistics the planner may look a session up by its
// hash through the account's index and read every session of the account,
// which gets slower as they grow. On SQLite and MySQL it does nothing.
// A store bound to a transaction refuses, with an error wrapping
// gdprkit.ErrInvalid (ANALYZE is not part of the host's transaction).
func (s *Store) RefreshStatistics(ctx context.Context) ([]string, error) {
	if s.host != nil {
		return nil, fmt.Errorf("sqlstore: RefreshStatistics on a store bound to a transaction: %w", gdprkit.ErrInvalid)
	}
	return sqldb.RefreshStatistics(ctx, s.pool, s.d.Dialect, "gdpr_")
}

func (s *Store) createMigrationsTable(ctx context.Context) error {
	ddl := `CREATE TABLE IF NOT EXISTS gdpr_schema_migrations (
	version INTEGER NOT NULL PRIMARY KEY,
	name VARCHAR(200) NOT NULL,
	applied_at VARCHAR(40) NOT NULL
)`
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if _, err = s.db.ExecContext(ctx, ddl); err == nil {
			return nil
		}
		// Two PostgreSQL sessions creating the same table at once: one loses
		// with a unique violation on the catalog (23505) or with "relation
		// already exists" (42P07), IF NOT EXISTS notwithstanding. Look again:
		// the next attempt sees the winner's table.
		if !isConflict(err) && !sqldb.Retryable(err) && !duplicateObject(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return mapErr(err, "create gdpr_schema_migrations")
}

func (s *Store) applied(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT version FROM gdpr_schema_migrations")
	if err != nil {
		return nil, mapErr(err, "read migrations")
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, mapErr(err, "read migrations")
		}
		done[v] = true
	}
	return done, mapErr(rows.Err(), "read migrations")
}

func (s *Store) applyTx(ctx context.Context, m Migration) error {
	for attempt := 0; ; attempt++ {
		done, err := s.applied(ctx, s.pool)
		if err != nil {
			return err
		}
		if done[m.Version] {
			return nil
		}
		err = s.tryTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO gdpr_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
				m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)); err != nil {
				return err
			}
			for _, st := range m.Statements() {
				if _, err := tx.ExecContext(ctx, st); err != nil {
					return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
				}
			}
			return nil
		})
		if err == nil {
			return nil
		}
		if (isConflict(err) || sqldb.Retryable(err)) && attempt < 20 {
			// Another process applied (or is applying) it; look again.
			time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
			continue
		}
		return mapErr(err, fmt.Sprintf("apply migration %04d", m.Version))
	}
}

func (s *Store) migrateMySQL(ctx context.Context, ms []Migration) (err error) {
	conn, err := s.pool.Conn(ctx)
	if err != nil {
		return mapErr(err, "migrate")
	}
	defer conn.Close()
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('gdpr_migrate', 60)").Scan(&got); err != nil {
		return mapErr(err, "migrate lock")
	}
	if !got.Valid || got.Int64 != 1 {
		return errors.New("sqlstore: timed out waiting for the migration lock gdpr_migrate")
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('gdpr_migrate')")
	}()
	done, err := s.applied(ctx, conn)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		for _, st := range m.Statements() {
			if _, err := conn.ExecContext(ctx, st); err != nil && !mysqlAlreadyDone(err) {
				return fmt.Errorf("sqlstore: migration %04d_%s: %w", m.Version, m.Name, sqldb.Classify(err))
			}
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO gdpr_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return mapErr(err, "record migration")
		}
	}
	return nil
}
