package authn

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// ThrottlePolicy slows down and finally stops guessing. Consecutive failures
// are counted per user and factor (password, TOTP, recovery code); an
// attempt is counted when it starts and forgiven when it succeeds, so
// concurrent guesses cannot slip past the counter. After Free failures each
// further attempt must wait Base × 2^(failures−Free), at most MaxDelay; after
// LockAfter failures the factor is locked until Service.Unlock (or, for the
// password, Service.SetPassword). Re-enrolling TOTP never resets a counter.
type ThrottlePolicy struct {
	// Free failures before any delay. Default 3.
	Free int
	// Base delay after the first non-free failure. Default 1 s.
	Base time.Duration
	// MaxDelay caps the delay. Default 15 min.
	MaxDelay time.Duration
	// LockAfter failures lock the factor. Default 10 (NIST SP 800-63B
	// allows at most 100).
	LockAfter int
}

// ThrottledError is returned when an attempt comes too soon after earlier
// failures, or the factor is locked. It wraps gdprkit.ErrLocked.
type ThrottledError struct {
	// Factor that is throttled.
	Factor Factor
	// Until is when the next attempt is allowed; zero when Locked.
	Until time.Time
	// Locked is true for a hard lock that only Unlock lifts.
	Locked bool
}

// Error says which factor is throttled and until when.
func (e *ThrottledError) Error() string {
	if e.Locked {
		return fmt.Sprintf("authn: %s locked after too many failures", e.Factor)
	}
	return fmt.Sprintf("authn: too many %s failures; retry after %s", e.Factor, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns gdprkit.ErrLocked.
func (e *ThrottledError) Unwrap() error { return gdprkit.ErrLocked }

// check returns a *ThrottledError when t forbids an attempt at now.
func (p ThrottlePolicy) check(f Factor, t Throttle, now time.Time) error {
	if t.Failures >= p.LockAfter {
		return &ThrottledError{Factor: f, Locked: true}
	}
	if t.Failures < p.Free {
		return nil
	}
	d := p.MaxDelay
	if n := t.Failures - p.Free; n < 40 {
		if e := p.Base << n; e > 0 && e < d {
			d = e
		}
	}
	if until := t.Last.Add(d); now.Before(until) {
		return &ThrottledError{Factor: f, Until: until}
	}
	return nil
}

// beginAttempt counts an attempt of factor f before it is checked, or
// refuses it with a *ThrottledError.
func (s *Service) beginAttempt(ctx context.Context, account gdprkit.AccountID, user string, f Factor) error {
	for range 16 {
		t, err := s.st.Throttle(ctx, account, user, f)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if err := s.cfg.Throttle.check(f, t, now); err != nil {
			s.event(ctx, account, EventLocked, user, map[string]string{"factor": string(f), "failures": strconv.Itoa(t.Failures)})
			return err
		}
		ok, err := s.st.SwapThrottle(ctx, account, user, f, t.Failures, Throttle{Failures: t.Failures + 1, Last: now})
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return &ThrottledError{Factor: f, Until: s.clock.Now().Add(s.cfg.Throttle.Base)}
}

// forgive resets the counter after a success; a failure is only logged.
func (s *Service) forgive(ctx context.Context, account gdprkit.AccountID, user string, f Factor) {
	if err := s.st.ResetThrottle(ctx, account, user, f); err != nil {
		s.log.Warn("authn: cannot reset throttle", "factor", string(f), "err", err)
	}
}

// dummyHash returns a hash at current parameters of a random password,
