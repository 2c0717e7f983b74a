package sqldb_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// secret is the value every provoked error must not repeat.
const secret = "secret-key-value-42"

func errorsDDL(d sqldb.Dialect) []string {
	out := []string{
		`CREATE TABLE parent (
	id INTEGER NOT NULL PRIMARY KEY,
	code VARCHAR(40) NOT NULL,
	note TEXT,
	CONSTRAINT uq_parent_code UNIQUE (code)
)`,
		`CREATE TABLE child (
	id INTEGER NOT NULL PRIMARY KEY,
	parent_id INTEGER NOT NULL,
	label VARCHAR(5),
	n INTEGER,
	CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE RESTRICT
)`,
	}
	if d == sqldb.SQLite {
		// SQLite checks types only in STRICT tables.
		out = append(out, `CREATE TABLE nums (n INTEGER) STRICT`)
	}
	return out
}

// classified checks what every classified error must be: the class, the
// reason, no value in the text, and the driver's error still reachable.
func classified(t *testing.T, d sqldb.Dialect, err error, class error, reason sqldb.Reason) *sqldb.Error {
	t.Helper()
	require.Error(t, err)
	raw := err
	err = sqldb.Classify(err)
	require.ErrorIs(t, err, class, "%v", raw)
	assert.NotContains(t, err.Error(), secret)
	var e *sqldb.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, reason, e.Reason, "%v", raw)
	assert.NotEmpty(t, e.Code)
	switch d {
	case sqldb.Postgres:
		var pe *pgconn.PgError
		assert.ErrorAs(t, err, &pe, "the driver's error stays reachable")
	case sqldb.MySQL:
		var me *mysql.MySQLError
		assert.ErrorAs(t, err, &me)
	case sqldb.SQLite:
		var se *sqlite.Error
		assert.ErrorAs(t, err, &se)
	}
	assert.Same(t, err, sqldb.Classify(err), "classifying twice changes nothing")
	return e
}

func TestClassifyRealErrors(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			ctx := context.Background()
			exec(t, db.DB, errorsDDL(d)...)
			ins := func(q string, args ...any) error {
				_, err := db.ExecContext(ctx, d.Rebind(q), args...)
				return err
			}
			require.NoError(t, ins("INSERT INTO parent (id, code) VALUES (?, ?)", 1, secret))
			require.NoError(t, ins("INSERT INTO child (id, parent_id) VALUES (?, ?)", 1, 1))

			t.Run("unique", func(t *testing.T) {
				e := classified(t, d, ins("INSERT INTO parent (id, code) VALUES (?, ?)", 2, secret), gdprkit.ErrConflict, sqldb.ReasonUnique)
				if d == sqldb.SQLite {
					assert.Equal(t, "parent", e.Table)
					assert.Equal(t, "code", e.Column)
					assert.Equal(t, `sqldb: unique violation (table "parent", column "code", code 2067): gdprkit: conflict`, e.Error())
				} else {
					assert.Equal(t, "uq_parent_code", e.Constraint)
				}
				e = classified(t, d, ins("INSERT INTO parent (id, code) VALUES (?, ?)", 1, "other"), gdprkit.ErrConflict, sqldb.ReasonUnique)
				if d != sqldb.SQLite {
					assert.NotEmpty(t, e.Constraint, "the primary key")
				}
			})
			t.Run("foreign key on insert", func(t *testing.T) {
				e := classified(t, d, ins("INSERT INTO child (id, parent_id, label) VALUES (?, ?, ?)", 2, 999, "x"), gdprkit.ErrConflict, sqldb.ReasonForeignKey)
				if d != sqldb.SQLite {
					assert.Equal(t, "fk_child_parent", e.Constraint)
					assert.Equal(t, "child", e.Table)
				}
				if d == sqldb.Postgres {
					assert.Equal(t, `sqldb: foreign key violation (constraint "fk_child_parent", table "child", code 23503): gdprkit: conflict`, e.Error())
				}
			})
			t.Run("foreign key on delete", func(t *testing.T) {
				e := classified(t, d, ins("DELETE FROM parent WHERE code = ?", secret), gdprkit.ErrConflict, sqldb.ReasonForeignKey)
				if d != sqldb.SQLite {
					assert.Equal(t, "fk_child_parent", e.Constraint)
					assert.Equal(t, "child", e.Table, "the table that owns the constraint")
				}
			})
			t.Run("not null", func(t *testing.T) {
				e := classified(t, d, ins("INSERT INTO parent (id, code, note) VALUES (?, ?, ?)", 3, nil, secret), gdprkit.ErrConflict, sqldb.ReasonNotNull)
				assert.Equal(t, "code", e.Column)
				if d != sqldb.MySQL {
					assert.Equal(t, "parent", e.Table)
				}
			})
			t.Run("too long", func(t *testing.T) {
				err := ins("INSERT INTO child (id, parent_id, label) VALUES (?, ?, ?)", 4, 1, secret)
				if d == sqldb.SQLite {
					assert.NoError(t, err, "SQLite does not enforce VARCHAR(n)")
					return
				}
				e := classified(t, d, err, gdprkit.ErrInvalid, sqldb.ReasonTooLong)
				if d == sqldb.MySQL {
					assert.Equal(t, "label", e.Column)
				}
			})
			t.Run("bad integer", func(t *testing.T) {
				q := "INSERT INTO child (id, parent_id, n) VALUES (?, ?, ?)"
				if d == sqldb.SQLite {
					q = "INSERT INTO nums (n) VALUES (?)"
					e := classified(t, d, ins(q, secret), gdprkit.ErrInvalid, sqldb.ReasonBadValue)
					assert.Equal(t, "nums", e.Table)
					assert.Equal(t, "n", e.Column)
					return
				}
				e := classified(t, d, ins(q, 5, 1, secret), gdprkit.ErrInvalid, sqldb.ReasonBadValue)
				if d == sqldb.MySQL {
					assert.Equal(t, "n", e.Column)
					assert.Equal(t, "child", e.Table)
				}
			})
			t.Run("lock timeout", func(t *testing.T) {
				err := lockTimeout(t, db, d)
				classified(t, d, err, gdprkit.ErrUnavailable, map[sqldb.Dialect]sqldb.Reason{
					sqldb.Postgres: sqldb.ReasonLockTimeout, sqldb.MySQL: sqldb.ReasonLockTimeout, sqldb.SQLite: sqldb.ReasonBusy}[d])
				assert.True(t, sqldb.Retryable(err))
				assert.True(t, sqldb.Retryable(fmt.Errorf("wrapped: %w", sqldb.Classify(err))))
			})
			if d != sqldb.SQLite {
				t.Run("deadlock", func(t *testing.T) {
					err := deadlock(t, db, d)
					classified(t, d, err, gdprkit.ErrUnavailable, sqldb.ReasonDeadlock)
					assert.True(t, sqldb.Retryable(err))
				})
			}
			t.Run("cancelled context", func(t *testing.T) {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err := db.ExecContext(cctx, d.Rebind("INSERT INTO parent (id, code) VALUES (?, ?)"), 9, secret)
				c := sqldb.Classify(err)
				assert.ErrorIs(t, c, gdprkit.ErrUnavailable)
				assert.ErrorIs(t, c, context.Canceled, "the cause stays visible")
				assert.False(t, sqldb.Retryable(err))
				var n int
				require.NoError(t, db.QueryRow(d.Rebind("SELECT COUNT(*) FROM parent WHERE id = ?"), 9).Scan(&n))
				assert.Zero(t, n)
			})
			t.Run("deadline during a statement", func(t *testing.T) {
				sleep := map[sqldb.Dialect]string{sqldb.Postgres: "SELECT pg_sleep(5)", sqldb.MySQL: "SELECT SLEEP(5)",
					sqldb.SQLite: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"}[d]
				dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
				defer cancel()
				_, err := db.ExecContext(dctx, sleep)
				assert.ErrorIs(t, sqldb.Classify(err), gdprkit.ErrUnavailable, "%v", err)
			})
			t.Run("closed database", func(t *testing.T) {
				other := testdb.Reopen(t, db)
				require.NoError(t, other.Close())
				_, err := other.ExecContext(ctx, "SELECT 1")
				require.Error(t, err)
				c := sqldb.Classify(err)
				assert.ErrorIs(t, c, gdprkit.ErrUnavailable, "%v", err)
				assert.Equal(t, "sqldb: connection failure: gdprkit: storage unavailable", c.Error())
			})
		})
	}
}

// lockTimeout holds a row lock in one transaction and makes another wait
// for it with a short timeout.
func lockTimeout(t *testing.T, db *testdb.DB, d sqldb.Dialect) error {
	ctx := context.Background()
	if d == sqldb.SQLite {
		// A second pool on the same file without a busy timeout.
		other, err := sql.Open("sqlite", "file:"+sqliteFile(t, db)+"?_pragma=busy_timeout(0)")
		require.NoError(t, err)
		defer other.Close()
		tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		_, err = tx.ExecContext(ctx, "UPDATE parent SET note = 'held' WHERE id = 1")
		require.NoError(t, err)
		_, err = other.ExecContext(ctx, "UPDATE parent SET note = ? WHERE id = 1", secret)
		return err
	}
	holder, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = holder.Rollback() }()
	_, err = holder.ExecContext(ctx, "UPDATE parent SET note = 'held' WHERE id = 1")
	require.NoError(t, err)
	waiter, err := db.Conn(ctx)
	require.NoError(t, err)
	defer waiter.Close()
	setTimeout := map[sqldb.Dialect]string{sqldb.Postgres: "SET lock_timeout = '100ms'", sqldb.MySQL: "SET SESSION innodb_lock_wait_timeout = 1"}[d]
	_, err = waiter.ExecContext(ctx, setTimeout)
	require.NoError(t, err)
	defer func() { // the connection goes back to the pool
		reset := map[sqldb.Dialect]string{sqldb.Postgres: "RESET lock_timeout", sqldb.MySQL: "SET SESSION innodb_lock_wait_timeout = DEFAULT"}[d]
		_, err := waiter.ExecContext(ctx, reset)
		require.NoError(t, err)
	}()
	_, err = waiter.ExecContext(ctx, d.Rebind("UPDATE parent SET note = ? WHERE id = 1"), secret)
	return err
}

// sqliteFile finds the file behind a testdb SQLite database.
func sqliteFile(t *testing.T, db *testdb.DB) string {
	var seq int
	var name, file string
	require.NoError(t, db.QueryRow("SELECT seq, name, file FROM pragma_database_list WHERE name = 'main'").Scan(&seq, &name, &file))
	require.True(t, filepath.IsAbs(file), file)
	return file
}

// deadlock makes two transactions lock two rows in opposite orders.
func deadlock(t *testing.T, db *testdb.DB, d sqldb.Dialect) error {
	ctx := context.Background()
	exec(t, db.DB, d.Rebind("INSERT INTO parent (id, code) VALUES (100, 'a'), (101, 'b')"))
	txs := make([]*sql.Tx, 2)
	for i := range txs {
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		_, err = tx.ExecContext(ctx, d.Rebind("UPDATE parent SET note = ? WHERE id = ?"), secret, 100+i)
		require.NoError(t, err)
		txs[i] = tx
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range txs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				time.Sleep(50 * time.Millisecond) // let the first one wait first
			}
			_, errs[i] = txs[i].ExecContext(ctx, d.Rebind("UPDATE parent SET note = ? WHERE id = ?"), secret, 101-i)
			if errs[i] != nil {
				_ = txs[i].Rollback() // free the other one
			}
		}()
	}
	wg.Wait()
	require.False(t, errs[0] != nil && errs[1] != nil, "only one victim: %v / %v", errs[0], errs[1])
	if errs[0] != nil {
		return errs[0]
	}
	return errs[1]
}

// TestClassifyUnreachableServers dials ports where nothing listens.
func TestClassifyUnreachableServers(t *testing.T) {
	for driverName, dsn := range map[string]string{
		"pgx":   "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
		"mysql": "root@tcp(127.0.0.1:1)/test?timeout=2s",
	} {
		t.Run(driverName, func(t *testing.T) {
			db, err := sql.Open(driverName, dsn)
			require.NoError(t, err)
			defer db.Close()
			err = db.PingContext(context.Background())
			require.Error(t, err)
			c := sqldb.Classify(err)
			assert.ErrorIs(t, c, gdprkit.ErrUnavailable, "%v", err)
			var e *sqldb.Error
			require.ErrorAs(t, c, &e)
			assert.Equal(t, sqldb.ReasonConnection, e.Reason)
		})
	}
}

func TestClassifyLeavesOtherErrorsAlone(t *testing.T) {
	assert.NoError(t, sqldb.Classify(nil))
	plain := errors.New("something else")
	assert.Same(t, plain, sqldb.Classify(plain))
	mapped := fmt.Errorf("user %q: %w", "u1", gdprkit.ErrNotFound)
	assert.Same(t, mapped, sqldb.Classify(mapped), "already carries a sentinel")
	assert.False(t, sqldb.Retryable(nil))
	assert.False(t, sqldb.Retryable(plain))

	for name, err := range map[string]error{
		"bad conn":         driver.ErrBadConn,
		"conn done":        fmt.Errorf("x: %w", sql.ErrConnDone),
		"unexpected EOF":   io.ErrUnexpectedEOF,
		"deadline":         context.DeadlineExceeded,
		"mysql invalid":    errors.New("invalid connection"),
		"mysql 2006":       errors.New("Error 2006 (HY000): MySQL server has gone away"),
		"mysql 1213":       fmt.Errorf("tx: %w", errors.New("Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction")),
		"joined":           errors.Join(errors.New("a"), errors.New("Error 1205 (HY000): Lock wait timeout exceeded; try restarting transaction")),
		"pg 57P01":         fakePg{"57P01", "terminating connection due to administrator command"},
		"pg 08006":         fakePg{"08006", "connection failure"},
		"sqlite full":      fakeLite{13, "database or disk is full (13)"},
		"sqlite ioerr ext": fakeLite{10 | 12<<8, "disk I/O error (3338)"},
	} {
		assert.ErrorIs(t, sqldb.Classify(err), gdprkit.ErrUnavailable, name)
	}
}

// TestClassifyReadsNamesNotValues feeds the messages of the drivers as
// they print them, values included, and checks what is kept.
func TestClassifyReadsNamesNotValues(t *testing.T) {
	cases := []struct {
		err                       error
		class                     error
		reason                    sqldb.Reason
		constraint, table, column string
	}{
		{errors.New("Error 1062 (23000): Duplicate entry '" + secret + "' for key 'PRIMARY'"), gdprkit.ErrConflict, sqldb.ReasonUnique, "PRIMARY", "", ""},
		{errors.New("Error 1062 (23000): Duplicate entry '" + secret + "' for key 'users.uq_email'"), gdprkit.ErrConflict, sqldb.ReasonUnique, "uq_email", "users", ""},
		{errors.New("Error 1062 (23000): Duplicate entry 'x' for key 'y' for key 'k'"), gdprkit.ErrConflict, sqldb.ReasonUnique, "k", "", ""},
		{errors.New("Error 1452 (23000): Cannot add or update a child row: a foreign key constraint fails (`db`.`article`, CONSTRAINT `fk_article_ticket` FOREIGN KEY (`ticket_id`) REFERENCES `ticket` (`id`) ON DELETE CASCADE)"), gdprkit.ErrConflict, sqldb.ReasonForeignKey, "fk_article_ticket", "article", ""},
		{errors.New("Error 1451 (23000): Cannot delete or update a parent row: a foreign key constraint fails (`db`.`article`, CONSTRAINT `fk``x` FOREIGN KEY (`ticket_id`) REFERENCES `ticket` (`id`))"), gdprkit.ErrConflict, sqldb.ReasonForeignKey, "fk", "article", ""},
		{errors.New("Error 1048 (23000): Column 'email' cannot be null"), gdprkit.ErrConflict, sqldb.ReasonNotNull, "", "", "email"},
		{errors.New("Error 4025 (23000): CONSTRAINT `meta` failed for `db`.`tickets`"), gdprkit.ErrConflict, sqldb.ReasonCheck, "meta", "tickets", ""},
		{errors.New("Error 3819 (HY000): Check constraint 'chk_age' is violated."), gdprkit.ErrConflict, sqldb.ReasonCheck, "chk_age", "", ""},
		{errors.New("Error 1366 (22007): Incorrect integer value: '" + secret + "' for column 'n' at row 1"), gdprkit.ErrInvalid, sqldb.ReasonBadValue, "", "", "n"},
		{errors.New("Error 1366 (22007): Incorrect integer value: '" + secret + " for column `x`' for column `db`.`t`.`n` at row 7"), gdprkit.ErrInvalid, sqldb.ReasonBadValue, "", "t", "n"},
		{errors.New("Error 1406 (22001): Data too long for column 'label' at row 1"), gdprkit.ErrInvalid, sqldb.ReasonTooLong, "", "", "label"},
		{errors.New("Error 1264 (22003): Out of range value for column 'n' at row 1"), gdprkit.ErrInvalid, sqldb.ReasonOutOfRange, "", "", "n"},
		{fakePg{"23505", `ERROR: duplicate key value violates unique constraint "users_email_key" (SQLSTATE 23505)`}, gdprkit.ErrConflict, sqldb.ReasonUnique, "users_email_key", "", ""},
		{fakePg{"23503", `ERROR: update or delete on table "ticket" violates foreign key constraint "fk_article_ticket" on table "article" (SQLSTATE 23503)`}, gdprkit.ErrConflict, sqldb.ReasonForeignKey, "fk_article_ticket", "article", ""},
		{fakePg{"23502", `ERROR: null value in column "email" of relation "users" violates not-null constraint (SQLSTATE 23502)`}, gdprkit.ErrConflict, sqldb.ReasonNotNull, "", "users", "email"},
		{fakePg{"22P02", `ERROR: invalid input syntax for type integer: "constraint \"` + secret + `\"" (SQLSTATE 22P02)`}, gdprkit.ErrInvalid, sqldb.ReasonBadValue, "", "", ""},
		{fakeLite{2067, "constraint failed: UNIQUE constraint failed: users.account, users.email (2067)"}, gdprkit.ErrConflict, sqldb.ReasonUnique, "", "users", "account, email"},
		{fakeLite{275, "constraint failed: CHECK constraint failed: chk_len (275)"}, gdprkit.ErrConflict, sqldb.ReasonCheck, "chk_len", "", ""},
		{fakeLite{787, "constraint failed: FOREIGN KEY constraint failed (787)"}, gdprkit.ErrConflict, sqldb.ReasonForeignKey, "", "", ""},
	}
	for _, c := range cases {
		got := sqldb.Classify(fmt.Errorf("wrapped: %w", c.err))
		require.ErrorIs(t, got, c.class, c.err.Error())
		var e *sqldb.Error
		require.ErrorAs(t, got, &e)
		assert.Equal(t, c.reason, e.Reason, c.err.Error())
		assert.Equal(t, c.constraint, e.Constraint, c.err.Error())
		assert.Equal(t, c.table, e.Table, c.err.Error())
		assert.Equal(t, c.column, e.Column, c.err.Error())
		assert.NotContains(t, got.Error(), secret)
		assert.NotContains(t, got.Error(), "wrapped")
	}
}

type fakePg struct{ state, msg string }

func (e fakePg) Error() string    { return e.msg }
func (e fakePg) SQLState() string { return e.state }

type fakeLite struct {
	code int
	msg  string
}

func (e fakeLite) Error() string { return e.msg }
func (e fakeLite) Code() int     { return e.code }

// FuzzClassify feeds arbitrary text as every kind of driver error: Classify
// must not panic, and what it returns must wrap its Class.
func FuzzClassify(f *testing.F) {
	f.Add("Error 1062 (23000): Duplicate entry 'a' for key 'b'", "23505", 2067)
	f.Add("Error 1451: a foreign key constraint fails (`", "23503", 787)
	f.Add("Error 1366 (22007): x for column `a`.`b", "22P02", 3091)
	f.Add("UNIQUE constraint failed: a", "2", 19)
	f.Add("CONSTRAINT `x` failed for `", "", -1)
	f.Fuzz(func(t *testing.T, msg, state string, code int) {
		for _, err := range []error{
			errors.New(msg),
			fmt.Errorf("w: %w", errors.New(msg)),
			errors.Join(errors.New(msg), nil),
			fakePg{state, msg},
			fmt.Errorf("w: %w", fakePg{state, msg}),
			fakeLite{code, msg},
			fakeLite{code, "constraint failed: " + msg + " (19)"},
		} {
			got := sqldb.Classify(err)
			require.NotNil(t, got)
			var e *sqldb.Error
			if errors.As(got, &e) {
				require.ErrorIs(t, got, e.Class)
				_ = e.Error()
				require.Same(t, got, sqldb.Classify(got))
			}
			_ = sqldb.Retryable(err)
		}
	})
}
