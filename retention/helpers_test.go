package retention_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/store/memstore"
)

const day = 24 * time.Hour

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// hooks records every hook call and every effect (an effect applied twice to
// one account counts twice, which idempotent hosts would not do, so the
// tests also check that completed steps are never called again).
type hooks struct {
	mu      sync.Mutex
	calls   map[string]int // "step/account" -> calls
	effects map[string]int // "step/account" -> successful calls
	failOn  map[string]int // "step/account" or "step" -> failures left
	panicOn map[string]int
	order   []string
}

func newHooks() *hooks {
	return &hooks{calls: map[string]int{}, effects: map[string]int{}, failOn: map[string]int{}, panicOn: map[string]int{}}
}

var errHook = errors.New("hook failed")

func (h *hooks) do(step string, a gdprkit.AccountID) error {
	h.mu.Lock()
	k := step + "/" + string(a)
	h.calls[k]++
	h.order = append(h.order, k)
	for _, key := range []string{k, step} {
		if h.panicOn[key] > 0 {
			h.panicOn[key]--
			h.mu.Unlock()
			panic("hook crashed: " + k)
		}
		if h.failOn[key] > 0 {
			h.failOn[key]--
			h.mu.Unlock()
			return errHook
		}
	}
	h.effects[k]++
	h.mu.Unlock()
	return nil
}

func (h *hooks) count(m map[string]int, step retention.Step, a gdprkit.AccountID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return m[string(step)+"/"+string(a)]
}

func (h *hooks) Calls(step retention.Step, a gdprkit.AccountID) int {
	return h.count(h.calls, step, a)
}
func (h *hooks) Effects(step retention.Step, a gdprkit.AccountID) int {
	return h.count(h.effects, step, a)
}

func (h *hooks) config() retention.SweeperConfig {
	return retention.SweeperConfig{
		ConfigRemover: retention.ConfigRemoverFunc(func(_ context.Context, a gdprkit.AccountID) error {
			return h.do(string(retention.StepRemoveConfig), a)
		}),
		Eraser: retention.DataEraserFunc(func(_ context.Context, a gdprkit.AccountID) error {
			return h.do(string(retention.StepEraseHostData), a)
		}),
		BackupExpirer: retention.BackupExpirerFunc(func(_ context.Context, a gdprkit.AccountID) error {
			return h.do(string(retention.StepExpireBackups), a)
		}),
	}
}

// env is a service, a sweeper and their fakes over one store.
type env struct {
	t     *testing.T
	ctx   context.Context
	clock *fakeclock.Clock
	store retention.Store
	audit *gdprkit.MemoryAudit
	svc   *retention.Service
	sw    *retention.Sweeper
	hooks *hooks
}

func newEnv(t *testing.T, st retention.Store) *env {
	t.Helper()
	if st == nil {
		st = memstore.New().Retention()
	}
	e := &env{t: t, ctx: context.Background(), clock: fakeclock.New(t0), store: st, audit: &gdprkit.MemoryAudit{}, hooks: newHooks()}
	var err error
	e.svc, err = retention.New(retention.Config{Store: st, Clock: e.clock, Audit: e.audit})
	if err != nil {
		t.Fatal(err)
	}
	e.sw = e.sweeper("sweeper-1")
	return e
}

func (e *env) sweeper(owner string) *retention.Sweeper {
	e.t.Helper()
	cfg := e.hooks.config()
	cfg.Owner = owner
	cfg.Service = e.svc
	sw, err := retention.NewSweeper(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return sw
}

func (e *env) start(ev retention.Event) gdprkit.AccountID {
	e.t.Helper()
	a := gdprkit.AccountID("acct-" + gdprkit.NewID())
	if _, err := e.svc.Start(e.ctx, a, ev, "owner-1"); err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) apply(a gdprkit.AccountID, ev retention.Event) retention.Record {
	e.t.Helper()
	r, err := e.svc.Apply(e.ctx, a, ev, "owner-1")
	if err != nil {
		e.t.Fatalf("apply %s: %v", ev, err)
	}
	return r
}

func (e *env) sweep() retention.SweepReport {
	e.t.Helper()
	rep, err := e.sw.Sweep(e.ctx)
	if err != nil {
		e.t.Fatalf("sweep: %v", err)
	}
	return rep
}

func (e *env) record(a gdprkit.AccountID) retention.Record {
	e.t.Helper()
	r, err := e.store.Record(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// path returns the stored transitions as "from>to@offset" from t0.
func (e *env) history(a gdprkit.AccountID) []retention.TransitionRecord {
	e.t.Helper()
	trs, err := e.store.Transitions(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return trs
}

type step struct {
	to State
	at time.Time
}

// State is a short alias for the tests.
type State = retention.State

func (e *env) wantPath(a gdprkit.AccountID, want ...step) {
	e.t.Helper()
	trs := e.history(a)
	if len(trs) != len(want) {
		got := make([]string, len(trs))
		for i, tr := range trs {
			got[i] = string(tr.To) + "@" + tr.At.Sub(t0).String()
		}
		e.t.Fatalf("transitions = %v, want %d", got, len(want))
	}
	for i, w := range want {
		if trs[i].To != w.to || !trs[i].At.Equal(w.at) {
			e.t.Errorf("transition %d = %s at %s, want %s at %s", i, trs[i].To, trs[i].At, w.to, w.at)
		}
		if trs[i].Seq <= 0 || (i > 0 && trs[i].Seq <= trs[i-1].Seq) {
			e.t.Errorf("transition %d has seq %d", i, trs[i].Seq)
		}
	}
}

func (e *env) wantState(a gdprkit.AccountID, want State) {
	e.t.Helper()
	if got := e.record(a).State; got != want {
		e.t.Fatalf("stored state = %s, want %s", got, want)
	}
}
