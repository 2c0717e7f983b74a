package retention_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// pgCounters is a snapshot of PostgreSQL's server-wide I/O counters
// (pg_stat_database of the current database, pg_stat_bgwriter, pg_stat_wal)
// that BenchmarkDrainTickets logs as per-ticket deltas around a drain when
// GDPRKIT_BENCH_DRAIN_STATS is set: where a drain's time goes (blocks read
// from outside shared_buffers, dirty buffers a backend had to write itself,
// full-page images in the WAL) is what tells a slower drain's cause.
type pgCounters struct {
	names []string
	vals  []float64
}

const pgCountersQuery = `SELECT d.blks_hit, d.blks_read, d.tup_deleted,
	b.checkpoints_timed + b.checkpoints_req, b.buffers_checkpoint, b.buffers_clean, b.buffers_backend, b.buffers_alloc,
	w.wal_records, w.wal_fpi, w.wal_bytes, w.wal_buffers_full, w.wal_write, w.wal_sync
	FROM pg_stat_database d, pg_stat_bgwriter b, pg_stat_wal w WHERE d.datname = current_database()`

var pgCounterNames = []string{"blks_hit", "blks_read", "tup_deleted",
	"checkpoints", "buffers_checkpoint", "buffers_clean", "buffers_backend", "buffers_alloc",
	"wal_records", "wal_fpi", "wal_bytes", "wal_buffers_full", "wal_write", "wal_sync"}

func readPGCounters(tb testing.TB, db *sql.DB) pgCounters {
	tb.Helper()
	// The statistics collector's numbers are cached per transaction and
	// flushed by backends at most every second: clear the cache and wait.
	_, _ = db.Exec("SELECT pg_stat_clear_snapshot()")
	c := pgCounters{names: pgCounterNames, vals: make([]float64, len(pgCounterNames))}
	ptrs := make([]any, len(c.vals))
	for i := range c.vals {
		ptrs[i] = &c.vals[i]
	}
	if err := db.QueryRow(pgCountersQuery).Scan(ptrs...); err != nil {
		tb.Fatalf("pg counters: %v", err)
	}
	return c
}

// logPGDelta logs after-before per ticket.
func logPGDelta(tb testing.TB, before, after pgCounters, tickets int) {
	tb.Helper()
	var b strings.Builder
	for i, n := range before.names {
		d := after.vals[i] - before.vals[i]
		fmt.Fprintf(&b, " %s=%.0f (%.2f/ticket)", n, d, d/float64(tickets))
	}
	tb.Logf("server counters over the drain:%s", b.String())
}

// resetStatements clears pg_stat_statements (installed in the test
// database on the development server) so that the drain's statements can be
// listed on their own.
func resetStatements(tb testing.TB, db *sql.DB) {
	tb.Helper()
	if _, err := db.Exec("SELECT public.pg_stat_statements_reset()"); err != nil {
		tb.Logf("pg_stat_statements: %v (not installed?)", err)
	}
}

// logStatements logs the statements that took the most time since
// resetStatements, with their buffer and WAL counts per call.
func logStatements(tb testing.TB, db *sql.DB, tickets int) {
	tb.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 90), calls, total_exec_time,
		shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written, wal_fpi, wal_bytes
		FROM public.pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY total_exec_time DESC LIMIT 14`)
	if err != nil {
		tb.Logf("pg_stat_statements: %v", err)
		return
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var q string
		var calls int64
		var total, hit, read, dirtied, written, fpi, walBytes float64
		if err := rows.Scan(&q, &calls, &total, &hit, &read, &dirtied, &written, &fpi, &walBytes); err != nil {
			tb.Fatal(err)
		}
		c := float64(calls)
		fmt.Fprintf(&b, "\n  %8.0f ms %5.1f µs/ticket calls=%d per call: hit=%.1f read=%.1f dirtied=%.1f written=%.1f fpi=%.1f wal=%.0fB | %s",
			total, total*1000/float64(tickets), calls, hit/c, read/c, dirtied/c, written/c, fpi/c, walBytes/c, q)
	}
	tb.Logf("statements by time:%s", b.String())
}
