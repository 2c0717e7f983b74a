package erasure

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/gdprkit/gdprkit"
)

// LocateQuery asks a target for a page of the account's records by when
// they were created (Target.Locate, Caps.Locate).
type LocateQuery struct {
	// From and Until bound the records' creation time, both inclusive;
	// a zero bound is open.
	From, Until time.Time
	// After is the previous page's last Ref.Next() ("" for the first): the
	// target returns records strictly after it in its own stable order.
	After string
	// Limit is the largest number of refs to return (≥ 1).
	Limit int
}

// Validate reports whether q is usable: Limit at least 1, and Until not
// before From when both are set.
func (q LocateQuery) Validate() error {
	if q.Limit < 1 {
		return fmt.Errorf("%w: a locate query needs a limit of at least 1", gdprkit.ErrInvalid)
	}
	if !q.From.IsZero() && !q.Until.IsZero() && q.Until.Before(q.From) {
		return fmt.Errorf("%w: the period ends before it begins", gdprkit.ErrInvalid)
	}
	return nil
}

// Contains reports whether t lies within the query's period.
func (q LocateQuery) Contains(t time.Time) bool {
	return (q.From.IsZero() || !t.Before(q.From)) && (q.Until.IsZero() || !t.After(q.Until))
}

// Locate returns ErrUnsupported.
func (Base) Locate(context.Context, gdprkit.AccountID, LocateQuery) ([]Ref, error) {
	return nil, ErrUnsupported
}

// Holders returns the subjects whose records of kind were created between
// from and until (inclusive; a zero bound is open): "who had attachments
// stored between these dates", the affected people of a breach. It
// finds the records with the kind's Locate, climbs the graph's parent
// edges (ParentsOf) to the root record above each one — an attachment
// belongs to its message's ticket's requester — and maps the root records
// to subjects: a root record's ID is the subject's key (as the built-in
// end-user targets have it, and as legal holds match them); the Directory
// maps a key to the subject's ID when the two differ (Subject.Key), and
// a key the Directory does not know is taken as the ID of a person it
// does not list (an anonymous visitor), as Submit does. Records that hang
// under no root record (a ticket mailed in without a requester) belong
// to nobody and are left out. The result is sorted and holds each
// subject once.
//
// A root kind that shares its records with a child kind (authored_message
// with message: TargetInfo.Records) is climbed from that child. It
// returns an error wrapping gdprkit.ErrInvalid for an unknown kind, a
// kind without Caps.Locate, or a kind above which a target cannot tell
// its parents (no Caps.Parents), and the targets' and Directory's errors
// as they are.
func (s *Service) Holders(ctx context.Context, account gdprkit.AccountID, kind Kind, from, until time.Time) ([]gdprkit.SubjectID, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	g := s.cfg.Graph
	info, ok := g.infos[kind]
	if !ok {
		return nil, fmt.Errorf("%w: unknown kind %q", gdprkit.ErrInvalid, truncate(string(kind), 80))
	}
	if !info.Caps.Locate {
		return nil, fmt.Errorf("%w: erasure: %s cannot locate its records by time (Caps.Locate)", gdprkit.ErrInvalid, kind)
	}
	start := kind
	if info.Parent == "" && info.Records != "" {
		if p := g.placed(kind); p != "" {
			start = p
		}
	}
	for k := start; g.infos[k].Parent != ""; k = g.infos[k].Parent {
		if !g.infos[k].Caps.Parents {
			return nil, fmt.Errorf("%w: erasure: %s cannot tell the parents of its records (Caps.Parents), so %s cannot be traced to a subject",
				gdprkit.ErrInvalid, k, kind)
		}
	}
	q := LocateQuery{From: from, Until: until, Limit: s.cfg.BatchSize}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	roots := map[string]bool{}
	var orphans int
	for {
		refs, err := g.byKind[kind].Locate(ctx, account, q)
		if err != nil {
			return nil, fmt.Errorf("erasure: locate %s: %w", kind, err)
		}
		ids := make([]string, len(refs))
		for i, r := range refs {
			ids[i] = r.ID
		}
		top, lost, err := s.climb(ctx, account, start, ids)
		if err != nil {
			return nil, err
		}
		orphans += lost
		for _, r := range top {
			roots[r] = true
		}
		if len(refs) < q.Limit {
			break
		}
		q.After = refs[len(refs)-1].Next()
	}
	out, err := s.subjectsOf(ctx, account, g.rootOf(start), roots)
	if err != nil {
		return nil, err
	}
	s.log.Debug("erasure: holders located", "kind", string(kind), "subjects", len(out), "unattributed", orphans)
	return out, nil
}

// climb returns the root records above ids (records of kind k), each
// once, and how many of ids hang under no root record.
func (s *Service) climb(ctx context.Context, account gdprkit.AccountID, k Kind, ids []string) ([]string, int, error) {
	g := s.cfg.Graph
	at := map[string]bool{}
	for _, id := range ids {
		at[id] = true
	}
	lost := 0
	for cur := k; g.infos[cur].Parent != ""; cur = g.infos[cur].Parent {
		if len(at) == 0 {
			break
		}
		keys := make([]string, 0, len(at))
		for id := range at {
			keys = append(keys, id)
		}
		sort.Strings(keys)
		pm, err := g.byKind[cur].ParentsOf(ctx, account, keys)
		if err != nil {
			return nil, 0, fmt.Errorf("erasure: parents of %s: %w", cur, err)
		}
		next := map[string]bool{}
		for _, id := range keys {
			p, ok := pm[id]
			if !ok || p == "" {
				lost++
				continue
			}
			next[p] = true
		}
		at = next
	}
	out := make([]string, 0, len(at))
	for id := range at {
		out = append(out, id)
	}
	return out, lost, nil
}

// subjectsOf maps root records of kind root to subject IDs: a record's ID
// is a subject's key; the Directory says whose.
func (s *Service) subjectsOf(ctx context.Context, account gdprkit.AccountID, root Kind, roots map[string]bool) ([]gdprkit.SubjectID, error) {
	info := s.cfg.Graph.infos[root]
	found := map[gdprkit.SubjectID]bool{}
	unknown := map[string]bool{} // keys the Directory does not list as IDs
	var pending []string
	for id := range roots {
		sub, err := s.cfg.Directory.Lookup(ctx, account, gdprkit.SubjectID(id))
		switch {
		case errors.Is(err, gdprkit.ErrNotFound):
			unknown[id] = true
			pending = append(pending, id)
		case err != nil:
			return nil, fmt.Errorf("erasure: look up a subject: %w", err)
		case (sub.Key == "" || string(sub.Key) == id) && info.forClass(sub.Class):
			found[gdprkit.SubjectID(id)] = true
		default:
			pending = append(pending, id) // an ID that is someone else's key space
		}
	}
	if len(pending) > 0 {
		byKey, err := s.keyIndex(ctx, account, info)
		if err != nil {
			return nil, err
		}
		for _, id := range pending {
			switch owner, ok := byKey[id]; {
			case ok:
				found[owner] = true
			case unknown[id]:
				found[gdprkit.SubjectID(id)] = true // a person the Directory does not list
			}
		}
	}
	out := make([]gdprkit.SubjectID, 0, len(found))
	for id := range found {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// keyIndex maps the keys root targets of info find subjects by to the
// subjects' IDs, for every subject of a class info serves: one pass over
// the Directory.
func (s *Service) keyIndex(ctx context.Context, account gdprkit.AccountID, info TargetInfo) (map[string]gdprkit.SubjectID, error) {
	out := map[string]gdprkit.SubjectID{}
	cursor := ""
	for {
		ids, next, err := s.cfg.Directory.Subjects(ctx, account, cursor, 500)
		if err != nil {
			return nil, fmt.Errorf("erasure: list subjects: %w", err)
		}
		for _, id := range ids {
			sub, _, err := s.lookup(ctx, account, id)
			if err != nil {
				return nil, err
			}
			if info.forClass(sub.Class) {
				out[string(sub.Key)] = id
			}
		}
		if next == "" || len(ids) == 0 {
			return out, nil
		}
		cursor = next
	}
}
