package main

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
)

func (a *App) accountRoutes(m *http.ServeMux) {
	m.Handle("GET /account", a.staff(false, a.accountPage))
	m.Handle("POST /account/ips", a.staff(true, a.setIPs))
	m.Handle("POST /account/event", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		ev := retention.Event(r.PostFormValue("event"))
		if ev != retention.EventUpgrade && ev != retention.EventBillingFailed && ev != retention.EventBillingRecovered && ev != retention.EventRequestDeletion {
			a.fail(w, r, http.StatusUnprocessableEntity, "Unknown event.")
			return
		}
		if _, err := a.kit.Life.Apply(r.Context(), a.acct, ev, gdprkit.ActorID(me(r).ID)); err != nil {
			if errors.Is(err, gdprkit.ErrUnavailable) {
				a.serverError(w, r, err)
				return
			}
			a.fail(w, r, http.StatusConflict, "That does not apply to the account as it stands now.")
			return
		}
		if _, err := a.kit.Sweeper.SweepAccount(r.Context(), a.acct); err != nil && !errors.Is(err, gdprkit.ErrLeaseLost) {
			a.serverError(w, r, err)
			return
		}
		a.done(w, r, "/account", lifecycleWords[ev])
	}))
	m.HandleFunc("GET /demo", func(w http.ResponseWriter, r *http.Request) {
		if a.fake == nil {
			http.NotFound(w, r)
			return
		}
		d, err := a.lifecycle(r)
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		a.render(w, r, http.StatusOK, "account", "Demo clock", d)
	})
	m.HandleFunc("POST /demo/advance", func(w http.ResponseWriter, r *http.Request) {
		if a.fake == nil {
			http.NotFound(w, r)
			return
		}
		days, err := strconv.Atoi(r.PostFormValue("days"))
		if err != nil || days < 1 || days > 400 {
			a.fail(w, r, http.StatusUnprocessableEntity, "Give a number of days between 1 and 400.")
			return
		}
		a.fake.Advance(time.Duration(days) * 24 * time.Hour)
		// Run the sweeper at once, as its minute tick would.
		if _, err := a.kit.Sweeper.Sweep(r.Context()); err != nil {
			a.serverError(w, r, err)
			return
		}
		a.done(w, r, "/demo", "The clock moved "+strconv.Itoa(days)+" days forward.")
	})
}

// lifecycleData feeds the account page.
type lifecycleData struct {
	State   retention.State
	Since   time.Time
	NextDue time.Time
	Policy  string
	History []retention.TransitionRecord
	Rules   ipfilter.RuleSet
	Panel   string
	API     string
	MyIP    string
	Warn    string
	Force   bool
	States  []retention.State
	IsStaff bool
	// StepUp shows the "confirm it is you" form: IP rules are a security
	// change.
	StepUp bool
}

// lifecycleWords says what a lifecycle event did, for the confirmation.
var lifecycleWords = map[retention.Event]string{
	retention.EventUpgrade:          "Upgraded to a paid plan.",
	retention.EventBillingFailed:    "Recorded: billing failed.",
	retention.EventBillingRecovered: "Recorded: billing works again.",
	retention.EventRequestDeletion:  "Deletion of the account requested.",
}

func (a *App) lifecycle(r *http.Request) (lifecycleData, error) {
	ctx := r.Context()
	d := lifecycleData{Policy: a.kit.Life.Policy().String(), States: retention.States(), MyIP: a.clientIP(r).String()}
	var err error
	if d.State, d.Since, err = a.kit.Life.State(ctx, a.acct); err != nil {
		return d, err
	}
	if rec, err := a.kit.Life.Record(ctx, a.acct); err == nil {
		d.NextDue = rec.NextDue
	}
	d.History, err = a.kit.Life.History(ctx, a.acct)
	return d, err
}

func listText(es []ipfilter.Entry) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Prefix.String())
		if e.Note != "" {
			b.WriteString(" " + e.Note)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (a *App) accountPage(w http.ResponseWriter, r *http.Request) {
	d, err := a.lifecycle(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d.IsStaff = true
	if d.Rules, err = a.kit.IPs.Rules(r.Context(), a.acct); err != nil {
		a.serverError(w, r, err)
		return
	}
	if err := a.ownerExtras(r, &d); err != nil {
		a.serverError(w, r, err)
		return
	}
	d.Panel = listText(d.Rules.Surface(gdprkit.SurfaceAgentPanel).Allow)
	d.API = listText(d.Rules.Surface(gdprkit.SurfaceAPI).Allow)
	a.render(w, r, http.StatusOK, "account", "Account", d)
}

// parseList reads one entry per line: an address or prefix, then an
// optional note.
func parseList(s string) []ipfilter.Input {
	var out []ipfilter.Input
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, note, _ := strings.Cut(line, " ")
		out = append(out, ipfilter.Input{Value: v, Note: strings.TrimSpace(note)})
	}
	return out
}

// setIPs replaces the allow lists of the agent panel and the API. The
// panel's change is guarded by ipfilter's self-lockout check: an owner whose
// own address the new list would refuse is warned and nothing changes
// unless they tick "save anyway".
func (a *App) setIPs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	force := r.PostFormValue("force") == "yes"
	panel, api := r.PostFormValue("panel"), r.PostFormValue("api")
	ip := a.clientIP(r)
	actor := gdprkit.ActorID(me(r).ID)
	session := principal(r).SessionID
	res, err := a.kit.IPs.SetRules(ctx, ipfilter.Change{Account: a.acct, Surface: gdprkit.SurfaceAgentPanel, Allow: parseList(panel),
		Actor: actor, ActorIP: ip, ExpectedVersion: version, Force: force, ActorSession: session})
	if err == nil {
		_, err = a.kit.IPs.SetRules(ctx, ipfilter.Change{Account: a.acct, Surface: gdprkit.SurfaceAPI, Allow: parseList(api),
			Actor: actor, ActorIP: ip, ActorSurface: gdprkit.SurfaceAgentPanel, ExpectedVersion: res.Version, ActorSession: session})
	}
	if errors.Is(err, gdprkit.ErrUnavailable) {
		a.serverError(w, r, err)
		return
	}
	if err != nil {
		d, lerr := a.lifecycle(r)
		if lerr != nil {
			a.serverError(w, r, lerr)
			return
		}
		d.IsStaff = true
		d.Rules, _ = a.kit.IPs.Rules(ctx, a.acct)
		d.Panel, d.API = panel, api
		if oerr := a.ownerExtras(r, &d); oerr != nil {
			a.serverError(w, r, oerr)
			return
		}
		switch {
		case errors.Is(err, authn.ErrStepUpRequired):
			d.Warn, d.StepUp = stepUpMsg+" Nothing was changed.", true
		case errors.Is(err, ipfilter.ErrSelfLockout):
			d.Warn = "Careful: this allow list does not include your own address (" + ip.String() + "). Saving it would lock you out of the agent panel. Nothing was changed. Add your address, or tick \"save anyway\"."
			d.Force = true
		case errors.Is(err, gdprkit.ErrConflict):
			d.Warn = "Someone else changed the lists meanwhile; review them and save again."
		default:
			d.Warn = "Not saved: check that every line is an address or a prefix (192.0.2.0/24), optionally followed by a note."
		}
		a.render(w, r, http.StatusConflict, "account", "Account", d)
		return
	}
	a.done(w, r, "/account", "IP allow lists saved.")
}

// ownerExtras fills what only the owner's account page shows: whether a
// step-up is needed before changing IP rules.
func (a *App) ownerExtras(r *http.Request, d *lifecycleData) error {
	if me(r).Role == hostdb.RoleOwner {
		d.StepUp = d.StepUp || a.stepUpNeeded(r)
	}
	return nil
}
