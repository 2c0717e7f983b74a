package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
)

// DriverConfig configures a Driver. Only Schedules is required.
type DriverConfig struct {
	// Schedules holds the rules the driver runs and the store it claims
	// due accounts from. Required.
	Schedules *Schedules
	// Batch is how many due accounts one claim leases. Default 10.
	Batch int
	// Progress, when set, is called after each account's run with its
	// report and error. It must be fast and must not block.
	Progress func(RunReport, error)
}

// Driver runs every account's retention rules on schedule: each account
// is due every ScheduleConfig.Interval. Several Drivers, in one process or
// many, may share one Store: an account is leased to one at a time (the
// lease is renewed while its run works, and fenced, so a run never happens
// in two places at once), and the global pause switch (Schedules.SetPaused)
// stops them all.
type Driver struct {
	s   *Schedules
	cfg DriverConfig
}

// NewDriver returns a Driver over cfg.Schedules, or an error wrapping
// gdprkit.ErrInvalid for a missing Schedules or a negative batch.
func NewDriver(cfg DriverConfig) (*Driver, error) {
	if cfg.Schedules == nil {
		return nil, fmt.Errorf("%w: retention: DriverConfig.Schedules is required", gdprkit.ErrInvalid)
	}
	if cfg.Batch < 0 {
		return nil, fmt.Errorf("%w: retention: negative driver batch", gdprkit.ErrInvalid)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 10
	}
	return &Driver{s: cfg.Schedules, cfg: cfg}, nil
}

// DriverReport counts what one RunDue did.
type DriverReport struct {
	// Accounts run, records removed and recovered in all.
	Accounts  int
	Removed   int64
	Recovered int64
	// Failed: accounts whose run reported an error (a rule failed); Refused:
	// accounts whose clock jumped; Lost: accounts whose lease another
	// process took.
	Failed  int
	Refused int
	Lost    int
	// Paused: the global switch stopped the driver.
	Paused bool
}

// RunDue runs the rules of every due account, claiming them in batches,
// until none is due, the global pause is on, or ctx ends. An account whose
// run fails is counted and retried at its next due time; the others go on.
func (d *Driver) RunDue(ctx context.Context) (DriverReport, error) {
	var rep DriverReport
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		p, err := d.s.store.SchedulesPaused(ctx)
		if err != nil {
			return rep, fmt.Errorf("retention: pause switch: %w", err)
		}
		if p.Paused {
			rep.Paused = true
			return rep, nil
		}
		ids, err := d.s.store.ClaimSchedulesDue(ctx, d.s.clock.Now(), d.cfg.Batch, d.s.cfg.Owner, d.s.cfg.LeaseFor)
		if err != nil {
			return rep, fmt.Errorf("retention: claim due schedules: %w", err)
		}
		if len(ids) == 0 {
			return rep, nil
		}
		for _, id := range ids {
			st, err := d.s.store.ScheduleState(ctx, id)
			if err != nil || st.LeaseOwner != d.s.cfg.Owner {
				rep.Lost++
				continue
			}
			r, err := d.s.runLeased(ctx, id, st)
			rep.Accounts++
			rep.Removed += r.Removed
			rep.Recovered += r.Recovered
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return rep, ctx.Err()
			case errors.Is(err, ErrClockJump):
				rep.Refused++
			case errors.Is(err, gdprkit.ErrLeaseLost):
				rep.Lost++
			default:
				rep.Failed++
			}
			if d.cfg.Progress != nil {
				d.cfg.Progress(r, err)
			}
		}
	}
}

// Work calls RunDue, then waits idle, until ctx ends.
func (d *Driver) Work(ctx context.Context, idle time.Duration) error {
	for {
		if _, err := d.RunDue(ctx); err != nil && ctx.Err() == nil {
			d.s.log.Error("retention: schedule driver", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(idle):
		}
	}
}
