package erasure

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// ErrHeld is wrapped when a record under legal hold is asked to be
// deleted permanently, and by EraseAccount while held records remain.
var ErrHeld = errors.New("erasure: record under legal hold")

// AccountResult says what EraseAccount did.
type AccountResult struct {
	// Subjects is how many people the per-subject cascade walked.
	Subjects int `json:"subjects"`
	// Leftovers counts, by kind, records that belonged to nobody in
	// particular and were removed by the account-wide pass.
	Leftovers map[Kind]int64 `json:"leftovers,omitempty"`
	// Held counts, by kind, records kept because a legal hold covers them.
	Held map[Kind]int64 `json:"held,omitempty"`
	// Physical lists the post-erasure physical steps that ran
	// (Config.Physical, physical.go).
	Physical []PhysicalResult `json:"physical,omitempty"`
}

// accountRules are the rules of an account deletion: the targets'
// defaults, Keep replaced by Delete (or Anonymize where the target cannot
// delete).
func (s *Service) accountRules() map[Kind]Rule {
	rules := map[Kind]Rule{}
	for k, info := range s.cfg.Graph.infos {
		rules[k] = info.Default
		if info.Default.Action == Keep {
			if info.can(Delete) {
				rules[k] = Rule{Action: Delete}
			} else {
				rules[k] = Rule{Action: Anonymize}
			}
		}
	}
	return rules
}

// EraseAccount removes every subject's live data in the account — the
// host's records and gdprkit's own alike, through the one graph — for
// package retention when a terminated account's data must go.
//
// For each user the directory lists (the owner included: the account no
// longer lives) it runs the cascade synchronously with the targets'
// default rules, Keep replaced by Delete (or Anonymize where the target
// cannot delete). Then an account-wide pass removes what belongs to nobody
// in particular (a mailed-in ticket with no user, the spam model):
// without legal holds it calls EraseAccount on every target that has
// Caps.EraseAccount, in the order kinds act (children first); while holds
// are active, kinds a hold may cover are swept one record at a time (Find
// with Query.All) and only what no hold covers is deleted, and the other
// kinds are erased whole. Last it scrubs identifiers from the account's
// requests and deletes its restriction marks (receipts and tombstones stay).
//
// When held records remain it returns the result with an error wrapping
// ErrHeld: the account's data is not all gone, and the caller (retention)
// must call again once the holds end. It is idempotent.
func (s *Service) EraseAccount(ctx context.Context, account gdprkit.AccountID) (AccountResult, error) {
	var res AccountResult
	if err := account.Validate(); err != nil {
		return res, err
	}
	rules := s.accountRules()
	if err := s.check(ctx, "account-"+gdprkit.NewID(), rules); err != nil {
		return res, err
	}
	holds, err := s.ActiveHolds(ctx, account)
	if err != nil {
		return res, err
	}
	cursor := ""
	for {
		ids, next, err := s.cfg.Directory.Subjects(ctx, account, cursor, 500)
		if err != nil {
			return res, fmt.Errorf("erasure: list subjects: %w", err)
		}
		for _, id := range ids {
			sub, _, err := s.lookup(ctx, account, id)
			if err != nil {
				return res, err
			}
			st := &jobState{Rules: rules, Scope: ScopeFull, Class: sub.Class, Key: sub.Key, Keys: sub.Keys}
			w := s.newWalker(account, id, st, holds)
			if err := w.run(ctx); err != nil {
				return res, err
			}
			for k, c := range st.Counts {
				if c.Kept > 0 {
					if res.Held == nil {
						res.Held = map[Kind]int64{}
					}
					res.Held[k] += c.Kept
				}
			}
			res.Subjects++
		}
		if next == "" || len(ids) == 0 {
			break
		}
		cursor = next
	}
	heldKinds := s.kindsHoldsMayCover(holds)
	pinned, err := s.pinnedAncestors(ctx, account, holds)
	if err != nil {
		return res, err
	}
	for _, k := range s.cfg.Graph.order {
		info := s.cfg.Graph.infos[k]
		if !info.Caps.EraseAccount {
			continue
		}
		t := s.cfg.Graph.byKind[k]
		var removed, kept int64
		if heldKinds[k] {
			removed, kept, err = s.sweepUnheld(ctx, account, k, rules[k], holds, pinned[k])
		} else {
			var ch Change
			ch, err = t.EraseAccount(ctx, account)
			removed = ch.Records
		}
		if err != nil {
			return res, fmt.Errorf("erasure: erase account data of %s: %w", k, err)
		}
		if removed > 0 {
			if res.Leftovers == nil {
				res.Leftovers = map[Kind]int64{}
			}
			res.Leftovers[k] += removed
		}
		if kept > 0 {
			if res.Held == nil {
				res.Held = map[Kind]int64{}
			}
			res.Held[k] = max(res.Held[k], kept)
		}
	}
	if _, err := s.store.ScrubAccount(ctx, account, s.now()); err != nil {
		return res, fmt.Errorf("erasure: scrub requests: %w", err)
	}
	// Post-erasure physical steps (physical.go).
	if res.Physical, err = s.physicalAccount(ctx, account); err != nil {
		return res, err
	}
	var left, held int64
	for _, n := range res.Leftovers {
		left += n
	}
	for _, n := range res.Held {
		held += n
	}
	s.emit(ctx, account, "erasure.account_erased", "system:retention", "", map[string]string{"subjects": strconv.Itoa(res.Subjects),
		"leftovers": strconv.FormatInt(left, 10), "held": strconv.FormatInt(held, 10)})
	if held > 0 {
		return res, fmt.Errorf("%w: %d records under legal hold remain; erase the account again once the holds end", ErrHeld, held)
	}
	return res, s.verifyAccountGone(ctx, account, rules)
}

// verifyAccountGone finds again, after an account deletion, one record of
// every kind the deletion deletes: anything found means the account is
// not gone (a target that missed rows, a row written meanwhile), and the
// caller (retention) must not report it purged. Kinds anonymised in place
// are not looked for: their records stay by design.
func (s *Service) verifyAccountGone(ctx context.Context, account gdprkit.AccountID, rules map[Kind]Rule) error {
	var left []string
	for _, k := range s.cfg.Graph.order {
		info := s.cfg.Graph.infos[k]
		if rules[k].Action != Delete || !info.can(Delete) {
			continue
		}
		refs, err := s.cfg.Graph.byKind[k].Find(ctx, account, Query{All: true, Limit: 1})
		if err != nil {
			if errors.Is(err, ErrUnsupported) {
				continue
			}
			return fmt.Errorf("erasure: verify the account is gone: %s: %w", k, err)
		}
		if len(refs) > 0 {
			left = append(left, string(k))
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("%w: %w: records of %s remain after the account deletion; run it again", ErrResidue, gdprkit.ErrConflict, strings.Join(left, ", "))
	}
	return nil
}

// kindsHoldsMayCover returns the kinds whose records an active hold may
// cover or sit above: every kind for a subject hold, and for a hold on a
// record, its kind, the kinds sharing its Records, everything under them
// and every kind above them (a record above a held one stays, so no
// database cascade can take the held one with it).
func (s *Service) kindsHoldsMayCover(holds []Hold) map[Kind]bool {
	out := map[Kind]bool{}
	g := s.cfg.Graph
	for _, h := range holds {
		if h.SubjectPS != "" {
			for k := range g.infos {
				out[k] = true
			}
			return out
		}
		rec := g.infos[h.Kind].Records
		for k, info := range g.infos {
			if k != h.Kind && (rec == "" || info.Records != rec) {
				continue
			}
			for _, base := range []Kind{k, g.placed(k)} {
				if base == "" {
					continue
				}
				for _, x := range g.subtree(base) {
					out[x] = true
				}
				for _, x := range g.path(base) {
					out[x] = true
				}
			}
		}
	}
	// A kind over the same records as a covered one (the messages a
	// subject wrote, beside the messages of tickets) reaches held records
	// too.
	for k := range g.infos {
		if p := g.placed(k); p != "" && out[p] {
			out[k] = true
		}
	}
	return out
}

// pinnedAncestors returns, by kind, the records above a record under a
// hold: they must stay while it does. A kind whose records cannot be told
// (a target without Caps.Parents on the way up) is pinned whole ("*").
func (s *Service) pinnedAncestors(ctx context.Context, account gdprkit.AccountID, holds []Hold) (map[Kind]map[string]bool, error) {
	g := s.cfg.Graph
	out := map[Kind]map[string]bool{}
	mark := func(k Kind, id string) {
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		out[k][id] = true
	}
	for _, h := range holds {
		if h.Kind == "" {
			continue
		}
		cur := g.placed(h.Kind)
		if cur == "" {
			continue
		}
		id := h.RecordID
		for g.infos[cur].Parent != "" {
			parent := g.infos[cur].Parent
			if !g.infos[cur].Caps.Parents {
				for _, k := range g.path(parent) {
					mark(k, "*")
				}
				break
			}
			pm, err := g.byKind[cur].ParentsOf(ctx, account, []string{id})
			if errors.Is(err, ErrUnsupported) {
				for _, k := range g.path(parent) {
					mark(k, "*")
				}
				break
			}
			if err != nil {
				return nil, fmt.Errorf("erasure: parents of %s: %w", cur, err)
			}
			p, ok := pm[id]
			if !ok {
				break
			}
			mark(parent, p)
			cur, id = parent, p
		}
	}
	return out, nil
}

// sweepUnheld deletes (or, for a kind that cannot delete, anonymises) every
// record of kind k in the account that no hold covers, and counts the
// records it kept.
func (s *Service) sweepUnheld(ctx context.Context, account gdprkit.AccountID, k Kind, rule Rule, holds []Hold, pinned map[string]bool) (removed, kept int64, err error) {
	t := s.cfg.Graph.byKind[k]
	if pinned["*"] {
		return 0, 0, nil // which records sit above a held one is unknown: keep them all
	}
	after := ""
	for {
		refs, err := t.Find(ctx, account, Query{All: true, After: after, Limit: s.cfg.BatchSize})
		if err != nil {
			return removed, kept, err
		}
		if len(refs) == 0 {
			break
		}
		after = refs[len(refs)-1].Next()
		above, blind, err := s.heldAbove(ctx, account, holds, k, refIDs(refs))
		if err != nil {
			return removed, kept, err
		}
		unknown := map[string]bool{}
		for _, id := range blind {
			unknown[id] = true
		}
		var act []Ref
		for _, r := range refs {
			if _, ok := recordHold(s.cfg.Graph, holds, k, r.ID); ok {
				kept++
				continue
			}
			if _, ok := above[r.ID]; ok || unknown[r.ID] || pinned[r.ID] {
				kept++ // held, above a held record, or its ancestry cannot be told: fail closed
				continue
			}
			act = append(act, r)
		}
		if len(act) > 0 {
			var ch Change
			if rule.Action == Delete && s.cfg.Graph.infos[k].can(Delete) {
				ch, err = t.Delete(ctx, account, "", act)
			} else {
				ch, err = t.Anonymize(ctx, account, act, Anon{Label: "Former user"})
			}
			if err != nil {
				return removed, kept, err
			}
			removed += ch.Records
		}
		if len(refs) < s.cfg.BatchSize {
			break
		}
	}
	return removed, kept, nil
}

// DeleteRecord permanently deletes one record of kind k and everything
// under it in the graph, children first, in batches ("permanently delete
// this ticket": its messages, attachments and files go with it). Only
// agents and above may do it, and only for kinds with a parent: root kinds
// (user and agent profiles) are erased through Submit, whose role checks
// apply. If the record, a record under it, a record above it or the
// subject it belongs to is under an active legal hold, it returns an error
// wrapping ErrHeld and gdprkit.ErrForbidden, and nothing changes (holds
// above are found through targets with Caps.Parents; the subject is the ID
// of the root record at the top). While any hold is active, a record whose
// ancestry some target on the way up cannot tell is refused the same way:
// it might be held.
//
// It returns, by kind, how many records this call removed — rows it
// really deleted, so two callers racing to delete one ticket count it
// once between them. Deleting a record that is already gone succeeds and
// counts nothing.
func (s *Service) DeleteRecord(ctx context.Context, account gdprkit.AccountID, k Kind, id string, by gdprkit.ActorID) (map[Kind]int64, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	info, ok := s.cfg.Graph.infos[k]
	if !ok || id == "" {
		return nil, fmt.Errorf("%w: unknown kind %q or empty ID", gdprkit.ErrInvalid, k)
	}
	if info.Parent == "" {
		// A root record is a person's profile (or their own work, like
		// authored messages): deleting it is erasing them, which goes
		// through Submit and its role checks, never around them.
		return nil, fmt.Errorf("%w: %s is a root kind; erase its subject with an erasure request", gdprkit.ErrForbidden, k)
	}
	actor, known, err := s.lookup(ctx, account, gdprkit.SubjectID(by))
	if err != nil {
		return nil, err
	}
	if !known || !actor.Role.AtLeast(gdprkit.RoleAgent) {
		return nil, fmt.Errorf("%w: only agents and above may delete records permanently", gdprkit.ErrForbidden)
	}
	holds, err := s.ActiveHolds(ctx, account)
	if err != nil {
		return nil, err
	}
	held := func() error { return fmt.Errorf("%w: %w", ErrHeld, gdprkit.ErrForbidden) }
	if _, ok := recordHold(s.cfg.Graph, holds, k, id); ok {
		return nil, held()
	}
	above, blind, err := s.heldAbove(ctx, account, holds, k, []string{id})
	if err != nil {
		return nil, err
	}
	if len(above) > 0 {
		return nil, held()
	}
	if len(blind) > 0 {
		// Fail closed: while holds are active, a record whose ancestors a
		// target cannot name might be under one.
		return nil, fmt.Errorf("%w: %w: holds are active and the %s target cannot say which records %s is under", ErrHeld, gdprkit.ErrForbidden, k, id)
	}
	// Collect the subtree's IDs, parents first, then delete children first.
	ids := map[Kind][]string{k: {id}}
	order := s.cfg.Graph.subtree(k)
	for i := len(order) - 1; i >= 0; i-- {
		kind := order[i]
		if kind == k {
			continue
		}
		parents := ids[s.cfg.Graph.infos[kind].Parent]
		t := s.cfg.Graph.byKind[kind]
		for j := 0; j < len(parents); j += s.cfg.BatchSize {
			part := parents[j:min(j+s.cfg.BatchSize, len(parents))]
			after := ""
			for {
				refs, err := t.Find(ctx, account, Query{Parents: part, After: after, Limit: s.cfg.BatchSize})
				if err != nil {
					return nil, fmt.Errorf("erasure: find %s: %w", kind, err)
				}
				for _, r := range refs {
					ids[kind] = append(ids[kind], r.ID)
				}
				if len(refs) < s.cfg.BatchSize {
					break
				}
				after = refs[len(refs)-1].Next()
			}
		}
	}
	for kind, list := range ids {
		for _, x := range list {
			if _, ok := recordHold(s.cfg.Graph, holds, kind, x); ok {
				return nil, held() // a held record below: nothing changes
			}
		}
	}
	out := map[Kind]int64{}
	for _, kind := range order {
		t := s.cfg.Graph.byKind[kind]
		if !s.cfg.Graph.infos[kind].can(Delete) {
			continue
		}
		list := ids[kind]
		for j := 0; j < len(list); j += s.cfg.BatchSize {
			part := list[j:min(j+s.cfg.BatchSize, len(list))]
			ch, err := t.Delete(ctx, account, "", toRefs(part))
			if err != nil {
				return out, fmt.Errorf("erasure: delete %s: %w", kind, err)
			}
			if ch.Records > 0 {
				out[kind] += ch.Records
			}
		}
	}
	var total int64
	for _, n := range out {
		total += n
	}
	if total > 0 {
		s.emit(ctx, account, "erasure.record_deleted", by, "", map[string]string{"kind": string(k), "records": strconv.FormatInt(total, 10)})
	}
	return out, nil
}
