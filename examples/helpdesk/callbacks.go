package main

// callbacks.go: what gdprkit calls back into the host, wired in wiring.go —
// ipfilter's step-up check (answered by authn), a retention rule's ticket
// deletion (through the erasure graph), the account's configuration removal
// when it is terminated, and an audit sink that holds a host transaction's
// events until it commits.

import (
	"context"
	"errors"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/retention"
)

// stepUp lets ipfilter ask authn, built after it, whether the admin
// changing IP rules confirmed their identity recently.
type stepUp struct{ k *Kit }

func (s stepUp) CheckStepUp(ctx context.Context, a gdprkit.AccountID, actor gdprkit.ActorID, session string) error {
	return s.k.Auth.CheckStepUp(ctx, a, actor, session)
}

// deleteTickets deletes tickets for a retention rule through the erasure
// graph: messages, attachments and files go too, and held tickets stay.
func (k *Kit) deleteTickets(ctx context.Context, a gdprkit.AccountID, ids []string) (res retention.DeleteResult, err error) {
	for _, id := range ids {
		got, err := k.Erasure.DeleteRecord(ctx, a, erasure.KindTicket, id, retention.SystemActor)
		switch {
		case errors.Is(err, erasure.ErrHeld):
			res.Held = append(res.Held, id)
		case err != nil:
			return res, err
		case got[erasure.KindTicket] > 0: // this call removed the ticket row
			res.Removed = append(res.Removed, id)
		}
	}
	return res, nil
}

// removeConfig is retention's StepRemoveConfig: the account's IP rules,
// API tokens, sessions and retention rules go.
func (k *Kit) removeConfig(ctx context.Context, a gdprkit.AccountID) error {
	_, err := k.Auth.RevokeAccount(ctx, a)
	rules, rerr := k.Schedules.Rules(ctx, a)
	err = errors.Join(k.IPs.DeleteAccount(ctx, a, retention.SystemActor), err, rerr)
	for _, r := range rules {
		if rerr := k.Schedules.RemoveRule(ctx, a, r.ID, retention.SystemActor); !errors.Is(rerr, gdprkit.ErrNotFound) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// HeldAudit is an audit sink that keeps events until Release. Like the
// transaction it serves, it is for one goroutine.
type HeldAudit struct {
	to     gdprkit.AuditSink
	events []gdprkit.Event
}

// Record keeps e.
func (h *HeldAudit) Record(_ context.Context, e gdprkit.Event) error {
	h.events = append(h.events, e)
	return nil
}

// Release sends the kept events on, in order, and forgets them.
func (h *HeldAudit) Release(ctx context.Context) error {
	var err error
	for _, e := range h.events {
		if h.to != nil {
			err = errors.Join(err, h.to.Record(ctx, e))
		}
	}
	h.events = nil
	return err
}
