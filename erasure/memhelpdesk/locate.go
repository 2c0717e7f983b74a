package memhelpdesk

import (
	"context"
	"sort"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Locate implements erasure.Target (Caps.Locate) for tickets, messages
// and attachments: the account's records whose CreatedAt lies in the
// query's period, in ID order. A record without a CreatedAt (zero) is
// found only by a query with no bound.
func (t *memTarget) Locate(ctx context.Context, a gdprkit.AccountID, q erasure.LocateQuery) ([]erasure.Ref, error) {
	if t.created == nil || t.all == nil {
		return nil, erasure.ErrUnsupported
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	t.h.mu.Lock()
	d := t.h.data(a)
	var ids []string
	for _, id := range t.all(d) {
		if id <= q.After {
			continue
		}
		if at, ok := t.created(d, id); ok && (at.IsZero() && q.From.IsZero() && q.Until.IsZero() || !at.IsZero() && q.Contains(at)) {
			ids = append(ids, id)
		}
	}
	t.h.mu.Unlock()
	sort.Strings(ids)
	if len(ids) > q.Limit {
		ids = ids[:q.Limit]
	}
	out := make([]erasure.Ref, len(ids))
	for i, id := range ids {
		out[i] = erasure.Ref{ID: id}
	}
	return out, nil
}
