package erasure

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// PhysicalStep is an optional step that runs after an erasure to remove
// the physical copies deleted records leave in storage: SQLite pages in
// the write-ahead log, PostgreSQL dead tuples, InnoDB pages of deleted
// rows (see docs/physical-erasure.md for what stays where, and for how
// long). erasure/sqltarget has ready steps: Binding.Compact and CompactDB.
//
// Run carries out the step and returns what it did as a short description
// that names no person and no value ("sqlite: wal_checkpoint(TRUNCATE)",
// "postgres: VACUUM hd_messages, hd_tickets"); a receipt records it. It
// returns "" with a nil error when there was nothing to do (it is then
// not recorded), and on failure the description of what it attempted
// along with the error. It MUST be safe to run again: after a crash, or a
// lease lost, the engine runs it again, and it runs twice per erasure job
// (see PhysicalRun.AfterReceipt). Its error SHOULD wrap a gdprkit sentinel
// (gdprkit.ErrUnavailable for "try again": a busy database, a lost
// connection) and MUST NOT quote record values.
type PhysicalStep interface {
	Run(ctx context.Context, run PhysicalRun) (string, error)
}

// PhysicalFunc adapts a function to PhysicalStep.
type PhysicalFunc func(ctx context.Context, run PhysicalRun) (string, error)

// Run calls f.
func (f PhysicalFunc) Run(ctx context.Context, run PhysicalRun) (string, error) { return f(ctx, run) }

// PhysicalRun says what an erasure touched, for a PhysicalStep.
type PhysicalRun struct {
	// Account is the account erased in.
	Account gdprkit.AccountID
	// RequestID is the erasure request; "" for EraseAccount.
	RequestID string
	// Kinds are the kinds whose records the erasure deleted or
	// anonymised, in the order kinds act. For EraseAccount (AccountWide)
	// every kind of the graph.
	Kinds []Kind
	// CascadedTables are the tables the database changed by itself
	// (the receipt's Cascaded lines), sorted, each once.
	CascadedTables []string
	// AccountWide is set for EraseAccount: the whole account's data went.
	AccountWide bool
	// AfterReceipt is set for the second run of an erasure job, after its
	// receipt was written: until then gdprkit's own tables held the
	// subject's identifier (the request) and the job's working state, and
	// the receipt's transaction cleared them. A step for gdprkit's own
	// database runs again here (an SQLite checkpoint); a step that only
	// cleans the host's tables returns "". What this run does is logged,
	// and audited when it fails, but not in the receipt, which is already
	// sealed.
	AfterReceipt bool
}

// PhysicalResult records one physical step in a receipt (and in
// AccountResult).
type PhysicalResult struct {
	// Step is what the step did, as it described it.
	Step string `json:"step"`
	// Failed is set when the step still failed after its attempts; the
	// erasure itself stands (the records are gone from the tables), only
	// their physical copies may remain until the database reuses the
	// space, the next erasure's step runs, or an operator runs it.
	Failed bool `json:"failed,omitempty"`
	// Error is the class of the failure ("unavailable", "forbidden",
	// "invalid", "conflict", "not found" or "error"), never its message.
	Error string `json:"error,omitempty"`
}

// physicalAttempts is how many times a step that fails with an error a
// retry may cure is run before it is recorded as failed; physicalBackoff
// is the first pause between attempts, doubled after each.
const (
	physicalAttempts = 3
	physicalBackoff  = 250 * time.Millisecond
)

// runPhysical runs Config.Physical in order for run and returns what each
// did. A step that fails is tried again while the error is one a retry
// may cure (physicalAttempts in all), then recorded as failed (with an
// audit event erasure.physical_failed) and the next step runs: a failed
// physical step never undoes, fails or holds back the erasure, whose
// records are already gone from the tables. The only error returned is
// the context's, or renew's (the job's lease), when the run must stop and
// be given back; renew, when set, is called before each step to extend
// the lease of the job the steps run for.
func (s *Service) runPhysical(ctx context.Context, run PhysicalRun, renew func(context.Context) error) ([]PhysicalResult, error) {
	var out []PhysicalResult
	for i, step := range s.cfg.Physical {
		if renew != nil {
			if err := renew(ctx); err != nil {
				return out, err
			}
		}
		desc, err := s.tryPhysical(ctx, step, run)
		if err != nil && ctx.Err() != nil {
			return out, fmt.Errorf("erasure: physical step: %w: %w", gdprkit.ErrUnavailable, ctx.Err())
		}
		if err == nil {
			if desc != "" {
				out = append(out, PhysicalResult{Step: desc})
			}
			continue
		}
		if desc == "" {
			desc = "physical step " + strconv.Itoa(i+1)
		}
		class := errorClass(err)
		out = append(out, PhysicalResult{Step: desc, Failed: true, Error: class})
		s.log.Warn("erasure: physical step failed; the erasure stands", "step", desc, "after_receipt", run.AfterReceipt, "err", err)
		s.emit(ctx, run.Account, "erasure.physical_failed", "", "", map[string]string{"request": run.RequestID, "step": desc, "error": class,
			"after_receipt": strconv.FormatBool(run.AfterReceipt)})
	}
	return out, nil
}

// tryPhysical runs one step up to physicalAttempts times while its error
// is one a retry may cure.
func (s *Service) tryPhysical(ctx context.Context, step PhysicalStep, run PhysicalRun) (string, error) {
	wait := physicalBackoff
	for attempt := 1; ; attempt++ {
		desc, err := step.Run(ctx, run)
		if err == nil || Permanent(err) || attempt >= physicalAttempts || ctx.Err() != nil {
			return desc, err
		}
		select {
		case <-ctx.Done():
			return desc, ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// errorClass names the sentinel err wraps, for a receipt.
func errorClass(err error) string {
	switch {
	case errors.Is(err, gdprkit.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "unavailable"
	case errors.Is(err, gdprkit.ErrForbidden):
		return "forbidden"
	case errors.Is(err, gdprkit.ErrInvalid):
		return "invalid"
	case errors.Is(err, gdprkit.ErrConflict):
		return "conflict"
	case errors.Is(err, gdprkit.ErrNotFound):
		return "not found"
	}
	return "error"
}

// physicalJob runs the physical steps for a finished erasure job: the
// kinds it changed and the tables the database changed by itself.
func (s *Service) physicalJob(ctx context.Context, job Job, st *jobState, after bool, renew func(context.Context) error) ([]PhysicalResult, error) {
	if len(s.cfg.Physical) == 0 {
		return nil, nil
	}
	run := PhysicalRun{Account: job.Account, RequestID: job.RequestID, AfterReceipt: after}
	tables := map[string]bool{}
	for _, k := range s.cfg.Graph.order {
		c := st.Counts[k]
		if c == nil {
			continue
		}
		if c.Deleted+c.Anonymized+c.Rows > 0 {
			run.Kinds = append(run.Kinds, k)
		}
		for _, e := range c.Effects {
			if e.Rows > 0 && e.Table != "" {
				tables[e.Table] = true
			}
		}
	}
	for t := range tables {
		run.CascadedTables = append(run.CascadedTables, t)
	}
	sort.Strings(run.CascadedTables)
	return s.runPhysical(ctx, run, renew)
}

// physicalAccount runs the physical steps after EraseAccount.
func (s *Service) physicalAccount(ctx context.Context, account gdprkit.AccountID) ([]PhysicalResult, error) {
	if len(s.cfg.Physical) == 0 {
		return nil, nil
	}
	return s.runPhysical(ctx, PhysicalRun{Account: account, AccountWide: true, Kinds: append([]Kind(nil), s.cfg.Graph.order...)}, nil)
}

// physicalAfterReceipt runs the steps again once the job's receipt is
// written; their results are logged, not recorded.
func (s *Service) physicalAfterReceipt(ctx context.Context, job Job, st *jobState) {
	res, err := s.physicalJob(ctx, job, st, true, nil)
	if err != nil {
		s.log.Warn("erasure: physical steps after the receipt did not finish", "job", job.ID, "err", err)
		return
	}
	for _, r := range res {
		if !r.Failed {
			s.log.Debug("erasure: physical step after the receipt", "job", job.ID, "step", r.Step)
		}
	}
}
