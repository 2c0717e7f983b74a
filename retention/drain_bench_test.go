package retention_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// BenchmarkDrainTickets drains N eligible closed tickets, each with 10
// messages and one attachment file, through the example-style SQL target
// (sqlTickets: one transaction per batch, files removed with their rows),
// with the journal, counters, audit and proof of disposition of every
// batch. One op is the whole drain: Run repeated until nothing is left.
// It runs on PostgreSQL when GDPRKIT_TEST_POSTGRES is set, else SQLite.
//
// N is 2,000 by default; GDPRKIT_BENCH_DRAIN lists other sizes
// ("20000,200000"), and GDPRKIT_BENCH_DRAIN_BACKGROUND adds that many
// tickets that are not due to the same tables first. Run each size in its own process to read its peak
// RSS (the MB-peak-RSS metric is the process's VmHWM):
//
//	GDPRKIT_BENCH_DRAIN=20000 go test ./retention -run '^$' -bench BenchmarkDrainTickets -benchtime 1x
//	GDPRKIT_BENCH_DRAIN=200000 go test ./retention -run '^$' -bench BenchmarkDrainTickets -benchtime 1x -timeout 60m
//
// With GDPRKIT_BENCH_DRAIN_VACUUM set, PostgreSQL tables are vacuumed
// between runs, inside the measured time, as autovacuum would do on a
// production server; without it a server with autovacuum off keeps every
// dead row, and each Find walks more of them.
func BenchmarkDrainTickets(b *testing.B) {
	sizes := []int{2000}
	if v := os.Getenv("GDPRKIT_BENCH_DRAIN"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				b.Fatalf("GDPRKIT_BENCH_DRAIN: bad size %q", f)
			}
			sizes = append(sizes, n)
		}
	}
	d := sqlstore.SQLite
	if ds := testdb.Dialects(b); len(ds) > 1 && ds[1] == sqlstore.Postgres {
		d = sqlstore.Postgres
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("%s/tickets=%d", d, n), func(b *testing.B) {
			st, db := testdb.OpenStore(b, d)
			target := newSQLTickets(b, db.DB, d, b.TempDir())
			ctx := context.Background()
			acct := gdprkit.AccountID("acct-bench")
			sch, err := retention.NewSchedules(retention.ScheduleConfig{Store: st.Retention(), Targets: targets{retention.KindTicket: target},
				MaxPerRun: 10000, MaxClockJump: -1})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := sch.AddRule(ctx, acct, retention.ClosedTickets(12), admin); err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			// GDPRKIT_BENCH_DRAIN_BACKGROUND tickets that are not due share
			// the tables: a drain of N in tables of N+background rows tells
			// the table size's cost from the drain length's.
			bg := 0
			if v := os.Getenv("GDPRKIT_BENCH_DRAIN_BACKGROUND"); v != "" {
				var err error
				bg, err = strconv.Atoi(v)
				if err != nil || bg < 0 {
					b.Fatalf("GDPRKIT_BENCH_DRAIN_BACKGROUND: bad count %q", v)
				}
				target.seed(b, acct, 1_000_000_000, bg, 10, func(int) time.Time { return now })
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				start := time.Now()
				target.seed(b, acct, i*n+1, n, 10, func(j int) time.Time { return now.AddDate(-2, 0, 0).Add(time.Duration(j) * time.Second) })
				if d == sqlstore.Postgres {
					_, _ = db.ExecContext(ctx, "VACUUM ANALYZE rt_tickets")
					_, _ = db.ExecContext(ctx, "VACUUM ANALYZE rt_messages")
					_, _ = db.ExecContext(ctx, "VACUUM ANALYZE rt_attachments")
					_, _ = db.ExecContext(ctx, "CHECKPOINT")
				}
				b.Logf("seeded %d tickets, %d messages, %d files in %v", n, 10*n, n, time.Since(start).Round(time.Millisecond))
				b.StartTimer()
				var removed int64
				var runTimes []string
				for {
					t0 := time.Now()
					rep, err := sch.Run(ctx, acct)
					if err != nil {
						b.Fatal(err)
					}
					runTimes = append(runTimes, time.Since(t0).Round(time.Millisecond).String())
					removed += rep.Removed
					if !rep.Capped {
						break
					}
					if d == sqlstore.Postgres && os.Getenv("GDPRKIT_BENCH_DRAIN_VACUUM") != "" {
						// What autovacuum does on a production server (it is
						// off on some test servers): the dead rows of the
						// runs so far go, inside the measured time.
						for _, tb := range []string{"rt_tickets", "rt_messages", "rt_attachments"} {
							if _, err := db.ExecContext(ctx, "VACUUM "+tb); err != nil {
								b.Fatal(err)
							}
						}
					}
				}
				b.StopTimer()
				b.Logf("runs of up to 10,000 tickets took %v", runTimes)
				if removed != int64(n) || target.count(b, "rt_tickets", acct) != int64(bg) || target.count(b, "rt_messages", acct) != int64(10*bg) || target.files(b, acct) != bg {
					b.Fatalf("removed %d of %d; left %d tickets, %d messages, %d files", removed, n,
						target.count(b, "rt_tickets", acct), target.count(b, "rt_messages", acct), target.files(b, acct))
				}
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/ticket")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tickets/s")
			b.ReportMetric(peakRSSMiB(), "MB-peak-RSS")
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapSys)/(1<<20), "MB-heap-sys")
		})
	}
}

// peakRSSMiB is the process's peak resident set (VmHWM), in MiB; 0 where
// /proc is missing.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
