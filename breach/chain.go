package breach

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/chain"
)

// chainTag separates this chain's hashes from every other chain's.
const chainTag = "gdprkit-breach-v1"

// entryHash is the hash of e in account: SHA-256 over the tag, account,
// position, time, ID, breach, type, actor, data bytes and previous hash.
func entryHash(account gdprkit.AccountID, e *Entry) string {
	return chain.Sum(chain.Link{Tag: chainTag, Account: account, Seq: e.Seq, Prev: e.PrevHash, At: e.At},
		e.ID, e.Breach, string(e.Type), string(e.Actor), string(e.Data))
}

// seal links e behind head.
func seal(account gdprkit.AccountID, head Head, e *Entry) {
	e.Seq = head.Seq + 1
	e.PrevHash = head.Hash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = entryHash(account, e)
}

// Verification is the result of checking an account's history and the
// stored state it vouches for.
type Verification struct {
	// OK is true when nothing was edited, removed or reordered.
	OK bool `json:"ok"`
	// Entries is how many entries were checked.
	Entries int64 `json:"entries"`
	// Head is the last entry checked: publish or keep its hash elsewhere
	// to also detect the history being cut back and re-hashed as a whole.
	Head Head `json:"head"`
	// Problem names the first break found ("" when OK).
	Problem string `json:"problem,omitempty"`
	// CheckedAt is when the check ran.
	CheckedAt time.Time `json:"checked_at"`
}

// Verify checks the account's history: every entry links to the one before
// and matches its hash, the chain ends at the stored head, and the stored
// breaches and settled notices are exactly what their last history entries
// say (a row edited or deleted in the database is found). It returns the
// verification, with an error wrapping ErrTampered when it found a break,
// or the store's error when it could not read.
func (s *Service) Verify(ctx context.Context, account gdprkit.AccountID) (Verification, error) {
	if err := account.Validate(); err != nil {
		return Verification{}, err
	}
	v, _, err := s.verify(ctx, account)
	if err != nil {
		return v, err
	}
	if !v.OK {
		return v, fmt.Errorf("%w: %s", ErrTampered, v.Problem)
	}
	return v, nil
}

// verify walks the history; store errors are returned, breaks are reported
// in the Verification. It also returns the breaches it read.
func (s *Service) verify(ctx context.Context, account gdprkit.AccountID) (Verification, []Breach, error) {
	v := Verification{CheckedAt: s.now()}
	broken := func(format string, args ...any) (Verification, []Breach, error) {
		v.OK, v.Problem = false, fmt.Sprintf(format, args...)
		return v, nil, nil
	}
	head, err := s.store.Head(ctx, account)
	if err != nil {
		return v, nil, err
	}
	var w chain.Walker
	lastBreach := map[string]json.RawMessage{}
	lastNotice := map[string]json.RawMessage{}
	const page = 500
	for after := int64(0); ; {
		es, err := s.store.History(ctx, account, after, page)
		if err != nil {
			return v, nil, err
		}
		for i := range es {
			e := &es[i]
			if err := w.Next(e.Seq, e.PrevHash, e.Hash, entryHash(account, e)); err != nil {
				return broken("%v", err)
			}
			var d struct {
				Breach json.RawMessage `json:"breach"`
				Notice json.RawMessage `json:"notice"`
			}
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return broken("entry %d: data is not JSON", e.Seq)
			}
			if len(d.Breach) > 0 {
				lastBreach[e.Breach] = d.Breach
			}
			if len(d.Notice) > 0 {
				var n Notice
				if err := json.Unmarshal(d.Notice, &n); err != nil {
					return broken("entry %d: notice is not JSON", e.Seq)
				}
				lastNotice[n.ID] = d.Notice
			}
		}
		v.Entries += int64(len(es))
		if len(es) < page {
			break
		}
		after = es[len(es)-1].Seq
	}
	v.Head = w.Head()
	if err := w.End(head); err != nil {
		return broken("%v", err)
	}
	bs, err := s.store.Breaches(ctx, account)
	if err != nil {
		return v, nil, err
	}
	seen := map[string]bool{}
	for _, b := range bs {
		seen[b.ID] = true
		want, ok := lastBreach[b.ID]
		if !ok {
			return broken("breach %s is not in the history (inserted behind its back)", b.ID)
		}
		if !sameJSON(b, want) {
			return broken("breach %s differs from its last history entry (edited)", b.ID)
		}
		if err := s.checkBreachRows(ctx, account, b, lastNotice); err != nil {
			return broken("%v", err)
		}
	}
	for id := range lastBreach {
		if !seen[id] {
			return broken("breach %s of the history is missing from the register (deleted)", id)
		}
	}
	v.OK = true
	return v, bs, nil
}

// checkBreachRows compares a breach's subjects and settled notices with
// what the history says.
func (s *Service) checkBreachRows(ctx context.Context, account gdprkit.AccountID, b Breach, lastNotice map[string]json.RawMessage) error {
	known, err := s.knownSubjects(ctx, account, b.ID)
	if err != nil {
		return err
	}
	if int64(len(known)) != b.SubjectsFound {
		return fmt.Errorf("breach %s holds %d subjects but its history found %d", b.ID, len(known), b.SubjectsFound)
	}
	ns, err := s.store.Notices(ctx, account, b.ID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, n := range ns {
		have[n.ID] = true
		want, ok := lastNotice[n.ID]
		if n.State != NoticeSent && n.State != NoticeFailed {
			if ok {
				return fmt.Errorf("notice %s was settled in the history but is %s in the outbox", n.ID, n.State)
			}
			continue
		}
		if !ok || !sameJSON(n, want) {
			return fmt.Errorf("notice %s differs from its history entry (edited)", n.ID)
		}
	}
	for id, raw := range lastNotice {
		var n Notice
		_ = json.Unmarshal(raw, &n)
		if n.Breach == b.ID && !have[id] {
			return fmt.Errorf("notice %s of the history is missing (deleted)", id)
		}
	}
	return nil
}

// sameJSON reports whether v encodes to the same JSON as want (which is a
// value this package encoded).
func sameJSON(v any, want json.RawMessage) bool {
	got, err := json.Marshal(v)
	if err != nil {
		return false
	}
	var a, b bytes.Buffer
	if json.Compact(&a, got) != nil || json.Compact(&b, want) != nil {
		return false
	}
	return bytes.Equal(a.Bytes(), b.Bytes())
}
