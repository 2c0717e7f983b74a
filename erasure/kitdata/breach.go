package kitdata

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/erasure"
)

// Holders is what AffectedFinder needs; *erasure.Service has it.
type Holders interface {
	// Holders returns the subjects whose records of kind were created
	// between from and until (inclusive; zero bounds are open).
	Holders(ctx context.Context, account gdprkit.AccountID, kind erasure.Kind, from, until time.Time) ([]gdprkit.SubjectID, error)
}

// AffectedFinder answers a breach register's "whose data of these kinds,
// in this place, between these dates" (breach.AffectedFinder) through
// the erasure graph: for each kind of the criteria, h.Holders finds the
// records created in the period and climbs to the subjects they belong
// to. The kinds must be able to Locate (erasure.Caps.Locate: sqltarget
// specs with a TimeColumn, memhelpdesk's tickets, messages and
// attachments).
//
// places maps the names a host gives the places it keeps data in
// (breach.Criteria.Where: a bucket, a database, a server) to the kinds
// stored there. A criteria's Where narrows its kinds to the place's (or,
// without kinds, names them); a Where that places does not name, or that
// holds none of the criteria's kinds, is refused with an error wrapping
// gdprkit.ErrInvalid rather than answered for the wrong place. With no
// Where, every kind of the criteria is searched. The answer is sorted
// and holds each subject once.
//
// It lives here, not in package breach, so that breach and erasure, two
// domain packages, never import each other: they meet only in this
// package, as consent, authn and spam do.
func AffectedFinder(h Holders, places map[string][]erasure.Kind) breach.AffectedFinder {
	cp := make(map[string][]erasure.Kind, len(places))
	for p, ks := range places {
		cp[p] = append([]erasure.Kind(nil), ks...)
	}
	return affectedFinder{h: h, places: cp}
}

type affectedFinder struct {
	h      Holders
	places map[string][]erasure.Kind
}

func (f affectedFinder) FindAffected(ctx context.Context, account gdprkit.AccountID, c breach.Criteria) ([]gdprkit.SubjectID, error) {
	kinds := make([]erasure.Kind, len(c.Kinds))
	for i, k := range c.Kinds {
		kinds[i] = erasure.Kind(k)
	}
	if c.Where != "" {
		there, ok := f.places[c.Where]
		if !ok {
			return nil, fmt.Errorf("%w: no place %q is bound to the erasure graph's kinds", gdprkit.ErrInvalid, c.Where)
		}
		if len(kinds) == 0 {
			kinds = there
		} else {
			var both []erasure.Kind
			for _, k := range kinds {
				for _, t := range there {
					if k == t {
						both = append(both, k)
						break
					}
				}
			}
			if len(both) == 0 {
				return nil, fmt.Errorf("%w: none of the kinds %v is kept in %q", gdprkit.ErrInvalid, c.Kinds, c.Where)
			}
			kinds = both
		}
	}
	if len(kinds) == 0 {
		return nil, fmt.Errorf("%w: name the kinds of data the breach reached", gdprkit.ErrInvalid)
	}
	seen := map[gdprkit.SubjectID]bool{}
	for _, k := range kinds {
		ids, err := f.h.Holders(ctx, account, k, c.From, c.Until)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			seen[id] = true
		}
	}
	out := make([]gdprkit.SubjectID, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
