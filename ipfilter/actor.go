package ipfilter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
)

// actorEntry is one entry with where it lives, as ActorRecords exports it.
type actorEntry struct {
	Surface gdprkit.Surface `json:"surface"`
	List    List            `json:"list"`
	Prefix  string          `json:"prefix"`
	Note    string          `json:"note,omitempty"`
	AddedAt time.Time       `json:"added_at"`
}

// ActorRecords returns the entries of account that actor added — their IDs
// ("surface/list/prefix") and each as a JSON object — so an erasure can
// count and export them (it implements erasure.ActorRefs).
func (f *Filter) ActorRecords(ctx context.Context, account gdprkit.AccountID, actor gdprkit.SubjectID) ([]string, []json.RawMessage, error) {
	if err := account.Validate(); err != nil {
		return nil, nil, err
	}
	rs, err := f.store.Rules(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	var data []json.RawMessage
	for _, sr := range rs.Surfaces {
		for _, l := range []struct {
			list    List
			entries []Entry
		}{{ListAllow, sr.Allow}, {ListDeny, sr.Deny}} {
			for _, e := range l.entries {
				if string(e.AddedBy) != string(actor) {
					continue
				}
				b, err := json.Marshal(actorEntry{Surface: sr.Surface, List: l.list, Prefix: e.Prefix.String(), Note: e.Note, AddedAt: e.AddedAt})
				if err != nil {
					return nil, nil, err
				}
				ids = append(ids, fmt.Sprintf("%s/%s/%s", sr.Surface, l.list, e.Prefix))
				data = append(data, b)
			}
		}
	}
	return ids, data, nil
}

// AnonymizeActor replaces actor by replacement as AddedBy of every entry of
// the account, surface by surface, each a compare-and-set on the account's
// version (retried when another change wins). The rules themselves do not
// change. It is idempotent, returns how many entries changed, and is what
// erasure calls when the admin who added rules is erased (it implements
// erasure.ActorRefs). A replacement equal to actor changes nothing: the
// result is (0, nil), without reading the store.
func (f *Filter) AnonymizeActor(ctx context.Context, account gdprkit.AccountID, actor gdprkit.SubjectID, replacement gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := replacement.Validate(); err != nil {
		return 0, err
	}
	if string(replacement) == string(actor) {
		return 0, nil // nothing would change; the loop below would not end
	}
	changed := 0
	for conflicts := 0; ; {
		rs, err := f.store.Rules(ctx, account)
		if err != nil {
			return changed, err
		}
		var next *SurfaceRules
		n := 0
		for _, sr := range rs.Surfaces {
			allow, a := replaceActor(sr.Allow, actor, replacement)
			deny, d := replaceActor(sr.Deny, actor, replacement)
			if a+d > 0 {
				next, n = &SurfaceRules{Surface: sr.Surface, Allow: allow, Deny: deny}, a+d
				break
			}
		}
		if next == nil {
			if changed > 0 {
				f.Forget(account) // reload the changed rules on the next decision
			}
			return changed, nil
		}
		if _, err := f.store.ReplaceRules(ctx, account, *next, rs.Version); err != nil {
			if errors.Is(err, gdprkit.ErrConflict) && conflicts < 10 {
				conflicts++
				continue
			}
			return changed, err
		}
		changed += n
	}
}

func replaceActor(es []Entry, actor gdprkit.SubjectID, replacement gdprkit.ActorID) ([]Entry, int) {
	out := make([]Entry, len(es))
	n := 0
	for i, e := range es {
		if string(e.AddedBy) == string(actor) {
			e.AddedBy = replacement
			n++
		}
		out[i] = e
	}
	return out, n
}
