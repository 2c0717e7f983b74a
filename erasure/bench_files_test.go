package erasure_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/fsblob"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// benchDialect is PostgreSQL when GDPRKIT_TEST_POSTGRES is set (the
// production engine, what the figures in the docs are measured on), else
// SQLite.
func benchDialect() sqldb.Dialect {
	if os.Getenv("GDPRKIT_TEST_POSTGRES") != "" {
		return sqlstore.Postgres
	}
	return sqlstore.SQLite
}

// seedFiles gives user `tickets` tickets of `msgs` messages, every message
// with one attachment whose file sits in a folder of its own:
// <user>/t<ticket>/m<message>/f<attachment>.bin (a 64-byte file). With
// flat set, it is the old layout instead: one attachment per ticket, flat
// key att/<id>.
func (h *sqlHost) seedFiles(tb testing.TB, a gdprkit.AccountID, user string, tickets, msgs int, flat bool) {
	tb.Helper()
	h.insert(tb, "hd_users", 4, [][]any{{string(a), user, "Name of " + user, user + "@example.com"}})
	var ts, ms, as [][]any
	ctx := context.Background()
	content := []byte(strings.Repeat("b", 64))
	flush := func() {
		h.insert(tb, "hd_tickets", 5, ts)
		h.insert(tb, "hd_messages", 6, ms)
		h.insert(tb, "hd_attachments", 4, as)
		ts, ms, as = ts[:0], ms[:0], as[:0]
	}
	for range tickets {
		h.nextID++
		tid := h.nextID
		ts = append(ts, []any{string(a), tid, user, "Name of " + user, "subject"})
		for m := range msgs {
			h.nextID++
			mid := h.nextID
			author := user
			if m == msgs-1 && msgs > 1 {
				author = "agent"
			}
			ms = append(ms, []any{string(a), mid, tid, author, author, "message body"})
			if flat && m > 0 {
				continue
			}
			h.nextID++
			key := fmt.Sprintf("%s/t%d/m%d/f%d.bin", user, tid, mid, h.nextID)
			if flat {
				key = fmt.Sprintf("att/%d", h.nextID)
			}
			as = append(as, []any{string(a), h.nextID, mid, key})
			if err := h.blobs.Put(ctx, a, key, content); err != nil {
				tb.Fatal(err)
			}
		}
		if len(ms) >= 5000 {
			flush()
		}
	}
	flush()
}

// bareTree writes n 64-byte files, each in a folder of its own, in the
// shape seedFiles gives them (root/u/t<i>/m<j>/f.bin, msgs folders per
// ticket folder), and returns the files' paths.
func bareTree(tb testing.TB, root string, n, msgs int) []string {
	tb.Helper()
	content := []byte(strings.Repeat("b", 64))
	out := make([]string, 0, n)
	for i := range n {
		p := filepath.Join(root, "u", fmt.Sprintf("t%d", i/msgs), fmt.Sprintf("m%d", i), "f.bin")
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o640); err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// bareRemove is the floor a program that knows nothing of databases
// reaches: 32 goroutines remove the files and their folders (message
// folder, then the ticket folder when it is the last one out), and then
// the subject's folder; no syncs.
func bareRemove(tb testing.TB, root string, paths []string) {
	tb.Helper()
	var wg sync.WaitGroup
	work := make(chan string, 256)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if err := os.Remove(p); err != nil {
					tb.Error(err)
					continue
				}
				d := filepath.Dir(p)
				if err := os.Remove(d); err != nil {
					tb.Error(err)
				}
				_ = os.Remove(filepath.Dir(d)) // fails while its siblings remain
			}
		}()
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	if err := os.RemoveAll(filepath.Join(root, "u")); err != nil {
		tb.Fatal(err)
	}
}

// peakHeap samples the heap in use every 10 ms until stop is called and
// returns the largest figure seen.
func peakHeap() (stop func() uint64) {
	var (
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkEraseFiles erases a subject whose every message has one file on
// disk, nested like a helpdesk's upload folders (u/t1/m2/f3.bin, one
// folder per message), through the declarative SQL targets and fsblob,
// from Submit to receipt, with every file written and synced (sync(2))
// before the timer starts. PostgreSQL when GDPRKIT_TEST_POSTGRES is set,
// SQLite otherwise. Cases:
//
//   - nested-1k: 1,000 tickets × 10 messages, 10,000 files;
//   - nested-10k: 10,000 tickets × 10 messages, 100,000 files (only with
//     GDPRKIT_BENCH_10K=1: seeding alone takes minutes);
//   - nested-1k-nosync: the same with fsblob.Config.NoSync (no directory
//     syncs: the deletions reach the disk at the file system's next
//     commit, as the bare baseline's do);
//   - flat-1k: the layout of BenchmarkErase, one file per ticket, flat keys.
//
// Each iteration also writes the same number of files in the same shape
// outside gdprkit, syncs them and times a bare parallel removal (32
// goroutines, files and folders, no syncs): "bare-s". Reported per
// iteration (medians): "erase-s" (Submit, RunOnce: plan, delete, verify,
// receipt), "plan-s" (Service.Plan, the dry run walked batch by batch),
// "preview-s" (Service.Preview, the same counted with aggregate queries),
// "x-of-bare" (erase-s / bare-s) and "peak-MiB" (largest heap in use
// sampled every 10 ms during the erasure); "plan-files-s" and
// "erase-files-s" are the parts of plan-s and erase-s spent in the blob
// store's Stat and Delete.
//
//	go test -run '^$' -bench BenchmarkEraseFiles -benchtime 3x ./erasure/
//	GDPRKIT_BENCH_10K=1 go test -run '^$' -bench 'BenchmarkEraseFiles/nested-10k' -benchtime 1x -timeout 60m ./erasure/
func BenchmarkEraseFiles(b *testing.B) {
	cases := []struct {
		name          string
		tickets, msgs int
		flat, noSync  bool
	}{
		{"nested-1k", 1000, 10, false, false},
		{"nested-1k-nosync", 1000, 10, false, true},
		{"nested-10k", 10000, 10, false, false},
		{"flat-1k", 1000, 10, true, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.tickets > 1000 && os.Getenv("GDPRKIT_BENCH_10K") == "" {
				b.Skip("set GDPRKIT_BENCH_10K=1 for the 10k-ticket case")
			}
			d := benchDialect()
			e := newSQLEnv(b, d, 500)
			if c.noSync {
				blobs, err := fsblob.New(fsblob.Config{Dir: b.TempDir(), NoSync: true})
				if err != nil {
					b.Fatal(err)
				}
				e.host.blobs, e.host.timed.BlobStore = blobs, blobs
			}
			const acct = gdprkit.AccountID("acme")
			files := c.tickets * c.msgs
			if c.flat {
				files = c.tickets
			}
			var erase, plan, preview, bare, ratio, peak, planFiles, eraseFiles []float64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				subject := fmt.Sprintf("target-%04d", i)
				e.host.seedFiles(b, acct, subject, c.tickets, c.msgs, c.flat)
				if _, err := e.host.db.Exec("ANALYZE"); err != nil {
					b.Fatal(err)
				}
				if d == sqlstore.Postgres {
					_, _ = e.host.db.Exec("CHECKPOINT")
				}
				root := b.TempDir()
				var paths []string
				if c.flat {
					paths = make([]string, 0, files)
					for j := range files {
						p := filepath.Join(root, "u", fmt.Sprintf("f%d", j))
						if j == 0 {
							if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
								b.Fatal(err)
							}
						}
						if err := os.WriteFile(p, []byte(strings.Repeat("b", 64)), 0o640); err != nil {
							b.Fatal(err)
						}
						paths = append(paths, p)
					}
				} else {
					paths = bareTree(b, root, files, c.msgs)
				}
				syscall.Sync()

				t0 := time.Now()
				if c.flat {
					var wg sync.WaitGroup
					work := make(chan string, 256)
					for range 32 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for p := range work {
								if err := os.Remove(p); err != nil {
									b.Error(err)
								}
							}
						}()
					}
					for _, p := range paths {
						work <- p
					}
					close(work)
					wg.Wait()
				} else {
					bareRemove(b, root, paths)
				}
				bareS := time.Since(t0).Seconds()

				e.host.timed.reset()
				t0 = time.Now()
				p, err := e.svc.Plan(ctx, acct, gdprkit.SubjectID(subject), "", nil)
				if err != nil {
					b.Fatal(err)
				}
				planS := time.Since(t0).Seconds()
				planStat, _ := e.host.timed.seconds()
				t0 = time.Now()
				pre, err := e.svc.Preview(ctx, acct, gdprkit.SubjectID(subject), "", nil)
				if err != nil {
					b.Fatal(err)
				}
				previewS := time.Since(t0).Seconds()
				if !pre.Estimate {
					b.Fatal("the preview walked")
				}
				for _, t := range p.Targets {
					if t.Kind == erasure.KindBlob && t.Deleted != int64(files) {
						b.Fatalf("plan: %d files, want %d", t.Deleted, files)
					}
				}
				syscall.Sync()
				runtime.GC()

				e.host.timed.reset()
				stop := peakHeap()
				b.StartTimer()
				t0 = time.Now()
				r, err := e.svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: gdprkit.SubjectID(subject), By: "admin", Verified: true})
				if err != nil {
					b.Fatal(err)
				}
				if found, err := e.svc.RunOnce(ctx, "bench"); err != nil || !found {
					b.Fatal(found, err)
				}
				eraseS := time.Since(t0).Seconds()
				b.StopTimer()
				pk := stop()
				eStat, eDel := e.host.timed.seconds()
				rc, err := e.svc.Receipt(ctx, acct, r.ID)
				if err != nil {
					b.Fatal(err)
				}
				for _, t := range rc.Targets {
					if t.Kind == erasure.KindBlob && t.Deleted != int64(files) {
						b.Fatalf("deleted %d files, want %d", t.Deleted, files)
					}
				}
				erase = append(erase, eraseS)
				plan = append(plan, planS)
				bare = append(bare, bareS)
				ratio = append(ratio, eraseS/bareS)
				peak = append(peak, float64(pk)/(1<<20))
				planFiles = append(planFiles, planStat)
				preview = append(preview, previewS)
				eraseFiles = append(eraseFiles, eStat+eDel)
				b.StartTimer()
			}
			b.ReportMetric(median(erase), "erase-s")
			b.ReportMetric(median(plan), "plan-s")
			b.ReportMetric(median(preview), "preview-s")
			b.ReportMetric(median(bare), "bare-s")
			b.ReportMetric(median(ratio), "x-of-bare")
			b.ReportMetric(median(peak), "peak-MiB")
			b.ReportMetric(median(planFiles), "plan-files-s")
			b.ReportMetric(median(eraseFiles), "erase-files-s")
		})
	}
}

// timedBlobs adds up the wall time spent in Stat and Delete of the store
// it wraps, so a benchmark can tell the files' share of an erasure from
// the database's.
type timedBlobs struct {
	erasure.BlobStore
	stat, del atomic.Int64 // nanoseconds
}

func (t *timedBlobs) Stat(ctx context.Context, a gdprkit.AccountID, keys []string) (map[string]int64, error) {
	t0 := time.Now()
	defer func() { t.stat.Add(int64(time.Since(t0))) }()
	return t.BlobStore.Stat(ctx, a, keys)
}

func (t *timedBlobs) Delete(ctx context.Context, a gdprkit.AccountID, keys []string) (int, error) {
	t0 := time.Now()
	defer func() { t.del.Add(int64(time.Since(t0))) }()
	return t.BlobStore.Delete(ctx, a, keys)
}

func (t *timedBlobs) reset() { t.stat.Store(0); t.del.Store(0) }

func (t *timedBlobs) seconds() (stat, del float64) {
	return time.Duration(t.stat.Load()).Seconds(), time.Duration(t.del.Load()).Seconds()
}
