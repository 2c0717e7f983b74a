package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
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
// here, first come first served, so a request waits once, for about as
// long as those ahead of it take.
//
// Two classes: a form sent with POST (a contact form, a sign-in, a reply)
// continues what its sender started by loading the page, so it goes ahead
// of page loads; within a class, arrival order. Under load a visitor then
// waits in the queue once per form, not twice (page and sending), and a
// write, once admitted, holds its locks for less time. Page loads wait
// only while sendings queue; a flood of sendings could hold them back
// until their time limit (503), which the form rate here is far from.
type admission struct {
	mu     sync.Mutex
	free   int
	queues [2][]chan struct{} // [0] sendings, [1] page loads; each waiter's channel is closed when it gets a slot
}

func newAdmission(n int) *admission {
	if n <= 0 {
		return nil
	}
	return &admission{free: n}
}

// acquire waits for a slot in class c (0 goes first) until ctx ends; it
// reports whether it got one.
func (q *admission) acquire(ctx context.Context, c int) bool {
	q.mu.Lock()
	if q.free > 0 && len(q.queues[0]) == 0 && len(q.queues[1]) == 0 {
		q.free--
		q.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	q.queues[c] = append(q.queues[c], ch)
	q.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := slices.Index(q.queues[c], ch); i >= 0 {
		q.queues[c] = slices.Delete(q.queues[c], i, i+1)
		return false
	}
	// The slot was handed over as the wait ended: pass it on.
	q.releaseLocked()
	return false
}

// release hands the slot to the first waiter of the first class that has
// one, or frees it.
func (q *admission) release() {
	q.mu.Lock()
	q.releaseLocked()
	q.mu.Unlock()
}

func (q *admission) releaseLocked() {
	for c := range q.queues {
		if len(q.queues[c]) > 0 {
			ch := q.queues[c][0]
			q.queues[c] = q.queues[c][1:]
			close(ch)
			return
		}
	}
	q.free++
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
		class := 1
		if r.Method == http.MethodPost {
			class = 0
		}
		if !q.acquire(r.Context(), class) {
			if errors.Is(r.Context().Err(), context.DeadlineExceeded) {
				a.log.Warn("request waited its whole time limit to be served", "path", r.URL.Path)
			}
			a.unavailable(w, r)
			return
		}
		defer q.release()
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
