// Command loadtest drives the example helpdesk as a crowd of real users
// would, and checks afterwards that nothing went wrong in the database.
//
// It builds examples/helpdesk, starts it on a fresh database (SQLite in a
// temporary folder, or a new PostgreSQL database it drops afterwards),
// and runs the mix issue #25 measured — sign-in 4, inbox 30, ticket page
// 26, API 22, contact form 18 — with double clicks on the contact form
// (the same form sent twice at once) and clients that give up mid-request,
// at each client count. It prints req/s and each operation's p50/p99 for
// the whole run and for each sixth of it, as tickets grow, the contact
// form's page load and sending apart, and on PostgreSQL the tables and
// indexes that read more than 50 rows a scan. Then it stops the load and
// checks the database:
// no customer twice for one address, no customer without a ticket or
// consent, no consent without its customer, no ticket without its first
// message, every ticket a visitor was told about present and naming them,
// every double click answered with one ticket number.
//
//	go run ./examples/loadtest                                 # SQLite, 8/32/128 clients, 30 s each
//	go run ./examples/loadtest -db postgres -clients 32        # PostgreSQL on 127.0.0.1:5432
//	go run ./examples/loadtest -db postgres -restart-at 12s    # PostgreSQL restarted mid-run (pg_ctlcluster)
//	go run ./examples/loadtest -clients 8 -duration 5s         # the short run CI makes
//	go run ./examples/loadtest -clients 128 -profile /tmp/prof # with CPU and block profiles of the helpdesk
//
// It exits non-zero on any 5xx (outside a restart's own window), a 401 to
// valid credentials, staff signed out, a duplicate customer, a
// half-written submission or a confirmed ticket lost. Traffic goes only
// to 127.0.0.1; every run is bounded in time and stops by itself. The
// restart mode restarts the local PostgreSQL cluster once and waits until
// it answers again (starting it if a restart left it down); a second
// before the restart it asks for the erasure of a customer of 3,000
// tickets, and fails unless that job is done within 10 s of the
// database's return with a receipt equal to what was deleted
// (erasure_restart.go).
package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	_ "modernc.org/sqlite"             // SQLite driver

	"github.com/gdprkit/gdprkit/store/sqlstore"
)

func main() {
	keepFilesToItself()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// keepFilesToItself marks the files this process inherited (beyond
// stdin, stdout and stderr) close-on-exec, so that the programs it starts
// do not hold them. Why: run under flock(1), as timing runs on a shared
// machine are, the lock's descriptor went through pg_ctlcluster to the
// restarted PostgreSQL server, which kept the lock after the run ended and
// every other timing run waited for it. Where /proc/self/fd does not
// exist it does nothing.
func keepFilesToItself() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

type config struct {
	clients   []int
	duration  time.Duration
	restartAt time.Duration
	pgAdmin   string
	pool      int
	profile   string
}

func run() error {
	var c config
	dbs := flag.String("db", "sqlite", "databases to run on: sqlite, postgres, or both (sqlite,postgres)")
	clients := flag.String("clients", "8,32,128", "client counts, comma-separated")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "how long each run lasts")
	flag.DurationVar(&c.restartAt, "restart-at", 0, "PostgreSQL only: restart the cluster (pg_ctlcluster) this long into each run")
	flag.StringVar(&c.pgAdmin, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL DSN of a database to create the test database from")
	flag.IntVar(&c.pool, "pool", 0, "the helpdesk's -pool (0: its default)")
	flag.StringVar(&c.profile, "profile", "", "write the helpdesk's CPU profiles of the first and last third of each run, and its block profile, into this folder (go tool pprof reads them)")
	flag.Parse()
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1000 {
			return fmt.Errorf("-clients: %q is not a count between 1 and 1000", s)
		}
		c.clients = append(c.clients, n)
	}
	if c.duration <= 0 || c.duration > 10*time.Minute {
		return errors.New("-duration must be between 0 and 10 minutes")
	}
	work, err := os.MkdirTemp("", "gdprkit-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "helpdesk")
	build := exec.Command("go", "build", "-o", bin, "./examples/helpdesk")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the helpdesk (run from the repository's root): %w", err)
	}
	var results []result
	failed := false
	for _, db := range strings.Split(*dbs, ",") {
		db = strings.TrimSpace(db)
		if db != "sqlite" && db != "postgres" {
			return fmt.Errorf("-db: unknown database %q", db)
		}
		if c.restartAt > 0 && db != "postgres" {
			return errors.New("-restart-at needs -db postgres")
		}
		for _, n := range c.clients {
			r, err := runOne(c, bin, work, db, n)
			if err != nil {
				return fmt.Errorf("%s, %d clients: %w", db, n, err)
			}
			results = append(results, r)
			failed = failed || r.failed()
			r.print(os.Stdout)
		}
	}
	printSummary(os.Stdout, results)
	if failed {
		return errors.New("a run had failures (see above)")
	}
	return nil
}

// The operations of the mix, with their weights.
var mix = []struct {
	op     string
	weight int
}{{"login", 4}, {"inbox", 30}, {"ticket", 26}, {"api", 22}, {"contact", 18}}

// The kinds of failure counted.
const (
	fail5xx       = "5xx"
	failDuring    = "5xx during restart"
	failWrong401  = "wrong 401"
	failLoggedOut = "staff signed out"
	failThrottled = "correct login throttled"
	failOther     = "other unexpected answer"
	failNetwork   = "connection error"
	failDuplicate = "duplicate customers"
	failHalf      = "half-written submissions"
	failLost      = "confirmed tickets lost"
	failDouble    = "double click not one ticket"
	failErasure   = "erasure not finished 10 s after restart"
)

// result is one run's figures.
type result struct {
	db       string
	clients  int
	elapsed  time.Duration
	requests int64
	lat      map[string][]time.Duration
	timeline []window
	fails    map[string]int64
	aborted  int64
	contacts int64
	doubles  int64
	restart  string
	notes    []string
}

func (r result) failed() bool {
	for k, n := range r.fails {
		if n > 0 && k != failDuring {
			return true
		}
	}
	return false
}

// recorder collects answers from many clients.
type recorder struct {
	mu        sync.Mutex
	lat       map[string][]time.Duration
	fails     map[string]int64
	requests  atomic.Int64
	aborted   atomic.Int64
	restartOn atomic.Bool
	backAt    atomic.Int64      // when PostgreSQL answered again after the restart (Unix ns)
	tickets   map[string]string // ticket number the thank-you page named → e-mail
	doubles   map[string]map[string]bool
	samples   map[string]string // a sample of each kind of unexpected answer
	start     time.Time
	perSecond [600]atomic.Int64          // answered requests by second of the run
	at        map[string][]time.Duration // when each answer of lat came, since start
	parts     map[string][]time.Duration // the contact operation's page load and sending apart
}

// part records how long one part of an operation took (not counted as a
// request of its own).
func (rec *recorder) part(name string, d time.Duration) {
	rec.mu.Lock()
	rec.parts[name] = append(rec.parts[name], d)
	rec.mu.Unlock()
}

func (rec *recorder) ok(op string, d time.Duration) {
	rec.requests.Add(1)
	since := time.Since(rec.start)
	if s := int(since / time.Second); s >= 0 && s < len(rec.perSecond) {
		rec.perSecond[s].Add(1)
	}
	rec.mu.Lock()
	rec.lat[op] = append(rec.lat[op], d)
	rec.at[op] = append(rec.at[op], since)
	rec.mu.Unlock()
}

// window is a slice of a run's time: its throughput and each operation's
// latencies, to show how they change as tickets grow.
type window struct {
	from, to time.Duration
	answered int64
	lat      map[string][]time.Duration
}

// timeline cuts the run into n windows.
func (rec *recorder) timeline(elapsed time.Duration, n int) []window {
	secs := int(elapsed / time.Second)
	if secs < n {
		return nil
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	ws := make([]window, n)
	for i := range ws {
		ws[i] = window{from: time.Duration(secs*i/n) * time.Second, to: time.Duration(secs*(i+1)/n) * time.Second, lat: map[string][]time.Duration{}}
		for s := secs * i / n; s < secs*(i+1)/n; s++ {
			ws[i].answered += rec.perSecond[s].Load()
		}
	}
	for op, ats := range rec.at {
		for j, at := range ats {
			i := min(n-1, int(at/time.Second)*n/secs)
			ws[i].lat[op] = append(ws[i].lat[op], rec.lat[op][j])
		}
	}
	return ws
}

func (rec *recorder) fail(kind string) {
	rec.requests.Add(1)
	if kind == fail5xx && rec.restartOn.Load() {
		kind = failDuring
	}
	rec.mu.Lock()
	rec.fails[kind]++
	rec.mu.Unlock()
}

// helpdesk is a running helpdesk process.
type helpdesk struct {
	cmd      *exec.Cmd
	url      string
	pprof    string // the profiler's base URL ("" when not profiling)
	dsn      string
	dialect  string
	agent    [2]string
	owner    [2]string
	stderr   *strings.Builder
	stderrMu *sync.Mutex
	stopped  bool
}

func runOne(c config, bin, work, db string, clients int) (result, error) {
	res := result{db: db, clients: clients, lat: map[string][]time.Duration{}, fails: map[string]int64{}}
	dsn, cleanup, err := freshDB(c, work, db, clients)
	if err != nil {
		return res, err
	}
	defer cleanup()
	h, err := start(bin, dsn, db, c.pool, c.profile != "")
	if err != nil {
		return res, err
	}
	defer h.stop()

	rec := &recorder{lat: map[string][]time.Duration{}, at: map[string][]time.Duration{}, parts: map[string][]time.Duration{}, fails: map[string]int64{}, tickets: map[string]string{},
		doubles: map[string]map[string]bool{}, samples: map[string]string{}}
	// Every client is a staff member signed in once, with the API token
	// the first one made, and a browser of its own.
	token, err := h.apiToken()
	if err != nil {
		return res, fmt.Errorf("make an API token: %w", err)
	}
	ids, err := h.ticketIDs(token)
	if err != nil {
		return res, err
	}
	agents := make([]*client, clients)
	for i := range agents {
		if agents[i], err = h.newClient(i); err != nil {
			return res, err
		}
		if err := agents[i].signIn(h.agent); err != nil {
			return res, fmt.Errorf("client %d signs in: %w", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	var restartDone chan string
	var probeDone chan []string
	if c.restartAt > 0 {
		if err := h.seedProbe(); err != nil {
			return res, err
		}
		// The restart waits until the probe's erasure is seen running.
		running := make(chan struct{})
		restartDone = make(chan string, 1)
		go func() { restartDone <- h.restartPostgres(ctx, c.restartAt, rec, running) }()
		probeDone = make(chan []string, 1)
		go func() { probeDone <- h.eraseAcrossRestart(ctx, c.restartAt, rec, running) }()
	}
	var visitors atomic.Int64
	startAt := time.Now()
	rec.start = startAt
	var wg sync.WaitGroup
	var profiles []string
	if h.pprof != "" {
		wg.Go(func() { profiles = h.profile(c, db, clients) })
	}
	for i, cl := range agents {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(i), uint64(startAt.UnixNano())))
			for ctx.Err() == nil {
				cl.do(ctx, rnd, rec, h, token, ids, &visitors)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(startAt)
	res.notes = append(res.notes, profiles...)
	if h.pprof != "" {
		if st, err := h.get(strings.TrimSuffix(h.pprof, "pprof/") + "dbstats"); err == nil {
			res.notes = append(res.notes, "database pool: "+strings.TrimSpace(string(st)))
		}
		if err := h.save(h.pprof+"block", filepath.Join(c.profile, fmt.Sprintf("%s-%d-block.pprof", db, clients))); err != nil {
			res.notes = append(res.notes, "block profile: "+err.Error())
		}
	}
	if restartDone != nil {
		res.restart = <-restartDone
		res.notes = append(res.notes, <-probeDone...)
	}
	// Stop the helpdesk (a graceful shutdown waits for requests in
	// flight, whose clients the end of the run cut off) before the checks.
	h.stop()
	res.requests = rec.requests.Load()
	res.aborted = rec.aborted.Load()
	res.lat, res.fails = rec.lat, rec.fails
	for _, m := range rec.doubles {
		res.doubles++
		if len(m) != 1 {
			res.fails[failDouble]++
		}
	}
	res.contacts = int64(len(rec.tickets))
	res.timeline = rec.timeline(res.elapsed, 6)
	if secs := int(res.elapsed / time.Second); secs >= 6 {
		third := secs / 3
		var first, last int64
		for i := range third {
			first += rec.perSecond[i].Load()
			last += rec.perSecond[secs-third+i].Load()
		}
		res.notes = append(res.notes, fmt.Sprintf("answered per second: %.0f in the first third, %.0f in the last (tickets grow meanwhile)",
			float64(first)/float64(third), float64(last)/float64(third)))
	}
	for k, v := range rec.samples {
		res.notes = append(res.notes, "first "+k+": "+v)
	}
	if len(rec.parts) > 0 {
		note := "contact in parts, p50/p99 ms:"
		for _, name := range []string{"page", "send", "send (first of a double click)", "send (second of a double click)"} {
			if ds := rec.parts[name]; len(ds) > 0 {
				note += fmt.Sprintf(" %s %s/%s (%d);", name, ms(pct(ds, .5)), ms(pct(ds, .99)), len(ds))
			}
		}
		res.notes = append(res.notes, strings.TrimSuffix(note, ";"))
	}
	notes, err := check(h, rec, res.fails)
	res.notes = append(res.notes, notes...)
	if err != nil {
		return res, fmt.Errorf("check the database: %w", err)
	}
	h.stderrMu.Lock()
	if res.failed() {
		if f, err := os.CreateTemp("", "gdprkit-loadtest-server-*.log"); err == nil {
			_, _ = f.WriteString(h.stderr.String())
			_ = f.Close()
			res.notes = append(res.notes, "the helpdesk's log: "+f.Name())
		}
	}
	for _, line := range strings.Split(h.stderr.String(), "\n") {
		if strings.Contains(line, "level=ERROR") {
			res.notes = append(res.notes, "server log: "+line)
			if len(res.notes) > 12 {
				break
			}
		}
	}
	h.stderrMu.Unlock()
	return res, nil
}

// freshDB returns the DSN of an empty database and a function that drops it.
func freshDB(c config, work, db string, clients int) (string, func(), error) {
	if db == "sqlite" {
		dir := filepath.Join(work, fmt.Sprintf("sqlite-%d-%d", clients, time.Now().UnixNano()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "helpdesk.db"), func() { _ = os.RemoveAll(dir) }, nil
	}
	admin, err := sql.Open("pgx", c.pgAdmin)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("gdprkit_load_%d_%d", clients, time.Now().UnixNano()%1e9)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database %s (is PostgreSQL running on 127.0.0.1:5432?): %w", name, err)
	}
	u, _ := url.Parse(c.pgAdmin)
	u.Path = "/" + name
	return u.String(), func() {
		for range 30 { // after a restart the server may need a moment
			if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err == nil {
				break
			}
			time.Sleep(time.Second)
		}
		admin.Close()
	}, nil
}

var urlRE = regexp.MustCompile(`helpdesk on (https?://\S+) \(`)
var pprofRE = regexp.MustCompile(`^profiler on (http://\S+/debug/pprof/) `)

// profile saves CPU profiles of the run's first and last third into
// c.profile and says where they are.
func (h *helpdesk) profile(c config, db string, clients int) []string {
	third := c.duration / 3
	var notes []string
	for _, part := range []string{"early", "late"} {
		if part == "late" {
			time.Sleep(third) // the middle third is not profiled
		}
		out := filepath.Join(c.profile, fmt.Sprintf("%s-%d-%s.pprof", db, clients, part))
		if err := h.save(fmt.Sprintf("%sprofile?seconds=%d", h.pprof, max(1, int(third/time.Second))), out); err != nil {
			return append(notes, "CPU profile: "+err.Error())
		}
		notes = append(notes, "CPU profile of the "+part+" third: "+out)
	}
	return notes
}

func (h *helpdesk) get(u string) ([]byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", u, resp.Status)
	}
	return b, err
}

func (h *helpdesk) save(u, path string) error {
	b, err := h.get(u)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// start runs the helpdesk on dsn and waits until it prints its URL.
func start(bin, dsn, db string, pool int, profile bool) (*helpdesk, error) {
	args := []string{"-addr", "127.0.0.1:0", "-db", dsn, "-trusted-proxy", "127.0.0.1"}
	if pool > 0 {
		args = append(args, "-pool", strconv.Itoa(pool))
	}
	if profile {
		args = append(args, "-pprof", "127.0.0.1:0")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HELPDESK_SECRET="+strings.Repeat("ab", 32))
	cmd.Dir = filepath.Dir(bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	h := &helpdesk{cmd: cmd, dsn: dsn, dialect: db, stderr: &strings.Builder{}, stderrMu: &sync.Mutex{}}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			h.stderrMu.Lock()
			if h.stderr.Len() < 4<<20 {
				h.stderr.WriteString(sc.Text() + "\n")
			}
			h.stderrMu.Unlock()
		}
	}()
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if m := urlRE.FindStringSubmatch(line); m != nil {
			h.url = strings.Replace(m[1], "localhost", "127.0.0.1", 1)
		}
		if m := pprofRE.FindStringSubmatch(line); m != nil {
			h.pprof = m[1]
		}
		f := strings.Fields(line)
		if len(f) >= 7 && f[3] == "username" {
			switch f[0] {
			case "owner":
				h.owner = [2]string{f[4], f[6]}
			case "agent":
				h.agent = [2]string{f[4], f[6]}
			}
		}
		if strings.Contains(line, "contact form:") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if h.url == "" || h.agent[0] == "" {
		h.stop()
		h.stderrMu.Lock()
		defer h.stderrMu.Unlock()
		return nil, fmt.Errorf("the helpdesk did not start: %s", h.stderr.String())
	}
	return h, nil
}

func (h *helpdesk) stop() {
	if h.stopped {
		return
	}
	h.stopped = true
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = h.cmd.Process.Kill()
		<-done
	}
}

// client is one simulated staff member with a browser, who also plays the
// visitors of the contact form.
type client struct {
	id  int
	c   *http.Client
	ip  string
	url string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
var submissionRE = regexp.MustCompile(`name="submission" value="([0-9a-f]+)"`)
var ticketRE = regexp.MustCompile(`ticket <strong>#(\d+)</strong>`)

func (h *helpdesk) newClient(i int) (*client, error) {
	jar, _ := cookiejar.New(nil)
	return &client{id: i, url: h.url, ip: fmt.Sprintf("198.18.%d.%d", i/250, i%250+1), c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4, MaxConnsPerHost: 8},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// send makes one request as the client (its address in X-Forwarded-For).
func (cl *client) send(ctx context.Context, method, path, ctype string, body io.Reader, ip string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, cl.url+path, body)
	if err != nil {
		return nil, "", err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if ip == "" {
		ip = cl.ip
	}
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := cl.c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func (cl *client) csrf(ctx context.Context, path string) (string, string, error) {
	resp, body, err := cl.send(ctx, "GET", path, "", nil, "")
	if err != nil {
		return "", "", err
	}
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		return "", body, fmt.Errorf("no form on %s (status %d)", path, resp.StatusCode)
	}
	return m[1], body, nil
}

// signIn signs the client's browser in.
func (cl *client) signIn(cred [2]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, _, err := cl.csrf(ctx, "/login")
	if err != nil {
		return err
	}
	resp, _, err := cl.send(ctx, "POST", "/login", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"csrf": {tok}, "username": {cred[0]}, "password": {cred[1]}}.Encode()), "")
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox" {
		return fmt.Errorf("sign-in answered %d", resp.StatusCode)
	}
	return nil
}

var tokenRE = regexp.MustCompile(`id="new-token">(gdk_[A-Za-z0-9]+)<`)

// apiToken signs an agent in and makes a read-only API token.
func (h *helpdesk) apiToken() (string, error) {
	cl, _ := h.newClient(999)
	if err := cl.signIn(h.agent); err != nil {
		return "", err
	}
	ctx := context.Background()
	tok, _, err := cl.csrf(ctx, "/security")
	if err != nil {
		return "", err
	}
	_, body, err := cl.send(ctx, "POST", "/security/tokens", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"csrf": {tok}, "name": {"loadtest"}, "days": {"1"}}.Encode()), "")
	if err != nil {
		return "", err
	}
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		return "", errors.New("no token on the page")
	}
	return m[1], nil
}

// ticketIDs lists the tickets there are when the run starts.
func (h *helpdesk) ticketIDs(token string) ([]int, error) {
	req, _ := http.NewRequest("GET", h.url+"/api/tickets", nil)
	req.SetBasicAuth(h.agent[0], token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var ids []int
	for _, m := range regexp.MustCompile(`"id":(\d+)`).FindAllStringSubmatch(string(body), -1) {
		n, _ := strconv.Atoi(m[1])
		ids = append(ids, n)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no tickets listed (status %d)", resp.StatusCode)
	}
	return ids, nil
}

// returning are addresses that write more than once during a run.
var returning = func() []string {
	out := make([]string, 24)
	for i := range out {
		out[i] = fmt.Sprintf("returning%d@example.org", i)
	}
	return out
}()

// do runs one operation of the mix.
func (cl *client) do(ctx context.Context, rnd *rand.Rand, rec *recorder, h *helpdesk, token string, ids []int, visitors *atomic.Int64) {
	n := rnd.IntN(100)
	op := mix[len(mix)-1].op
	for _, m := range mix {
		if n < m.weight {
			op = m.op
			break
		}
		n -= m.weight
	}
	t0 := time.Now()
	var resp *http.Response
	var body string
	var err error
	switch op {
	case "login":
		fresh, _ := h.newClient(cl.id)
		var tok string
		resp, body, err = fresh.send(ctx, "GET", "/login", "", nil, "")
		if err == nil && resp.StatusCode == http.StatusOK {
			if m := csrfRE.FindStringSubmatch(body); m != nil {
				tok = m[1]
			}
		}
		if err == nil && tok != "" {
			t0 = time.Now()
			resp, _, err = fresh.send(ctx, "POST", "/login", "application/x-www-form-urlencoded",
				strings.NewReader(url.Values{"csrf": {tok}, "username": {h.agent[0]}, "password": {h.agent[1]}}.Encode()), "")
		}
		if err == nil {
			switch {
			case resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/inbox":
				rec.ok(op, time.Since(t0))
				return
			case resp.StatusCode == http.StatusUnauthorized:
				rec.fail(failWrong401)
				return
			case resp.StatusCode == http.StatusTooManyRequests:
				rec.fail(failThrottled)
				return
			}
		}
	case "inbox", "ticket":
		path := "/inbox"
		if op == "ticket" {
			path = "/tickets/" + strconv.Itoa(ids[rnd.IntN(len(ids))])
		} else if rnd.IntN(4) == 0 {
			path = "/inbox?folder=closed"
		}
		resp, body, err = cl.send(ctx, "GET", path, "", nil, "")
		if err == nil && resp.StatusCode == http.StatusOK {
			if strings.Contains(body, `action="/login"`) {
				rec.fail(failLoggedOut)
				return
			}
			rec.ok(op, time.Since(t0))
			return
		}
		if err == nil && resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			rec.fail(failLoggedOut)
			_ = cl.signIn(h.agent)
			return
		}
	case "api":
		path := "/api/tickets"
		if rnd.IntN(2) == 0 {
			path += "/" + strconv.Itoa(ids[rnd.IntN(len(ids))])
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", cl.url+path, nil)
		req.SetBasicAuth(h.agent[0], token)
		req.Header.Set("X-Forwarded-For", cl.ip)
		resp, err = cl.c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				rec.ok(op, time.Since(t0))
				return
			case http.StatusUnauthorized:
				rec.fail(failWrong401)
				return
			}
		}
	case "contact":
		cl.contact(ctx, rnd, rec, visitors)
		return
	}
	rec.classify(ctx, resp, err)
}

// classify counts an answer that was not the expected one.
func (rec *recorder) classify(ctx context.Context, resp *http.Response, err error) {
	kind, sample := "", ""
	switch {
	case ctx.Err() != nil:
		return // the run ended mid-request: not an answer
	case err != nil:
		kind, sample = failNetwork, err.Error()
	case resp.StatusCode >= 500:
		kind, sample = fail5xx, resp.Status
	default:
		kind, sample = failOther, resp.Request.Method+" "+resp.Request.URL.Path+": "+resp.Status
	}
	rec.fail(kind)
	rec.mu.Lock()
	if _, ok := rec.samples[kind]; !ok {
		rec.samples[kind] = sample
	}
	rec.mu.Unlock()
}

// contact is a visitor who loads the contact form and sends it, as a new
// or returning address; a third of them double-click (the same form twice
// at once), and one in twenty gives up after a few milliseconds.
func (cl *client) contact(ctx context.Context, rnd *rand.Rand, rec *recorder, visitors *atomic.Int64) {
	v := visitors.Add(1)
	ip := fmt.Sprintf("198.19.%d.%d", (v/250)%250, v%250+1) // every visitor is somebody else
	jar, _ := cookiejar.New(nil)
	visitor := &client{id: cl.id, url: cl.url, ip: ip, c: &http.Client{Jar: jar, Timeout: 60 * time.Second, Transport: cl.c.Transport,
		CheckRedirect: cl.c.CheckRedirect}}
	t0 := time.Now()
	resp, page, err := visitor.send(ctx, "GET", "/contact", "", nil, "")
	if err != nil || resp.StatusCode != http.StatusOK {
		rec.classify(ctx, resp, err)
		return
	}
	rec.part("page", time.Since(t0))
	tok := csrfRE.FindStringSubmatch(page)
	if tok == nil {
		rec.classify(ctx, resp, errors.New("no form on /contact"))
		return
	}
	key := submissionRE.FindStringSubmatch(page)
	if key == nil {
		rec.fail(failOther)
		return
	}
	email := fmt.Sprintf("visitor%d-%d@example.org", cl.id, v)
	if rnd.IntN(5) == 0 {
		email = returning[rnd.IntN(len(returning))]
	}
	form := url.Values{"csrf": {tok[1]}, "submission": {key[1]}, "name": {"Visitor " + strconv.FormatInt(v, 10)}, "email": {email},
		"subject": {"Question " + strconv.FormatInt(v, 10)}, "message": {"Hello,\nwhere is my order?\nThanks"},
		"consent.support": {"yes"}, "consent.support.version": {"1"}, "consent.newsletter.version": {"1"}}
	if rnd.IntN(3) == 0 {
		form.Set("consent.newsletter", "yes")
	}
	body := form.Encode()
	sends := 1
	if rnd.IntN(3) == 0 {
		sends = 2
	}
	abort := rnd.IntN(20) == 0
	var wg sync.WaitGroup
	var answered atomic.Int32
	t1 := time.Now()
	for range sends {
		wg.Go(func() {
			sctx := ctx
			if abort {
				var cancel context.CancelFunc
				sctx, cancel = context.WithTimeout(ctx, time.Duration(1+rnd.IntN(30))*time.Millisecond)
				defer cancel()
			}
			resp, page, err := visitor.send(sctx, "POST", "/contact", "application/x-www-form-urlencoded", strings.NewReader(body), "")
			if err != nil && sctx.Err() != nil && ctx.Err() == nil {
				rec.aborted.Add(1)
				return
			}
			if err != nil || resp.StatusCode != http.StatusOK {
				rec.classify(ctx, resp, err)
				return
			}
			m := ticketRE.FindStringSubmatch(page)
			if m == nil {
				rec.fail(failOther)
				return
			}
			rec.ok("contact", time.Since(t0))
			part := "send"
			if sends == 2 {
				part = map[int32]string{1: "send (first of a double click)", 2: "send (second of a double click)"}[answered.Add(1)]
			}
			rec.part(part, time.Since(t1))
			rec.mu.Lock()
			if strings.Contains(page, `id="thanks"`) {
				rec.tickets[m[1]] = email
			}
			if sends == 2 {
				if rec.doubles[key[1]] == nil {
					rec.doubles[key[1]] = map[string]bool{}
				}
				rec.doubles[key[1]][m[1]] = true
			}
			rec.mu.Unlock()
		})
	}
	wg.Wait()
}

// restartPostgres restarts the local cluster at, and waits until it
// answers again; it reports how long the database was away.
//
// When ready is not nil the restart comes when it closes (the erasure
// probe's job is running), or 15 s after at at the latest.
func (h *helpdesk) restartPostgres(ctx context.Context, at time.Duration, rec *recorder, ready <-chan struct{}) string {
	start := time.Now()
	wait := time.After(at)
	if ready != nil {
		wait = time.After(at + 15*time.Second)
	}
	select {
	case <-ctx.Done():
		return "the run ended before the restart"
	case <-wait:
	case <-ready:
	}
	at = time.Since(start).Round(100 * time.Millisecond)
	versions, _ := filepath.Glob("/etc/postgresql/*/main")
	if len(versions) == 0 {
		return "no PostgreSQL cluster found under /etc/postgresql: not restarted"
	}
	sort.Strings(versions)
	version := filepath.Base(filepath.Dir(versions[len(versions)-1]))
	rec.restartOn.Store(true)
	t0 := time.Now()
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart").CombinedOutput()
	if err != nil {
		_ = exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start").Run()
	}
	back := time.Duration(0)
	for i := 0; i < 120; i++ {
		if exec.Command("pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432").Run() == nil {
			back = time.Since(t0)
			rec.backAt.Store(time.Now().UnixNano())
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if back == 0 {
		_ = exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start").Run()
		return fmt.Sprintf("PostgreSQL %s did not answer within 30 s after the restart (%v: %s); started again", version, err, strings.TrimSpace(string(out)))
	}
	// Answers within 2 s of the database's return still count as the
	// restart's own (the pool reconnects).
	time.Sleep(2 * time.Second)
	rec.restartOn.Store(false)
	return fmt.Sprintf("PostgreSQL %s restarted at %s; it answered again after %s", version, at, back.Round(10*time.Millisecond))
}

// check looks in the database for what must never happen.
func check(h *helpdesk, rec *recorder, fails map[string]int64) ([]string, error) {
	driver, dsn := "pgx", h.dsn
	if h.dialect == "sqlite" {
		driver, dsn = "sqlite", sqlstore.SQLiteDSN(h.dsn)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	count := func(q string) (int64, error) {
		var n int64
		err := db.QueryRow(q).Scan(&n)
		return n, err
	}
	var notes []string
	for _, c := range []struct{ kind, what, q string }{
		{failDuplicate, "customers sharing an address", "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM hd_users WHERE role = 'customer' GROUP BY account_id, email HAVING COUNT(*) > 1) d"},
		{failHalf, "customers without a ticket", "SELECT COUNT(*) FROM hd_users u WHERE role = 'customer' AND NOT EXISTS (SELECT 1 FROM hd_tickets t WHERE t.requester_id = u.id)"},
		{failHalf, "customers without a portal profile", "SELECT COUNT(*) FROM hd_users u WHERE role = 'customer' AND u.id <> '" + probeSubject + "' AND NOT EXISTS (SELECT 1 FROM hd_portal_profiles p WHERE p.user_id = u.id)"},
		{failHalf, "customers without consent", "SELECT COUNT(*) FROM hd_users u WHERE role = 'customer' AND u.id <> '" + probeSubject + "' AND NOT EXISTS (SELECT 1 FROM gdpr_consent_records c WHERE c.subject = u.id)"},
		{failHalf, "consents without their customer", "SELECT COUNT(*) FROM gdpr_consent_records c WHERE c.subject IS NOT NULL AND NOT EXISTS (SELECT 1 FROM hd_users u WHERE u.id = c.subject)"},
		{failHalf, "tickets without a message", "SELECT COUNT(*) FROM hd_tickets t WHERE NOT EXISTS (SELECT 1 FROM hd_messages m WHERE m.ticket_id = t.id)"},
	} {
		n, err := count(c.q)
		if err != nil {
			return notes, fmt.Errorf("%s: %w", c.what, err)
		}
		if n > 0 {
			fails[c.kind] += n
			notes = append(notes, fmt.Sprintf("%d %s", n, c.what))
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for ticket, email := range rec.tickets {
		var got string
		err := db.QueryRow("SELECT u.email FROM hd_tickets t JOIN hd_users u ON u.id = t.requester_id WHERE t.id = " + ticket).Scan(&got)
		if err != nil || got != email {
			fails[failLost]++
		}
	}
	customers, _ := count("SELECT COUNT(*) FROM hd_users WHERE role = 'customer'")
	tickets, _ := count("SELECT COUNT(*) FROM hd_tickets")
	notes = append(notes, fmt.Sprintf("database after the run: %d customers, %d tickets", customers, tickets))
	if h.dialect == "postgres" {
		notes = append(notes, wideScans(db)...)
	}
	return notes, nil
}

// wideScans names the tables and indexes of a PostgreSQL run that read
// many rows per scan: a lookup that reads every row of a growing table
// (a sequential scan, or an index used on its first column only) gets
// slower as tickets grow, which is how throughput falls within a run.
// The counters are the server's own (pg_stat_user_tables and
// pg_stat_user_indexes), for the run's fresh database.
func wideScans(db *sql.DB) []string {
	rows, err := db.Query(`SELECT relname, '(sequential)', seq_scan, seq_tup_read FROM pg_stat_user_tables WHERE seq_scan > 100 AND seq_tup_read > 50 * seq_scan
UNION ALL SELECT relname, indexrelname, idx_scan, idx_tup_read FROM pg_stat_user_indexes WHERE idx_scan > 100 AND idx_tup_read > 50 * idx_scan
ORDER BY 4 DESC LIMIT 8`)
	if err != nil {
		return []string{"wide scans: " + err.Error()}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var table, index string
		var scans, read int64
		if err := rows.Scan(&table, &index, &scans, &read); err != nil {
			return append(out, "wide scans: "+err.Error())
		}
		out = append(out, fmt.Sprintf("wide scans: %s %s: %d scans read %d rows (%d a scan)", table, index, scans, read, read/scans))
	}
	if len(out) == 0 && rows.Err() == nil {
		out = append(out, "wide scans: none (no table or index read more than 50 rows a scan over 100 scans)")
	}
	return out
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 0, 64)
}

func (r result) print(w io.Writer) {
	fmt.Fprintf(w, "\n## %s, %d clients, %s\n\n", r.db, r.clients, r.elapsed.Round(time.Second))
	fmt.Fprintf(w, "%d requests, %.0f req/s; %d tickets confirmed through the contact form, %d double clicks, %d sendings abandoned by the client\n\n",
		r.requests, float64(r.requests)/r.elapsed.Seconds(), r.contacts, r.doubles, r.aborted)
	fmt.Fprintln(w, "| operation | answered | p50 ms | p99 ms |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, m := range mix {
		ds := r.lat[m.op]
		fmt.Fprintf(w, "| %s | %d | %s | %s |\n", m.op, len(ds), ms(pct(ds, .5)), ms(pct(ds, .99)))
	}
	fmt.Fprintln(w)
	if len(r.timeline) > 0 {
		fmt.Fprintln(w, "Over the run (tickets grow as it goes):")
		fmt.Fprintln(w)
		fmt.Fprint(w, "| seconds | req/s |")
		for _, m := range mix[1:] {
			fmt.Fprintf(w, " %s p50/p99 ms |", m.op)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "|---|---|"+strings.Repeat("---|", len(mix)-1))
		for _, win := range r.timeline {
			fmt.Fprintf(w, "| %d–%d | %.0f |", win.from/time.Second, win.to/time.Second, float64(win.answered)/(win.to-win.from).Seconds())
			for _, m := range mix[1:] {
				ds := win.lat[m.op]
				fmt.Fprintf(w, " %s / %s |", ms(pct(ds, .5)), ms(pct(ds, .99)))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	var kinds []string
	for k := range r.fails {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if len(kinds) == 0 {
		fmt.Fprintln(w, "failures: none")
	}
	for _, k := range kinds {
		fmt.Fprintf(w, "failures: %s: %d\n", k, r.fails[k])
	}
	if r.restart != "" {
		fmt.Fprintln(w, "restart:", r.restart)
	}
	for _, n := range r.notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func printSummary(w io.Writer, rs []result) {
	fmt.Fprintln(w, "\n## Summary\n\n| run | req/s | p50 / p99 ms (all) | 5xx | wrong 401s | staff signed out | duplicate customers | half-written | lost | other |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		var all []time.Duration
		for _, ds := range r.lat {
			all = append(all, ds...)
		}
		other := r.fails[failOther] + r.fails[failNetwork] + r.fails[failThrottled] + r.fails[failDouble]
		fivexx := strconv.FormatInt(r.fails[fail5xx], 10)
		if r.fails[failDuring] > 0 {
			fivexx += fmt.Sprintf(" (+%d during the restart)", r.fails[failDuring])
		}
		fmt.Fprintf(w, "| %s, %d clients | %.0f | %s / %s | %s | %d | %d | %d | %d | %d | %d |\n", r.db, r.clients, float64(r.requests)/r.elapsed.Seconds(),
			ms(pct(all, .5)), ms(pct(all, .99)), fivexx, r.fails[failWrong401], r.fails[failLoggedOut], r.fails[failDuplicate], r.fails[failHalf], r.fails[failLost], other)
	}
}
