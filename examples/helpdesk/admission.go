package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
)

// admission lets a bounded number of requests work at once and queues the
// rest in arrival order.
//
// Why: a page makes about six statements, each on a connection of its own
// from the pool, and database/sql hands a freed connection to a random
// waiter. With 128 clients and a pool of 4, every statement of a request
// was another draw in that lottery: the load test's block profile showed
// 95% of all blocked time in sql.(*DB).conn, and the unlucky requests made
// the p99. Admitted requests rarely wait for a connection; the others wait
// here, first come first served (a Go channel wakes its blocked senders in
// order), so a request waits once, for about as long as those ahead of it
// take.
type admission struct {
	slots chan struct{}
}

func newAdmission(n int) *admission {
	if n <= 0 {
		return nil
	}
	return &admission{slots: make(chan struct{}, n)}
}

// admit wraps next in the admission queue. A request whose time limit ends
// while it waits is answered 503 with Retry-After (the page says try
// again); a client that gives up while waiting is dropped. The health
// check does not queue. A request body the handler reads itself (the API's
// JSON, at most maxAPIBody: forms are read by csrf before this) is read
// before the request queues, so a slow sender never holds a slot.
func (a *App) admit(next http.Handler) http.Handler {
	q := a.admission
	if q == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if r.Body != nil && r.Body != http.NoBody && strings.HasPrefix(r.URL.Path, "/api/") {
			b, err := io.ReadAll(r.Body) // bounded by csrf's MaxBytesReader
			r.Body = readBack{Reader: io.MultiReader(bytes.NewReader(b), errReader{err}), c: r.Body}
		}
		select {
		case q.slots <- struct{}{}:
		case <-r.Context().Done():
			if errors.Is(r.Context().Err(), context.DeadlineExceeded) {
				a.log.Warn("request waited its whole time limit to be served", "path", r.URL.Path)
			}
			a.unavailable(w, r)
			return
		}
		defer func() { <-q.slots }()
		next.ServeHTTP(w, r)
	})
}

// readBack is a body read in advance: its bytes, then the error the read
// ended with (nil: EOF), so the handler sees what it would have read.
type readBack struct {
	io.Reader
	c io.Closer
}

func (b readBack) Close() error { return b.c.Close() }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}
