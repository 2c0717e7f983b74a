package breach

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Criteria say which records a breach reached, for an AffectedFinder.
type Criteria struct {
	// Kinds are the erasure graph's kinds of data affected ("attachment").
	// Default: the breach's Report.Kinds.
	Kinds []string `json:"kinds,omitempty"`
	// From bounds when the records were created or held, from below;
	// zero: unbounded. Default (with Until zero too): the breach's
	// OccurredAt.
	From time.Time `json:"from,omitzero"`
	// Until bounds it from above (inclusive); zero: unbounded. Default
	// (with From zero too): the breach's OccurredUntil.
	Until time.Time `json:"until,omitzero"`
	// Where names the place the host means (a bucket, a server, a table),
	// in the host's own words; "" means anywhere.
	Where string `json:"where,omitempty"`
}

// AffectedFinder finds the subjects whose data a breach reached: "who had
// attachments in this bucket between these dates". The host implements it
// over its own tables (or over its erasure graph's targets). It returns
// subject IDs as the host's Directory knows them; the register keeps only
// their keyed pseudonyms.
type AffectedFinder interface {
	FindAffected(ctx context.Context, account gdprkit.AccountID, c Criteria) ([]gdprkit.SubjectID, error)
}

// FinderFunc adapts a function to AffectedFinder.
type FinderFunc func(ctx context.Context, account gdprkit.AccountID, c Criteria) ([]gdprkit.SubjectID, error)

// FindAffected calls f.
func (f FinderFunc) FindAffected(ctx context.Context, account gdprkit.AccountID, c Criteria) ([]gdprkit.SubjectID, error) {
	return f(ctx, account, c)
}

// FindSubjects asks the Finder for the subjects the breach affected and
// adds their pseudonyms to it; it can be called again with other criteria,
// and a subject found twice counts once. ApproxSubjects is raised to the
// number found when below it. It returns how many new subjects were added.
// Errors: gdprkit.ErrInvalid without a Finder or for an invalid subject ID
// returned by it, gdprkit.ErrNotFound, gdprkit.ErrConflict for a closed
// breach; nothing is stored then.
func (s *Service) FindSubjects(ctx context.Context, account gdprkit.AccountID, id string, c Criteria, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := by.Validate(); err != nil {
		return 0, err
	}
	if s.cfg.Finder == nil {
		return 0, fmt.Errorf("%w: breach: no Config.Finder", gdprkit.ErrInvalid)
	}
	if err := validList("kinds", c.Kinds); err != nil {
		return 0, err
	}
	if err := validText("where", c.Where, MaxItemLen, false); err != nil {
		return 0, err
	}
	b, err := s.store.Breach(ctx, account, id)
	if err != nil {
		return 0, fmt.Errorf("breach: find subjects: %w", err)
	}
	if len(c.Kinds) == 0 {
		c.Kinds = b.Kinds
	}
	if c.From.IsZero() && c.Until.IsZero() {
		c.From, c.Until = b.OccurredAt, b.OccurredUntil
	}
	ids, err := s.cfg.Finder.FindAffected(ctx, account, c)
	if err != nil {
		return 0, fmt.Errorf("breach: find subjects: %w", err)
	}
	ps := make([]gdprkit.Pseudonym, 0, len(ids))
	for _, sid := range ids {
		if err := sid.Validate(); err != nil {
			return 0, fmt.Errorf("breach: the finder returned a bad subject: %w", err)
		}
		ps = append(ps, s.ps.Subject(account, sid))
	}
	slices.Sort(ps)
	ps = slices.Compact(ps)
	var added int
	for attempt := 0; ; attempt++ {
		added, err = s.addSubjects(ctx, account, id, ps, c, by)
		if err == nil || !errors.Is(err, gdprkit.ErrConflict) || attempt == 3 {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("breach: find subjects: %w", err)
	}
	s.emit(ctx, account, EventSubjects, by, map[string]string{"breach": id, "found": strconv.Itoa(len(ps)), "added": strconv.Itoa(added)})
	return added, nil
}

// addSubjects stores the pseudonyms the breach does not have yet. A
// concurrent call that stored some of them first makes the store refuse
// the step with gdprkit.ErrConflict; the caller reads again.
func (s *Service) addSubjects(ctx context.Context, account gdprkit.AccountID, id string, ps []gdprkit.Pseudonym, c Criteria, by gdprkit.ActorID) (int, error) {
	known, err := s.knownSubjects(ctx, account, id)
	if err != nil {
		return 0, err
	}
	now := s.now()
	var added int
	_, err = s.mutate(ctx, account, id, func(cur Breach, found bool) (Write, error) {
		if err := live(cur, found, id); err != nil {
			return Write{}, err
		}
		fresh := ps[:0:0]
		for _, p := range ps {
			if !known[p] {
				fresh = append(fresh, p)
			}
		}
		added = len(fresh)
		b := cur
		b.SubjectsFound += int64(added)
		b.ApproxSubjects = max(b.ApproxSubjects, b.SubjectsFound)
		b.UpdatedAt, b.Version = now, cur.Version+1
		e, err := s.entry(id, EntrySubjects, by, now, entryData{Breach: &b, Search: &c,
			Summary: strconv.Itoa(added) + " new subjects of " + strconv.Itoa(len(ps)) + " found"})
		return Write{Breach: &b, Subjects: fresh, Entries: []Entry{e}}, err
	})
	return added, err
}

func (s *Service) knownSubjects(ctx context.Context, account gdprkit.AccountID, id string) (map[gdprkit.Pseudonym]bool, error) {
	known := map[gdprkit.Pseudonym]bool{}
	var after gdprkit.Pseudonym
	for {
		page, err := s.store.Subjects(ctx, account, id, after, s.cfg.BatchSize)
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			known[p] = true
		}
		if len(page) < s.cfg.BatchSize {
			return known, nil
		}
		after = page[len(page)-1]
	}
}
