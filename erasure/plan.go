package erasure

import (
	"context"
	"fmt"

	"github.com/gdprkit/gdprkit"
)

// Plan counts, without changing anything, what an erasure of subject
// would delete, anonymise and keep, and why, in the order it would happen.
// rules override the defaults as in Submission.Rules. A binding that no
// longer matches its database (Caps.Check) is an error here too.
func (s *Service) Plan(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, scope Scope, rules map[Kind]Rule) (Plan, error) {
	if err := account.Validate(); err != nil {
		return Plan{}, err
	}
	if err := subject.Validate(); err != nil {
		return Plan{}, err
	}
	if scope == "" {
		scope = ScopeFull
	}
	if scope != ScopeFull && scope != ScopePortal {
		return Plan{}, fmt.Errorf("%w: unknown scope %q", gdprkit.ErrInvalid, scope)
	}
	merged, err := s.rules(rules)
	if err != nil {
		return Plan{}, err
	}
	if err := s.check(ctx, "plan-"+gdprkit.NewID(), merged); err != nil {
		return Plan{}, err
	}
	sub, _, err := s.lookup(ctx, account, subject)
	if err != nil {
		return Plan{}, err
	}
	holds, err := s.ActiveHolds(ctx, account)
	if err != nil {
		return Plan{}, err
	}
	st := &jobState{Rules: merged, Scope: scope, Class: sub.Class, Key: sub.Key, Keys: sub.Keys}
	w := s.newWalker(account, subject, st, holds)
	w.dry = true
	if err := w.run(ctx); err != nil {
		return Plan{}, err
	}
	p := Plan{SubjectPS: w.ps, Scope: scope, Holds: st.Holds}
	for _, r := range w.results() {
		rule := merged[r.Kind]
		why := "default rule of the target"
		if _, ok := rules[r.Kind]; ok {
			why = "rule of this request"
		} else if _, ok := s.cfg.Rules[r.Kind]; ok {
			why = "account policy"
		}
		why += ": " + string(rule.Action)
		if rule.Ground != "" {
			why += " (" + rule.Ground + ")"
		}
		if r.Kept > 0 && rule.Action != Keep {
			why += "; some records kept (legal hold, or records under them kept)"
		}
		p.Targets = append(p.Targets, PlannedTarget{TargetResult: r, Why: why})
	}
	return p, nil
}
