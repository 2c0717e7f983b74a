package erasure_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// physDDL is a host's tables for the physical-erasure tests: messages go
// with their ticket by ON DELETE CASCADE, so one of the touched tables is
// only known from the receipt's Cascaded lines.
var physDDL = []string{
	`CREATE TABLE ph_users (account_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, email VARCHAR(200) NULL, PRIMARY KEY (account_id, id))`,
	`CREATE TABLE ph_tickets (id BIGINT NOT NULL PRIMARY KEY, account_id VARCHAR(64) NOT NULL, requester_id VARCHAR(64) NULL, subject VARCHAR(200) NOT NULL)`,
	`CREATE INDEX ph_tickets_requester ON ph_tickets (account_id, requester_id, id)`,
	`CREATE TABLE ph_messages (id BIGINT NOT NULL PRIMARY KEY, ticket_id BIGINT NOT NULL, body TEXT NOT NULL, FOREIGN KEY (ticket_id) REFERENCES ph_tickets (id) ON DELETE CASCADE)`,
}

// physHost is the host around physDDL, with an erasure service whose
// physical steps the test chooses.
type physHost struct {
	db      *sql.DB
	d       sqldb.Dialect
	binding *sqltarget.Binding
	svc     *erasure.Service
}

func (h *physHost) Lookup(ctx context.Context, a gdprkit.AccountID, u gdprkit.SubjectID) (erasure.Subject, error) {
	if u == "admin" {
		return erasure.Subject{Role: gdprkit.RoleAdmin}, nil
	}
	var n int
	if err := h.db.QueryRowContext(ctx, h.d.Rebind("SELECT COUNT(*) FROM ph_users WHERE account_id = ? AND id = ?"), string(a), string(u)).Scan(&n); err != nil {
		return erasure.Subject{}, err
	}
	if n == 0 {
		return erasure.Subject{}, fmt.Errorf("user: %w", gdprkit.ErrNotFound)
	}
	return erasure.Subject{Role: gdprkit.RoleEndUser}, nil
}

func (h *physHost) Subjects(context.Context, gdprkit.AccountID, string, int) ([]gdprkit.SubjectID, string, error) {
	return nil, "", nil
}

// newPhysHost creates the tables in db (gdprkit's tables are migrated
// into the same database, as the example helpdesk keeps them), binds
// them and builds the service with the steps compact returns.
func newPhysHost(t *testing.T, db *sql.DB, d sqldb.Dialect, compact func(*sqltarget.Binding) []erasure.PhysicalStep) *physHost {
	t.Helper()
	st, err := sqlstore.New(db, d)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	for _, q := range physDDL {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	h := &physHost{db: db, d: d}
	h.binding, err = sqltarget.Bind(ctx, sqltarget.Config{DB: db, Dialect: d, Cascade: []string{"ph_messages"},
		Specs: []sqltarget.Spec{
			{Kind: erasure.KindEndUser, Table: "ph_users", Key: "id", SubjectColumn: "id", AccountColumn: "account_id"},
			{Kind: erasure.KindTicket, Parent: erasure.KindEndUser, Table: "ph_tickets", Key: "id", ParentColumn: "requester_id", AccountColumn: "account_id"},
		}})
	require.NoError(t, err)
	g, err := erasure.NewGraph(h.binding.Targets()...)
	require.NoError(t, err)
	ps, err := gdprkit.NewPseudonymizer(key)
	require.NoError(t, err)
	var steps []erasure.PhysicalStep
	if compact != nil {
		steps = compact(h.binding)
	}
	h.svc, err = erasure.New(erasure.Config{Store: st.Erasure(), Graph: g, Directory: h, Pseudonymizer: ps, Clock: fakeclock.New(t0), Physical: steps})
	require.NoError(t, err)
	return h
}

// seed gives user one ticket with three messages whose bodies carry text.
func (h *physHost) seed(t *testing.T, user, text string, firstID int64) {
	t.Helper()
	exec := func(q string, args ...any) {
		_, err := h.db.Exec(h.d.Rebind(q), args...)
		require.NoError(t, err, q)
	}
	exec("INSERT INTO ph_users (account_id, id, email) VALUES (?, ?, ?)", "acme", user, user+"@example.com")
	exec("INSERT INTO ph_tickets (id, account_id, requester_id, subject) VALUES (?, ?, ?, ?)", firstID, "acme", user, "Ticket of "+user)
	for i := range 3 {
		exec("INSERT INTO ph_messages (id, ticket_id, body) VALUES (?, ?, ?)", firstID+1+int64(i), firstID, fmt.Sprintf("message %d: %s", i, text))
	}
}

// erase files and runs the erasure of user and returns its receipt.
func (h *physHost) erase(t *testing.T, user gdprkit.SubjectID) erasure.Receipt {
	t.Helper()
	r, err := h.svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeErasure, Subject: user, By: "admin", Verified: true})
	require.NoError(t, err)
	found, err := h.svc.RunOnce(ctx, "w")
	require.NoError(t, err)
	require.True(t, found)
	rc, err := h.svc.Receipt(ctx, "acme", r.ID)
	require.NoError(t, err)
	return rc
}

// filesHolding returns which of the database's files (.db, -wal, -shm)
// contain needle.
func filesHolding(t *testing.T, path string, needle string) []string {
	t.Helper()
	var out []string
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		if bytes.Contains(b, []byte(needle)) {
			out = append(out, filepath.Base(path+suffix))
		}
	}
	return out
}

// On SQLite the erased text is gone from the raw bytes of the .db and
// -wal files only with both secure_delete (sqlstore.SQLiteDSN) and the
// checkpoint step: without the step it waits in the -wal file, without
// secure_delete the checkpoint moves it into the .db file's free space,
// where only a VACUUM (Full) removes it.
func TestSQLiteErasedTextLeavesTheDatabaseFiles(t *testing.T) {
	const secureDelete = "&_pragma=secure_delete(1)"
	for _, tc := range []struct {
		name   string
		secure bool
		steps  func(*sqltarget.Binding) []erasure.PhysicalStep
		gone   bool
		step   string
	}{
		{name: "secure_delete and the checkpoint step", secure: true, gone: true, step: "sqlite: wal_checkpoint(TRUNCATE)",
			steps: func(b *sqltarget.Binding) []erasure.PhysicalStep {
				return []erasure.PhysicalStep{b.Compact(sqltarget.CompactOptions{})}
			}},
		{name: "secure_delete without the step", secure: true, gone: false},
		{name: "the step without secure_delete", secure: false, gone: false, step: "sqlite: wal_checkpoint(TRUNCATE); secure_delete off",
			steps: func(b *sqltarget.Binding) []erasure.PhysicalStep {
				return []erasure.PhysicalStep{b.Compact(sqltarget.CompactOptions{})}
			}},
		{name: "VACUUM without secure_delete", secure: false, gone: true, step: "sqlite: VACUUM; wal_checkpoint(TRUNCATE); secure_delete off",
			steps: func(b *sqltarget.Binding) []erasure.PhysicalStep {
				return []erasure.PhysicalStep{b.Compact(sqltarget.CompactOptions{Full: true})}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "host.db")
			dsn := sqlstore.SQLiteDSN(path)
			require.Contains(t, dsn, secureDelete)
			if !tc.secure {
				dsn = strings.Replace(dsn, secureDelete, "", 1)
			}
			db, err := sql.Open("sqlite", dsn)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			var on int
			require.NoError(t, db.QueryRow("PRAGMA secure_delete").Scan(&on))
			require.Equal(t, tc.secure, on == 1, "secure_delete as the DSN says")

			h := newPhysHost(t, db, sqldb.SQLite, tc.steps)
			const secret, subject, keep = "QUAGGA-secret-7f3e91", "cust-okapi-5521", "KEEP-narwhal-2208"
			h.seed(t, subject, secret, 100)
			h.seed(t, "bystander", keep, 200)
			// The rows are in the files before the erasure (so the search can
			// find what it looks for).
			require.NotEmpty(t, filesHolding(t, path, secret))

			rc := h.erase(t, subject)
			var del int64
			for _, x := range rc.Targets {
				del += x.Deleted
			}
			require.EqualValues(t, 2, del, "the user and their ticket; the messages by cascade")
			var left int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM ph_messages WHERE body LIKE ?", "%"+secret+"%").Scan(&left))
			require.Zero(t, left)

			if tc.step == "" {
				assert.Empty(t, rc.Physical)
			} else {
				assert.Equal(t, []erasure.PhysicalResult{{Step: tc.step}}, rc.Physical)
			}
			found := filesHolding(t, path, secret)
			if tc.gone {
				assert.Empty(t, found, "the erased messages' text is in %v", found)
				assert.Empty(t, filesHolding(t, path, subject), "the subject's ID (request, job state) is gone after the run after the receipt")
				assert.Equal(t, []string{"host.db"}, filesHolding(t, path, keep), "the bystander's text is in the checkpointed .db file: the search works")
				fi, err := os.Stat(path + "-wal")
				require.NoError(t, err)
				assert.Zero(t, fi.Size(), "the checkpoint truncated the log")
			} else {
				assert.NotEmpty(t, found, "without this part of the remedy the erased text stays readable")
			}
		})
	}
}

// On PostgreSQL the step VACUUMs the tables the erasure touched — the
// bound ones and the one the database cascaded into — and on MySQL /
// MariaDB it OPTIMIZEs them; the receipt says so.
func TestServerCompactStepRecordsAndRuns(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		if d == sqldb.SQLite {
			continue
		}
		t.Run(string(d), func(t *testing.T) {
			db := testdb.Open(t, d)
			h := newPhysHost(t, db.DB, d, func(b *sqltarget.Binding) []erasure.PhysicalStep {
				return []erasure.PhysicalStep{b.Compact(sqltarget.CompactOptions{})}
			})
			h.seed(t, "ana", "text of ana", 100)
			h.seed(t, "bob", "text of bob", 200)
			rc := h.erase(t, "ana")
			want := map[sqldb.Dialect]string{sqldb.Postgres: "postgres: VACUUM ph_messages, ph_tickets, ph_users",
				sqldb.MySQL: "mysql: OPTIMIZE TABLE ph_messages, ph_tickets, ph_users"}[d]
			assert.Equal(t, []erasure.PhysicalResult{{Step: want}}, rc.Physical)
			if d != sqldb.Postgres {
				return
			}
			// The statistics collector reports the VACUUM shortly after.
			deadline := time.Now().Add(10 * time.Second)
			for {
				var vacuumed int
				require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM pg_stat_user_tables WHERE schemaname = current_schema()
					AND relname IN ('ph_users', 'ph_tickets', 'ph_messages') AND last_vacuum IS NOT NULL`).Scan(&vacuumed))
				if vacuumed == 3 {
					break
				}
				require.True(t, time.Now().Before(deadline), "only %d of 3 tables show a VACUUM", vacuumed)
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
