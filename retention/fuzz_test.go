package retention_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

// loginGate is authn.AccountGate, restated so this test does not depend on
// package authn: *retention.Service must satisfy it structurally.
type loginGate interface {
	AllowLogin(ctx context.Context, account gdprkit.AccountID) error
}

var _ loginGate = (*retention.Service)(nil)

// FuzzLifecycle drives one account with random events, clock moves and
// sweeps, and checks the invariants: every stored transition is an edge of
// the table, chained, in time order; after a sweep the stored state is the
// schedule's state and nothing is pending; the gate agrees with the state;
// no step's effect is applied twice.
func FuzzLifecycle(f *testing.F) {
	f.Add([]byte{0, 6 << 3, 7, 1, 2, 200, 7})
	f.Add([]byte{1, 2, 255, 7, 4, 5, 3, 255, 255, 7})
	f.Add([]byte{0, 3, 6, 7, 250, 7, 255, 255, 255, 7})
	f.Add([]byte{1, 2, 57, 7, 3, 6, 100, 7, 5})
	events := retention.Events()[2:] // all but the two start events
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 || len(ops) > 64 {
			return
		}
		e := newEnv(t, nil)
		a := e.start([]retention.Event{retention.EventStartTrial, retention.EventStartPaid}[ops[0]%2])
		edges := map[[3]string]bool{}
		for _, ed := range retention.Table() {
			edges[[3]string{string(ed.From), string(ed.To), ed.Cause().String()}] = true
		}
		for _, op := range ops[1:] {
			switch k := op % 8; {
			case k < 6:
				ev := events[int(op>>3)%len(events)]
				before := len(e.history(a))
				if _, err := e.svc.Apply(e.ctx, a, ev, "owner-1"); err != nil {
					if !errors.Is(err, retention.ErrNotAllowed) {
						t.Fatalf("apply %s: %v", ev, err)
					}
					// A refused event stores no transition of its own (only
					// the timers the schedule had made due).
					for _, tr := range e.history(a)[before:] {
						if tr.Cause.Kind != retention.CauseTimer {
							t.Fatalf("refused %s stored %+v", ev, tr)
						}
					}
				}
			case k == 6:
				e.clock.Advance(time.Duration(op>>3) * day)
			default:
				e.sweep()
				st, _, err := e.svc.State(e.ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				r := e.record(a)
				if r.State != st || len(r.Pending) != 0 || r.LeaseOwner != "" {
					t.Fatalf("after sweep: stored %+v, schedule says %s", r, st)
				}
			}
			st, _, _ := e.svc.State(e.ctx, a)
			err := e.svc.Check(e.ctx, a, retention.AccessAgent)
			switch st {
			case retention.StateTrial, retention.StateActive, retention.StateBillingFailing:
				if err != nil {
					t.Fatalf("state %s denied: %v", st, err)
				}
			case retention.StateSuspended, retention.StateLiftRequested:
				if !errors.Is(err, gdprkit.ErrAccountSuspended) {
					t.Fatalf("state %s: %v", st, err)
				}
			default:
				if !errors.Is(err, gdprkit.ErrAccountTerminated) {
					t.Fatalf("state %s: %v", st, err)
				}
			}
		}
		trs := e.history(a)
		for i, tr := range trs {
			if !edges[[3]string{string(tr.From), string(tr.To), tr.Cause.String()}] {
				t.Fatalf("transition %d %s -> %s by %s is not in the table", i, tr.From, tr.To, tr.Cause)
			}
			if i > 0 && (tr.From != trs[i-1].To || tr.At.Before(trs[i-1].At) || tr.Seq <= trs[i-1].Seq) {
				t.Fatalf("transition %d does not follow %d: %+v after %+v", i, i-1, tr, trs[i-1])
			}
		}
		for _, n := range e.hooks.effects {
			if n > 1 {
				t.Fatalf("an effect applied %d times: %v", n, e.hooks.effects)
			}
		}
	})
}
