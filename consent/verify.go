package consent

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// VerifyResult summarises a successful Verify.
type VerifyResult struct {
	// Records is how many records the chain holds.
	Records int64 `json:"records"`
	// Head is the chain head the walk ended at.
	Head ChainHead `json:"head"`
	// States is how many current-state entries were checked.
	States int64 `json:"states"`
	// Legacy is how many records are still sealed under chain version 1;
	// Reseal moves them to ChainVersion.
	Legacy int64 `json:"legacy,omitempty"`
}

// Verify walks the account's whole chain, checking every link, hash and
// (where the values remain) commitment, and that the chain ends at the
// stored head; then it checks the current state Check answers from: every
// entry must point to the latest record of its subject and purpose and
// agree with it, and every (subject, purpose) with records must have one.
// It returns an error wrapping ErrChainBroken that names the first problem
// when anything was edited, removed or reordered.
func (s *Service) Verify(ctx context.Context, account gdprkit.AccountID) (VerifyResult, error) {
	res, _, err := s.verify(ctx, account)
	return res, err
}

// latestRec is what Verify remembers of the latest record of one
// (subject, purpose).
type latestRec struct {
	seq     int64
	action  Action
	version int
	at      time.Time
}

func stateKeyOf(ps gdprkit.Pseudonym, purpose string) [sha256.Size]byte {
	var buf [256]byte
	return sha256.Sum256(appendStr(appendStr(buf[:0], string(ps)), purpose))
}

// verify is Verify; it also returns the Seq of the first record still under
// chain version 1 (0 when none).
func (s *Service) verify(ctx context.Context, account gdprkit.AccountID) (VerifyResult, int64, error) {
	if err := account.Validate(); err != nil {
		return VerifyResult{}, 0, err
	}
	head, err := s.store.Head(ctx, account)
	if err != nil {
		return VerifyResult{}, 0, err
	}
	w := chainWalker{account: account}
	latest := map[[sha256.Size]byte]latestRec{}
	const page = 1000
	// The walk stops at the head read above: records appended since are
	// not part of this verification (they are checked below not to be
	// forged).
	for w.head.Seq < head.Seq {
		rs, err := s.store.Records(ctx, account, w.head.Seq, int(min(page, head.Seq-w.head.Seq)))
		if err != nil {
			return VerifyResult{}, 0, err
		}
		if len(rs) == 0 {
			break
		}
		for i := range rs {
			r := &rs[i]
			if err := w.next(r); err != nil {
				return VerifyResult{}, 0, err
			}
			latest[stateKeyOf(r.SubjectPS, r.Purpose)] = latestRec{r.Seq, r.Action, r.PolicyVersion, r.At}
		}
	}
	if w.head.Seq != head.Seq || !eq(w.head.Hash, head.Hash) {
		return VerifyResult{}, 0, fmt.Errorf("%w: chain ends at record %d but the head says %d", ErrChainBroken, w.head.Seq, head.Seq)
	}
	// Records beyond the head would mean a forged append, unless an append
	// since moved the head past them: it stores records and head at once.
	if extra, err := s.store.Records(ctx, account, head.Seq, 1); err != nil {
		return VerifyResult{}, 0, err
	} else if len(extra) > 0 {
		now, err := s.store.Head(ctx, account)
		if err != nil {
			return VerifyResult{}, 0, err
		}
		if now.Seq < extra[0].Seq {
			return VerifyResult{}, 0, fmt.Errorf("%w: record %d lies beyond the head", ErrChainBroken, extra[0].Seq)
		}
	}
	// The current state must be exactly the latest record of each
	// (subject, purpose): Check answers from it.
	var states int64
	var after StateKey
	for {
		sts, err := s.store.States(ctx, account, after, page)
		if err != nil {
			return VerifyResult{}, 0, err
		}
		for _, st := range sts {
			k := stateKeyOf(st.SubjectPS, st.Purpose)
			if st.Seq > head.Seq {
				// Moved by an append after the walk: it must point to a
				// genuine later record of its own subject and purpose.
				if err := s.checkNewerState(ctx, account, st); err != nil {
					return VerifyResult{}, 0, err
				}
				delete(latest, k)
				states++
				continue
			}
			l, ok := latest[k]
			switch {
			case !ok:
				return VerifyResult{}, 0, fmt.Errorf("%w: a current-state entry (purpose %q, record %d) has no record of its subject and purpose behind it, or is there twice",
					ErrChainBroken, st.Purpose, st.Seq)
			case st.Seq != l.seq:
				return VerifyResult{}, 0, fmt.Errorf("%w: the current state of purpose %q points to record %d, but the latest record of its subject is %d",
					ErrChainBroken, st.Purpose, st.Seq, l.seq)
			case st.Action != l.action || st.PolicyVersion != l.version || !st.At.Equal(l.at):
				return VerifyResult{}, 0, fmt.Errorf("%w: the current state of purpose %q disagrees with record %d (%s, policy v%d)",
					ErrChainBroken, st.Purpose, l.seq, l.action, l.version)
			}
			delete(latest, k)
			states++
		}
		if len(sts) < page {
			break
		}
		after = sts[len(sts)-1].StateKey
	}
	if len(latest) > 0 {
		return VerifyResult{}, 0, fmt.Errorf("%w: %d (subject, purpose) pairs have records but no current-state entry", ErrChainBroken, len(latest))
	}
	return VerifyResult{Records: head.Seq, Head: head, States: states, Legacy: w.legacy}, w.firstV1, nil
}

// checkNewerState checks a current-state entry that points beyond the
// chain Verify walked: the record it names is of its subject and purpose,
// agrees with it, and matches its hash.
func (s *Service) checkNewerState(ctx context.Context, account gdprkit.AccountID, st State) error {
	rs, err := s.store.Records(ctx, account, st.Seq-1, 1)
	if err != nil {
		return err
	}
	if len(rs) == 0 || rs[0].Seq != st.Seq {
		return fmt.Errorf("%w: the current state of purpose %q points to record %d, which does not exist", ErrChainBroken, st.Purpose, st.Seq)
	}
	r := &rs[0]
	if r.SubjectPS != st.SubjectPS || r.Purpose != st.Purpose || r.Action != st.Action || r.PolicyVersion != st.PolicyVersion ||
		!r.At.Equal(st.At) || !hashMatches(account, r) {
		return fmt.Errorf("%w: the current state of purpose %q disagrees with record %d", ErrChainBroken, st.Purpose, st.Seq)
	}
	return nil
}

// ResealResult says what Reseal did.
type ResealResult struct {
	// Resealed is how many records were re-sealed: from the first one
	// under chain version 1 to the head (0 when there was none).
	Resealed int `json:"resealed"`
	// Before is the chain head as it was; the last record's PriorHash is
	// Before.Hash, which links an audit anchor taken before to the chain.
	Before ChainHead `json:"before"`
	// After is the chain head after re-sealing.
	After ChainHead `json:"after"`
}

// Reseal moves an account's chain to ChainVersion: the one-time step after
// upgrading from a gdprkit whose records were sealed under chain version 1
// (Verify reports them as Legacy). Those records hash RecordedBy and Wording
// as they are, so pseudonymisation cannot remove them; Reseal gives every
// record from the first such one to the head fresh per-field commitments,
// removes the RecordedBy and Wording of records already pseudonymised,
// relinks the chain and moves the head — in one atomic step, serialised
// with new records. It verifies the whole chain and state first and refuses
// (ErrChainBroken) to re-seal a broken one.
//
// Every re-sealed record keeps its earlier hash in PriorHash (inside its new
// hash), so proofs exported before still verify (VerifyProof) and still
// match the store (ConfirmProof). Audit anchors of the chain head taken
// before Reseal are superseded: the audit event consent.chain_resealed
// names both heads. Run it once all processes write version-2 records; it
// is idempotent (an account without version-1 records is left as it is).
func (s *Service) Reseal(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID) (ResealResult, error) {
	res, first, err := s.verify(ctx, account)
	if err != nil {
		return ResealResult{}, fmt.Errorf("consent: reseal: %w", err)
	}
	if first == 0 {
		return ResealResult{Before: res.Head, After: res.Head}, nil
	}
	var oldHead, newHead ChainHead // the last record before and after this pass
	n, err := s.store.Rewrite(ctx, account, first, func(head ChainHead, r *Record) error {
		if r.Seq == first {
			oldHead = head // the record before first is not rewritten
		}
		if r.Seq != head.Seq+1 || !eq(r.PrevHash, oldHead.Hash) {
			return fmt.Errorf("%w: record %d does not link to record %d", ErrChainBroken, r.Seq, head.Seq)
		}
		if err := checkRecord(account, r); err != nil {
			return err
		}
		oldHead = ChainHead{Seq: r.Seq, Hash: r.Hash}
		upgrade(account, head, r)
		newHead = ChainHead{Seq: r.Seq, Hash: r.Hash}
		return nil
	})
	if err != nil {
		return ResealResult{}, fmt.Errorf("consent: reseal: %w", err)
	}
	out := ResealResult{Resealed: n, Before: oldHead, After: newHead}
	s.emit(ctx, account, "consent.chain_resealed", by, "", map[string]string{"records": strconv.Itoa(n),
		"from_seq": strconv.FormatInt(first, 10), "head_seq": strconv.FormatInt(newHead.Seq, 10),
		"before_hash": oldHead.Hash, "after_hash": newHead.Hash})
	return out, nil
}
