package authn

import (
	"context"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
)

// LockStatus describes a user's password counter for clients without a
// trusted-device token, for an administrator's screen.
type LockStatus struct {
	// Failures counts consecutive failed password attempts.
	Failures int
	// Locked is true after ThrottlePolicy.LockAfter failures.
	Locked bool
	// Until is when the next attempt may be made, when that is later than
	// now.
	Until time.Time
}

// LockStatus returns the user's password lock status.
func (s *Service) LockStatus(ctx context.Context, account gdprkit.AccountID, userID string) (LockStatus, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return LockStatus{}, err
	}
	t, err := s.st.Throttle(ctx, account, ThrottleKey{User: userID, Factor: FactorPassword})
	if err != nil {
		return LockStatus{}, fmt.Errorf("authn: lock status: %w", err)
	}
	st := LockStatus{Failures: t.Failures, Locked: t.Failures >= s.cfg.Throttle.LockAfter}
	if until := t.Last.Add(s.cfg.Throttle.delay(t.Failures)); !st.Locked && t.Failures >= s.cfg.Throttle.Free && s.clock.Now().Before(until) {
		st.Until = until
	}
	return st, nil
}

// PurgeThrottles deletes the account's counters that no longer matter:
// those without failures and those of usernames that name no user, idle for
// longer than a day (the longest a delay lasts is MaxDelay). Call it from a
// periodic sweep, like PurgeSessions.
func (s *Service) PurgeThrottles(ctx context.Context, account gdprkit.AccountID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	n, err := s.st.PurgeThrottles(ctx, account, s.clock.Now().Add(-max(24*time.Hour, 2*s.cfg.Throttle.MaxDelay)))
	if err != nil {
		return 0, fmt.Errorf("authn: purge throttles: %w", err)
	}
	return n, nil
}
