package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// countingDriver is the SQLite driver with every statement counted: the
// number of round trips a page makes is what the load test's pool waits
// multiply (database/sql hands a freed connection to a random waiter, so
// each statement of a request is another wait).
type countingDriver struct {
	inner driver.Driver
	n     atomic.Int64
	mu    sync.Mutex
	log   []string // statements since the last reset, when logging
	on    bool
}

func (d *countingDriver) count(query string) {
	d.n.Add(1)
	d.mu.Lock()
	if d.on {
		d.log = append(d.log, strings.Join(strings.Fields(query), " "))
	}
	d.mu.Unlock()
}

// take returns the statements counted since the last call and starts over.
func (d *countingDriver) take() (int64, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.log
	d.log, d.on = nil, true
	return d.n.Swap(0), l
}

func (d *countingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &countingConn{c: c, d: d}, nil
}

// countingConn forwards to the SQLite connection, counting statements.
type countingConn struct {
	c driver.Conn
	d *countingDriver
}

func (c *countingConn) Prepare(q string) (driver.Stmt, error) { c.d.count(q); return c.c.Prepare(q) }
func (c *countingConn) Close() error                          { return c.c.Close() }
func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *countingConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	c.d.count("BEGIN")
	return c.c.(driver.ConnBeginTx).BeginTx(ctx, o)
}
func (c *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.d.count(q)
	return c.c.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}
func (c *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.d.count(q)
	return c.c.(driver.ExecerContext).ExecContext(ctx, q, args)
}
func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.d.count(q)
	return c.c.(driver.QueryerContext).QueryContext(ctx, q, args)
}
func (c *countingConn) Ping(ctx context.Context) error { return c.c.(driver.Pinger).Ping(ctx) }
func (c *countingConn) ResetSession(ctx context.Context) error {
	return c.c.(driver.SessionResetter).ResetSession(ctx)
}
func (c *countingConn) IsValid() bool { return c.c.(driver.Validator).IsValid() }

var registerCounting = sync.OnceValue(func() *countingDriver {
	plain, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	d := &countingDriver{inner: plain.Driver()}
	_ = plain.Close()
	sql.Register("sqlite-counting", d)
	return d
})

// Every page of the load test's mix makes a fixed number of statements,
// however many tickets there are: nothing is read per ticket, and what
// runs per request is listed (run with -v) so that a new per-request query
// shows up here.
func TestQueriesPerRequestDoNotGrowWithTickets(t *testing.T) {
	d := registerCounting()
	db, err := sql.Open("sqlite-counting", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "hd.db")))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	e := newEnvDB(t, db, sqlstore.SQLite, false)
	b := e.browser()
	b.login(agentUser, agentPass)
	_, body := b.post("/security/tokens", url.Values{"name": {"count"}, "days": {"1"}})
	tok := regexp.MustCompile(`id="new-token">(gdk_[A-Za-z0-9]+)<`).FindStringSubmatch(body)
	require.NotNil(t, tok)
	api := func(path string) {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.SetBasicAuth(agentUser, tok[1])
		resp, err := e.srv.Client().Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	visitor := 0
	contact := func() {
		visitor++
		v := e.browser()
		v.get("/contact")
		key := regexp.MustCompile(`name="submission" value="([0-9a-f]+)"`).FindStringSubmatch(v.last)
		require.NotNil(t, key)
		d.take() // the form's GET is counted below on its own
		status, body := v.post("/contact", url.Values{"submission": {key[1]}, "name": {"Visitor"}, "email": {fmt.Sprintf("v%d@example.org", visitor)},
			"subject": {"Question"}, "message": {"Where is my order?"}, "consent.support": {"yes"}, "consent.support.version": {"1"},
			"consent.newsletter.version": {"1"}})
		require.Equal(t, http.StatusOK, status, pageError(body))
	}
	ops := []struct {
		name string
		do   func()
	}{
		{"GET /inbox", func() { b.get("/inbox") }},
		{"GET /inbox?folder=closed", func() { b.get("/inbox?folder=closed") }},
		{"GET /tickets/2", func() { b.get("/tickets/2") }},
		{"GET /api/tickets", func() { api("/api/tickets") }},
		{"GET /api/tickets/2", func() { api("/api/tickets/2") }},
		{"GET /contact", func() { e.browser().get("/contact") }},
		{"POST /contact (new address)", contact},
	}
	measure := func() map[string]int64 {
		out := map[string]int64{}
		for _, op := range ops {
			op.do() // once to warm caches
			d.take()
			op.do()
			n, log := d.take()
			out[op.name] = n
			if testing.Verbose() {
				t.Logf("%s: %d statements\n\t%s", op.name, n, strings.Join(log, "\n\t"))
			}
		}
		return out
	}
	few := measure()
	ctx := context.Background()
	carla, err := e.app.host.User(ctx, e.app.acct, "c-carla")
	require.NoError(t, err)
	require.NoError(t, e.app.host.InTx(ctx, func(tx *hostdb.DB) error {
		for i := range 300 {
			if _, err := tx.CreateTicket(ctx, e.app.acct, hostdb.NewTicket{Requester: carla, RequesterName: carla.Name,
				Subject: fmt.Sprintf("Question number %d", i), Body: "Line one\nLine two"}); err != nil {
				return err
			}
		}
		return nil
	}))
	many := measure()
	names := make([]string, 0, len(few))
	for k := range few {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.Logf("%-30s %d statements", k, few[k])
		assert.Equal(t, few[k], many[k], "%s: statements with 300 more tickets", k)
	}
	assert.LessOrEqual(t, few["GET /inbox"], int64(12), "the inbox reads a page, not each ticket")
}
