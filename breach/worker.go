package breach

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Message is what the Notifier is asked to send: one notice and the
// breach's form. It names a subject only by pseudonym; the host's notifier
// resolves whom to write to (see Resolve).
type Message struct {
	// IdempotencyKey is the notice's ID, the same on every attempt: a
	// notifier that keys its sends on it delivers each notice once even
	// when a worker crashed after sending and before recording it.
	IdempotencyKey string
	// Notice is the notice being sent (To, Subject, Attempts, …).
	Notice Notice
	// Form is the breach as the authority's form has it; a subject's
	// message should carry Nature, DPO, Consequences and Measures in
	// clear language (Art. 34(2)).
	Form Form
}

// Notifier sends notices: to the authority (a portal, an e-mail), the
// account's DPO and affected subjects. The host implements it. Send
// returns a reference (a case number, a message ID) kept with the notice.
// An error wrapping gdprkit.ErrInvalid, ErrNotFound (the subject cannot be
// resolved any more, for example because they were erased), ErrForbidden or
// ErrConflict is permanent and fails the notice at once; any other error
// is retried with backoff up to Config.MaxAttempts.
type Notifier interface {
	Send(ctx context.Context, m Message) (reference string, err error)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, m Message) (string, error)

// Send calls f.
func (f NotifierFunc) Send(ctx context.Context, m Message) (string, error) { return f(ctx, m) }

// Permanent reports whether a notifier error fails a notice at once.
func Permanent(err error) bool {
	if err == nil || errors.Is(err, gdprkit.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, gdprkit.ErrInvalid) || errors.Is(err, gdprkit.ErrNotFound) ||
		errors.Is(err, gdprkit.ErrForbidden) || errors.Is(err, gdprkit.ErrConflict)
}

// RunOnce claims the notice due first, across all accounts, sends it and
// records the outcome. It reports whether it found a notice. A notice is
// persisted before any send and settled after it under the worker's lease
// token, so two workers never hold one notice at once; a worker that
// crashes between sending and settling leaves the notice to be claimed
// again when its lease ends and sent again with the same idempotency key.
// A sent authority notice moves an open breach to notified. The send's
// error is returned too (after the notice was given back for a retry or
// failed); an error wrapping gdprkit.ErrLeaseLost means another worker
// took the notice over.
func (s *Service) RunOnce(ctx context.Context, owner string) (bool, error) {
	if s.cfg.Notifier == nil {
		return false, fmt.Errorf("%w: breach: no Config.Notifier", gdprkit.ErrInvalid)
	}
	if owner == "" || len(owner) > 100 {
		return false, fmt.Errorf("%w: breach: worker name must be 1 to 100 bytes", gdprkit.ErrInvalid)
	}
	token := gdprkit.NewID()
	now := s.now()
	n, err := s.store.ClaimNotice(ctx, now, owner, token, now.Add(s.cfg.Lease))
	if errors.Is(err, gdprkit.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("breach: claim notice: %w", err)
	}
	b, err := s.store.Breach(ctx, n.Account, n.Breach)
	if err != nil {
		return true, fmt.Errorf("breach: notice %s: %w", n.ID, err)
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.Lease)
	ref, sendErr := s.cfg.Notifier.Send(sctx, Message{IdempotencyKey: n.ID, Notice: n, Form: formOf(b)})
	cancel()
	if sendErr == nil {
		if err := validText("notifier reference", ref, MaxItemLen, false); err != nil {
			ref = ""
		}
	}
	return true, s.settle(ctx, n, token, owner, ref, sendErr)
}

// settle records a send's outcome under the lease token.
func (s *Service) settle(ctx context.Context, n Notice, token, owner, ref string, sendErr error) error {
	now := s.now()
	done := n
	done.Attempts++
	done.LeaseOwner, done.LeaseToken, done.LeaseUntil = "", "", time.Time{}
	var ev gdprkit.EventType
	var typ EntryType
	switch {
	case sendErr == nil:
		done.State, done.SentAt, done.Reference, done.LastError, done.NextAt = NoticeSent, now, ref, "", time.Time{}
		ev, typ = EventNoticeSent, EntrySent
	case Permanent(sendErr) || done.Attempts >= s.cfg.MaxAttempts:
		done.State, done.LastError, done.NextAt = NoticeFailed, errText(sendErr), time.Time{}
		ev, typ = EventNoticeFailed, EntryFailed
	default:
		done.State, done.LastError = NoticePending, errText(sendErr)
		done.NextAt = now.Add(min(time.Second<<min(done.Attempts-1, 12), time.Hour))
		ev = EventNoticeRetry
	}
	_, err := s.mutate(ctx, n.Account, n.Breach, func(cur Breach, found bool) (Write, error) {
		w := Write{Settle: &done, Token: token}
		if typ == "" {
			return w, nil
		}
		d := entryData{Notice: &done}
		if found {
			b := cur
			switch {
			case done.State == NoticeSent && done.To == ToAuthority:
				if b.AuthorityNotifiedAt.IsZero() {
					b.AuthorityNotifiedAt = now
				}
				if b.State == StateOpen {
					b.State = StateNotified
				}
			case done.State == NoticeFailed && done.To == ToAuthority && b.AuthorityNotice == done.ID:
				b.AuthorityNotice = ""
			case done.State == NoticeFailed && done.To == ToDPO && b.DPONotice == done.ID:
				b.DPONotice = ""
			}
			if !sameBreach(b, cur) {
				b.UpdatedAt, b.Version = now, cur.Version+1
				w.Breach, d.Breach = &b, &b
			}
		}
		e, err := s.entry(n.Breach, typ, gdprkit.ActorID("system:"+owner), now, d)
		w.Entries = []Entry{e}
		return w, err
	})
	if err != nil {
		return fmt.Errorf("breach: settle notice %s: %w", n.ID, err)
	}
	s.emit(ctx, n.Account, ev, "", map[string]string{"breach": n.Breach, "notice": n.ID, "to": string(n.To),
		"attempts": strconv.Itoa(done.Attempts)})
	if sendErr != nil {
		s.log.Info("breach: notice send failed", "notice", n.ID, "attempt", done.Attempts, "state", string(done.State))
		return fmt.Errorf("breach: send notice %s: %w", n.ID, sendErr)
	}
	return nil
}

func sameBreach(a, b Breach) bool {
	return a.State == b.State && a.AuthorityNotifiedAt.Equal(b.AuthorityNotifiedAt) &&
		a.AuthorityNotice == b.AuthorityNotice && a.DPONotice == b.DPONotice
}

func errText(err error) string {
	msg := err.Error()
	if len(msg) > 500 {
		msg = strings.ToValidUTF8(msg[:500], "")
	}
	return msg
}

// RunUntilIdle sends due notices until none is due, and returns how many
// it handled and the errors of the sends that failed. For tests, tools and
// a "send now" button; a server runs Work.
func (s *Service) RunUntilIdle(ctx context.Context, owner string) (int, []error) {
	var errs []error
	runs := 0
	for ctx.Err() == nil {
		found, err := s.RunOnce(ctx, owner)
		if err != nil {
			errs = append(errs, err)
			if !found {
				break
			}
		}
		if !found {
			break
		}
		runs++
	}
	return runs, errs
}

// Work sends notices until ctx ends, sleeping idle (default 1 s) between
// polls that found nothing.
func (s *Service) Work(ctx context.Context, owner string, idle time.Duration) error {
	if idle <= 0 {
		idle = time.Second
	}
	for {
		found, err := s.RunOnce(ctx, owner)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			s.log.Debug("breach: notice run ended with an error", "err", err)
		}
		if !found {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(idle):
			}
		}
	}
}
