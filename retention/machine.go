package retention

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

// State is where an account is in its lifecycle.
type State string

// The lifecycle states, in the order an account normally passes them.
const (
	// StateNone is the state of an account retention has not seen yet; only
	// EventStartTrial and EventStartPaid leave it.
	StateNone State = ""
	// StateTrial: a trial account, full access, until it upgrades or its
	// trial period ends.
	StateTrial State = "trial"
	// StateActive: a paid account in good standing.
	StateActive State = "active"
	// StateBillingFailing: a paid account whose billing has failed; full
	// access during the billing grace period.
	StateBillingFailing State = "billing_failing"
	// StateSuspended: no login and no data access for anyone; terminated when
	// the owner does not ask to lift the suspension within the lift window.
	StateSuspended State = "suspended"
	// StateLiftRequested: suspended, and the owner has asked to lift the
	// suspension; the lift window is stopped until the host reinstates the
	// account or denies the request.
	StateLiftRequested State = "lift_requested"
	// StateTerminated: the domain is stopped and the configuration removed;
	// the data is kept until the deletion delay ends.
	StateTerminated State = "terminated"
	// StateDeleted: the account's data is gone from live storage; cold
	// backups still hold it until the backup retention ends.
	StateDeleted State = "deleted"
	// StatePurged: the backups have expired; nothing of the account remains
	// but its lifecycle record.
	StatePurged State = "purged"
)

// States lists every state (StateNone excluded) in lifecycle order.
func States() []State {
	return []State{StateTrial, StateActive, StateBillingFailing, StateSuspended,
		StateLiftRequested, StateTerminated, StateDeleted, StatePurged}
}

// Valid reports whether s is one of States.
func (s State) Valid() bool {
	for _, x := range States() {
		if s == x {
			return true
		}
	}
	return false
}

// Event is something the host reports about an account: a plan change, a
// billing outcome, an owner's request.
type Event string

// The events. Each is allowed only in the states Table lists for it.
const (
	// EventStartTrial opens an account on a trial.
	EventStartTrial Event = "start_trial"
	// EventStartPaid opens an account on a paid plan.
	EventStartPaid Event = "start_paid"
	// EventUpgrade: the trial became a paid plan.
	EventUpgrade Event = "upgrade"
	// EventBillingFailed: a paid account's billing failed.
	EventBillingFailed Event = "billing_failed"
	// EventBillingRecovered: the failing billing succeeded again.
	EventBillingRecovered Event = "billing_recovered"
	// EventRequestLift: the owner asks to lift the suspension.
	EventRequestLift Event = "request_lift"
	// EventReinstate: the host lifts the suspension (paid, upgraded, or
	// granted the owner's request).
	EventReinstate Event = "reinstate"
	// EventDenyLift: the host refuses the owner's request; the account is
	// suspended again and its lift window starts anew.
	EventDenyLift Event = "deny_lift"
	// EventRequestDeletion: the owner asks for the account to be deleted.
	// Allowed in every state before StateDeleted.
	EventRequestDeletion Event = "request_deletion"
)

// Events lists every event.
func Events() []Event {
	return []Event{EventStartTrial, EventStartPaid, EventUpgrade, EventBillingFailed,
		EventBillingRecovered, EventRequestLift, EventReinstate, EventDenyLift, EventRequestDeletion}
}

// Timer is a transition the schedule takes by itself when an account has
// stayed in a state for the duration its Policy gives.
type Timer string

// The timers, one per state that has one.
const (
	// TimerTrialExpired: StateTrial for Policy.TrialPeriod.
	TimerTrialExpired Timer = "trial_expired"
	// TimerBillingGraceExpired: StateBillingFailing for more than
	// Policy.BillingGrace.
	TimerBillingGraceExpired Timer = "billing_grace_expired"
	// TimerLiftWindowExpired: StateSuspended for Policy.LiftWindow.
	TimerLiftWindowExpired Timer = "lift_window_expired"
	// TimerDeletionDue: StateTerminated for Policy.DeletionDelay.
	TimerDeletionDue Timer = "deletion_due"
	// TimerBackupsExpired: StateDeleted for Policy.BackupRetention.
	TimerBackupsExpired Timer = "backups_expired"
)

// Step is one effect a transition has outside the lifecycle record, run by
// the Sweeper through a host-supplied hook, durably and in order.
type Step string

// The steps.
const (
	// StepRemoveConfig stops the account's domain and removes its
	// configuration (ConfigRemover).
	StepRemoveConfig Step = "remove_config"
	// StepEraseStoreData deletes the account's retention rules and
	// schedules.
	StepEraseStoreData Step = "erase_store_data"
	// StepEraseHostData deletes every live record of the account, the
	// host's and gdprkit's own (SweeperConfig.Eraser).
	StepEraseHostData Step = "erase_host_data"
	// StepExpireBackups removes the account from cold backups
	// (BackupExpirer); afterwards nothing of the account remains.
	StepExpireBackups Step = "expire_backups"
)

// Edge is one row of the transition table: in state From, Event (or, when
// Event is empty, Timer) leads to To, and the Sweeper then runs Steps in
// order.
type Edge struct {
	From  State
	To    State
	Event Event
	Timer Timer
	Steps []Step
}

// Cause returns what takes the edge: its event or its timer.
func (e Edge) Cause() Cause {
	if e.Event != "" {
		return Cause{Kind: CauseEvent, Name: string(e.Event)}
	}
	return Cause{Kind: CauseTimer, Name: string(e.Timer)}
}

// CauseKind tells an event-driven transition from a timer-driven one.
type CauseKind string

// The cause kinds.
const (
	CauseEvent CauseKind = "event"
	CauseTimer CauseKind = "timer"
)

// Cause is why a transition happened.
type Cause struct {
	Kind CauseKind
	// Name is the Event or Timer.
	Name string
}

// String returns "event:upgrade" or "timer:trial_expired".
func (c Cause) String() string { return string(c.Kind) + ":" + c.Name }

// Table returns the transition table: every allowed (state, event) and
// (state, timer) pair. It is the single source of the lifecycle: Service,
// Sweeper, the access gate and Diagram all read it. The slice is a fresh
// copy; changing it changes nothing.
func Table() []Edge {
	deleteAll := []Step{StepRemoveConfig, StepEraseStoreData, StepEraseHostData}
	t := []Edge{
		{From: StateNone, To: StateTrial, Event: EventStartTrial},
		{From: StateNone, To: StateActive, Event: EventStartPaid},

		{From: StateTrial, To: StateActive, Event: EventUpgrade},
		{From: StateTrial, To: StateSuspended, Timer: TimerTrialExpired},

		{From: StateActive, To: StateBillingFailing, Event: EventBillingFailed},

		{From: StateBillingFailing, To: StateActive, Event: EventBillingRecovered},
		{From: StateBillingFailing, To: StateSuspended, Timer: TimerBillingGraceExpired},

		{From: StateSuspended, To: StateLiftRequested, Event: EventRequestLift},
		{From: StateSuspended, To: StateActive, Event: EventReinstate},
		{From: StateSuspended, To: StateTerminated, Timer: TimerLiftWindowExpired, Steps: []Step{StepRemoveConfig}},

		{From: StateLiftRequested, To: StateActive, Event: EventReinstate},
		{From: StateLiftRequested, To: StateSuspended, Event: EventDenyLift},

		{From: StateTerminated, To: StateDeleted, Timer: TimerDeletionDue, Steps: []Step{StepEraseStoreData, StepEraseHostData}},

		{From: StateDeleted, To: StatePurged, Timer: TimerBackupsExpired, Steps: []Step{StepExpireBackups}},
	}
	for _, s := range []State{StateTrial, StateActive, StateBillingFailing, StateSuspended, StateLiftRequested} {
		t = append(t, Edge{From: s, To: StateDeleted, Event: EventRequestDeletion, Steps: deleteAll})
	}
	t = append(t, Edge{From: StateTerminated, To: StateDeleted, Event: EventRequestDeletion,
		Steps: []Step{StepEraseStoreData, StepEraseHostData}})
	for i := range t {
		t[i].Steps = append([]Step(nil), t[i].Steps...)
	}
	return t
}

// ErrNotAllowed is wrapped (together with gdprkit.ErrConflict) by the error
// returned for an event the account's current state does not accept.
var ErrNotAllowed = errors.New("retention: event not allowed in this state")

// EventEdge returns the edge event ev takes from state from, or an error
// wrapping ErrNotAllowed and gdprkit.ErrConflict (ErrInvalid when ev is not
// an event at all).
func EventEdge(from State, ev Event) (Edge, error) {
	known := false
	for _, e := range Table() {
		if e.Event != ev {
			continue
		}
		known = true
		if e.From == from {
			return e, nil
		}
	}
	if !known {
		return Edge{}, fmt.Errorf("%w: unknown lifecycle event %q", gdprkit.ErrInvalid, ev)
	}
	name := string(from)
	if from == StateNone {
		name = "none (account not started)"
	}
	return Edge{}, fmt.Errorf("%w: %w: event %q in state %s", ErrNotAllowed, gdprkit.ErrConflict, ev, name)
}

// TimerEdge returns the timer edge leaving state s, if it has one.
func TimerEdge(s State) (Edge, bool) {
	for _, e := range Table() {
		if e.From == s && e.Timer != "" {
			return e, true
		}
	}
	return Edge{}, false
}

// Policy holds the durations of the schedule. Its zero value, and any zero
// field, means the default of DefaultPolicy; negative durations are invalid.
type Policy struct {
	// Name is recorded with every transition taken under the policy.
	// Default "default".
	Name string
	// TrialPeriod: a trial not upgraded within it is suspended when it ends
	// (at exactly start + TrialPeriod). Default 14 days.
	TrialPeriod time.Duration
	// BillingGrace: an account whose billing has failed for MORE than this
	// is suspended (at failure + BillingGrace + 1µs, the store's
	// resolution). Default 7 days.
	BillingGrace time.Duration
	// LiftWindow: a suspended account whose owner does not ask to lift the
	// suspension within it is terminated when it ends. Default 60 days.
	LiftWindow time.Duration
	// DeletionDelay: a terminated account is deleted from live storage when
	// it ends. Default 30 days.
	DeletionDelay time.Duration
	// BackupRetention: a deleted account's cold backups are expired when it
	// ends. Default 30 days.
	BackupRetention time.Duration
}

const day = 24 * time.Hour

// DefaultPolicy returns the durations of the issue: 14-day trial, more than
// 7 days of failing billing, 60-day lift window, deletion within 30 days of
// termination, backups kept 30 days more.
func DefaultPolicy() Policy {
	return Policy{Name: "default", TrialPeriod: 14 * day, BillingGrace: 7 * day,
		LiftWindow: 60 * day, DeletionDelay: 30 * day, BackupRetention: 30 * day}
}

// WithDefaults returns p with every zero field set from DefaultPolicy.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy()
	if p.Name == "" {
		p.Name = d.Name
	}
	for _, f := range []struct{ v, def *time.Duration }{
		{&p.TrialPeriod, &d.TrialPeriod}, {&p.BillingGrace, &d.BillingGrace},
		{&p.LiftWindow, &d.LiftWindow}, {&p.DeletionDelay, &d.DeletionDelay},
		{&p.BackupRetention, &d.BackupRetention},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return p
}

// Validate reports a negative duration or an unusable name.
func (p Policy) Validate() error {
	if len(p.Name) > 64 || strings.ContainsAny(p.Name, " \t\r\n") {
		return fmt.Errorf("%w: policy name must be at most 64 bytes without spaces", gdprkit.ErrInvalid)
	}
	for _, d := range []time.Duration{p.TrialPeriod, p.BillingGrace, p.LiftWindow, p.DeletionDelay, p.BackupRetention} {
		if d < 0 {
			return fmt.Errorf("%w: negative duration in retention policy", gdprkit.ErrInvalid)
		}
	}
	return nil
}

// Duration returns the duration the policy gives timer t.
func (p Policy) Duration(t Timer) time.Duration {
	switch t {
	case TimerTrialExpired:
		return p.TrialPeriod
	case TimerBillingGraceExpired:
		return p.BillingGrace
	case TimerLiftWindowExpired:
		return p.LiftWindow
	case TimerDeletionDue:
		return p.DeletionDelay
	case TimerBackupsExpired:
		return p.BackupRetention
	}
	return 0
}

// strict reports timers that fire only once MORE than their duration has
// passed ("billing failing for more than 7 days").
func strict(t Timer) bool { return t == TimerBillingGraceExpired }

// Due returns when timer t fires for an account that entered its state at
// since: since + duration, or one microsecond later for a strict timer.
func (p Policy) Due(t Timer, since time.Time) time.Time {
	due := since.Add(p.Duration(t))
	if strict(t) {
		due = due.Add(time.Microsecond)
	}
	return due
}

// String describes the policy as recorded with each transition, for
// example "default trial=14d billing_grace=7d lift_window=60d deletion=30d backups=30d".
func (p Policy) String() string {
	return p.Name + " trial=" + fmtDur(p.TrialPeriod) + " billing_grace=" + fmtDur(p.BillingGrace) +
		" lift_window=" + fmtDur(p.LiftWindow) + " deletion=" + fmtDur(p.DeletionDelay) +
		" backups=" + fmtDur(p.BackupRetention)
}

func fmtDur(d time.Duration) string {
	if d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// Diagram renders the transition table as a Mermaid state diagram, with the
// timers labelled by p's durations. The README's diagram is this output for
// DefaultPolicy (a test keeps them equal).
func Diagram(p Policy) string {
	p = p.WithDefaults()
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	node := func(s State) string {
		if s == StateNone {
			return "[*]"
		}
		return string(s)
	}
	for _, e := range Table() {
		label := string(e.Event)
		if e.Timer != "" {
			cmp := ""
			if strict(e.Timer) {
				cmp = "more than "
			}
			label = "after " + cmp + fmtDur(p.Duration(e.Timer)) + " (" + string(e.Timer) + ")"
		}
		if len(e.Steps) > 0 {
			steps := make([]string, len(e.Steps))
			for i, s := range e.Steps {
				steps[i] = string(s)
			}
			label += " / " + strings.Join(steps, ", ")
		}
		fmt.Fprintf(&b, "    %s --> %s: %s\n", node(e.From), node(e.To), label)
	}
	b.WriteString("    purged --> [*]\n")
	return b.String()
}

// Access is a kind of access the gate decides.
type Access string

// The kinds of access.
const (
	AccessLogin  Access = "login"
	AccessOwner  Access = "owner"
	AccessAgent  Access = "agent"
	AccessPortal Access = "customer_portal"
	AccessAPI    Access = "api"
)

// Valid reports whether a is one of the kinds above.
func (a Access) Valid() bool {
	switch a {
	case AccessLogin, AccessOwner, AccessAgent, AccessPortal, AccessAPI:
		return true
	}
	return false
}

// AccessForSurface maps a gdprkit.Surface to the Access the gate checks:
// the agent panel is AccessAgent, the API AccessAPI, the portal
// AccessPortal; any other surface is AccessLogin.
func AccessForSurface(s gdprkit.Surface) Access {
	switch s {
	case gdprkit.SurfaceAgentPanel:
		return AccessAgent
	case gdprkit.SurfaceAPI:
		return AccessAPI
	case gdprkit.SurfacePortal:
		return AccessPortal
	}
	return AccessLogin
}

// denial returns the sentinel that explains why state s allows no access,
// or nil when s allows every kind.
func denial(s State) error {
	switch s {
	case StateTrial, StateActive, StateBillingFailing:
		return nil
	case StateSuspended, StateLiftRequested:
		return gdprkit.ErrAccountSuspended
	default:
		return gdprkit.ErrAccountTerminated
	}
}

// DeniedError is what the gate returns when an account's state allows no
// access. It wraps gdprkit.ErrAccountSuspended (suspended, lift requested)
// or gdprkit.ErrAccountTerminated (terminated, deleted, purged).
type DeniedError struct {
	Account gdprkit.AccountID
	Access  Access
	// State is the account's state now, per its schedule.
	State State
	// Since is when the account entered State.
	Since time.Time
	err   error
}

// Error describes the denial without personal data.
func (e *DeniedError) Error() string {
	return fmt.Sprintf("%v: %s access denied, account is %s since %s", e.err, e.Access, e.State, e.Since.UTC().Format(time.RFC3339))
}

// Unwrap returns the sentinel.
func (e *DeniedError) Unwrap() error { return e.err }
