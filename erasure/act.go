package erasure

import (
	"context"
	"errors"
	"fmt"

	"github.com/gdprkit/gdprkit"
)

// Acting on a batch: the rule applied (or, in a dry run, predicted with
// what earlier steps would already have deleted), and the counts
// committed to the checkpoint, checked against what the target says it
// changed.

func (w *walker) anonFor(rule Rule) Anon {
	a := w.anon
	a.Fields = rule.Fields
	return a
}

// referencedByKept reports whether a kind that must act before k
// (TargetInfo.After: its rows reference k's) kept records in this job.
func (w *walker) referencedByKept(k Kind) bool {
	for _, before := range w.s.cfg.Graph.infos[k].After {
		if c := w.st.Counts[before]; c != nil && c.Kept+c.PassKept > 0 {
			return true
		}
	}
	return false
}

// apply acts on the batch (or, dry, predicts what acting would change).
// Records pinned by kept records under them are kept instead.
func (w *walker) apply(ctx context.Context, f *frame) (Change, error) {
	if len(f.Pinned) > 0 {
		pinned := map[string]bool{}
		for _, id := range f.Pinned {
			pinned[id] = true
		}
		act := f.Act[:0:0]
		for _, r := range f.Act {
			if pinned[r.ID] {
				if f.Kept == nil {
					f.Kept = map[string]int64{}
				}
				f.Kept[pinnedGround]++
				w.notePinned(f.Kind, r.ID)
				continue
			}
			act = append(act, r)
		}
		f.Act = act
	}
	rule := w.rule(f.Kind)
	if len(f.Act) > 0 && rule.Action == Delete && w.referencedByKept(f.Kind) {
		// Records of a kind that must act first (they reference these
		// rows: a message the subject wrote, kept in a held ticket) were
		// kept, so deleting these would be refused, or cascade into kept
		// data. Not knowing which rows they reference, keep the batch.
		if f.Kept == nil {
			f.Kept = map[string]int64{}
		}
		for _, r := range f.Act {
			f.Kept[referencedGround]++
			w.notePinned(f.Kind, r.ID)
			f.Pinned = append(f.Pinned, r.ID)
		}
		f.Act = nil
	}
	if len(f.Act) == 0 {
		return Change{}, nil
	}
	t, err := w.target(f.Kind)
	if err != nil {
		return Change{}, err
	}
	if w.dry {
		if rule.Action == Delete {
			defer w.markGone(f.Kind, f.Act)
		}
		ch := Change{Records: int64(len(f.Act))}
		if w.s.cfg.Graph.infos[f.Kind].Caps.Predict {
			a := w.anonFor(rule)
			a.Gone = w.gone
			p, err := t.Predict(ctx, w.account, f.Act, rule.Action, a)
			if err != nil {
				return Change{}, fmt.Errorf("erasure: predict %s: %w", f.Kind, err)
			}
			ch.Rows, ch.Effects = p.Rows, p.Effects
			if p.Records < ch.Records { // a predicting target counts exactly, 0 included
				ch.Records = p.Records
			}
		}
		for _, r := range f.Act {
			ch.Bytes += r.Bytes
		}
		return ch, nil
	}
	var ch Change
	switch rule.Action {
	case Delete:
		ch, err = t.Delete(ctx, w.account, w.key, f.Act)
	case Anonymize:
		ch, err = t.Anonymize(ctx, w.account, f.Act, w.anonFor(rule))
	}
	if err != nil {
		return Change{}, fmt.Errorf("erasure: %s %s: %w", rule.Action, f.Kind, err)
	}
	return ch, nil
}

// ErrDeviation is wrapped when what a target changed differs from what the
// engine asked for: more records than it was given, or a verify step that
// found changes the plan did not predict. A job that meets it ends failed,
// with its counts and the deviation recorded; it is never reported done.
var ErrDeviation = errors.New("erasure: the change differs from the plan")

// commit counts the batch's change. A fresh batch's Change is what the
// target reports; a batch resumed from a checkpoint may have been applied
// before the crash, so its records count as changed and its effects are
// the ones predicted when it was found.
func (w *walker) commit(f *frame, ch Change) error {
	c := w.counter(f.Kind)
	n := int64(len(f.Act))
	var deviation error
	if ch.Records > n {
		msg := fmt.Sprintf("%s: %d records changed for %d asked", f.Kind, ch.Records, n)
		w.st.Deviations = append(w.st.Deviations, msg)
		deviation = fmt.Errorf("%w: %w: %s", ErrDeviation, gdprkit.ErrConflict, msg)
	} else if !f.fresh && !w.dry {
		ch.Records = n
		if f.Pred != nil && len(ch.Effects) == 0 {
			ch.Effects = f.Pred.Effects
		}
	}
	switch w.rule(f.Kind).Action {
	case Delete:
		c.Deleted += ch.Records
		c.Bytes += ch.Bytes
		if ch.Bytes == 0 && !w.dry {
			for _, r := range f.Act {
				c.Bytes += r.Bytes
			}
		}
	case Anonymize:
		c.Anonymized += ch.Records
	}
	c.Rows += ch.rows()
	c.Effects = addEffects(c.Effects, ch.Effects)
	w.st.PassWork += ch.Records
	for g, k := range f.Kept {
		c.PassKept += k
		if c.PassGrounds == nil {
			c.PassGrounds = map[string]int64{}
		}
		c.PassGrounds[g] += k
	}
	if len(f.Parents) == 0 && len(w.s.cfg.Graph.kids[f.Kind]) > 0 && n > 0 && !w.dry {
		if w.st.Remember == nil {
			w.st.Remember = map[Kind][]string{}
		}
		for _, r := range f.Act {
			if len(w.st.Remember[f.Kind]) < maxRemember {
				w.st.Remember[f.Kind] = append(w.st.Remember[f.Kind], r.ID)
			}
		}
	}
	if deviation != nil {
		f.HasBatch, f.Act = false, nil // counted: never apply it again
	}
	return deviation
}

func (w *walker) markGone(k Kind, refs []Ref) {
	space := w.s.cfg.Graph.infos[k].Records
	if space == "" {
		return
	}
	if w.gone == nil {
		w.gone = map[string]map[string]bool{}
	}
	if w.gone[space] == nil {
		w.gone[space] = map[string]bool{}
	}
	for _, r := range refs {
		w.gone[space][r.ID] = true
	}
}

// notGone drops, in a dry run, records an earlier step would have deleted
// (another kind over the same records).
func (w *walker) notGone(k Kind, refs []Ref) []Ref {
	g := w.gone[w.s.cfg.Graph.infos[k].Records]
	if len(g) == 0 {
		return refs
	}
	out := refs[:0:0]
	for _, r := range refs {
		if !g[r.ID] {
			out = append(out, r)
		}
	}
	return out
}
