package retention

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
)

// ConfigRemover stops an account's domain and removes its configuration
// (StepRemoveConfig). It MUST be idempotent: after a crash the sweeper calls
// it again for an account it may already have handled.
type ConfigRemover interface {
	RemoveConfig(ctx context.Context, account gdprkit.AccountID) error
}

// DataEraser deletes every record of an account from live storage
// (StepEraseStoreData for gdprkit's own stores, StepEraseHostData for the
// host's). It MUST be idempotent: erasing an erased account succeeds.
type DataEraser interface {
	EraseAccount(ctx context.Context, account gdprkit.AccountID) error
}

// BackupExpirer removes an account from cold backups, or confirms that the
// backups holding it have expired (StepExpireBackups). It MUST be
// idempotent.
type BackupExpirer interface {
	ExpireBackups(ctx context.Context, account gdprkit.AccountID) error
}

// ConfigRemoverFunc adapts a function to ConfigRemover.
type ConfigRemoverFunc func(ctx context.Context, account gdprkit.AccountID) error

// RemoveConfig calls f.
func (f ConfigRemoverFunc) RemoveConfig(ctx context.Context, a gdprkit.AccountID) error {
	return f(ctx, a)
}

// DataEraserFunc adapts a function to DataEraser.
type DataEraserFunc func(ctx context.Context, account gdprkit.AccountID) error

// EraseAccount calls f.
func (f DataEraserFunc) EraseAccount(ctx context.Context, a gdprkit.AccountID) error {
	return f(ctx, a)
}

// BackupExpirerFunc adapts a function to BackupExpirer.
type BackupExpirerFunc func(ctx context.Context, account gdprkit.AccountID) error

// ExpireBackups calls f.
func (f BackupExpirerFunc) ExpireBackups(ctx context.Context, a gdprkit.AccountID) error {
	return f(ctx, a)
}

// StepStatus is the outcome a Progress report gives.
type StepStatus string

// The step outcomes.
const (
	StepStarted StepStatus = "started"
	StepDone    StepStatus = "done"
	StepFailed  StepStatus = "failed"
	// StepSkipped: no hook is configured for the step.
	StepSkipped StepStatus = "skipped"
)

// Progress reports one step of one account's transition.
type Progress struct {
	Account    gdprkit.AccountID
	Transition string
	Step       Step
	Status     StepStatus
	// Remaining counts the steps still pending after this one.
	Remaining int
	// Err is the hook's error when Status is StepFailed.
	Err error
}

// SweeperConfig configures a Sweeper. Only Service is required.
type SweeperConfig struct {
	// Service is the lifecycle service whose store, policy, clock and audit
	// sink the sweeper uses. Required.
	Service *Service
	// Owner names this sweeper in leases; unique per process. Default: a
	// fresh UUIDv7.
	Owner string
	// Batch is how many due accounts one claim leases. Default 100.
	Batch int
	// LeaseFor is how long a claim lasts without a heartbeat; an account
	// whose sweeper died is claimable again after it. Default 5 minutes.
	LeaseFor time.Duration
	// Heartbeat is how often the lease is renewed while a hook runs, so a
	// hook longer than LeaseFor keeps its account. Default LeaseFor/3.
	Heartbeat time.Duration
	// RetryDelay is the wait after a failed step, doubled per further
	// failure up to MaxRetryDelay. Defaults 1 minute and 6 hours.
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// ConfigRemover runs StepRemoveConfig.
	ConfigRemover ConfigRemover
	// Eraser runs StepEraseHostData: every live record of the account,
	// the host's tables and files and gdprkit's own stores alike. Give it
	// erasure.Service.EraseAccount over the one graph that also erases
	// people, so an account deletion and a person's erasure cannot drift
	// apart; it must return an error (erasure.ErrHeld, erasure.ErrResidue)
	// while anything remains, and the step is retried — the account is not
	// purged meanwhile. StepEraseStoreData deletes the account's retention
	// rules and schedules, which the sweeper owns.
	Eraser DataEraser
	// BackupExpirer runs StepExpireBackups.
	BackupExpirer BackupExpirer
	// Progress, when set, is called for every step start, completion,
	// skip and failure. It must be fast and must not block.
	Progress func(Progress)
}

// A step whose hook is nil is skipped (reported StepSkipped, audited with
// status "skipped") so a host that keeps no data of a kind needs no stub.

// Sweeper moves due accounts along their schedule and runs the steps of
// their transitions. Several Sweepers, in one process or many, may run
// against one Store: each account is leased by one at a time, and every
// write is a compare-and-set, so each transition is stored once. A claim
// changes the record's Version too, so no write prepared before it (an
// event, a sweeper whose lease ran out) can undo it.
//
// Durability: a transition and the steps it queues are stored before any
// step runs; each step is removed from the queue only after its hook
// returned nil. A sweeper killed mid-way leaves the account leased until
// LeaseFor passes; the next sweep then runs the remaining steps — the step
// that was running is called again, which is why hooks must be idempotent —
// and no completed step again.
type Sweeper struct {
	svc *Service
	cfg SweeperConfig
}

// NewSweeper returns a Sweeper over cfg.Service's store, policy, clock and
// audit sink. It returns an error wrapping gdprkit.ErrInvalid for a missing
// Service or negative durations.
func NewSweeper(cfg SweeperConfig) (*Sweeper, error) {
	if cfg.Service == nil {
		return nil, fmt.Errorf("%w: retention: SweeperConfig.Service is required", gdprkit.ErrInvalid)
	}
	if cfg.Batch < 0 || cfg.LeaseFor < 0 || cfg.Heartbeat < 0 || cfg.RetryDelay < 0 || cfg.MaxRetryDelay < 0 {
		return nil, fmt.Errorf("%w: retention: negative sweeper setting", gdprkit.ErrInvalid)
	}
	if cfg.Owner == "" {
		cfg.Owner = "sweeper-" + gdprkit.NewID()
	}
	if cfg.Batch == 0 {
		cfg.Batch = 100
	}
	if cfg.LeaseFor == 0 {
		cfg.LeaseFor = 5 * time.Minute
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = cfg.LeaseFor / 3
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = time.Minute
	}
	if cfg.MaxRetryDelay == 0 {
		cfg.MaxRetryDelay = 6 * time.Hour
	}
	return &Sweeper{svc: cfg.Service, cfg: cfg}, nil
}

// SweepReport counts what one Sweep did.
type SweepReport struct {
	// Accounts claimed and worked on.
	Accounts int
	// Transitions stored.
	Transitions int
	// Steps completed (skipped steps included).
	Steps int
	// Failures: steps whose hook failed; they are retried after RetryDelay.
	Failures int
	// Lost: accounts another process changed or took over mid-way; they
	// are left to it.
	Lost int
}

// Sweep works until no account is due: it claims due accounts in batches,
// stores every due timer transition in order (each stamped with the time it
// was due), then runs the queued steps in order. A failing step is retried
// in a later sweep after a backoff; other accounts carry on. Sweep returns
// early with the context's error, or with a storage error it cannot step
// past; what it finished stays done.
func (w *Sweeper) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		now := w.svc.clock.Now()
		ids, err := w.svc.store.ClaimDue(ctx, now, w.cfg.Batch, w.cfg.Owner, w.cfg.LeaseFor)
		if err != nil {
			return rep, fmt.Errorf("retention: claim due accounts: %w", err)
		}
		if len(ids) == 0 {
			return rep, nil
		}
		for _, id := range ids {
			rep.Accounts++
			if err := w.sweepLeased(ctx, id, &rep); err != nil {
				if errors.Is(err, gdprkit.ErrConflict) || errors.Is(err, gdprkit.ErrLeaseLost) {
					rep.Lost++
					continue
				}
				return rep, err
			}
		}
	}
}

// SweepAccount works on one account now, outside the due order (right
// after an owner's deletion request, say): it takes the account's lease if
// it is free, does what is due as Sweep would, and releases the lease. It
// returns an error wrapping gdprkit.ErrLeaseLost when a sweeper holds the
// account — any unexpired lease, this Sweeper's own included (its Sweep
// may be running a step of the account right now), so an account is never
// worked on twice at once; the holder reads the record again after its
// next write loses to the event and runs what the event queued. It returns
// gdprkit.ErrNotFound when the account has no lifecycle.
func (w *Sweeper) SweepAccount(ctx context.Context, account gdprkit.AccountID) (SweepReport, error) {
	var rep SweepReport
	if err := account.Validate(); err != nil {
		return rep, err
	}
	rec, err := w.svc.store.Record(ctx, account)
	if err != nil {
		return rep, err
	}
	now := w.svc.clock.Now()
	if rec.LeaseOwner != "" && rec.LeaseUntil.After(now) {
		return rep, fmt.Errorf("%w: retention: account leased by a sweeper (%s)", gdprkit.ErrLeaseLost, rec.LeaseOwner)
	}
	next := rec
	next.Version++
	next.LeaseOwner, next.LeaseUntil = w.cfg.Owner, now.Add(w.cfg.LeaseFor)
	if err := w.svc.store.SaveRecord(ctx, account, rec.Version, next, nil); err != nil {
		return rep, err
	}
	rep.Accounts = 1
	err = w.sweepLeased(ctx, account, &rep)
	return rep, err
}

// sweepLeased runs sweepAccount, and again (up to three times) when a
// write lost its compare-and-set to a concurrent event (an owner's request
// arriving mid-sweep) while the lease is still this sweeper's: the fresh
// record is read and the work goes on. A step whose completion was not
// recorded is run again, which hooks tolerate by contract.
func (w *Sweeper) sweepLeased(ctx context.Context, account gdprkit.AccountID, rep *SweepReport) error {
	var err error
	for range 4 {
		if err = w.sweepAccount(ctx, account, rep); !errors.Is(err, gdprkit.ErrConflict) {
			return err
		}
	}
	return err
}

// sweepAccount works on one leased account until nothing is due. It reads
// the record once; after each successful compare-and-set the record it
// wrote is the stored one. The last write of a run releases the lease.
func (w *Sweeper) sweepAccount(ctx context.Context, account gdprkit.AccountID, rep *SweepReport) error {
	rec, err := w.svc.store.Record(ctx, account)
	if err != nil {
		return fmt.Errorf("retention: sweep: %w", err)
	}
	if rec.LeaseOwner != w.cfg.Owner {
		return fmt.Errorf("%w: retention: lease on account taken", gdprkit.ErrLeaseLost)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := w.svc.clock.Now()
		if !rec.LeaseUntil.After(now) {
			return fmt.Errorf("%w: retention: lease on account expired", gdprkit.ErrLeaseLost)
		}
		// 1. Every due timer, in order, stamped with its due time.
		if e, due, ok := w.svc.dueTimer(rec, now); ok {
			next, tr := w.svc.take(rec, e, SystemActor, due, now)
			w.releaseIfIdle(&next, now)
			if err := w.svc.save(ctx, rec, next, tr); err != nil {
				return err
			}
			rep.Transitions++
			if next.LeaseOwner == "" {
				return nil
			}
			rec = next
			continue
		}
		// 2. The queued steps, in order, each persisted as done after it ran.
		if stepReady(rec, now) {
			next, done, err := w.runStep(ctx, rec, rep)
			if err != nil {
				return err
			}
			if !done || next.LeaseOwner == "" {
				return nil // failed (retried later) or finished; lease released
			}
			rec = next
			continue
		}
		// 3. Nothing due: release the lease.
		next := rec
		next.Version++
		next.LeaseOwner, next.LeaseUntil = "", time.Time{}
		next.NextDue = w.svc.nextDue(next)
		return w.svc.store.SaveRecord(ctx, account, rec.Version, next, nil)
	}
}

func stepReady(rec Record, now time.Time) bool {
	return len(rec.Pending) > 0 && !rec.StepsAt.After(now)
}

// releaseIfIdle clears the lease in next when nothing more is due at now, so
// the write that makes the account idle also releases it.
func (w *Sweeper) releaseIfIdle(next *Record, now time.Time) {
	if _, _, ok := w.svc.dueTimer(*next, now); ok || stepReady(*next, now) {
		return
	}
	next.LeaseOwner, next.LeaseUntil = "", time.Time{}
}

// runStep runs the first pending step of rec. It returns the stored record
// and true when the step completed, false when the hook failed (the
// failure and retry time recorded, the lease released).
func (w *Sweeper) runStep(ctx context.Context, rec Record, rep *SweepReport) (Record, bool, error) {
	ps := rec.Pending[0]
	report := func(st StepStatus, err error) {
		if w.cfg.Progress != nil {
			w.cfg.Progress(Progress{Account: rec.Account, Transition: ps.Transition, Step: ps.Step,
				Status: st, Remaining: len(rec.Pending) - 1, Err: err})
		}
	}
	report(StepStarted, nil)
	hb := w.startHeartbeat(ctx, rec)
	status, err := w.hook(hb.ctx, rec.Account, ps.Step)
	rec, lost := hb.stop()
	if lost != nil {
		// Fenced: another sweeper holds the account now; this one records
		// nothing and leaves the step to it.
		return rec, false, lost
	}
	now := w.svc.clock.Now()
	if err != nil {
		if ctx.Err() != nil {
			return rec, false, ctx.Err()
		}
		rep.Failures++
		next := rec
		next.Version++
		next.Attempts++
		next.StepsAt = now.Add(w.backoff(next.Attempts))
		next.LeaseOwner, next.LeaseUntil = "", time.Time{}
		next.Updated = now
		next.NextDue = w.svc.nextDue(next)
		if serr := w.svc.store.SaveRecord(ctx, rec.Account, rec.Version, next, nil); serr != nil {
			return rec, false, serr
		}
		report(StepFailed, err)
		w.svc.log.Warn("retention: step failed", "account", string(rec.Account), "step", string(ps.Step), "attempts", next.Attempts, "err", err)
		w.svc.record(ctx, gdprkit.Event{Account: rec.Account, Type: EventTypeStep, Time: now, Actor: SystemActor,
			Attrs: map[string]string{"transition": ps.Transition, "step": string(ps.Step), "status": string(StepFailed),
				"attempts": strconv.Itoa(next.Attempts)}})
		return next, false, nil
	}
	var next Record
	for attempt := 0; ; attempt++ {
		next = rec
		next.Version++
		next.Pending = append([]PendingStep(nil), rec.Pending[1:]...)
		next.Attempts = 0
		next.StepsAt = now
		if len(next.Pending) == 0 {
			next.StepsAt = time.Time{}
			if next.State == StatePurged {
				next.NothingRemainsAt = now
			}
		}
		next.Updated = now
		next.NextDue = w.svc.nextDue(next)
		w.releaseIfIdle(&next, now)
		err := w.svc.store.SaveRecord(ctx, rec.Account, rec.Version, next, nil)
		if err == nil {
			break
		}
		if !errors.Is(err, gdprkit.ErrConflict) || attempt >= 8 {
			return rec, false, err
		}
		// An event changed the record while the hook ran: record the
		// completion on the fresh record if the lease and the step are
		// still this sweeper's, rather than run the hook again.
		fresh, ferr := w.svc.store.Record(ctx, rec.Account)
		if ferr != nil {
			return rec, false, ferr
		}
		if fresh.LeaseOwner != w.cfg.Owner || len(fresh.Pending) == 0 || fresh.Pending[0] != ps {
			return rec, false, fmt.Errorf("%w: retention: lease on account taken", gdprkit.ErrLeaseLost)
		}
		rec = fresh
	}
	rep.Steps++
	report(status, nil)
	w.svc.record(ctx, gdprkit.Event{Account: rec.Account, Type: EventTypeStep, Time: now, Actor: SystemActor,
		Attrs: map[string]string{"transition": ps.Transition, "step": string(ps.Step), "status": string(status),
			"remaining": strconv.Itoa(len(next.Pending))}})
	if !next.NothingRemainsAt.IsZero() && rec.NothingRemainsAt.IsZero() {
		w.svc.record(ctx, gdprkit.Event{Account: rec.Account, Type: EventTypeNothingRemains, Time: now, Actor: SystemActor,
			Attrs: map[string]string{"transition": ps.Transition}})
	}
	return next, true, nil
}

// hook runs the hook of step st.
func (w *Sweeper) hook(ctx context.Context, account gdprkit.AccountID, st Step) (StepStatus, error) {
	switch st {
	case StepRemoveConfig:
		if w.cfg.ConfigRemover == nil {
			return StepSkipped, nil
		}
		return StepDone, w.cfg.ConfigRemover.RemoveConfig(ctx, account)
	case StepEraseStoreData:
		return StepDone, w.deleteRules(ctx, account)
	case StepEraseHostData:
		if w.cfg.Eraser == nil {
			return StepSkipped, nil
		}
		return StepDone, w.cfg.Eraser.EraseAccount(ctx, account)
	case StepExpireBackups:
		if w.cfg.BackupExpirer == nil {
			return StepSkipped, nil
		}
		return StepDone, w.cfg.BackupExpirer.ExpireBackups(ctx, account)
	}
	return StepDone, fmt.Errorf("%w: retention: unknown step %q", gdprkit.ErrInvalid, st)
}

// deleteRules removes the account's retention rules, the batches their
// runs left and its schedule state (its data in this package's store,
// besides the lifecycle record kept as proof).
func (w *Sweeper) deleteRules(ctx context.Context, account gdprkit.AccountID) error {
	rules, err := w.svc.store.Rules(ctx, account)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := w.svc.store.DeleteRule(ctx, account, r.ID); err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
			return err
		}
	}
	// The proof of disposition goes with the account's data: the lifecycle
	// record and its transitions are the proof that remains.
	if _, err = w.svc.store.PruneBatches(ctx, account, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return err
	}
	// So do its schedule settings (time zone, pause, the driver's lease):
	// with no rule left there is nothing to schedule.
	return w.svc.store.DeleteScheduleState(ctx, account)
}

func (w *Sweeper) backoff(attempts int) time.Duration {
	d := w.cfg.RetryDelay
	for i := 1; i < attempts && d < w.cfg.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, w.cfg.MaxRetryDelay)
}

// LeaseFromContext returns the sweeper lease a hook runs under: the owner
// and the lease's expiry when the hook was called. The context a hook
// receives is cancelled when the lease is lost, so a hook that checks
// ctx.Err() between its own steps stops when another sweeper takes over.
func LeaseFromContext(ctx context.Context) (owner string, ok bool) {
	v, ok := ctx.Value(leaseKey{}).(string)
	return v, ok
}

type leaseKey struct{}

// recordHeartbeat renews a sweeper's lease on one account while a hook
// runs.
type recordHeartbeat struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	rec    Record // the record as last written (or read) by this sweeper
	lost   error
}

// startHeartbeat renews rec's lease every Heartbeat until stop. A renewal
// is a compare-and-set; when it conflicts the record is read again and the
// renewal retried while the lease is still this sweeper's (an event was
// applied); when another owner holds it, the hook's context is cancelled
// and stop reports ErrLeaseLost.
func (w *Sweeper) startHeartbeat(ctx context.Context, rec Record) *recordHeartbeat {
	hctx, cancel := context.WithCancel(context.WithValue(ctx, leaseKey{}, w.cfg.Owner))
	hb := &recordHeartbeat{ctx: hctx, cancel: cancel, done: make(chan struct{}), rec: rec}
	go func() {
		defer close(hb.done)
		tick := time.NewTicker(w.cfg.Heartbeat)
		defer tick.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-tick.C:
			}
			if err := w.renew(hctx, hb); err != nil {
				hb.mu.Lock()
				hb.lost = err
				hb.mu.Unlock()
				cancel()
				return
			}
		}
	}()
	return hb
}

// renew extends the lease once; it returns ErrLeaseLost when the lease is
// no longer this sweeper's.
func (w *Sweeper) renew(ctx context.Context, hb *recordHeartbeat) error {
	for attempt := 0; attempt < 8; attempt++ {
		hb.mu.Lock()
		cur := hb.rec
		hb.mu.Unlock()
		next := cur
		next.Version++
		next.LeaseUntil = w.svc.clock.Now().Add(w.cfg.LeaseFor)
		err := w.svc.store.SaveRecord(ctx, cur.Account, cur.Version, next, nil)
		if err == nil {
			hb.mu.Lock()
			hb.rec = next
			hb.mu.Unlock()
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, gdprkit.ErrConflict) {
			return nil // a passing storage error: try at the next beat
		}
		fresh, ferr := w.svc.store.Record(ctx, cur.Account)
		if ferr != nil {
			return nil
		}
		if fresh.LeaseOwner != w.cfg.Owner {
			return fmt.Errorf("%w: retention: lease on account taken while a hook ran", gdprkit.ErrLeaseLost)
		}
		hb.mu.Lock()
		hb.rec = fresh
		hb.mu.Unlock()
	}
	return nil
}

// stop ends the heartbeat and returns the latest record this sweeper
// holds, or ErrLeaseLost when the lease was lost meanwhile.
func (hb *recordHeartbeat) stop() (Record, error) {
	hb.cancel()
	<-hb.done
	hb.mu.Lock()
	defer hb.mu.Unlock()
	return hb.rec, hb.lost
}
