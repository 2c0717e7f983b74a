package erasure

import (
	"context"
	"errors"
	"fmt"

	"github.com/gdprkit/gdprkit"
)

// Preview is a quick dry run for a screen that shows, before anyone
// confirms, what an erasure of subject would reach: per kind, the count of
// the subject's records, taken with one aggregate query per kind
// (Caps.Count) rather than by walking the records batch by batch as Plan
// does, so a subject with tens of thousands of tickets previews in well
// under a second. The result has Plan's shape with Estimate set.
//
// It is Plan's figure whenever the graph allows counting, with three
// differences: files are counted by their index entries, not by the files
// present (Bytes is not known); what the database would cascade by itself
// (PlannedTarget.Cascaded, Rows) is not shown; and a record another kind
// reaches first is left out only when that kind deletes it. When a kind in
// scope cannot count, when legal holds are active, or for the portal scope,
// Preview is Plan (exact, walked) and Estimate is false. A job measures
// its progress against these counts where it can, but its receipt counts
// what it changed and its verify pass searches for what is left, so the
// receipt and verification keep their exact guarantees.
func (s *Service) Preview(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, scope Scope, rules map[Kind]Rule) (Plan, error) {
	if scope == "" {
		scope = ScopeFull
	}
	if err := account.Validate(); err != nil {
		return Plan{}, err
	}
	if err := subject.Validate(); err != nil {
		return Plan{}, err
	}
	if scope != ScopeFull {
		return s.Plan(ctx, account, subject, scope, rules)
	}
	merged, err := s.rules(rules)
	if err != nil {
		return Plan{}, err
	}
	holds, err := s.ActiveHolds(ctx, account)
	if err != nil {
		return Plan{}, err
	}
	if len(holds) > 0 {
		return s.Plan(ctx, account, subject, scope, rules)
	}
	if err := s.check(ctx, "preview-"+gdprkit.NewID(), merged); err != nil {
		return Plan{}, err
	}
	sub, _, err := s.lookup(ctx, account, subject)
	if err != nil {
		return Plan{}, err
	}
	st := &jobState{Rules: merged, Scope: scope, Class: sub.Class, Key: sub.Key, Keys: sub.Keys}
	w := s.newWalker(account, subject, st, nil)
	counts, err := s.count(ctx, w, sub.Keys)
	if errors.Is(err, ErrUnsupported) {
		return s.Plan(ctx, account, subject, scope, rules)
	}
	if err != nil {
		return Plan{}, err
	}
	p := Plan{SubjectPS: w.ps, Scope: scope, Estimate: true}
	for _, k := range w.kinds {
		n := counts[k]
		rule := w.rule(k)
		r := TargetResult{Kind: k, Action: rule.Action}
		switch rule.Action {
		case Delete:
			r.Deleted = n
		case Anonymize:
			r.Anonymized = n
		default:
			r.Kept = n
			if rule.Ground != "" {
				r.Grounds = []string{rule.Ground}
			}
		}
		why := "default rule of the target"
		if _, ok := rules[k]; ok {
			why = "rule of this request"
		} else if _, ok := s.cfg.Rules[k]; ok {
			why = "account policy"
		}
		why += ": " + string(rule.Action)
		if rule.Ground != "" {
			why += " (" + rule.Ground + ")"
		}
		p.Targets = append(p.Targets, PlannedTarget{TargetResult: r, Why: why + "; counted, not walked"})
	}
	return p, nil
}

// count counts, with one aggregate query per kind (Caps.Count), the
// records of each of the walker's kinds that its subject's erasure would
// reach; a record another kind reaches first is left out when that kind
// deletes it. It returns ErrUnsupported when a kind cannot count.
func (s *Service) count(ctx context.Context, w *walker, keys map[string]gdprkit.SubjectID) (map[Kind]int64, error) {
	g := s.cfg.Graph
	for _, k := range w.kinds {
		if !g.infos[k].Caps.Count {
			return nil, ErrUnsupported
		}
	}
	out := map[Kind]int64{}
	q := Query{Subject: w.key, Keys: keys}
	for i, k := range w.kinds {
		var without []Kind
		if rec := g.infos[k].Records; rec != "" {
			for _, e := range w.kinds[:i] {
				if g.infos[e].Records == rec && w.rule(e).Action == Delete {
					without = append(without, e)
				}
			}
		}
		n, err := g.byKind[k].Count(ctx, w.account, q, without)
		if errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("erasure: count %s: %w", k, err)
		}
		out[k] = n
	}
	return out, nil
}
