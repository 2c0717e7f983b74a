package erasure_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// recStep is a physical step that records its runs and answers with the
// errors queued in fail (nil: success).
type recStep struct {
	mu   sync.Mutex
	name string
	runs []erasure.PhysicalRun
	fail []error
	// during, when set, is called inside every run.
	during func(ctx context.Context, run erasure.PhysicalRun) error
}

func (s *recStep) Run(ctx context.Context, run erasure.PhysicalRun) (string, error) {
	s.mu.Lock()
	s.runs = append(s.runs, run)
	var err error
	if len(s.fail) > 0 {
		err, s.fail = s.fail[0], s.fail[1:]
	}
	during := s.during
	s.mu.Unlock()
	if err == nil && during != nil {
		err = during(ctx, run)
	}
	return s.name, err
}

func (s *recStep) calls() []erasure.PhysicalRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.runs)
}

// The steps run after the last batch and before the receipt, which
// records them; then again after the receipt (AfterReceipt), which does
// not. They are told the kinds the erasure changed.
func TestPhysicalStepsRunBeforeTheReceiptAndAfterIt(t *testing.T) {
	step := &recStep{name: "test: compact"}
	e := newEnv(t, envOpt{physical: []erasure.PhysicalStep{step}})
	e.seed()
	var receiptBefore, receiptAfter error
	r := e.erase("ana", "admin")
	step.during = func(ctx context.Context, run erasure.PhysicalRun) error {
		_, err := e.svc.Receipt(ctx, e.acct, r.ID)
		if run.AfterReceipt {
			receiptAfter = err
		} else {
			receiptBefore = err
		}
		return nil
	}
	require.Empty(t, e.drain())

	rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.Equal(t, []erasure.PhysicalResult{{Step: "test: compact"}}, rc.Physical)
	calls := step.calls()
	require.Len(t, calls, 2)
	assert.False(t, calls[0].AfterReceipt)
	assert.True(t, calls[1].AfterReceipt)
	assert.ErrorIs(t, receiptBefore, gdprkit.ErrNotFound, "the first run happens before the receipt exists")
	assert.NoError(t, receiptAfter, "the second run happens once the receipt is written")
	for _, c := range calls {
		assert.Equal(t, e.acct, c.Account)
		assert.Equal(t, r.ID, c.RequestID)
		assert.False(t, c.AccountWide)
		assert.Contains(t, c.Kinds, erasure.KindMessage)
		assert.Contains(t, c.Kinds, erasure.KindTicket)
		assert.NotContains(t, c.Kinds, erasure.KindAgentProfile, "ana is no agent: nothing of that kind changed")
	}
	_, err = e.svc.VerifyReceipts(ctx, e.acct)
	require.NoError(t, err)
}

// A step that keeps failing never undoes or holds back the erasure: the
// records are gone, the request completes, and the receipt says which
// step failed and how (the class of error, never its text). Errors a
// retry may cure are tried physicalAttempts (3) times; others once. The
// next step still runs, and the failure is an audit event.
func TestFailingPhysicalStepIsRecordedAndTheErasureStands(t *testing.T) {
	forbidden := &recStep{name: "test: forbidden", fail: []error{fmt.Errorf("no right to vacuum hd_messages: %w", gdprkit.ErrForbidden)}}
	busy := fmt.Errorf("log in use: %w", gdprkit.ErrUnavailable)
	flaky := &recStep{name: "test: flaky", fail: []error{busy, busy}}
	down := &recStep{name: "", fail: []error{busy, busy, busy, busy, busy, busy}}
	e := newEnv(t, envOpt{physical: []erasure.PhysicalStep{forbidden, flaky, down}})
	e.seed()
	r := e.erase("ana", "admin")
	require.Empty(t, e.drain(), "a failed physical step is not a failed job")

	req, err := e.svc.Request(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.Equal(t, erasure.StatusCompleted, req.Status)
	_, err = e.hd.Lookup(ctx, e.acct, "ana")
	assert.ErrorIs(t, err, gdprkit.ErrNotFound, "the erasure stands")

	rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.Equal(t, []erasure.PhysicalResult{
		{Step: "test: forbidden", Failed: true, Error: "forbidden"},
		{Step: "test: flaky"},
		{Step: "physical step 3", Failed: true, Error: "unavailable"},
	}, rc.Physical)
	assert.False(t, rc.Partial, "physical steps say nothing about records kept")
	// forbidden: once before the receipt, once after; flaky: 3 attempts
	// before (two failures, one success), once after; down: 3 before, 3 after.
	assert.Len(t, forbidden.calls(), 2)
	assert.Len(t, flaky.calls(), 4)
	assert.Len(t, down.calls(), 6)

	var failed []gdprkit.Event
	for _, ev := range e.audit.Events() {
		if ev.Type == "erasure.physical_failed" {
			failed = append(failed, ev)
		}
	}
	require.Len(t, failed, 3, "forbidden and down before the receipt, down after it (forbidden's second run succeeded)")
	assert.Equal(t, "forbidden", failed[0].Attrs["error"])
	assert.Equal(t, r.ID, failed[0].Attrs["request"])
	for _, ev := range failed {
		assert.NotContains(t, fmt.Sprint(ev.Attrs), "hd_messages", "the error's text stays out of the audit trail")
	}
	_, err = e.svc.VerifyReceipts(ctx, e.acct)
	require.NoError(t, err)
}

// A run whose context ends during a physical step is given back, not
// recorded as failed: the next run (the records are already erased and
// verified) runs the steps again and writes the receipt.
func TestInterruptedPhysicalStepRunsAgain(t *testing.T) {
	step := &recStep{name: "test: compact"}
	e := newEnv(t, envOpt{physical: []erasure.PhysicalStep{step}})
	e.seed()
	r := e.erase("ana", "admin")
	runCtx, cancel := context.WithCancel(ctx)
	step.during = func(ctx context.Context, _ erasure.PhysicalRun) error {
		cancel()
		return ctx.Err()
	}
	found, err := e.svc.RunOnce(runCtx, "worker-1")
	require.True(t, found)
	require.ErrorIs(t, err, gdprkit.ErrUnavailable)
	_, err = e.svc.Receipt(ctx, e.acct, r.ID)
	require.ErrorIs(t, err, gdprkit.ErrNotFound, "no receipt yet")

	step.during = nil
	require.Empty(t, e.drain())
	rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.Equal(t, []erasure.PhysicalResult{{Step: "test: compact"}}, rc.Physical)
	assert.Len(t, step.calls(), 3, "the interrupted run, the one before the receipt, the one after")
}

// EraseAccount runs the steps once, account-wide, after everything is
// gone, and returns what they did.
func TestEraseAccountRunsThePhysicalSteps(t *testing.T) {
	step := &recStep{name: "test: compact"}
	e := newEnv(t, envOpt{physical: []erasure.PhysicalStep{step}})
	e.seed()
	var usersLeft int
	step.during = func(ctx context.Context, _ erasure.PhysicalRun) error {
		ids, _, err := e.hd.Subjects(ctx, e.acct, "", 10)
		usersLeft = len(ids)
		return err
	}
	res, err := e.svc.EraseAccount(ctx, e.acct)
	require.NoError(t, err)
	assert.Equal(t, []erasure.PhysicalResult{{Step: "test: compact"}}, res.Physical)
	calls := step.calls()
	require.Len(t, calls, 1)
	assert.True(t, calls[0].AccountWide)
	assert.Contains(t, calls[0].Kinds, erasure.KindMessage)
	assert.Zero(t, usersLeft, "the step runs after the data is gone")
}

// Without steps configured, receipts have no Physical list.
func TestNoPhysicalStepsNoPhysicalList(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	r := e.erase("ana", "admin")
	require.Empty(t, e.drain())
	rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
	require.NoError(t, err)
	assert.Nil(t, rc.Physical)
}

// A rectification overwrites old values through the Rectifier: the
// physical steps run before its receipt, which records them, and again
// after it, as for an erasure.
func TestRectificationRunsThePhysicalSteps(t *testing.T) {
	step := &recStep{name: "test: checkpoint"}
	e := newRightsEnv(t, memstore.New(), false, step)
	const a = gdprkit.AccountID("acct-rectify-physical")
	e.seed(a)
	r := e.submit(a, erasure.Submission{Type: erasure.TypeRectification, Subject: "ana", By: "ana", Verified: true,
		Corrections: []erasure.Correction{{Kind: erasure.KindEndUser, Field: "name", Value: "Ana Lima-Souza"}}})
	require.Empty(t, e.drain())
	rc := e.completed(a, r.ID)
	assert.Equal(t, []erasure.PhysicalResult{{Step: "test: checkpoint"}}, rc.Physical)
	calls := step.calls()
	require.Len(t, calls, 2)
	assert.False(t, calls[0].AfterReceipt)
	assert.True(t, calls[1].AfterReceipt)
	assert.Equal(t, r.ID, calls[0].RequestID)
}
