package erasure

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/gdprkit/gdprkit"
)

// Legal holds in the walk: which records a hold covers (on the record, on
// a record above it, or on the whole subject), and pinning — a record is
// kept while records under it are kept, so no database cascade can take a
// kept record with its parent, and a later erasure still finds it.

// subjectHold returns the active hold on the whole subject, if any.
func (w *walker) subjectHold() (Hold, bool) {
	for _, h := range w.holds {
		if h.SubjectPS != "" && h.SubjectPS == w.ps {
			return h, true
		}
	}
	return Hold{}, false
}

func (w *walker) recordHold(k Kind, id string) (Hold, bool) {
	return recordHold(w.s.cfg.Graph, w.holds, k, id)
}

// heldAbove returns, for those of ids (records of kind k) that have one,
// an active hold on an ancestor: a record hold on a record above them, or
// a subject hold on the subject whose root record they are under. It
// climbs through the targets' ParentsOf (from k, or for a root kind like
// authored_message from the child kind sharing its Records) and stops
// where a target cannot say (no Caps.Parents). Root record IDs are taken
// as subject IDs, as the built-in end-user targets have them.
//
// blind lists those of ids whose climb stopped at a target without
// Caps.Parents, so whether a hold covers them is unknown.
func (s *Service) heldAbove(ctx context.Context, account gdprkit.AccountID, holds []Hold, k Kind, ids []string) (out map[string]Hold, blind []string, err error) {
	out = map[string]Hold{}
	g := s.cfg.Graph
	cur := g.placed(k)
	if len(holds) == 0 || len(ids) == 0 || cur == "" {
		return out, nil, nil
	}
	at := make(map[string]string, len(ids)) // record asked about -> its ancestor of kind cur
	for _, id := range ids {
		at[id] = id
	}
	for len(at) > 0 {
		parent := g.infos[cur].Parent
		if parent == "" {
			for id, root := range at {
				ps := s.cfg.Pseudonymizer.Subject(account, gdprkit.SubjectID(root))
				for _, h := range holds {
					if h.SubjectPS != "" && h.SubjectPS == ps {
						out[id] = h
						break
					}
				}
			}
			return out, nil, nil
		}
		if !g.infos[cur].Caps.Parents {
			for id := range at {
				blind = append(blind, id)
			}
			sort.Strings(blind)
			return out, blind, nil
		}
		var keys []string
		seen := map[string]bool{}
		for _, a := range at {
			if !seen[a] {
				seen[a] = true
				keys = append(keys, a)
			}
		}
		sort.Strings(keys)
		pm, err := g.byKind[cur].ParentsOf(ctx, account, keys)
		if errors.Is(err, ErrUnsupported) {
			for id := range at {
				blind = append(blind, id)
			}
			sort.Strings(blind)
			return out, blind, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("erasure: parents of %s: %w", cur, err)
		}
		next := make(map[string]string, len(at))
		for id, a := range at {
			p, ok := pm[a]
			if !ok {
				continue
			}
			if h, ok := recordHold(g, holds, parent, p); ok {
				out[id] = h
				continue
			}
			next[id] = p
		}
		at, cur = next, parent
	}
	return out, nil, nil
}

func (w *walker) noteHold(h Hold) {
	for _, x := range w.st.Holds {
		if x.ID == h.ID {
			return
		}
	}
	w.st.Holds = append(w.st.Holds, HoldApplied{ID: h.ID, Ground: h.Ground})
}

const (
	parentHeldGround = "legal hold on a parent record (Art. 17(3))"
	pinnedGround     = "kept because records under it are kept"
	referencedGround = "kept because kept records reference it"
)

func holdGround(h Hold) string { return "legal hold " + h.ID + ": " + h.Ground }

// pin passes up to the parent frame the parents of the records this batch
// kept (held, pinned, or kept by rule), so they are kept too: a record is
// never deleted or anonymised while records under it are kept, so no
// database cascade can take a kept record with its parent, and a later
// erasure (after a hold ends) still finds the kept records under it.
func (w *walker) pin(ctx context.Context, f *frame) {
	if len(w.st.Stack) < 2 || len(f.Parents) == 0 || f.NoAct {
		return
	}
	parent := &w.st.Stack[len(w.st.Stack)-2]
	if parent.Held || parent.NoAct || parent.Remembered {
		return
	}
	kept := append(append([]string(nil), f.HeldIDs...), f.Pinned...)
	if w.rule(f.Kind).Action == Keep {
		kept = append(kept, f.Free...)
	}
	if len(kept) == 0 {
		return
	}
	up := f.Parents // not knowing which parent holds what, keep them all
	if len(f.Parents) > 1 && w.s.cfg.Graph.infos[f.Kind].Caps.Parents {
		if pm, err := w.s.cfg.Graph.byKind[f.Kind].ParentsOf(ctx, w.account, kept); err == nil && len(pm) == len(kept) {
			up = up[:0:0]
			for _, p := range pm {
				up = append(up, p)
			}
		}
	}
	set := map[string]bool{}
	for _, id := range parent.Pinned {
		set[id] = true
	}
	for _, id := range up {
		if !set[id] {
			set[id] = true
			parent.Pinned = append(parent.Pinned, id)
		}
	}
	sort.Strings(parent.Pinned)
}

// notePinned remembers a record kept for the records under it.
func (w *walker) notePinned(k Kind, id string) {
	if w.dry {
		return
	}
	if w.st.Pinned == nil {
		w.st.Pinned = map[Kind][]string{}
	}
	for _, x := range w.st.Pinned[k] {
		if x == id {
			return
		}
	}
	if len(w.st.Pinned[k]) < maxRemember {
		w.st.Pinned[k] = append(w.st.Pinned[k], id)
	}
}

// recordHold returns the hold among holds placed on record id of kind k,
// under k itself or under any kind with the same Records (a hold on a
// ticket covers it when it is reached as an assigned ticket).
func recordHold(g *Graph, holds []Hold, k Kind, id string) (Hold, bool) {
	rec := g.infos[k].Records
	for _, h := range holds {
		if h.Kind == "" || h.RecordID != id {
			continue
		}
		if h.Kind == k || (rec != "" && g.infos[h.Kind].Records == rec) {
			return h, true
		}
	}
	return Hold{}, false
}
