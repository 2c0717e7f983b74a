package gdprkit

import "time"

// Clock is the only source of time for domain code, so schedules measured in
// days can be tested in microseconds (see package fakeclock).
type Clock interface {
	// Now returns the current time.
	Now() time.Time
}

// SystemClock is the real clock. Its zero value is ready to use; it returns
// time.Now() rounded to microseconds, the precision every SQL adapter keeps,
// so a value read back from storage equals the value written.
type SystemClock struct{}

// Now returns the wall-clock time in UTC, truncated to microseconds.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// ClockOrSystem returns c, or SystemClock when c is nil: the default every
// Config in the library applies to its Clock field.
func ClockOrSystem(c Clock) Clock {
	if c == nil {
		return SystemClock{}
	}
	return c
}
