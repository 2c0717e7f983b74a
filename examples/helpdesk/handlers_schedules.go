package main

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

// The schedules screen: the account's retention rules with their counters,
// the preview of the next run (exactly what it will remove, hold back and
// keep), the rule lifecycle (add, disable, remove, each audited with the
// staff member), the account's time zone, the clock-jump guard and the
// proof of disposition.

func (a *App) scheduleRoutes(m *http.ServeMux) {
	m.Handle("GET /privacy/schedules", a.staff(true, a.schedules))
	m.Handle("POST /privacy/schedules/rules", a.staff(true, a.addScheduleRule))
	m.Handle("POST /privacy/schedules/rules/{id}/disable", a.staff(true, a.setRuleDisabled(true)))
	m.Handle("POST /privacy/schedules/rules/{id}/enable", a.staff(true, a.setRuleDisabled(false)))
	m.Handle("POST /privacy/schedules/rules/{id}/delete", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		if err := a.kit.Schedules.RemoveRule(r.Context(), a.acct, r.PathValue("id"), gdprkit.ActorID(me(r).ID)); err != nil {
			a.fail(w, r, http.StatusNotFound, "No such rule.")
			return
		}
		a.done(w, r, "/privacy/schedules", "Rule removed.")
	}))
	m.Handle("POST /privacy/schedules/run", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		rep, err := a.kit.Schedules.Run(r.Context(), a.acct)
		msg := "Ran: " + strconv.FormatInt(rep.Removed, 10) + " removed, " + strconv.FormatInt(rep.Held, 10) + " held, " +
			strconv.FormatInt(rep.Kept, 10) + " kept."
		if rep.Recovered > 0 {
			msg += " " + strconv.FormatInt(rep.Recovered, 10) + " counted from an interrupted run."
		}
		if err != nil {
			a.refuse(w, r, "/privacy/schedules", "The run reported: "+err.Error())
			return
		}
		a.done(w, r, "/privacy/schedules", msg)
	}))
	m.Handle("POST /privacy/schedules/confirm-clock", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		if err := a.kit.Schedules.ConfirmClock(r.Context(), a.acct, gdprkit.ActorID(me(r).ID)); err != nil {
			a.serverError(w, r, err)
			return
		}
		a.done(w, r, "/privacy/schedules", "Clock confirmed.")
	}))
	m.Handle("POST /privacy/schedules/timezone", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		if err := a.kit.Schedules.SetTimeZone(r.Context(), a.acct, r.PostFormValue("tz"), gdprkit.ActorID(me(r).ID)); err != nil {
			a.fail(w, r, http.StatusUnprocessableEntity, "Could not set the time zone: "+err.Error())
			return
		}
		a.done(w, r, "/privacy/schedules", "Time zone set.")
	}))
	m.Handle("GET /privacy/schedules/dispositions.jsonl", a.staff(true, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="dispositions.jsonl"`)
		if _, err := a.kit.Schedules.ExportDispositions(r.Context(), a.acct, w, time.Time{}, time.Time{}); err != nil {
			a.log.Error("export dispositions", "err", err)
		}
	}))
}

// schedulesData feeds schedules.html.
type schedulesData struct {
	Rules    []retention.Rule
	Preview  retention.RunReport
	Settings retention.ScheduleState
	Batches  []retention.Batch
	Kinds    []retention.TargetKind
	Fields   []string
}

func (a *App) schedules(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := schedulesData{Kinds: []retention.TargetKind{retention.KindTicket, retention.KindHeldSpam}, Fields: []string{"created_at", "closed_at"}}
	var err error
	if d.Rules, err = a.kit.Schedules.Rules(ctx, a.acct); err != nil {
		a.serverError(w, r, err)
		return
	}
	if d.Preview, err = a.kit.Schedules.Preview(ctx, a.acct); err != nil {
		a.serverError(w, r, err)
		return
	}
	if d.Settings, err = a.kit.Schedules.Settings(ctx, a.acct); err != nil {
		a.serverError(w, r, err)
		return
	}
	bs, err := a.kit.Schedules.Dispositions(ctx, a.acct, time.Time{}, time.Time{})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if len(bs) > 10 {
		bs = bs[len(bs)-10:]
	}
	d.Batches = bs
	a.render(w, r, http.StatusOK, "schedules", "Retention schedules", d)
}

func (a *App) addScheduleRule(w http.ResponseWriter, r *http.Request) {
	months, err1 := strconv.Atoi(r.PostFormValue("months"))
	days, err2 := strconv.Atoi(r.PostFormValue("days"))
	if errors.Join(err1, err2) != nil {
		a.fail(w, r, http.StatusUnprocessableEntity, "Give the age in whole months and days.")
		return
	}
	rule := retention.Rule{Name: r.PostFormValue("name"), Target: retention.TargetKind(r.PostFormValue("kind")),
		Action:    retention.RuleAction(r.PostFormValue("action")),
		Condition: retention.Condition{Status: r.PostFormValue("status"), Field: r.PostFormValue("field"), OlderThanMonths: months, OlderThanDays: days}}
	if _, err := a.kit.Schedules.AddRule(r.Context(), a.acct, rule, gdprkit.ActorID(me(r).ID)); err != nil {
		a.fail(w, r, http.StatusUnprocessableEntity, "Could not add the rule: "+err.Error())
		return
	}
	a.done(w, r, "/privacy/schedules", "Rule added.")
}

func (a *App) setRuleDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.kit.Schedules.SetDisabled(r.Context(), a.acct, r.PathValue("id"), disabled, gdprkit.ActorID(me(r).ID)); err != nil {
			a.fail(w, r, http.StatusNotFound, "No such rule.")
			return
		}
		a.done(w, r, "/privacy/schedules", "Rule updated.")
	}
}
