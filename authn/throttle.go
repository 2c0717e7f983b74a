package authn

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// ThrottlePolicy slows guessing down without letting anyone lock a user out
// (NIST SP 800-63B rev 4 §3.2.2, OWASP ASVS 5.0 V6.1.1 and V6.3.1).
//
// Four limits apply to every password, TOTP and recovery-code attempt:
//
//   - Per user, factor and client, consecutive failures are counted in the
//     store (so every process sees them). After Free failures each attempt
//     waits Base × 2^(failures−Free), never more than MaxDelay: a soft lock
//     that always ends. After LockAfter failures (100, the most NIST allows
//     and no fewer) the factor is locked for that client until
//     Service.Unlock, a new password (SetPassword) or a success. A "client"
//     is either any client without a trusted-device token, or one trusted
//     device (Config.TrustedDeviceTTL): a device gets its token by logging
//     in, and its counter is its own, so no outsider's failures slow down
//     or lock a user on a device they have logged in from before.
//   - Unknown usernames are counted exactly like users (under a keyed hash
//     of the name), so delays and locks tell nobody which usernames exist.
//   - Per source network (an IPv4 address, or an IPv6 /64), failures on
//     the account are kept in a budget of SourceBudget that refills one
//     failure every SourceRefill; a source with no budget left waits.
//   - Per account, all failures, unknown usernames included, draw on a
//     budget of GlobalBudget refilling one every GlobalRefill. While it is
//     spent (password spraying), only sources without any failure left in
//     their own budget may try: each spraying source gets about one guess
//     per SourceRefill, while users who have not failed still log in.
//
// A correct password or code is never counted as a failure, and never
// refused because other attempts are being checked. A password, or a TOTP
// code that matches no unused step, is checked first and decided after:
// in one compare-and-swap on the counter, the attempt is let in if the
// counter has room for it now (failures below Free, or the delay over and
// no attempt in flight) and its outcome recorded; otherwise it is refused
// like any other and its check discarded unseen (an attempt refused only
// then has cost a KDF run; Config.MaxConcurrentHashes bounds what racing
// attempts can cost, and an attempt the counter would refuse already is
// refused before the KDF). So concurrent correct
// logins never wait for one another, however long the KDF queue is, and of
// 50 racing wrong guesses at most Free are answered as wrong and counted
// (the rest are refused as throttled, whatever they were). A check that
// uses something up (a TOTP code that matches, a recovery code) is made
// only after the attempt reserved one of the counter's free slots; one
// that finds every slot reserved waits up to Wait for them and is then
// answered gdprkit.ErrUnavailable (try again), never "throttled". A store
// failure anywhere is gdprkit.ErrUnavailable and counts nothing.
//
// The source and account budgets live in the Service's memory (each process
// has its own; MaxSources bounds their size); the per-user counters live in
// the store. Trusted devices skip the source and account budgets.
type ThrottlePolicy struct {
	// Free failures before any delay. Default 5.
	Free int
	// Base delay after the first non-free failure; it doubles with each
	// further failure. Default 1 s.
	Base time.Duration
	// MaxDelay caps the delay: the longest wait anyone's failures can
	// impose before a user's next attempt. Default 5 min.
	MaxDelay time.Duration
	// LockAfter consecutive failures lock the factor for the client.
	// Default 100; larger values are refused, as NIST SP 800-63B rev 4
	// allows no more.
	LockAfter int
	// Wait is how long an attempt whose check uses something up (a TOTP
	// code that matches, a recovery code) waits when every free slot of
	// its counter is reserved by others being checked, before it gives up
	// with gdprkit.ErrUnavailable. Passwords never wait. Default 5 s.
	Wait time.Duration
	// SourceBudget failures a source network may have before it waits.
	// Default 20.
	SourceBudget int
	// SourceRefill is how long a source takes to regain one failure of its
	// budget. Default 30 s.
	SourceRefill time.Duration
	// GlobalBudget failures an account may see before only clean sources
	// may try. Default 100.
	GlobalBudget int
	// GlobalRefill is how long the account takes to regain one failure of
	// its budget. Default 100 ms (10 failures a second, sustained).
	GlobalRefill time.Duration
	// MaxSources bounds how many source budgets a Service keeps; beyond it,
	// new sources share one budget per account. Default 50,000 (a few
	// MiB).
	MaxSources int
}

// withDefaults fills zero fields and checks the rest.
func (p ThrottlePolicy) withDefaults() (ThrottlePolicy, error) {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	set(&p.Free, 5)
	setD(&p.Base, time.Second)
	setD(&p.MaxDelay, 5*time.Minute)
	set(&p.LockAfter, 100)
	setD(&p.Wait, 5*time.Second)
	set(&p.SourceBudget, 20)
	setD(&p.SourceRefill, 30*time.Second)
	set(&p.GlobalBudget, 100)
	setD(&p.GlobalRefill, 100*time.Millisecond)
	set(&p.MaxSources, 50_000)
	if p.Free < 0 || p.Base < 0 || p.MaxDelay < 0 || p.LockAfter < 1 || p.LockAfter > 100 || p.Wait < 0 ||
		p.SourceBudget < 1 || p.SourceRefill < 0 || p.GlobalBudget < 1 || p.GlobalRefill < 0 || p.MaxSources < 1 {
		return p, fmt.Errorf("%w: throttle policy out of range (LockAfter must be 1 to 100)", gdprkit.ErrInvalid)
	}
	return p, nil
}

// ThrottledError is returned when an attempt comes too soon after earlier
// failures, or the factor is locked. It wraps gdprkit.ErrLocked. It reads
// the same for a username that names no user as for one that does.
type ThrottledError struct {
	// Factor that is throttled.
	Factor Factor
	// Until is when the next attempt may be made; zero when Locked.
	Until time.Time
	// Locked is true after Policy.LockAfter consecutive failures: only
	// Service.Unlock, a new password, or a success from a trusted device
	// lifts it.
	Locked bool
}

// Error says which factor is throttled and until when.
func (e *ThrottledError) Error() string {
	if e.Locked {
		return fmt.Sprintf("authn: %s locked after too many failures; sign in from a device you used before, or ask an administrator to unlock", e.Factor)
	}
	return fmt.Sprintf("authn: too many %s attempts; retry after %s", e.Factor, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns gdprkit.ErrLocked.
func (e *ThrottledError) Unwrap() error { return gdprkit.ErrLocked }

// pendingLease is how long a reservation counts as in flight. An attempt
// that dies between its reservation and its outcome (a crashed process)
// stops holding its slot after this.
const pendingLease = time.Minute

// delay is the wait after failures consecutive failures.
func (p ThrottlePolicy) delay(failures int) time.Duration {
	if failures < p.Free {
		return 0
	}
	d := p.MaxDelay
	if n := failures - p.Free; n < 40 {
		if e := p.Base << n; e > 0 && e < d {
			d = e
		}
	}
	return d
}

// room says how many more attempts of counter t may be checked at now, or
// refuses with a *ThrottledError.
func (p ThrottlePolicy) room(f Factor, t Throttle, now time.Time) (int, error) {
	if t.Failures >= p.LockAfter {
		return 0, &ThrottledError{Factor: f, Locked: true}
	}
	pending := t.Pending
	if pending > 0 && now.Sub(t.PendingAt) >= pendingLease {
		pending = 0
	}
	if t.Failures < p.Free {
		return p.Free - t.Failures - pending, nil
	}
	if until := t.Last.Add(p.delay(t.Failures)); now.Before(until) {
		return 0, &ThrottledError{Factor: f, Until: until}
	}
	return 1 - pending, nil
}

// newVersion returns a random non-zero counter version, so that a counter
// deleted and created again never repeats a version a stale swap holds.
func newVersion() int64 {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic("authn: crypto/rand failed: " + err.Error())
		}
		if v := int64(binary.BigEndian.Uint64(b[:]) >> 1); v != 0 {
			return v
		}
	}
}

// attempt is one reserved attempt of a factor; exactly one of succeed, fail
// or abandon ends it.
type attempt struct {
	s       *Service
	account gdprkit.AccountID
	key     ThrottleKey
	src     source
	trusted bool
}

// source is where an attempt comes from; ok is false for calls that carry
// no client address (in-session checks), which only the per-user counter
// limits.
type source struct {
	net netip.Prefix
	ok  bool
}

// sourceOf returns the source network of ip: the address for IPv4, its /64
// for IPv6. An invalid address is one shared "unknown" source.
func sourceOf(ip netip.Addr) source {
	ip = ip.Unmap().WithZone("")
	switch {
	case !ip.IsValid():
		return source{ok: true}
	case ip.Is4():
		return source{net: netip.PrefixFrom(ip, 32), ok: true}
	}
	p, _ := ip.Prefix(64)
	return source{net: p, ok: true}
}

// noSource marks attempts made inside a session, without a client address.
var noSource = source{}

// An attempt is refused, checked, and settled in one of two ways.
//
// A check without side effects (a password against its hash, a TOTP code
// that does not match) is made first and settled after: s.admit refuses,
// before any work, an attempt the counter would refuse now; the check runs
// without holding anything; then s.settle, in one compare-and-swap on the
// counter, admits the attempt if the counter still has room and records its
// outcome. An attempt the counter has no room for by then is refused like
// any other, and its check is discarded unseen. So concurrent correct
// passwords never wait for one another, however long their KDF takes, and
// of racing wrong guesses only as many are answered as the counter has
// room for: each admitted failure takes its room in the same swap that
// admits it.
//
// A check that uses something up (a TOTP step, a recovery code, a pending
// enrolment) must not run for an attempt that is then refused, so it is
// made only after s.reserve has taken one of the counter's free slots (the
// Pending count), and settled by attempt.succeed, fail or abandon. These
// checks are a store round trip; an attempt that finds every slot taken
// waits up to ThrottlePolicy.Wait for them and then gives up as
// unavailable, not throttled: nothing says it is a guess too many.
//
// Both ways use one rule (ThrottlePolicy.room), so they answer alike
// whatever the password or code.

// admit refuses, with a *ThrottledError, an attempt that the source and
// account budgets (unless the client is a trusted device) or the store's
// counter would refuse now, before any work is spent on it. It reserves
// nothing. Store errors are returned wrapped.
func (s *Service) admit(ctx context.Context, account gdprkit.AccountID, key ThrottleKey, src source) error {
	if !trustedKey(key) && src.ok {
		if err := s.budgets.allow(account, src.net, key.Factor, s.clock.Now()); err != nil {
			return err
		}
	}
	t, err := s.st.Throttle(ctx, account, key)
	if err != nil {
		return fmt.Errorf("authn: throttle: %w", err)
	}
	_, err = s.cfg.Throttle.room(key.Factor, t, s.clock.Now())
	return err
}

// trustedKey reports whether key is a trusted device's counter.
func trustedKey(key ThrottleKey) bool { return key.Client != "" && key.User != "" }

// maxSwaps bounds the compare-and-swap retries of one settlement: each
// lost race means another attempt's outcome was recorded, so a counter
// with more than this many writes racing is answered as unavailable.
const maxSwaps = 200

// settle decides an attempt whose check (without side effects) is made:
// ok is its outcome. In one compare-and-swap it admits the attempt if the
// counter has room (ThrottlePolicy.room) and records the outcome: a success
// clears the failures (it writes nothing when there are none), a failure
// adds one and is counted on the source's and account's budgets. It
// returns nil when the outcome stands, a *ThrottledError when the counter
// has no room for the attempt (the outcome is then discarded unrecorded),
// or an error wrapping gdprkit.ErrUnavailable when the store failed or the
// counter stayed full of reserved attempts for ThrottlePolicy.Wait (nothing
// is recorded either). The writes outlive ctx, so that a client that gives
// up once its guess is checked is still counted.
func (s *Service) settle(ctx context.Context, account gdprkit.AccountID, key ThrottleKey, src source, ok bool) error {
	p := s.cfg.Throttle
	wctx := context.WithoutCancel(ctx)
	w := waiter{limit: p.Wait}
	for range maxSwaps {
		t, err := s.st.Throttle(wctx, account, key)
		if err != nil {
			return fmt.Errorf("authn: throttle: %w", err)
		}
		now := s.clock.Now()
		room, err := p.room(key.Factor, t, now)
		if err != nil {
			return err
		}
		if room <= 0 {
			// Every free slot is reserved by a check that uses something
			// up: wait for one to settle.
			if err := w.wait(ctx); err != nil {
				return err
			}
			continue
		}
		if ok && t.Failures == 0 {
			s.settled(wctx, account, key, src, ok, now) // nothing to record here
			return nil
		}
		next := t
		if ok {
			next.Failures = 0
		} else {
			next.Failures++
		}
		next.Last, next.Version = now, newVersion()
		won, err := s.st.SwapThrottle(wctx, account, key, t.Version, next)
		if err != nil {
			return fmt.Errorf("authn: throttle: %w", err)
		}
		if !won {
			w.raced(ctx)
			continue
		}
		s.settled(wctx, account, key, src, ok, now)
		return nil
	}
	return fmt.Errorf("%w: authn: too many concurrent writes to one attempt counter", gdprkit.ErrUnavailable)
}

// settled does what follows a recorded outcome: a failure is counted on
// the source's and account's budgets; a trusted device's success clears
// the user's other counter of the factor.
func (s *Service) settled(ctx context.Context, account gdprkit.AccountID, key ThrottleKey, src source, ok bool, now time.Time) {
	trusted := trustedKey(key)
	switch {
	case ok && trusted:
		s.clearOthers(ctx, account, key)
	case !ok && !trusted && src.ok:
		s.budgets.failed(account, src.net, now)
	}
}

// waiter paces the retries of one attempt: a lost race is retried at
// once the first times, then after a short pause so that a crowd does not
// hammer the store; waiting for reserved slots counts towards limit.
type waiter struct {
	pause time.Duration
	lost  int
	slept time.Duration
	limit time.Duration
}

// wait sleeps before another look at a counter whose slots are all
// reserved. It returns an error wrapping gdprkit.ErrUnavailable once the
// waits add up to limit, or when ctx ends.
func (w *waiter) wait(ctx context.Context) error {
	if w.slept >= w.limit {
		return fmt.Errorf("%w: authn: attempts of this user are still being checked; try again", gdprkit.ErrUnavailable)
	}
	d := w.next()
	w.slept += d
	if err := sleep(ctx, d); err != nil {
		return fmt.Errorf("%w: authn: waiting for an attempt slot: %w", gdprkit.ErrUnavailable, err)
	}
	return nil
}

// raced paces the retry after a lost compare-and-swap: at once the first
// four times, then with a growing pause (which does not count towards the
// limit: another attempt made progress).
func (w *waiter) raced(ctx context.Context) {
	if w.lost++; w.lost > 4 {
		_ = sleep(ctx, w.next())
	}
}

func (w *waiter) next() time.Duration {
	if w.pause == 0 {
		w.pause = 2 * time.Millisecond
	}
	d := w.pause
	w.pause = min(2*w.pause, 50*time.Millisecond)
	return d
}

// reserve takes one of the counter's free slots for an attempt whose check
// uses something up, or refuses it with a *ThrottledError: first the
// source and account budgets (unless the client is a trusted device), then
// the store's counter. When every slot is reserved it waits for them (up
// to Policy.Wait) and then fails with gdprkit.ErrUnavailable; an ended ctx
// does too. Store errors are returned wrapped.
func (s *Service) reserve(ctx context.Context, account gdprkit.AccountID, key ThrottleKey, src source) (*attempt, error) {
	p := s.cfg.Throttle
	trusted := trustedKey(key)
	if !trusted && src.ok {
		if err := s.budgets.allow(account, src.net, key.Factor, s.clock.Now()); err != nil {
			return nil, err
		}
	}
	w := waiter{limit: p.Wait}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: authn: waiting for an attempt slot: %w", gdprkit.ErrUnavailable, err)
		}
		t, err := s.st.Throttle(ctx, account, key)
		if err != nil {
			return nil, fmt.Errorf("authn: throttle: %w", err)
		}
		now := s.clock.Now()
		room, err := p.room(key.Factor, t, now)
		if err != nil {
			return nil, err
		}
		if room <= 0 {
			if err := w.wait(ctx); err != nil {
				return nil, err
			}
			continue
		}
		next := t
		if next.Pending > 0 && now.Sub(next.PendingAt) >= pendingLease {
			next.Pending = 0
		}
		next.Pending++
		next.PendingAt, next.Version = now, newVersion()
		ok, err := s.st.SwapThrottle(ctx, account, key, t.Version, next)
		if err != nil {
			return nil, fmt.Errorf("authn: throttle: %w", err)
		}
		if ok {
			return &attempt{s: s, account: account, key: key, src: src, trusted: trusted}, nil
		}
		w.raced(ctx)
	}
}

// sleep waits d or until ctx ends. It uses the wall clock: waiting for
// other attempts is real time even when the Service's clock is not.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish ends the reserved attempt: releases its reservation and applies
// change to the counter. It retries lost races; it writes even when ctx has
// ended, so a client that gives up after the check cannot escape being
// counted. A store failure is logged and returned: the reservation then
// lapses after pendingLease.
func (a *attempt) finish(ctx context.Context, change func(*Throttle)) error {
	ctx = context.WithoutCancel(ctx)
	var w waiter
	for range maxSwaps {
		t, err := a.s.st.Throttle(ctx, a.account, a.key)
		if err != nil {
			a.s.log.Warn("authn: cannot record an attempt's outcome", "factor", string(a.key.Factor), "err", err)
			return fmt.Errorf("authn: throttle: %w", err)
		}
		next := t
		if next.Pending > 0 {
			next.Pending--
		}
		change(&next)
		next.Version = newVersion()
		ok, err := a.s.st.SwapThrottle(ctx, a.account, a.key, t.Version, next)
		if err != nil {
			a.s.log.Warn("authn: cannot record an attempt's outcome", "factor", string(a.key.Factor), "err", err)
			return fmt.Errorf("authn: throttle: %w", err)
		}
		if ok {
			return nil
		}
		w.raced(ctx)
	}
	a.s.log.Warn("authn: gave up recording an attempt's outcome after repeated races", "factor", string(a.key.Factor))
	return fmt.Errorf("%w: authn: too many concurrent writes to one attempt counter", gdprkit.ErrUnavailable)
}

// succeed clears the counter's failures. A success on any client also
// clears the user's failures of that factor on every other client (NIST:
// previous failures are disregarded after a success), which ends a lock.
// The check has used something up by now, so a failure to record the
// success is only logged.
func (a *attempt) succeed(ctx context.Context) {
	now := a.s.clock.Now()
	_ = a.finish(ctx, func(t *Throttle) {
		t.Failures, t.Last = 0, now
	})
	if a.trusted {
		a.s.clearOthers(ctx, a.account, a.key)
	}
}

// fail counts a failure on the counter and on the source's and account's
// budgets. When the failure cannot be recorded it returns the store's error
// (gdprkit.ErrUnavailable), which the caller answers instead of the
// verdict, so that no guess is answered uncounted.
func (a *attempt) fail(ctx context.Context) error {
	now := a.s.clock.Now()
	if err := a.finish(ctx, func(t *Throttle) {
		t.Failures++
		t.Last = now
	}); err != nil {
		return err
	}
	if !a.trusted && a.src.ok {
		a.s.budgets.failed(a.account, a.src.net, now)
	}
	return nil
}

// abandon releases the reservation without a verdict: the check could not
// be made (the store failed, or ctx ended before any work was done).
func (a *attempt) abandon(ctx context.Context) {
	_ = a.finish(ctx, func(*Throttle) {})
}

// clearOthers clears the untrusted-client counter of the user's factor
// after a trusted device succeeded.
func (s *Service) clearOthers(ctx context.Context, account gdprkit.AccountID, k ThrottleKey) {
	other := ThrottleKey{User: k.User, Factor: k.Factor}
	t, err := s.st.Throttle(context.WithoutCancel(ctx), account, other)
	if err != nil || t.Version == 0 || t.Failures == 0 {
		return
	}
	next := t
	next.Failures, next.Last, next.Version = 0, s.clock.Now(), newVersion()
	if _, err := s.st.SwapThrottle(context.WithoutCancel(ctx), account, other, t.Version, next); err != nil {
		s.log.Warn("authn: cannot clear failures after a trusted success", "err", err)
	}
}

// throttled audits a refused attempt and returns err.
func (s *Service) throttled(ctx context.Context, account gdprkit.AccountID, user string, err error) error {
	var te *ThrottledError
	if errors.As(err, &te) {
		s.event(ctx, account, EventLocked, user, map[string]string{"factor": string(te.Factor), "locked": strconv.FormatBool(te.Locked)})
	}
	return err
}
