// Package fakeclock provides a gdprkit.Clock that moves only when told to, so
// tests and demos can run a 14-day trial or a 60-day suspension in
// microseconds.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a settable gdprkit.Clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Clock that reads t (in UTC, truncated to microseconds).
func New(t time.Time) *Clock { return &Clock{now: t.UTC().Truncate(time.Microsecond)} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward if d is negative) and
// returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d).Truncate(time.Microsecond)
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t.UTC().Truncate(time.Microsecond)
	c.mu.Unlock()
}
