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
