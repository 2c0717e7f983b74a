package staffaccess

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gdprkit/gdprkit"
)

// TrailQuery narrows what Trail lists; the zero value lists everything.
type TrailQuery struct {
	// Since and Until bound the accesses listed by time (zero: unbounded;
	// Until is exclusive).
	Since, Until time.Time
	// Staff keeps only this staff member's accesses ("" for all).
	Staff gdprkit.ActorID
}

// Access is one access as the account reads it: who saw what, when, under
// which grant, and who approved that grant.
type Access struct {
	// Seq is the access's position in the trail.
	Seq int64 `json:"seq"`
	// At is when.
	At time.Time `json:"at"`
	// Staff is who.
	Staff gdprkit.ActorID `json:"staff"`
	// What is what was seen.
	What string `json:"what"`
	// Grant is the grant used.
	Grant string `json:"grant"`
	// Purpose is its purpose.
	Purpose string `json:"purpose"`
	// ApprovedBy is who in the account approved the grant.
	ApprovedBy gdprkit.ActorID `json:"approved_by"`
	// ApprovedRole is their role then.
	ApprovedRole string `json:"approved_role"`
	// ApprovedAt is when they approved it.
	ApprovedAt time.Time `json:"approved_at"`
}

// Trail answers "show me who at the vendor saw this customer's data and
// who approved it" in one value.
type Trail struct {
	// Account is the account the trail is of.
	Account gdprkit.AccountID `json:"account"`
	// GeneratedAt is when it was produced.
	GeneratedAt time.Time `json:"generated_at"`
	// Grants are every grant of the account, newest request first, with
	// their status at GeneratedAt (expired ones shown as expired).
	Grants []Grant `json:"grants"`
	// Accesses are the accesses the query selects, oldest first.
	Accesses []Access `json:"accesses"`
	// Verification is the result of checking the trail and the grants
	// against it; when it is not OK the lists above may not be what was
	// recorded.
	Verification Verification `json:"verification"`
}

// Trail returns the account's grants, the accesses q selects (each with the
// grant's purpose and approver, as the trail recorded them when the access
// happened) and the verification of the trail, in one call. A trail that
// does not verify is reported in Verification, not as an error.
func (s *Service) Trail(ctx context.Context, account gdprkit.AccountID, q TrailQuery) (Trail, error) {
	if err := account.Validate(); err != nil {
		return Trail{}, err
	}
	now := s.now()
	v, es, err := s.walk(ctx, account)
	if err != nil {
		return Trail{}, err
	}
	gs, err := s.store.Grants(ctx, account, "")
	if err != nil {
		return Trail{}, err
	}
	for i := range gs {
		gs[i].Status = gs[i].StatusAt(now)
	}
	t := Trail{Account: account, GeneratedAt: now, Grants: gs, Accesses: []Access{}, Verification: v}
	// The grant as the trail last recorded it before each access.
	state := map[string]Grant{}
	for _, e := range es {
		if e.Type != EntryAccess {
			var g Grant
			if json.Unmarshal(e.Data, &g) == nil {
				state[e.Grant] = g
			}
			continue
		}
		if (!q.Since.IsZero() && e.At.Before(q.Since)) || (!q.Until.IsZero() && !e.At.Before(q.Until)) || (q.Staff != "" && e.Actor != q.Staff) {
			continue
		}
		g := state[e.Grant]
		t.Accesses = append(t.Accesses, Access{Seq: e.Seq, At: e.At, Staff: e.Actor, What: e.What, Grant: e.Grant, Purpose: g.Purpose,
			ApprovedBy: g.DecidedBy, ApprovedRole: g.DecidedRole, ApprovedAt: g.DecidedAt})
	}
	return t, nil
}
