package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Past MaxActive a request waits for a slot; one whose time limit ends
// while it waits is answered 503 with Retry-After, the health check never
// waits, and a freed slot serves the next request.
func TestAdmissionQueuesPastMaxActive(t *testing.T) {
	e := newEnv(t, false)
	e.app.admission = newAdmission(1)
	release, started := make(chan struct{}), make(chan struct{}, 1)
	h := e.app.admit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			<-release
		}
		_, _ = w.Write([]byte("served"))
	}))
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/slow", nil))
		done <- rec.Code
	}()
	<-started // the one slot is taken

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/inbox", nil).WithContext(ctx))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "its time limit ended in the queue")
	assert.Equal(t, retryAfter, rec.Header().Get("Retry-After"))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, "served", rec.Body.String(), "the health check does not queue")

	close(release)
	require.Equal(t, http.StatusOK, <-done)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/inbox", nil))
	assert.Equal(t, "served", rec.Body.String(), "the freed slot serves the next request")
}

// A form being sent goes ahead of page loads that queued before it, and
// within a class the queue keeps arrival order; a waiter that gives up
// leaves the queue without taking a slot.
func TestAdmissionServesSendingsBeforePageLoads(t *testing.T) {
	e := newEnv(t, false)
	e.app.admission = newAdmission(1)
	release, started := make(chan struct{}), make(chan struct{}, 1)
	order := make(chan string, 8)
	h := e.app.admit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			<-release
			return
		}
		order <- r.Method + " " + r.URL.Path
	}))
	serve := func(r *http.Request) chan struct{} {
		done := make(chan struct{})
		go func() {
			h.ServeHTTP(httptest.NewRecorder(), r)
			close(done)
		}()
		return done
	}
	slow := serve(httptest.NewRequest("GET", "/slow", nil))
	<-started
	waiting := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool {
			q := e.app.admission
			q.mu.Lock()
			defer q.mu.Unlock()
			return len(q.queues[0])+len(q.queues[1]) == n
		}, 5*time.Second, time.Millisecond)
	}
	var done []chan struct{}
	done = append(done, serve(httptest.NewRequest("GET", "/inbox", nil)))
	waiting(1)
	done = append(done, serve(httptest.NewRequest("GET", "/tickets/1", nil)))
	waiting(2)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := serve(httptest.NewRequest("POST", "/gave-up", nil).WithContext(ctx))
	waiting(3)
	cancel()
	<-gaveUp
	waiting(2)
	done = append(done, serve(httptest.NewRequest("POST", "/contact", nil)))
	waiting(3)
	done = append(done, serve(httptest.NewRequest("POST", "/login", nil)))
	waiting(4)

	close(release)
	<-slow
	for _, d := range done {
		<-d
	}
	close(order)
	var got []string
	for o := range order {
		got = append(got, o)
	}
	assert.Equal(t, []string{"POST /contact", "POST /login", "GET /inbox", "GET /tickets/1"}, got)
	q := e.app.admission
	assert.Equal(t, 1, q.free, "every slot is back")
}
