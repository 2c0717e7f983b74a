package retention_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// BenchmarkSweep measures one sweep of 1,000 due accounts among 100,000 and
// among 1,000,000 on SQLite and PostgreSQL (when GDPRKIT_TEST_POSTGRES is
// set). The goal is the 1,000,000 case within 1.5× of the 100,000 case: the
// sweeper finds due accounts through the next-due index, so the accounts
// that are not due cost nothing. Of those, half have no timer (NULL next
// due, as active accounts) and half are due in the future (trials).
//
// Each op: ClaimDue in batches of 100, and for each account trial →
// suspended (one transition stored) and the lease released. Between ops
// (timer stopped) the same 1,000 accounts are made due again.
//
//	go test ./retention -run '^$' -bench BenchmarkSweep -benchtime 5x
func BenchmarkSweep(b *testing.B) {
	dialects := []sqldb.Dialect{sqlstore.SQLite}
	if ds := testdb.Dialects(b); len(ds) > 1 && ds[1] == sqlstore.Postgres {
		dialects = append(dialects, sqlstore.Postgres)
	}
	for _, d := range dialects {
		b.Run(string(d), func(b *testing.B) {
			for _, total := range []int{100_000, 1_000_000} {
				st, db := testdb.OpenStore(b, d)
				now := t0.Add(1000 * day)
				due := seedAccounts(b, db, total, 1000, now)
				b.Run(fmt.Sprintf("accounts=%d", total), func(b *testing.B) {
					clock := fakeclock.New(now)
					svc, err := retention.New(retention.Config{Store: st.Retention(), Clock: clock})
					if err != nil {
						b.Fatal(err)
					}
					sw, err := retention.NewSweeper(retention.SweeperConfig{Service: svc, Owner: "bench", Batch: 100})
					if err != nil {
						b.Fatal(err)
					}
					ctx := context.Background()
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						makeDue(b, db, due, now)
						b.StartTimer()
						rep, err := sw.Sweep(ctx)
						if err != nil {
							b.Fatal(err)
						}
						if rep.Accounts != len(due) || rep.Transitions != len(due) {
							b.Fatalf("swept %+v, want %d accounts", rep, len(due))
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(due)), "µs/due-account")
				})
			}
		})
	}
}

func benchTime(d sqldb.Dialect, t time.Time) any {
	if d == sqlstore.SQLite {
		return t.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return t.UTC()
}

// seedAccounts inserts total lifecycle records straight into the table,
// 500 rows per INSERT and 5,000 per transaction; the first nDue are the
// accounts the benchmark sweeps.
func seedAccounts(b *testing.B, db *testdb.DB, total, nDue int, now time.Time) []gdprkit.AccountID {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
	d := db.Dialect
	const perStmt, perTx = 500, 5000
	due := make([]gdprkit.AccountID, 0, nDue)
	for txStart := 0; txStart < total; txStart += perTx {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for stmtStart := txStart; stmtStart < min(txStart+perTx, total); stmtStart += perStmt {
			var q strings.Builder
			q.WriteString("INSERT INTO gdpr_retention_accounts (account_id, state, since, version, next_due, pending, steps_at, attempts, lease_owner, lease_until, nothing_remains_at, created_at, updated_at) VALUES ")
			var args []any
			for i := stmtStart; i < min(stmtStart+perStmt, total); i++ {
				if i > stmtStart {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, 2, ?, '', NULL, 0, '', NULL, NULL, ?, ?)")
				var id, state string
				var since time.Time
				var next any
				switch {
				case i < nDue: // due: a trial that expired a day ago
					id, state, since = fmt.Sprintf("due-%07d", i), "trial", now.Add(-15*day)
					next = benchTime(d, now.Add(-day))
					due = append(due, gdprkit.AccountID(id))
				case i%2 == 0: // active: no timer
					id, state, since, next = fmt.Sprintf("acct-%07d", i), "active", now.Add(-100*day), nil
				default: // a trial due some time in the next 14 days
					id, state, since = fmt.Sprintf("acct-%07d", i), "trial", now.Add(-time.Duration(i%13)*day)
					next = benchTime(d, since.Add(14*day))
				}
				args = append(args, id, state, benchTime(d, since), next, benchTime(d, since), benchTime(d, since))
			}
			if _, err := tx.ExecContext(ctx, rebind(q.String(), d), args...); err != nil {
				b.Fatalf("seed: %v", err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	// Settle the table as a long-running database would be, so autovacuum
	// does not start on the fresh million rows in the middle of the timing.
	settle := "ANALYZE"
	if d == sqlstore.Postgres {
		settle = "VACUUM ANALYZE gdpr_retention_accounts"
	}
	if _, err := db.ExecContext(ctx, settle); err != nil {
		b.Fatal(err)
	}
	if d == sqlstore.Postgres {
		// Flush the seed's WAL now rather than in a checkpoint during the
		// timing. Needs superuser rights; without them, carry on.
		_, _ = db.ExecContext(ctx, "CHECKPOINT")
	}
	b.Logf("%s: seeded %d accounts in %v", d, total, time.Since(start).Round(time.Millisecond))
	return due
}

// rebind turns ? placeholders into $1, $2, … for PostgreSQL.
func rebind(q string, d sqldb.Dialect) string {
	if d != sqlstore.Postgres {
		return q
	}
	var out strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&out, "$%d", n)
			continue
		}
		out.WriteRune(c)
	}
	return out.String()
}

// makeDue puts the due accounts back into an expired trial.
func makeDue(b *testing.B, db *testdb.DB, due []gdprkit.AccountID, now time.Time) {
	b.Helper()
	d := db.Dialect
	args := []any{benchTime(d, now.Add(-15*day)), benchTime(d, now.Add(-day))}
	ph := make([]string, len(due))
	for i, a := range due {
		ph[i] = "?"
		args = append(args, string(a))
	}
	q := "UPDATE gdpr_retention_accounts SET state = 'trial', since = ?, next_due = ?, pending = '', steps_at = NULL, lease_owner = '', lease_until = NULL WHERE account_id IN (" + strings.Join(ph, ", ") + ")"
	res, err := db.ExecContext(context.Background(), rebind(q, d), args...)
	if err != nil {
		b.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(due)) {
		b.Fatalf("reset %d due accounts, want %d", n, len(due))
	}
}
