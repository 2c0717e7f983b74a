package erasure

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// MaxRestrictedBatch is the most record IDs one RestrictedRecords call
// takes.
const MaxRestrictedBatch = 1000

// restrict carries out a restriction request (Art. 18): it marks the
// subject as a whole first, then every record the graph finds for them,
// kind by kind, in batches. Marks are idempotent, so a run resumed after
// a crash marks again what it had marked and no more.
func (s *Service) restrict(ctx context.Context, account gdprkit.AccountID, req Request, st *rightsState) (RightsResult, error) {
	now := s.now()
	if err := s.store.PutRestrictions(ctx, account, []Restriction{{RequestID: req.ID, SubjectPS: req.SubjectPS, At: now}}); err != nil {
		return RightsResult{}, fmt.Errorf("erasure: restrict the subject: %w", err)
	}
	wk := s.rightsWalker(account, req, st)
	cache := map[Kind][]string{}
	var out RightsResult
	for _, k := range wk.kinds {
		ids, err := wk.list(ctx, k, cache)
		if err != nil {
			return RightsResult{}, err
		}
		space := s.space(k)
		for i := 0; i < len(ids); i += s.cfg.BatchSize {
			part := ids[i:min(i+s.cfg.BatchSize, len(ids))]
			marks := make([]Restriction, 0, len(part))
			seen := make(map[gdprkit.Pseudonym]bool, len(part))
			for _, id := range part {
				ps := s.RecordPseudonym(account, k, id)
				if !seen[ps] {
					seen[ps] = true
					marks = append(marks, Restriction{RequestID: req.ID, SubjectPS: req.SubjectPS, Kind: space, RecordPS: ps, At: now})
				}
			}
			if err := s.store.PutRestrictions(ctx, account, marks); err != nil {
				return RightsResult{}, fmt.Errorf("erasure: restrict %s: %w", k, err)
			}
		}
		if len(ids) > 0 {
			out.Restricted = append(out.Restricted, KindCount{Kind: k, Records: int64(len(ids))})
		}
	}
	return out, nil
}

// Restricted reports whether the record id of kind is under a restriction
// in force (Art. 18): a host asks before it uses a record for anything
// but storing it. A kind the graph does not have, or an ID that is empty
// or longer than 256 bytes, is an error wrapping gdprkit.ErrInvalid.
// Records created after the restriction was carried out are not marked:
// ask SubjectRestricted when the person is known.
func (s *Service) Restricted(ctx context.Context, account gdprkit.AccountID, kind Kind, id string) (bool, error) {
	got, err := s.RestrictedRecords(ctx, account, kind, []string{id})
	return got[id], err
}

// RestrictedRecords is Restricted for up to MaxRestrictedBatch records of
// one kind in one query: the result holds the IDs that are restricted,
// mapped to true.
func (s *Service) RestrictedRecords(ctx context.Context, account gdprkit.AccountID, kind Kind, ids []string) (map[string]bool, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	if _, ok := s.cfg.Graph.infos[kind]; !ok {
		return nil, fmt.Errorf("%w: unknown kind %q", gdprkit.ErrInvalid, truncate(string(kind), 80))
	}
	if len(ids) > MaxRestrictedBatch {
		return nil, fmt.Errorf("%w: ask about at most %d records at once, not %d", gdprkit.ErrInvalid, MaxRestrictedBatch, len(ids))
	}
	byPS := make(map[gdprkit.Pseudonym]string, len(ids))
	pss := make([]gdprkit.Pseudonym, 0, len(ids))
	for _, id := range ids {
		if id == "" || len(id) > 256 {
			return nil, fmt.Errorf("%w: a record ID is 1-256 bytes", gdprkit.ErrInvalid)
		}
		ps := s.RecordPseudonym(account, kind, id)
		if _, dup := byPS[ps]; !dup {
			byPS[ps] = id
			pss = append(pss, ps)
		}
	}
	out := map[string]bool{}
	if len(pss) == 0 {
		return out, nil
	}
	got, err := s.store.RestrictedRecords(ctx, account, pss)
	if err != nil {
		return nil, fmt.Errorf("erasure: restricted records: %w", err)
	}
	for _, ps := range got {
		if id, ok := byPS[ps]; ok {
			out[id] = true
		}
	}
	return out, nil
}

// SubjectRestricted reports whether a restriction of subject is in force:
// the answer for data of theirs created after the restriction was carried
// out (a new message), which no record mark covers.
func (s *Service) SubjectRestricted(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID) (bool, error) {
	rs, err := s.Restrictions(ctx, account, subject)
	if err != nil {
		return false, err
	}
	for _, r := range rs {
		if r.Active() {
			return true, nil
		}
	}
	return false, nil
}

// Restrictions lists the restrictions of subject, lifted ones included,
// oldest first: one subject-level mark per restriction request carried
// out.
func (s *Service) Restrictions(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID) ([]Restriction, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	if err := subject.Validate(); err != nil {
		return nil, err
	}
	rs, err := s.store.SubjectRestrictions(ctx, account, s.cfg.Pseudonymizer.Subject(account, subject))
	if err != nil {
		return nil, fmt.Errorf("erasure: restrictions: %w", err)
	}
	return rs, nil
}

// LiftRestriction lifts the restriction a completed restriction request
// placed, on the subject and on every record it marked, and records who
// lifted it, when and why (Art. 18(3): the subject is told before the
// restriction is lifted; the reason says so). The marks stay, lifted, as
// the record of it; an audit event (erasure.restriction_lifted) says so
// too. It returns how many marks it lifted. An unknown request is an
// error wrapping gdprkit.ErrNotFound; a request that is not a completed
// restriction, or one already lifted, gdprkit.ErrConflict (an open one is
// rejected instead); an empty reason or one over 1000 bytes
// gdprkit.ErrInvalid.
func (s *Service) LiftRestriction(ctx context.Context, account gdprkit.AccountID, requestID string, by gdprkit.ActorID, reason string) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := by.Validate(); err != nil {
		return 0, err
	}
	if strings.TrimSpace(reason) == "" || len(reason) > 1000 {
		return 0, fmt.Errorf("%w: lifting a restriction needs a reason of at most 1000 bytes", gdprkit.ErrInvalid)
	}
	req, err := s.store.Request(ctx, account, requestID)
	if err != nil {
		return 0, err
	}
	if req.Type != TypeRestriction || req.Status != StatusCompleted {
		return 0, fmt.Errorf("%w: request %s is not a completed restriction (%s, %s)", gdprkit.ErrConflict, requestID, req.Type, req.Status)
	}
	n, err := s.store.LiftRestrictions(ctx, account, requestID, Lift{At: s.now(), By: by, Reason: reason})
	if err != nil {
		return 0, fmt.Errorf("erasure: lift restriction: %w", err)
	}
	s.emit(ctx, account, "erasure.restriction_lifted", by, req.SubjectPS, map[string]string{"request": requestID, "marks": strconv.Itoa(n)})
	return n, nil
}
