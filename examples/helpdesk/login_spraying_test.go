package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// EnvLoadTest turns on TestLoadLoginsUnderPasswordSpraying, which takes
// about a minute of both cores: "1" or "sqlite" runs it on SQLite,
// "postgres" or "mysql" on the database internal/testdb opens for that
// dialect (GDPRKIT_TEST_POSTGRES, GDPRKIT_TEST_MYSQL).
const EnvLoadTest = "GDPRKIT_LOADTEST"

// TestLoadLoginsUnderPasswordSpraying drives the helpdesk over loopback
// HTTP, as deployed (SQLite, production argon2id parameters, the system
// clock, a trusted reverse proxy on 127.0.0.1 that sets X-Forwarded-For):
//
//   - a password-spraying attack of 10,000 login attempts, 20 common
//     passwords against 200 real and 200 made-up usernames, from 100
//     source addresses, 64 at a time;
//   - while it runs, 200 real agents logging in at once, each from an
//     address of their own.
//
// It checks that every agent gets in, that the attack is slowed by the
// account's failure budget (few of its guesses are checked at all), that
// nothing answers 5xx, and that memory stays bounded; and it logs the
// figures SECURITY.md reports. Bounded in count (10,000 + 200 requests) and
// time (the attack stops after 3 minutes). Run it with
//
//	GDPRKIT_LOADTEST=1 go test -run TestLoadLoginsUnderPasswordSpraying -v -timeout 10m ./examples/helpdesk/
//
// (GDPRKIT_LOADTEST=postgres with GDPRKIT_TEST_POSTGRES set runs it on
// PostgreSQL.)
func TestLoadLoginsUnderPasswordSpraying(t *testing.T) {
	if os.Getenv(EnvLoadTest) == "" {
		t.Skipf("set %s=1 to run the login load test (about a minute)", EnvLoadTest)
	}
	const (
		realUsers = 200
		attempts  = 10_000
		sprayers  = 64
		sources   = 100
	)
	ctx := context.Background()
	dialect := sqlstore.SQLite
	var db *sql.DB
	switch v := os.Getenv(EnvLoadTest); v {
	case "1", "sqlite":
		var err error
		db, err = sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "hd.db")))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
	default:
		var err error
		dialect, err = sqldb.ParseDialect(v)
		require.NoError(t, err)
		db = testdb.Open(t, dialect).DB
	}
	t.Logf("database: %s", dialect)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	app, err := NewApp(ctx, Config{DB: db, Dialect: dialect, BlobDir: filepath.Join(t.TempDir(), "files"), Secret: secret,
		Proxy: ipfilter.ProxyConfig{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	require.NoError(t, err)
	_, err = app.Seed(ctx)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(app)
	srv.Listener.Close()
	srv.Listener, err = net.Listen("tcp", "127.0.0.1:0") // loopback only
	require.NoError(t, err)
	srv.Start()
	t.Cleanup(srv.Close)

	// The real agents, each with a strong password of their own.
	pw := make([]string, realUsers)
	for i := range realUsers {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		pw[i] = "agent-" + hex.EncodeToString(b)
		u := hostdb.User{ID: fmt.Sprintf("u-load-%d", i), Role: hostdb.RoleAgent, Name: fmt.Sprintf("Agent %d", i), Email: fmt.Sprintf("agent%d@helpdesk.example", i)}
		require.NoError(t, app.host.AddUser(ctx, app.acct, u))
		require.NoError(t, app.kit.Auth.CreateUser(ctx, app.acct, u.ID, fmt.Sprintf("agent%d", i), pw[i]))
	}

	peak := sampleMemory(t)
	client := &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       2 * time.Minute,
	}
	type outcome int
	const (
		loggedIn  outcome = iota
		refused           // 401: the password was checked and was wrong
		throttled         // 429: refused without a check
		failed            // anything else
	)
	csrfRE := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	// login posts one login from addr through a fresh or kept CSRF pair.
	type form struct {
		jar  http.CookieJar
		csrf string
	}
	newForm := func() (form, error) {
		jar, _ := cookiejar.New(nil)
		c := *client
		c.Jar = jar
		resp, err := c.Get(srv.URL + "/login")
		if err != nil {
			return form{}, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfRE.FindSubmatch(body)
		if m == nil {
			return form{}, fmt.Errorf("no CSRF token (status %d)", resp.StatusCode)
		}
		return form{jar: jar, csrf: string(m[1])}, nil
	}
	login := func(f form, addr, user, pass string) (outcome, int) {
		c := *client
		c.Jar = f.jar
		req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"csrf": {f.csrf}, "username": {user}, "password": {pass}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", addr)
		resp, err := c.Do(req)
		if err != nil {
			return failed, 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/inbox":
			return loggedIn, resp.StatusCode
		case resp.StatusCode == http.StatusUnauthorized:
			return refused, resp.StatusCode
		case resp.StatusCode == http.StatusTooManyRequests:
			return throttled, resp.StatusCode
		}
		return failed, resp.StatusCode
	}

	// The attack.
	common := []string{"Password123!", "Welcome2026!", "Summer2026!!", "Qwerty123456", "Letmein2026!", "Helpdesk2026", "Spring2026!!",
		"Company2026!", "Passw0rd2026", "Iloveyou2026", "Monkey123456", "Football2026", "Dragon123456", "Winter2026!!",
		"Autumn2026!!", "Admin1234567", "Changeme2026", "Support2026!", "Baseball2026", "Sunshine2026"}
	var next, counts [4]atomic.Int64
	var perSecond sync.Map // second -> *atomic.Int64 of checked guesses
	var statuses sync.Map  // unexpected status -> count
	start := time.Now()
	attackCtx, stopAttack := context.WithTimeout(ctx, 3*time.Minute)
	defer stopAttack()
	var attack sync.WaitGroup
	for w := range sprayers {
		attack.Go(func() {
			f, err := newForm()
			if err != nil {
				t.Error(err)
				return
			}
			for attackCtx.Err() == nil {
				i := next[0].Add(1) - 1
				if i >= attempts {
					return
				}
				user := fmt.Sprintf("agent%d", i%realUsers)
				if i%2 == 1 {
					user = fmt.Sprintf("staff%d", i%realUsers) // names that do not exist
				}
				addr := fmt.Sprintf("10.77.0.%d", (int(i)+w)%sources+1)
				o, status := login(f, addr, user, common[(i/(2*realUsers))%int64(len(common))])
				counts[o].Add(1)
				if o == refused || o == loggedIn {
					v, _ := perSecond.LoadOrStore(int(time.Since(start)/time.Second), new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
				}
				if o == failed {
					v, _ := statuses.LoadOrStore(status, new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
				}
			}
		})
	}

	// The agents, once the attack is under way.
	for counts[refused].Load()+counts[throttled].Load() < 500 && time.Since(start) < 30*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	agentsStart := time.Since(start)
	forms := make([]form, realUsers)
	for i := range realUsers {
		forms[i], err = newForm()
		require.NoError(t, err)
	}
	lat := make([]time.Duration, realUsers)
	var agentOutcomes [4]atomic.Int64
	var agents sync.WaitGroup
	for i := range realUsers {
		agents.Go(func() {
			t0 := time.Now()
			o, _ := login(forms[i], fmt.Sprintf("192.168.%d.%d", i/250, i%250+1), fmt.Sprintf("agent%d", i), pw[i])
			lat[i] = time.Since(t0)
			agentOutcomes[o].Add(1)
		})
	}
	agents.Wait()
	agentsTook := time.Since(start) - agentsStart
	attack.Wait()
	took := time.Since(start)
	heapPeak, rss := peak()

	slices.Sort(lat)
	done := counts[loggedIn].Load() + counts[refused].Load() + counts[throttled].Load() + counts[failed].Load()
	checked := counts[refused].Load() + counts[loggedIn].Load()
	var firstSecond, maxSecond int64
	perSecond.Range(func(k, v any) bool {
		n := v.(*atomic.Int64).Load()
		if k.(int) == 0 {
			firstSecond = n
		}
		maxSecond = max(maxSecond, n)
		return true
	})
	var bad []string
	statuses.Range(func(k, v any) bool {
		bad = append(bad, fmt.Sprintf("%v×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("attack: %d attempts in %s (%.0f/s) from %d addresses: %d checked (%.1f/s; %d in the first second, at most %d in any second), %d throttled without a check, %d guessed right, %d other %v",
		done, took.Round(time.Millisecond), float64(done)/took.Seconds(), sources, checked, float64(checked)/took.Seconds(), firstSecond, maxSecond,
		counts[throttled].Load(), counts[loggedIn].Load(), counts[failed].Load(), bad)
	t.Logf("agents: %d of %d logged in during the attack (started at %s, all done in %s); latency p50 %s, p90 %s, p99 %s, max %s",
		agentOutcomes[loggedIn].Load(), realUsers, agentsStart.Round(time.Millisecond), agentsTook.Round(time.Millisecond),
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*9/10].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	t.Logf("memory: peak Go heap %.0f MiB, peak RSS %.0f MiB; GOMAXPROCS %d = KDF slots (argon2id m=19456 KiB, t=2, p=1)",
		float64(heapPeak)/(1<<20), float64(rss)/(1<<20), runtime.GOMAXPROCS(0))

	require.EqualValues(t, realUsers, agentOutcomes[loggedIn].Load(), "every real agent logs in during the attack")
	require.Zero(t, counts[failed].Load(), "no 5xx or other answer: %v", bad)
	require.Zero(t, counts[loggedIn].Load(), "no sprayed guess was right")
	require.Less(t, checked, int64(attempts/5), "the account's budget keeps most sprayed guesses from being checked")
	require.Less(t, heapPeak, uint64(512<<20), "memory stays bounded")
}

// sampleMemory samples the Go heap every millisecond until the returned
// function is called, which reports the peak heap and the process's peak
// RSS (VmHWM, Linux; 0 elsewhere).
func sampleMemory(t *testing.T) func() (heap, rss uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(stop); wg.Wait() }) })
	return func() (uint64, uint64) {
		once.Do(func() { close(stop); wg.Wait() })
		var rss uint64
		if b, err := os.ReadFile("/proc/self/status"); err == nil {
			if m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b); m != nil {
				fmt.Sscan(string(m[1]), &rss)
				rss *= 1024
			}
		}
		return peak.Load(), rss
	}
}
