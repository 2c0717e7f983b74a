package erasure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

// HoldSpec describes a new legal hold: either Subject, or Kind and
// RecordID (a ticket).
type HoldSpec struct {
	Subject   gdprkit.SubjectID
	Kind      Kind
	RecordID  string
	Ground    string
	Reason    string
	By        gdprkit.ActorID
	ExpiresAt time.Time
}

// PlaceHold stores a legal hold. Held records are kept by every erasure
// until the hold expires or is released.
func (s *Service) PlaceHold(ctx context.Context, account gdprkit.AccountID, h HoldSpec) (Hold, error) {
	if err := account.Validate(); err != nil {
		return Hold{}, err
	}
	if err := h.By.Validate(); err != nil {
		return Hold{}, err
	}
	if strings.TrimSpace(h.Ground) == "" || len(h.Ground) > 500 || len(h.Reason) > 2000 {
		return Hold{}, fmt.Errorf("%w: a hold needs a ground (≤ 500 bytes) and a reason of at most 2000 bytes", gdprkit.ErrInvalid)
	}
	out := Hold{ID: gdprkit.NewID(), Ground: h.Ground, Reason: h.Reason, CreatedBy: h.By, CreatedAt: s.now(), ExpiresAt: h.ExpiresAt.UTC().Truncate(time.Microsecond)}
	switch {
	case h.Subject != "" && h.Kind == "" && h.RecordID == "":
		if err := h.Subject.Validate(); err != nil {
			return Hold{}, err
		}
		out.SubjectPS = s.cfg.Pseudonymizer.Subject(account, h.Subject)
	case h.Subject == "" && h.Kind != "" && h.RecordID != "" && len(h.RecordID) <= 256:
		if _, ok := s.cfg.Graph.infos[h.Kind]; !ok {
			return Hold{}, fmt.Errorf("%w: hold on unknown kind %q", gdprkit.ErrInvalid, h.Kind)
		}
		out.Kind, out.RecordID = h.Kind, h.RecordID
	default:
		return Hold{}, fmt.Errorf("%w: a hold is on a subject or on one record (kind and ID)", gdprkit.ErrInvalid)
	}
	if !out.ExpiresAt.IsZero() && !out.ExpiresAt.After(out.CreatedAt) {
		return Hold{}, fmt.Errorf("%w: hold expires in the past", gdprkit.ErrInvalid)
	}
	if err := s.store.PutHold(ctx, account, out); err != nil {
		return Hold{}, fmt.Errorf("erasure: place hold: %w", err)
	}
	s.emit(ctx, account, "erasure.hold_placed", h.By, out.SubjectPS, map[string]string{"hold": out.ID, "kind": string(out.Kind)})
	return out, nil
}

// ReleaseHold ends a hold, and makes due at once the follow-up erasures
// that were waiting for it: what the hold kept is erased now, with a
// receipt of its own.
func (s *Service) ReleaseHold(ctx context.Context, account gdprkit.AccountID, id string, by gdprkit.ActorID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	if err := s.store.ReleaseHold(ctx, account, id, s.now()); err != nil {
		return fmt.Errorf("erasure: release hold: %w", err)
	}
	s.emit(ctx, account, "erasure.hold_released", by, "", map[string]string{"hold": id})
	return s.wakeFollowUps(ctx, account, id)
}

// wakeFollowUps makes the follow-ups waiting for hold due now: the erasure
// a hold kept back finishes once it is released.
func (s *Service) wakeFollowUps(ctx context.Context, account gdprkit.AccountID, hold string) error {
	rs, err := s.store.Requests(ctx, account, RequestFilter{OpenOnly: true})
	if err != nil {
		return fmt.Errorf("erasure: find follow-ups: %w", err)
	}
	for _, r := range rs {
		if r.RequestedBy != "system:hold" || r.JobID == "" {
			continue
		}
		j, err := s.store.Job(ctx, account, r.JobID)
		if err != nil {
			return err
		}
		var st jobState
		if j.Status != JobQueued || json.Unmarshal(j.State, &st) != nil {
			continue
		}
		for _, id := range st.WaitHolds {
			if id == hold {
				if err := s.store.WakeJob(ctx, account, j.ID, s.now()); err != nil && !errors.Is(err, gdprkit.ErrConflict) {
					return fmt.Errorf("erasure: wake a follow-up: %w", err)
				}
				break
			}
		}
	}
	return nil
}

// ActiveHolds returns the holds in force now.
func (s *Service) ActiveHolds(ctx context.Context, account gdprkit.AccountID) ([]Hold, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	hs, err := s.store.Holds(ctx, account)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := hs[:0]
	for _, h := range hs {
		if h.Active(now) {
			out = append(out, h)
		}
	}
	return out, nil
}
