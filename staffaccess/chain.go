package staffaccess

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/chain"
)

const chainTag = "gdprkit-staffaccess-v1"

// entryHash is the hash of e in account: SHA-256 over the tag, account,
// position, time, ID, grant, type, actor, what, data bytes and previous
// hash, each length-prefixed.
func entryHash(account gdprkit.AccountID, e *Entry) string {
	return chain.Sum(chain.Link{Tag: chainTag, Account: account, Seq: e.Seq, Prev: e.PrevHash, At: e.At},
		e.ID, e.Grant, string(e.Type), string(e.Actor), e.What, string(e.Data))
}

func seal(account gdprkit.AccountID, head Head, e *Entry) {
	e.Seq = head.Seq + 1
	e.PrevHash = head.Hash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = entryHash(account, e)
}

// Verification is the result of checking an account's trail and the grants
// it vouches for.
type Verification struct {
	// OK is true when nothing was edited, removed or reordered.
	OK bool `json:"ok"`
	// Entries is how many entries were checked.
	Entries int64 `json:"entries"`
	// Head is the last entry checked; keep its hash elsewhere to also
	// detect the trail being cut back and re-hashed as a whole.
	Head Head `json:"head"`
	// Problem names the first break ("" when OK).
	Problem string `json:"problem,omitempty"`
	// CheckedAt is when the check ran.
	CheckedAt time.Time `json:"checked_at"`
}

// Verify checks the account's trail — every entry links to the one before
// and matches its hash, the chain ends at the stored head, every access
// names a grant of the trail — and that each stored grant is exactly what
// its last trail entry says. It returns an error wrapping ErrTampered when
// it finds a break, or the store's error when it cannot read.
func (s *Service) Verify(ctx context.Context, account gdprkit.AccountID) (Verification, error) {
	if err := account.Validate(); err != nil {
		return Verification{}, err
	}
	v, _, err := s.walk(ctx, account)
	if err != nil {
		return v, err
	}
	if !v.OK {
		return v, fmt.Errorf("%w: %s", ErrTampered, v.Problem)
	}
	return v, nil
}

// walk reads and checks the whole trail; breaks are reported in the
// Verification, store errors returned. It returns the entries read (all of
// them, also after a break).
func (s *Service) walk(ctx context.Context, account gdprkit.AccountID) (Verification, []Entry, error) {
	v := Verification{CheckedAt: s.now()}
	head, err := s.store.Head(ctx, account)
	if err != nil {
		return v, nil, err
	}
	var all []Entry
	const page = 1000
	for after := int64(0); ; {
		es, err := s.store.Trail(ctx, account, after, page)
		if err != nil {
			return v, nil, err
		}
		all = append(all, es...)
		if len(es) < page {
			break
		}
		after = es[len(es)-1].Seq
	}
	v.Entries = int64(len(all))
	problem := func() string {
		var w chain.Walker
		last := map[string]json.RawMessage{}
		for i := range all {
			e := &all[i]
			if err := w.Next(e.Seq, e.PrevHash, e.Hash, entryHash(account, e)); err != nil {
				return err.Error()
			}
			switch {
			case e.Type == EntryAccess:
				if _, ok := last[e.Grant]; !ok {
					return fmt.Sprintf("entry %d: an access under grant %s, which the trail never granted", e.Seq, e.Grant)
				}
			case len(e.Data) > 0:
				last[e.Grant] = e.Data
			default:
				return fmt.Sprintf("entry %d: a %s entry without its grant", e.Seq, e.Type)
			}
		}
		v.Head = w.Head()
		if err := w.End(head); err != nil {
			return err.Error()
		}
		gs, err := s.store.Grants(ctx, account, "")
		if err != nil {
			return "cannot read the grants: " + err.Error()
		}
		seen := map[string]bool{}
		for _, g := range gs {
			seen[g.ID] = true
			want, ok := last[g.ID]
			if !ok {
				return fmt.Sprintf("grant %s is not in the trail (inserted behind its back)", g.ID)
			}
			if !sameJSON(g, want) {
				return fmt.Sprintf("grant %s differs from its last trail entry (edited)", g.ID)
			}
		}
		for id := range last {
			if !seen[id] {
				return fmt.Sprintf("grant %s of the trail is missing (deleted)", id)
			}
		}
		return ""
	}()
	v.OK, v.Problem = problem == "", problem
	return v, all, nil
}

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
