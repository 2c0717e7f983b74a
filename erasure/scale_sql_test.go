package erasure_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// The scale tests of issue 22 run workers as child processes of the test
// binary (TestScaleWorkerHelper), so a worker can be killed with SIGKILL
// and two can share one queue as two servers would. They take minutes,
// so they run only with GDPRKIT_TEST_SCALE=1 (and never with -short).
const (
	envScale        = "GDPRKIT_TEST_SCALE"
	envScaleChild   = "GDPRKIT_SCALE_CHILD"
	envScaleDSN     = "GDPRKIT_SCALE_DSN"
	envScaleDriver  = "GDPRKIT_SCALE_DRIVER"
	envScaleDialect = "GDPRKIT_SCALE_DIALECT"
	envScaleBlobs   = "GDPRKIT_SCALE_BLOBS"
	envScaleOut     = "GDPRKIT_SCALE_OUT"
	envScaleOwner   = "GDPRKIT_SCALE_OWNER"
	envScaleLease   = "GDPRKIT_SCALE_LEASE"
)

// scaleLease is the workers' lease: short, so a killed worker's job is
// free again soon; every checkpoint renews it.
const scaleLease = 3 * time.Second

func needScale(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a scale test: minutes long")
	}
	if os.Getenv(envScale) == "" {
		t.Skipf("set %s=1 to run the scale tests (minutes long)", envScale)
	}
}

// scaleDialects are the server databases configured (the scale tests are
// about PostgreSQL and MariaDB).
func scaleDialects(t *testing.T) []sqldb.Dialect {
	var out []sqldb.Dialect
	for _, d := range testdb.Dialects(t) {
		if d != sqlstore.SQLite {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		t.Skip("set GDPRKIT_TEST_POSTGRES or GDPRKIT_TEST_MYSQL")
	}
	return out
}

// scaleService is an erasure service over the host's tables on the real
// clock, as a server process has it.
func scaleService(tb testing.TB, st erasure.Store, h *sqlHost) *erasure.Service {
	tb.Helper()
	lease := scaleLease
	if d, err := time.ParseDuration(os.Getenv(envScaleLease)); err == nil {
		lease = d // the burst's workers: the default lease, as a server has it
	}
	g, err := erasure.NewGraph(h.targets...)
	require.NoError(tb, err)
	ps, err := gdprkit.NewPseudonymizer(key)
	require.NoError(tb, err)
	svc, err := erasure.New(erasure.Config{Store: st, Graph: g, Directory: h, Pseudonymizer: ps, Lease: lease})
	require.NoError(tb, err)
	return svc
}

// TestScaleWorkerHelper is a worker process of the scale tests: it runs
// erasure jobs until the queue has been empty for two seconds (or it is
// killed), appending "<unix nanos> ok|err <error>" to its out file after
// each run and writing its peak heap in use to <out>.peak every 100 ms.
func TestScaleWorkerHelper(t *testing.T) {
	if os.Getenv(envScaleChild) == "" {
		t.Skip("a worker process of the scale tests")
	}
	d := sqldb.Dialect(os.Getenv(envScaleDialect))
	db, err := sql.Open(os.Getenv(envScaleDriver), os.Getenv(envScaleDSN))
	require.NoError(t, err)
	defer db.Close()
	st, err := sqlstore.New(db, d)
	require.NoError(t, err)
	h := bindSQLHost(t, db, d, os.Getenv(envScaleBlobs))
	svc := scaleService(t, st.Erasure(), h)
	out, err := os.OpenFile(os.Getenv(envScaleOut), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer out.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		var peak uint64
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			if i%10 == 0 {
				_ = os.WriteFile(os.Getenv(envScaleOut)+".peak", []byte(strconv.FormatUint(peak, 10)), 0o644)
			}
		}
	}()
	owner := os.Getenv(envScaleOwner)
	// A worker takes jobs as Work does: in batches that share their
	// verify pass (GDPRKIT_SCALE_BATCH=1 verifies each alone).
	batch := 16
	if n, err := strconv.Atoi(os.Getenv("GDPRKIT_SCALE_BATCH")); err == nil && n > 0 {
		batch = n
	}
	idleSince := time.Now()
	for time.Since(idleSince) < 2*time.Second {
		runs, err := svc.RunBatch(context.Background(), owner, batch)
		if err != nil || len(runs) == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		for _, r := range runs {
			line := fmt.Sprintf("%d ok\n", time.Now().UnixNano())
			if r.Err != nil {
				line = fmt.Sprintf("%d err %s\n", time.Now().UnixNano(), strings.ReplaceAll(r.Err.Error(), "\n", " "))
			}
			_, _ = out.WriteString(line)
		}
		idleSince = time.Now()
	}
}

// worker is a running worker process.
type worker struct {
	cmd *exec.Cmd
	out string
}

func startWorker(t *testing.T, db *testdb.DB, blobs, owner string) *worker {
	t.Helper()
	out := filepath.Join(t.TempDir(), owner+".log")
	args := []string{"-test.run=^TestScaleWorkerHelper$", "-test.timeout=60m"}
	if dir := os.Getenv("GDPRKIT_SCALE_TRACE"); dir != "" {
		// An execution trace of each worker, to see where a job waits
		// (go tool trace -pprof=net).
		args = append(args, "-test.trace="+filepath.Join(dir, owner+".trace"))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envScaleChild+"=1", envScaleDSN+"="+db.DSN, envScaleDriver+"="+db.Driver,
		envScaleDialect+"="+string(db.Dialect), envScaleBlobs+"="+blobs, envScaleOut+"="+out, envScaleOwner+"="+owner)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	return &worker{cmd: cmd, out: out}
}

// runs returns the end times of the worker's runs and their errors.
func (w *worker) runs(t *testing.T) (ends []time.Time, errs []string) {
	t.Helper()
	b, err := os.ReadFile(w.out)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(l, " ", 3)
		if len(f) < 2 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		ends = append(ends, time.Unix(0, ns))
		if f[1] == "err" && len(f) == 3 {
			errs = append(errs, f[2])
		}
	}
	return ends, errs
}

// peakMiB is the worker's peak heap in use so far.
func (w *worker) peakMiB() float64 {
	b, _ := os.ReadFile(w.out + ".peak")
	n, _ := strconv.ParseUint(string(b), 10, 64)
	return float64(n) / (1 << 20)
}

func progressLine(j erasure.JobInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d/%d", j.Status, j.Done, j.Planned)
	if j.Remaining > 0 {
		fmt.Fprintf(&b, ", %s left", j.Remaining.Round(time.Second))
	}
	b.WriteString(" [")
	for i, p := range j.Progress {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s %d/%d", p.Kind, p.Done, p.Planned)
	}
	b.WriteString("]")
	return b.String()
}

// Issue 22: a subject with 70,000 tickets (Zammad's breaking point), one
// message and one file each, erased by a worker process that is killed
// with SIGKILL a third of the way through and a second one that resumes
// from the last checkpoint: the receipt counts every record exactly once,
// nothing of the subject is left, the job API reports done / planned per
// kind and the time left all along, and the workers' heap stays flat.
//
//	GDPRKIT_TEST_SCALE=1 GDPRKIT_TEST_POSTGRES=... GDPRKIT_TEST_MYSQL=... go test -run TestScale70kTicketSubject -v -timeout 60m ./erasure/
func TestScale70kTicketSubject(t *testing.T) {
	needScale(t)
	const tickets = 70000
	for _, d := range scaleDialects(t) {
		t.Run(string(d), func(t *testing.T) {
			st, db := testdb.OpenStore(t, d)
			dir := t.TempDir()
			h := newSQLHostIn(t, db.DB, d, dir)
			const acct = gdprkit.AccountID("acme")
			t0 := time.Now()
			h.seedSubject(t, acct, "big", tickets, 1)
			h.seedSubject(t, acct, "other", 10, 2)
			if _, err := db.Exec("ANALYZE"); err != nil && d == sqlstore.Postgres {
				t.Fatal(err)
			}
			t.Logf("%s: seeded %d tickets, messages and files in %s", d, tickets, time.Since(t0).Round(time.Second))
			svc := scaleService(t, st.Erasure(), h)
			r, err := svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "big", By: "admin", Verified: true})
			require.NoError(t, err)

			start := time.Now()
			w1 := startWorker(t, db, dir, "w1")
			var atKill erasure.JobInfo
			lastLog := time.Time{}
			for {
				j, err := svc.Job(ctx, acct, r.ID)
				require.NoError(t, err)
				if time.Since(lastLog) > 3*time.Second {
					t.Logf("%s %5.1fs: %s", d, time.Since(start).Seconds(), progressLine(j))
					lastLog = time.Now()
				}
				if j.Planned > 0 && j.Done*3 >= j.Planned {
					require.NoError(t, w1.cmd.Process.Kill()) // SIGKILL
					_ = w1.cmd.Wait()
					atKill, err = svc.Job(ctx, acct, r.ID)
					require.NoError(t, err)
					break
				}
				require.Less(t, time.Since(start), 20*time.Minute, "the first worker never got a third of the way")
				time.Sleep(100 * time.Millisecond)
			}
			killedAfter := time.Since(start)
			t.Logf("%s: killed w1 after %s at %s; w1 peak heap %.1f MiB", d, killedAfter.Round(time.Millisecond), progressLine(atKill), w1.peakMiB())
			require.Equal(t, erasure.JobRunning, atKill.Status)
			require.Positive(t, atKill.Remaining, "an estimate of the time left")

			time.Sleep(scaleLease + 500*time.Millisecond) // the dead worker's lease runs out
			resumed := time.Now()
			w2 := startWorker(t, db, dir, "w2")
			var first erasure.JobInfo
			for {
				j, err := svc.Job(ctx, acct, r.ID)
				require.NoError(t, err)
				if first.UpdatedAt.IsZero() && j.UpdatedAt.After(atKill.UpdatedAt) {
					first = j
					// The plan is not made again and nothing done is
					// counted again: the resumed job starts where the
					// last checkpoint left it.
					require.Equal(t, atKill.Planned, j.Planned, "planned again")
					require.GreaterOrEqual(t, j.Done, atKill.Done, "progress went back")
				}
				if time.Since(lastLog) > 3*time.Second {
					t.Logf("%s %5.1fs: %s", d, time.Since(start).Seconds(), progressLine(j))
					lastLog = time.Now()
				}
				if j.Status == erasure.JobDone || j.Status == erasure.JobFailed {
					require.Equal(t, erasure.JobDone, j.Status, j.LastError)
					break
				}
				require.Less(t, time.Since(start), 40*time.Minute)
				time.Sleep(100 * time.Millisecond)
			}
			resumeTook := time.Since(resumed)
			_ = w2.cmd.Wait()
			_, errs := w2.runs(t)
			require.Empty(t, errs)
			rc, err := svc.Receipt(ctx, acct, r.ID)
			require.NoError(t, err)
			want := map[erasure.Kind]int64{erasure.KindEndUser: 1, erasure.KindTicket: tickets, erasure.KindMessage: tickets,
				erasure.KindAttachment: tickets, erasure.KindBlob: tickets}
			for _, tr := range rc.Targets {
				if n, ok := want[tr.Kind]; ok {
					require.Equal(t, n, tr.Deleted, "%s deleted", tr.Kind)
				}
			}
			require.Zero(t, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE requester_id = 'big'"))
			require.Equal(t, 10, h.count(t, "SELECT COUNT(*) FROM hd_tickets"), "the other subject's tickets stay")
			left := 0
			require.NoError(t, h.blobs.Walk(ctx, acct, "", func(string, int64) error { left++; return nil }))
			require.Equal(t, 10, left, "only the other subject's files are left")
			total := killedAfter + resumeTook
			t.Logf("%s: %d tickets erased in %s of work (%s before the kill, %s after the resume; a lease of %s waited between); "+
				"resumed at %d of %d (estimated %s left at the kill; it took %s); peak heap w1 %.1f MiB, w2 %.1f MiB",
				d, tickets, total.Round(time.Millisecond), killedAfter.Round(time.Millisecond), resumeTook.Round(time.Millisecond),
				scaleLease, first.Done, first.Planned, atKill.Remaining.Round(time.Second), resumeTook.Round(time.Second), w1.peakMiB(), w2.peakMiB())
			require.Less(t, w1.peakMiB(), 64.0, "w1 heap")
			require.Less(t, w2.peakMiB(), 64.0, "w2 heap")
		})
	}
}

// Issue 22: 700 people ask at once (Zendesk's API erases at most 700 users
// per 10 minutes). Each has 10 tickets × 10 messages × 1 file (in a folder
// of its own); all 700 requests are submitted together and two worker
// processes drain the queue. It reports the time from the first Submit to
// the last receipt and how many jobs each worker ran; every request ends
// done and nothing of the 700 is left. GDPRKIT_SCALE_PEOPLE sets another
// number of people; GDPRKIT_SCALE_TRACE=dir writes each worker's
// execution trace there.
//
//	GDPRKIT_TEST_SCALE=1 GDPRKIT_TEST_POSTGRES=... go test -run TestScaleBurst700 -v -timeout 60m ./erasure/
func TestScaleBurst700(t *testing.T) {
	needScale(t)
	const tickets, msgs = 10, 10
	people := 700
	if n, err := strconv.Atoi(os.Getenv("GDPRKIT_SCALE_PEOPLE")); err == nil && n > 0 {
		people = n // a smaller burst, to profile
	}
	for _, d := range scaleDialects(t) {
		t.Run(string(d), func(t *testing.T) {
			st, db := testdb.OpenStore(t, d)
			dir := t.TempDir()
			h := newSQLHostIn(t, db.DB, d, dir)
			const acct = gdprkit.AccountID("acme")
			seeded := time.Now()
			for i := range people {
				h.seedFiles(t, acct, fmt.Sprintf("p%03d", i), tickets, msgs, false)
			}
			h.seedSubject(t, acct, "keep", 10, 2)
			if _, err := db.Exec("ANALYZE"); err != nil && d == sqlstore.Postgres {
				t.Fatal(err)
			}
			t.Logf("%s: seeded %d people, %d files in %s", d, people, people*tickets*msgs, time.Since(seeded).Round(time.Second))
			svc := scaleService(t, st.Erasure(), h)

			start := time.Now()
			var (
				mu  sync.Mutex
				ids []string
			)
			var wg sync.WaitGroup
			for c := range 4 { // a burst: four submitters at once
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := c; i < people; i += 4 {
						r, err := svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: gdprkit.SubjectID(fmt.Sprintf("p%03d", i)), By: "admin", Verified: true})
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						ids = append(ids, r.ID)
						mu.Unlock()
					}
				}()
			}
			// Nobody is killed here: the workers have the default lease of
			// 5 minutes, as a server's have (a batch stops claiming after
			// a third of it, or at VerifyBatch jobs).
			t.Setenv(envScaleLease, "5m")
			ws := []*worker{startWorker(t, db, dir, "w1"), startWorker(t, db, dir, "w2")}
			wg.Wait()
			submitted := time.Since(start)
			require.Len(t, ids, people)
			for _, w := range ws {
				require.NoError(t, w.cmd.Wait())
			}
			var last time.Time
			counts := make([]int, len(ws))
			for i, w := range ws {
				ends, errs := w.runs(t)
				require.Empty(t, errs, "worker %d", i+1)
				counts[i] = len(ends)
				for _, e := range ends {
					if e.After(last) {
						last = e
					}
				}
			}
			took := last.Sub(start)
			for _, id := range ids {
				rc, err := svc.Receipt(ctx, acct, id)
				require.NoError(t, err)
				for _, tr := range rc.Targets {
					if tr.Kind == erasure.KindBlob {
						require.EqualValues(t, tickets*msgs, tr.Deleted)
					}
				}
			}
			require.Equal(t, 10, h.count(t, "SELECT COUNT(*) FROM hd_tickets"), "only the kept subject's tickets are left")
			left := 0
			require.NoError(t, h.blobs.Walk(ctx, acct, "", func(string, int64) error { left++; return nil }))
			require.Equal(t, 10, left)
			t.Logf("%s: %d requests (%d files) submitted in %s, all erased %s after the first Submit; worker 1 ran %d jobs, worker 2 %d; peak heap %.1f / %.1f MiB",
				d, people, people*tickets*msgs, submitted.Round(time.Millisecond), took.Round(time.Millisecond), counts[0], counts[1], ws[0].peakMiB(), ws[1].peakMiB())
			require.Equal(t, people, counts[0]+counts[1], "every job ran once")
		})
	}
}
