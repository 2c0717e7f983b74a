// Package erasuretest holds test aids for the erasure engine: a
// fault-injecting wrapper for an erasure.Store and for targets, sharing one
// call counter, so a test can fail the Nth storage call of a whole erasure
// for every N and check that resuming ends in the same state.
package erasuretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// ErrInjected is the error an injected fault returns; it wraps
// gdprkit.ErrUnavailable, as a lost connection would.
var ErrInjected = fmt.Errorf("erasuretest: injected fault: %w", gdprkit.ErrUnavailable)

// Faults counts storage calls and fails the FailAt-th one (1-based; 0
// never fails). It is safe for concurrent use.
type Faults struct {
	mu     sync.Mutex
	calls  int
	failAt int
	failed bool
}

// FailAt arms the counter: calls are counted from zero again and the nth
// fails once. n = 0 disarms it.
func (f *Faults) FailAt(n int) {
	f.mu.Lock()
	f.calls, f.failAt, f.failed = 0, n, false
	f.mu.Unlock()
}

// Calls returns how many calls were counted since FailAt.
func (f *Faults) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Fired reports whether the armed fault was injected.
func (f *Faults) Fired() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// hit counts one call and says whether it fails. after tells whether a
// write fails after it was applied (as when the reply is lost): odd call
// numbers fail before, even ones after, so both kinds happen.
func (f *Faults) hit() (fail, after bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failAt > 0 && f.calls == f.failAt && !f.failed {
		f.failed = true
		return true, f.calls%2 == 0
	}
	return false, false
}

func call(f *Faults, fn func() error) error {
	fail, after := f.hit()
	if fail && !after {
		return ErrInjected
	}
	if err := fn(); err != nil {
		return err
	}
	if fail {
		return ErrInjected
	}
	return nil
}

// WrapStore returns s with every call counted by f and the armed one
// failed: before it reaches s for odd call numbers, after s applied it for
// even ones.
func WrapStore(s erasure.Store, f *Faults) erasure.Store { return &store{s, f} }

type store struct {
	s erasure.Store
	f *Faults
}

func (w *store) CreateRequest(ctx context.Context, a gdprkit.AccountID, r erasure.Request, job *erasure.Job) error {
	return call(w.f, func() error { return w.s.CreateRequest(ctx, a, r, job) })
}

func (w *store) Request(ctx context.Context, a gdprkit.AccountID, id string) (r erasure.Request, err error) {
	err = call(w.f, func() (e error) { r, e = w.s.Request(ctx, a, id); return })
	return
}

func (w *store) Requests(ctx context.Context, a gdprkit.AccountID, fl erasure.RequestFilter) (r []erasure.Request, err error) {
	err = call(w.f, func() (e error) { r, e = w.s.Requests(ctx, a, fl); return })
	return
}

func (w *store) VerifyRequest(ctx context.Context, a gdprkit.AccountID, id string, at time.Time, ev erasure.Evidence) error {
	return call(w.f, func() error { return w.s.VerifyRequest(ctx, a, id, at, ev) })
}

func (w *store) ExtendRequest(ctx context.Context, a gdprkit.AccountID, id string, due time.Time, reason string) error {
	return call(w.f, func() error { return w.s.ExtendRequest(ctx, a, id, due, reason) })
}

func (w *store) CloseRequest(ctx context.Context, a gdprkit.AccountID, id string, st erasure.RequestStatus, at time.Time) error {
	return call(w.f, func() error { return w.s.CloseRequest(ctx, a, id, st, at) })
}

func (w *store) ClaimJob(ctx context.Context, now time.Time, owner, token string, until time.Time) (j erasure.Job, err error) {
	err = call(w.f, func() (e error) { j, e = w.s.ClaimJob(ctx, now, owner, token, until); return })
	if errors.Is(err, ErrInjected) {
		// A claim whose reply was lost leaves the job leased to a token
		// nobody holds: it comes back when the lease ends.
		j = erasure.Job{}
	}
	return
}

func (w *store) Job(ctx context.Context, a gdprkit.AccountID, id string) (j erasure.Job, err error) {
	err = call(w.f, func() (e error) { j, e = w.s.Job(ctx, a, id); return })
	return
}

func (w *store) SaveJob(ctx context.Context, a gdprkit.AccountID, id, token string, state []byte, until time.Time) error {
	return call(w.f, func() error { return w.s.SaveJob(ctx, a, id, token, state, until) })
}

func (w *store) RetryJob(ctx context.Context, a gdprkit.AccountID, id, token string, r erasure.Retry) error {
	return call(w.f, func() error { return w.s.RetryJob(ctx, a, id, token, r) })
}

func (w *store) RequeueJob(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	return call(w.f, func() error { return w.s.RequeueJob(ctx, a, id, at) })
}

func (w *store) WakeJob(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	return call(w.f, func() error { return w.s.WakeJob(ctx, a, id, at) })
}

func (w *store) FinishJob(ctx context.Context, a gdprkit.AccountID, id, token string, fin erasure.Finish) (r erasure.Receipt, err error) {
	err = call(w.f, func() (e error) { r, e = w.s.FinishJob(ctx, a, id, token, fin); return })
	return
}

func (w *store) ReceiptHead(ctx context.Context, a gdprkit.AccountID) (h erasure.ChainHead, err error) {
	err = call(w.f, func() (e error) { h, e = w.s.ReceiptHead(ctx, a); return })
	return
}

func (w *store) Receipts(ctx context.Context, a gdprkit.AccountID, after int64, limit int) (r []erasure.Receipt, err error) {
	err = call(w.f, func() (e error) { r, e = w.s.Receipts(ctx, a, after, limit); return })
	return
}

func (w *store) ReceiptFor(ctx context.Context, a gdprkit.AccountID, id string) (r erasure.Receipt, err error) {
	err = call(w.f, func() (e error) { r, e = w.s.ReceiptFor(ctx, a, id); return })
	return
}

func (w *store) Tombstones(ctx context.Context, a gdprkit.AccountID, since time.Time) (t []erasure.Tombstone, err error) {
	err = call(w.f, func() (e error) { t, e = w.s.Tombstones(ctx, a, since); return })
	return
}

func (w *store) PutHold(ctx context.Context, a gdprkit.AccountID, h erasure.Hold) error {
	return call(w.f, func() error { return w.s.PutHold(ctx, a, h) })
}

func (w *store) ReleaseHold(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	return call(w.f, func() error { return w.s.ReleaseHold(ctx, a, id, at) })
}

func (w *store) Holds(ctx context.Context, a gdprkit.AccountID) (h []erasure.Hold, err error) {
	err = call(w.f, func() (e error) { h, e = w.s.Holds(ctx, a); return })
	return
}

func (w *store) ScrubAccount(ctx context.Context, a gdprkit.AccountID, at time.Time) (n int, err error) {
	err = call(w.f, func() (e error) { n, e = w.s.ScrubAccount(ctx, a, at); return })
	return
}

// WrapTarget returns t with every call counted by f, like WrapStore. It
// forwards the one erasure.Target interface, so the wrapped target keeps
// every capability (TargetInfo.Caps) of t.
func WrapTarget(t erasure.Target, f *Faults) erasure.Target { return &target{t, f} }

// WrapTargets wraps every target.
func WrapTargets(ts []erasure.Target, f *Faults) []erasure.Target {
	out := make([]erasure.Target, len(ts))
	for i, t := range ts {
		out[i] = WrapTarget(t, f)
	}
	return out
}

type target struct {
	t erasure.Target
	f *Faults
}

func (w *target) Info() erasure.TargetInfo { return w.t.Info() }

func (w *target) Find(ctx context.Context, a gdprkit.AccountID, q erasure.Query) (r []erasure.Ref, err error) {
	err = call(w.f, func() (e error) { r, e = w.t.Find(ctx, a, q); return })
	return
}

func (w *target) Delete(ctx context.Context, a gdprkit.AccountID, s gdprkit.SubjectID, refs []erasure.Ref) (c erasure.Change, err error) {
	err = call(w.f, func() (e error) { c, e = w.t.Delete(ctx, a, s, refs); return })
	return
}

func (w *target) Anonymize(ctx context.Context, a gdprkit.AccountID, refs []erasure.Ref, an erasure.Anon) (c erasure.Change, err error) {
	err = call(w.f, func() (e error) { c, e = w.t.Anonymize(ctx, a, refs, an); return })
	return
}

func (w *target) Export(ctx context.Context, a gdprkit.AccountID, s gdprkit.SubjectID, refs []erasure.Ref) (r []json.RawMessage, err error) {
	err = call(w.f, func() (e error) { r, e = w.t.Export(ctx, a, s, refs); return })
	return
}

func (w *target) ParentsOf(ctx context.Context, a gdprkit.AccountID, ids []string) (m map[string]string, err error) {
	err = call(w.f, func() (e error) { m, e = w.t.ParentsOf(ctx, a, ids); return })
	return
}

func (w *target) Identifiers(ctx context.Context, a gdprkit.AccountID, refs []erasure.Ref) (r []erasure.Identifier, err error) {
	err = call(w.f, func() (e error) { r, e = w.t.Identifiers(ctx, a, refs); return })
	return
}

func (w *target) EraseAccount(ctx context.Context, a gdprkit.AccountID) (c erasure.Change, err error) {
	err = call(w.f, func() (e error) { c, e = w.t.EraseAccount(ctx, a); return })
	return
}

func (w *target) Predict(ctx context.Context, a gdprkit.AccountID, refs []erasure.Ref, act erasure.Action, an erasure.Anon) (c erasure.Change, err error) {
	err = call(w.f, func() (e error) { c, e = w.t.Predict(ctx, a, refs, act, an); return })
	return
}

func (w *target) Residue(ctx context.Context, a gdprkit.AccountID, q erasure.ResidueQuery) (r []erasure.Finding, err error) {
	err = call(w.f, func() (e error) { r, e = w.t.Residue(ctx, a, q); return })
	return
}

func (w *target) Check(ctx context.Context, c erasure.CheckRequest) error {
	return call(w.f, func() error { return w.t.Check(ctx, c) })
}

func (w *target) Locate(ctx context.Context, a gdprkit.AccountID, q erasure.LocateQuery) (r []erasure.Ref, err error) {
	err = call(w.f, func() (e error) { r, e = w.t.Locate(ctx, a, q); return })
	return
}

func (w *target) Count(ctx context.Context, a gdprkit.AccountID, q erasure.Query, without []erasure.Kind) (n int64, err error) {
	err = call(w.f, func() (e error) { n, e = w.t.Count(ctx, a, q, without); return })
	return
}
