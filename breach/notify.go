package breach

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// NotifyRequest says whom to notify of a breach.
type NotifyRequest struct {
	// Authority queues the notification of the supervisory authority
	// (once: again only after an earlier one failed).
	Authority bool
	// DPO queues the notification of the account's DPO (once, likewise).
	DPO bool
	// Subjects queues one notice for each affected subject who has none
	// yet; subjects found later need another call.
	Subjects bool
	// DelayReason explains why the authority is notified after the
	// deadline; required then (Art. 33(1)), kept on the breach.
	DelayReason string
	// By is who asks. Required.
	By gdprkit.ActorID
}

// Queued counts the notices a Notify call put in the outbox.
type Queued struct {
	// Authority is 1 when the authority's notice was queued.
	Authority int `json:"authority"`
	// DPO is 1 when the DPO's notice was queued.
	DPO int `json:"dpo"`
	// Subjects counts the subjects' notices queued.
	Subjects int `json:"subjects"`
}

// Notify puts the requested notices in the durable outbox, in one atomic
// step with its history entry; workers (RunOnce, Work) send them. It
// returns what it queued. Two concurrent calls never queue two notices
// for one subject (the store refuses the second and the call reads again). Errors: gdprkit.ErrInvalid when notifying the
// authority after the deadline without a DelayReason, or when nothing is
// asked; gdprkit.ErrNotFound; gdprkit.ErrConflict for a closed breach or
// an authority or DPO notice that is already queued or sent. Nothing is
// queued on error.
func (s *Service) Notify(ctx context.Context, account gdprkit.AccountID, id string, req NotifyRequest) (Queued, error) {
	for attempt := 0; ; attempt++ {
		q, err := s.notify(ctx, account, id, req)
		if err == nil || !errors.Is(err, errSubjectRace) || attempt == 3 {
			return q, err
		}
	}
}

// errSubjectRace marks a conflict on a subject's notice: another Notify
// queued it between the read and the write.
var errSubjectRace = errors.New("breach: a subject notice was queued concurrently")

func (s *Service) notify(ctx context.Context, account gdprkit.AccountID, id string, req NotifyRequest) (Queued, error) {
	if err := account.Validate(); err != nil {
		return Queued{}, err
	}
	if err := req.By.Validate(); err != nil {
		return Queued{}, err
	}
	if !req.Authority && !req.DPO && !req.Subjects {
		return Queued{}, fmt.Errorf("%w: breach: notify nobody", gdprkit.ErrInvalid)
	}
	if err := validText("delay reason", req.DelayReason, MaxText, false); err != nil {
		return Queued{}, err
	}
	var subjects []gdprkit.Pseudonym
	var noticed map[gdprkit.Pseudonym]bool
	if req.Subjects {
		known, err := s.knownSubjects(ctx, account, id)
		if err != nil {
			return Queued{}, fmt.Errorf("breach: notify: %w", err)
		}
		ns, err := s.store.Notices(ctx, account, id)
		if err != nil {
			return Queued{}, fmt.Errorf("breach: notify: %w", err)
		}
		noticed = map[gdprkit.Pseudonym]bool{}
		for _, n := range ns {
			if n.To == ToSubject {
				noticed[n.Subject] = true
			}
		}
		for p := range known {
			subjects = append(subjects, p)
		}
		slices.Sort(subjects)
	}
	now := s.now()
	var q Queued
	_, err := s.mutate(ctx, account, id, func(cur Breach, found bool) (Write, error) {
		q = Queued{}
		if err := live(cur, found, id); err != nil {
			return Write{}, err
		}
		b := cur
		var w Write
		mk := func(to Audience, subject gdprkit.Pseudonym) Notice {
			n := Notice{ID: gdprkit.NewID(), Account: account, Breach: id, To: to, Subject: subject, State: NoticePending,
				RequestedAt: now, RequestedBy: req.By, NextAt: now}
			w.Notices = append(w.Notices, n)
			return n
		}
		if req.Authority {
			if cur.AuthorityNotice != "" {
				return Write{}, fmt.Errorf("breach %q: the authority's notice is already queued or sent: %w", id, gdprkit.ErrConflict)
			}
			if now.After(cur.Deadline) && req.DelayReason == "" && cur.DelayReason == "" {
				return Write{}, fmt.Errorf("%w: breach: the %s deadline has passed; notifying the authority now needs the reason for the delay (Art. 33(1))",
					gdprkit.ErrInvalid, s.cfg.Deadline)
			}
			if req.DelayReason != "" {
				b.DelayReason = req.DelayReason
			}
			b.AuthorityNotice = mk(ToAuthority, "").ID
			q.Authority = 1
		}
		if req.DPO {
			if cur.DPONotice != "" {
				return Write{}, fmt.Errorf("breach %q: the DPO's notice is already queued or sent: %w", id, gdprkit.ErrConflict)
			}
			b.DPONotice = mk(ToDPO, "").ID
			q.DPO = 1
		}
		for _, p := range subjects {
			if !noticed[p] {
				mk(ToSubject, p)
				q.Subjects++
			}
		}
		b.UpdatedAt, b.Version = now, cur.Version+1
		e, err := s.entry(id, EntryNotify, req.By, now, entryData{Breach: &b,
			Counts: map[Audience]int{ToAuthority: q.Authority, ToDPO: q.DPO, ToSubject: q.Subjects}})
		w.Breach, w.Entries = &b, []Entry{e}
		return w, err
	})
	if err != nil {
		if q.Subjects > 0 && errors.Is(err, gdprkit.ErrConflict) {
			return Queued{}, fmt.Errorf("breach: notify: %w: %w", errSubjectRace, err)
		}
		return Queued{}, fmt.Errorf("breach: notify: %w", err)
	}
	s.emit(ctx, account, EventNotify, req.By, map[string]string{"breach": id, "authority": strconv.Itoa(q.Authority),
		"dpo": strconv.Itoa(q.DPO), "subjects": strconv.Itoa(q.Subjects)})
	return q, nil
}
