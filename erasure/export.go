package erasure

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// ExportFormat names the layout of access exports.
const ExportFormat = "gdprkit-access-v1"

// Export answers an open, identity-verified access request (Art. 15/20):
// it walks the same graph an erasure walks, parents first, and writes the
// subject's data as one JSON document to w:
//
//	{"format": "gdprkit-access-v1", "subject": "…", "generated_at": "…",
//	 "data": {"end_user": [ … ], "ticket": [ … ], "message": [ … ], …}}
//
// Then it closes the request as completed. It returns an error wrapping
// gdprkit.ErrConflict when the request is not an open access request or its
// identity is not verified; nothing is written then.
func (s *Service) Export(ctx context.Context, account gdprkit.AccountID, requestID string, w io.Writer) error {
	if err := account.Validate(); err != nil {
		return err
	}
	req, err := s.store.Request(ctx, account, requestID)
	if err != nil {
		return err
	}
	if req.Type != TypeAccess || req.Status != StatusOpen {
		return fmt.Errorf("%w: request %s is not an open access request", gdprkit.ErrConflict, requestID)
	}
	if !req.Verified {
		return fmt.Errorf("%w: verify the requester's identity before exporting", gdprkit.ErrConflict)
	}
	n, err := s.ExportSubject(ctx, account, req.Subject, w)
	if err != nil {
		return err
	}
	if err := s.store.CloseRequest(ctx, account, requestID, StatusCompleted, s.now()); err != nil {
		return fmt.Errorf("erasure: close access request: %w", err)
	}
	s.emit(ctx, account, "erasure.access_exported", actorOf(req.RequestedBy, req.Subject), req.SubjectPS, map[string]string{"request": req.ID, "records": strconv.Itoa(n)})
	return nil
}

// ExportSubject writes the subject's data as Export does, without a
// request, and returns how many records it wrote. It checks nothing: the
// caller decides who may see it.
func (s *Service) ExportSubject(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, w io.Writer) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := subject.Validate(); err != nil {
		return 0, err
	}
	wk := s.newWalker(account, subject, &jobState{Scope: ScopeFull}, nil)
	bw := bufio.NewWriter(w)
	head, _ := json.Marshal(map[string]any{"format": ExportFormat, "subject": subject, "generated_at": s.now()})
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"data":{`)
	total := 0
	cache := map[Kind][]string{}
	for i, k := range s.cfg.Graph.order {
		ids, err := wk.list(ctx, k, cache)
		if err != nil {
			return total, err
		}
		t := s.cfg.Graph.byKind[k]
		if i > 0 {
			bw.WriteByte(',')
		}
		name, _ := json.Marshal(string(k))
		bw.Write(name)
		bw.WriteString(":[")
		first := true
		for j := 0; j < len(ids); j += s.cfg.BatchSize {
			part := ids[j:min(j+s.cfg.BatchSize, len(ids))]
			refs := make([]Ref, len(part))
			for x, id := range part {
				refs[x] = Ref{ID: id}
			}
			vals, err := t.Export(ctx, account, subject, refs)
			if err != nil {
				return total, fmt.Errorf("erasure: export %s: %w", k, err)
			}
			for _, v := range vals {
				if !json.Valid(v) {
					return total, fmt.Errorf("erasure: export %s: target returned invalid JSON", k)
				}
				if !first {
					bw.WriteByte(',')
				}
				first = false
				bw.Write(v)
				total++
			}
		}
		bw.WriteByte(']')
	}
	bw.WriteString("}}\n")
	return total, bw.Flush()
}

// EraseAccount removes every subject's live data in the account, for
// package retention when a terminated account's data must go. For each
// user the directory lists (the owner included: the account no longer
// lives) it runs the cascade synchronously with the targets' default
// rules, Keep replaced by Delete (or Anonymize where the target cannot
// delete); legal holds still keep what they cover. Then, unless a hold is
// in force, it calls EraseAccount on every target that implements
// AccountEraser, leaf first, to remove what belongs to nobody in
// particular; and it scrubs identifiers from the account's requests
// (receipts and tombstones stay). It is idempotent.
func (s *Service) EraseAccount(ctx context.Context, account gdprkit.AccountID) error {
	if err := account.Validate(); err != nil {
		return err
	}
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
	holds, err := s.ActiveHolds(ctx, account)
	if err != nil {
		return err
	}
	var after gdprkit.SubjectID
	subjects := 0
	for {
		subs, err := s.cfg.Directory.Subjects(ctx, account, after, 500)
		if err != nil {
			return fmt.Errorf("erasure: list subjects: %w", err)
		}
		for _, sub := range subs {
			w := s.newWalker(account, sub, &jobState{Rules: rules, Scope: ScopeFull}, holds)
			if err := w.run(ctx); err != nil {
				return err
			}
			subjects++
		}
		if len(subs) < 500 {
			break
		}
		after = subs[len(subs)-1]
	}
	removed := 0
	for _, k := range s.cfg.Graph.leafFirst("") {
		if len(holds) > 0 {
			// A leftover sweep cannot tell held records from others.
			break
		}
		if ae, ok := s.cfg.Graph.byKind[k].(AccountEraser); ok {
			n, err := ae.EraseAccount(ctx, account)
			if err != nil {
				return fmt.Errorf("erasure: erase account data of %s: %w", k, err)
			}
			removed += n
		}
	}
	if _, err := s.store.ScrubAccount(ctx, account, s.now()); err != nil {
		return fmt.Errorf("erasure: scrub requests: %w", err)
	}
	s.emit(ctx, account, "erasure.account_erased", "system:retention", "", map[string]string{"subjects": strconv.Itoa(subjects), "leftovers": strconv.Itoa(removed)})
	return nil
}

// ErrHeld is wrapped when a record under legal hold is asked to be
// deleted permanently.
var ErrHeld = errors.New("erasure: record under legal hold")

// DeleteRecord permanently deletes one record of kind k and everything
// under it in the graph, leaf first, in batches ("permanently delete this
// ticket": its messages, attachments and files go with it). Only agents
// and above may do it, and only for kinds with a parent: root kinds (user
// and agent profiles) are erased through Submit, whose role checks apply.
// If the record, a record under it, a record above it or the subject it
// belongs to is under an active legal hold, it returns an error wrapping
// ErrHeld and gdprkit.ErrForbidden, and nothing changes (holds above are
// found through targets that implement ParentFinder; the subject is the
// ID of the root record at the top). While any hold is active, a record
// whose ancestry some target on the way up cannot tell is refused the
// same way: it might be held. Deleting a record that is already
// gone succeeds.
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
	role, err := s.cfg.Directory.Role(ctx, account, gdprkit.SubjectID(by))
	if err != nil || !role.AtLeast(gdprkit.RoleAgent) {
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
	// Collect the subtree's IDs, parents first, then delete leaf first.
	ids := map[Kind][]string{k: {id}}
	order := s.cfg.Graph.leafFirst(k)
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
			refs := make([]Ref, len(part))
			for x, id := range part {
				refs[x] = Ref{ID: id}
			}
			if err := t.Delete(ctx, account, "", refs); err != nil {
				return out, fmt.Errorf("erasure: delete %s: %w", kind, err)
			}
			out[kind] += int64(len(part))
		}
	}
	var total int64
	for _, n := range out {
		total += n
	}
	s.emit(ctx, account, "erasure.record_deleted", by, "", map[string]string{"kind": string(k), "records": strconv.FormatInt(total, 10)})
	return out, nil
}
