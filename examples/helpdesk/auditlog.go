package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
)

// auditLog is the app's gdprkit.AuditSink: events are kept in hd_audit_log,
// written in batches by RunWorkers (every 200 ms, one statement per 100
// events) so that a busy API does not add a write to every request. Up to
// maxPending events wait in memory; past that the oldest are dropped and
// counted in the log (a database that is down for long loses audit
// entries, never requests). Flush writes what waits at once.
type auditLog struct {
	host    *hostdb.DB
	log     *slog.Logger
	mu      sync.Mutex
	pending []gdprkit.Event
	dropped int
	write   sync.Mutex // one writer at a time, so entries keep their order
}

const maxPending = 20_000

func newAuditLog(h *hostdb.DB, log *slog.Logger) *auditLog { return &auditLog{host: h, log: log} }

// Record queues e.
func (l *auditLog) Record(_ context.Context, e gdprkit.Event) error {
	l.mu.Lock()
	if len(l.pending) >= maxPending {
		l.pending = l.pending[1:]
		l.dropped++
	}
	l.pending = append(l.pending, e)
	l.mu.Unlock()
	return nil
}

// Flush writes the queued events. On failure they stay queued.
func (l *auditLog) Flush(ctx context.Context) error {
	l.write.Lock()
	defer l.write.Unlock()
	l.mu.Lock()
	batch, dropped := l.pending, l.dropped
	l.pending, l.dropped = nil, 0
	l.mu.Unlock()
	if dropped > 0 {
		l.log.Warn("audit log: events dropped while the database was unavailable", "dropped", dropped)
	}
	if len(batch) == 0 {
		return nil
	}
	if err := l.host.AppendAudit(ctx, batch); err != nil {
		l.mu.Lock()
		l.pending = append(batch, l.pending...)
		if over := len(l.pending) - maxPending; over > 0 {
			l.pending, l.dropped = l.pending[over:], l.dropped+over
		}
		l.mu.Unlock()
		return err
	}
	return nil
}

// run flushes every 200 ms until ctx ends, then once more.
func (l *auditLog) run(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = l.Flush(fctx)
			cancel()
			return
		case <-t.C:
			if err := l.Flush(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn("audit log: write failed; will retry", "err", err)
			}
		}
	}
}

// limiter is a token bucket per client address. It forgets a bucket once
// it is full again.
type limiter struct {
	rate    Rate
	clock   gdprkit.Clock
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(r Rate, c gdprkit.Clock) *limiter {
	return &limiter{rate: r, clock: c, buckets: map[string]*bucket{}}
}

// Allow takes a token for key, or reports how long until one is free.
func (l *limiter) Allow(key string) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	perSec := l.rate.PerMinute / 60
	if len(l.buckets) > 100_000 { // sweep full buckets
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.at).Seconds()*perSec >= float64(l.rate.Burst) {
				delete(l.buckets, k)
			}
		}
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(l.rate.Burst), at: now}
		l.buckets[key] = b
	}
	b.tokens = min(float64(l.rate.Burst), b.tokens+now.Sub(b.at).Seconds()*perSec)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if perSec <= 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - b.tokens) / perSec * float64(time.Second))
}
