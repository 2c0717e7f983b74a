package retention_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// The child process of TestKillNineMidRunIsAccountedExactly: it runs the
// account's rules over the example-style SQL target, slowly, writing its
// audit events to a file, until the parent kills it with SIGKILL.
const (
	envKillChild   = "GDPRKIT_RETENTION_KILL_CHILD"
	envKillDriver  = "GDPRKIT_RETENTION_KILL_DRIVER"
	envKillDSN     = "GDPRKIT_RETENTION_KILL_DSN"
	envKillDialect = "GDPRKIT_RETENTION_KILL_DIALECT"
	envKillDir     = "GDPRKIT_RETENTION_KILL_DIR"
	envKillAudit   = "GDPRKIT_RETENTION_KILL_AUDIT"
)

const killAccount gdprkit.AccountID = "acct-killed"

// fileAudit appends events as JSON lines; a write reaches the kernel before
// Record returns, so it survives SIGKILL of the process.
type fileAudit struct {
	mu sync.Mutex
	f  *os.File
}

func (a *fileAudit) Record(_ context.Context, ev gdprkit.Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err = a.f.Write(append(b, '\n'))
	return err
}

func readAudit(t *testing.T, path string) []gdprkit.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []gdprkit.Event
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var ev gdprkit.Event
		if err := dec.Decode(&ev); err != nil {
			break // a line cut by the kill: the run's next events repeat it
		}
		out = append(out, ev)
	}
	return out
}

func TestKillChildHelper(t *testing.T) {
	if os.Getenv(envKillChild) == "" {
		t.Skip("the child process of TestKillNineMidRunIsAccountedExactly")
	}
	d := sqldb.Dialect(os.Getenv(envKillDialect))
	driver := map[sqldb.Dialect]string{sqlstore.SQLite: "sqlite", sqlstore.Postgres: "pgx", sqlstore.MySQL: "mysql"}[d]
	db, err := sql.Open(driver, os.Getenv(envKillDSN))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.New(db, d)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(os.Getenv(envKillAudit), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	target := &sqlTickets{db: db, d: d, dir: os.Getenv(envKillDir), slow: func() { time.Sleep(15 * time.Millisecond) }}
	sch, err := retention.NewSchedules(retention.ScheduleConfig{Store: st.Retention(), Targets: targets{retention.KindTicket: target},
		Audit: &fileAudit{f: f}, Owner: "child-" + strconv.Itoa(os.Getpid()), BatchSize: 10, MaxPerRun: 100000, LeaseFor: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv(envKillDriver) != "" {
		dr, _ := retention.NewDriver(retention.DriverConfig{Schedules: sch})
		_, err = dr.RunDue(context.Background())
	} else {
		_, err = sch.Run(context.Background(), killAccount)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// Issue 21.2 with a real crash: a child process runs the rules and is
// killed with SIGKILL mid-run, twice; after a resume in this process the
// stored total, the audit (batch events deduplicated by ID) and the proof
// of disposition all equal the tickets actually gone, and no message,
// attachment or file of a removed ticket is left. On SQLite, PostgreSQL
// and MariaDB.
func TestKillNineMidRunIsAccountedExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills child processes")
	}
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st, db := testdb.OpenStore(t, d)
			dir := t.TempDir()
			target := newSQLTickets(t, db.DB, d, dir)
			now := time.Now()
			const n = 600
			target.seed(t, killAccount, 1, n, 2, func(i int) time.Time { return now.AddDate(0, -3, 0).Add(time.Duration(i) * time.Minute) })
			target.seed(t, killAccount, n+1, 50, 2, func(int) time.Time { return now }) // not due
			audit := &gdprkit.MemoryAudit{}
			sch, err := retention.NewSchedules(retention.ScheduleConfig{Store: st.Retention(), Targets: targets{retention.KindTicket: target},
				Audit: audit, Owner: "parent", BatchSize: 10, MaxPerRun: 100000, LeaseFor: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			rule, err := sch.AddRule(context.Background(), killAccount, retention.ClosedTickets(1), admin)
			if err != nil {
				t.Fatal(err)
			}
			auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
			committed := func() int {
				bs, err := st.Retention().Batches(context.Background(), killAccount, time.Time{}, time.Time{}, 0)
				if err != nil {
					t.Fatal(err)
				}
				return len(bs)
			}
			for kill, driver := range []bool{false, true} {
				time.Sleep(400 * time.Millisecond) // a killed child's lease runs out
				cmd := exec.Command(os.Args[0], "-test.run=^TestKillChildHelper$", "-test.v")
				cmd.Env = append(os.Environ(), envKillChild+"=1", envKillDSN+"="+db.DSN, envKillDialect+"="+string(d),
					envKillDir+"="+dir, envKillAudit+"="+auditPath)
				if driver {
					cmd.Env = append(cmd.Env, envKillDriver+"=1")
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				before := committed()
				deadline := time.Now().Add(60 * time.Second)
				for committed() < before+5+kill*3 {
					if time.Now().After(deadline) {
						t.Fatalf("kill %d: the child committed %d batches in a minute", kill, committed()-before)
					}
					time.Sleep(5 * time.Millisecond)
				}
				time.Sleep(time.Duration(kill*7) * time.Millisecond) // land in different places of a batch
				if err := cmd.Process.Kill(); err != nil {           // SIGKILL
					t.Fatal(err)
				}
				_ = cmd.Wait()
			}
			time.Sleep(400 * time.Millisecond) // the dead child's lease runs out
			var rep retention.RunReport
			for range 5 {
				if rep, err = sch.Run(context.Background(), killAccount); err != nil {
					t.Fatal(err)
				}
				if !rep.Capped {
					break
				}
			}
			left := target.count(t, "rt_tickets", killAccount)
			gone := 650 - left
			got, _ := sch.Rule(context.Background(), killAccount, rule.ID)
			events := append(readAudit(t, auditPath), audit.Events()...)
			proof := map[string]int{}
			bs, _ := sch.Dispositions(context.Background(), killAccount, time.Time{}, time.Time{})
			recovered := 0
			for _, b := range bs {
				for _, id := range b.Removed {
					proof[id]++
				}
				if b.Recovered {
					recovered++
				}
			}
			t.Logf("%s: %d gone, %d batches (%d recovered after the kills)", d, gone, len(bs), recovered)
			if left != 50 || gone != n {
				t.Fatalf("%d tickets left, want the 50 not due", left)
			}
			if got.TotalRemoved != gone || audited(events, killAccount) != gone || int64(len(proof)) != gone {
				t.Fatalf("gone %d; stored total %d, audited %d, proof names %d", gone, got.TotalRemoved, audited(events, killAccount), len(proof))
			}
			for id, c := range proof {
				if c != 1 {
					t.Fatalf("ticket %s in %d batches", id, c)
				}
			}
			if m, x, f := target.count(t, "rt_messages", killAccount), target.count(t, "rt_attachments", killAccount), target.files(t, killAccount); m != 100 || x != 50 || f != 50 {
				t.Fatalf("left %d messages, %d attachments, %d files; want those of the 50 tickets kept", m, x, f)
			}
			if open, _ := st.Retention().OpenBatches(context.Background(), killAccount); len(open) != 0 {
				t.Fatalf("%d batches left open", len(open))
			}
		})
	}
}
