package retention_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
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
// Before the timer starts, the seeded tables are vacuumed and checkpointed
// (PostgreSQL) and the attachment files synced to disk, so that both sizes
// measure data as settled as a year-old account's; GDPRKIT_BENCH_DRAIN_UNSETTLED
// leaves the files unsynced. GDPRKIT_BENCH_DRAIN_STATS logs where the time
// went: the target's phases, PostgreSQL's buffer, WAL and bgwriter counters
// per ticket, the drain's statements from pg_stat_statements, and how long
// the checkpoint after the drain took.
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
				// Settle what was just seeded, as an account's tickets that
				// are a year old are settled: the tables vacuumed (hint bits,
				// visibility map, statistics) and checkpointed, and the
				// attachment files on disk. Unlinking a file whose data is
				// still only in the page cache (delayed allocation) costs
				// about a tenth of unlinking one whose blocks were written
				// (9 against 85-210 µs per file on the development VM's
				// ext4): without the sync a 20k drain, seeded in 4 s, removed
				// files that never reached the disk, while the 200k drain,
				// seeded in 30-60 s, found most of its files written back by
				// the kernel's 30 s flusher, which alone made it ~2x slower
				// per ticket. GDPRKIT_BENCH_DRAIN_UNSETTLED skips the sync
				// (the erasure file benchmarks sync the same way).
				if d == sqlstore.Postgres {
					for _, q := range []string{"VACUUM ANALYZE rt_tickets", "VACUUM ANALYZE rt_messages", "VACUUM ANALYZE rt_attachments", "CHECKPOINT"} {
						if _, err := db.ExecContext(ctx, q); err != nil {
							b.Fatalf("%s: %v", q, err)
						}
					}
				}
				if os.Getenv("GDPRKIT_BENCH_DRAIN_UNSETTLED") == "" {
					syscall.Sync()
				}
				b.Logf("seeded %d tickets, %d messages, %d files in %v", n, 10*n, n, time.Since(start).Round(time.Millisecond))
				stats := d == sqlstore.Postgres && os.Getenv("GDPRKIT_BENCH_DRAIN_STATS") != ""
				var before pgCounters
				if stats {
					var size string
					_ = db.QueryRow("SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c WHERE c.relname IN ('rt_tickets', 'rt_messages', 'rt_attachments') AND c.relnamespace = current_schema()::regnamespace").Scan(&size)
					b.Logf("the three tables and their indexes: %s; %s", size, dirtyMemory())
					resetStatements(b, db.DB)
					time.Sleep(1100 * time.Millisecond) // let backends flush their counters
					before = readPGCounters(b, db.DB)
				}
				if stats {
					target.phases = &targetPhases{}
				}
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
				if stats {
					b.Logf("target: %v; %s", target.phases, dirtyMemory())
					target.phases = nil
					time.Sleep(1100 * time.Millisecond)
					logPGDelta(b, before, readPGCounters(b, db.DB), n)
					logStatements(b, db.DB, n)
					// The buffers the drain dirtied and left for the next
					// checkpoint: their write is part of the drain's cost.
					t0 := time.Now()
					if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
						b.Fatal(err)
					}
					b.Logf("CHECKPOINT after the drain took %v", time.Since(t0).Round(time.Millisecond))
				}
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

// dirtyMemory is the kernel's Dirty and Writeback lines of /proc/meminfo:
// file data written but not yet on disk.
func dirtyMemory() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return ""
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Dirty:") || strings.HasPrefix(l, "Writeback:") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}
