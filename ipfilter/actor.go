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
				ids = append(ids, actorEntryID(sr.Surface, l.list, e))
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
	return f.anonymizeActor(ctx, account, actor, replacement, nil)
}

// AnonymizeActorRecords is AnonymizeActor for the entries with the given
// IDs only (as ActorRecords returns them: "surface/list/prefix"): each
// that actor added gets replacement as its AddedBy, and the others — the
// actor's entries not named, and IDs that name no entry of the actor — are
// left as they are. It returns how many entries changed, so an erasure
// that hands it a batch of IDs counts exactly what it anonymised; a
// repeated call changes nothing more. Invalid account or replacement IDs
// fail with gdprkit.ErrInvalid.
func (f *Filter) AnonymizeActorRecords(ctx context.Context, account gdprkit.AccountID, actor gdprkit.SubjectID, ids []string, replacement gdprkit.ActorID) (int, error) {
	if len(ids) == 0 {
		if err := account.Validate(); err != nil {
			return 0, err
		}
		return 0, replacement.Validate()
	}
	only := make(map[string]bool, len(ids))
	for _, id := range ids {
		only[id] = true
	}
	return f.anonymizeActor(ctx, account, actor, replacement, only)
}

// actorEntryID is the ID ActorRecords gives an entry of a surface's list.
func actorEntryID(s gdprkit.Surface, l List, e Entry) string {
	return fmt.Sprintf("%s/%s/%s", s, l, e.Prefix)
}

// anonymizeActor replaces actor by replacement in the entries it added,
// all of them (only nil) or those whose ID only holds.
func (f *Filter) anonymizeActor(ctx context.Context, account gdprkit.AccountID, actor gdprkit.SubjectID, replacement gdprkit.ActorID, only map[string]bool) (int, error) {
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
			allow, a := replaceActor(sr.Surface, ListAllow, sr.Allow, actor, replacement, only)
			deny, d := replaceActor(sr.Surface, ListDeny, sr.Deny, actor, replacement, only)
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

func replaceActor(s gdprkit.Surface, l List, es []Entry, actor gdprkit.SubjectID, replacement gdprkit.ActorID, only map[string]bool) ([]Entry, int) {
	out := make([]Entry, len(es))
	n := 0
	for i, e := range es {
		if string(e.AddedBy) == string(actor) && (only == nil || only[actorEntryID(s, l, e)]) {
			e.AddedBy = replacement
			n++
		}
		out[i] = e
	}
	return out, n
}
