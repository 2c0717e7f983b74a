package memhelpdesk

import (
	"context"
	"slices"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Rectify implements erasure.Rectifier (Art. 16) for the helpdesk's own
// data. The fields it corrects are, by kind: end_user "name" and "email";
// identity "value"; portal_profile "display_name" and "company";
// saved_search "name" and "query". Any other kind or field is Declined.
// A statement (Correction.Text) is added to the user's Statements
// (Supplemented). Records counts the records whose value changed, so a
// call repeated after a crash answers the same outcomes and changes
// nothing more.
func (h *Helpdesk) Rectify(_ context.Context, a gdprkit.AccountID, r erasure.Rectification) ([]erasure.Rectified, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.data(a)
	out := make([]erasure.Rectified, len(r.Items))
	for i, it := range r.Items {
		c := it.Correction
		if c.Text != "" {
			u, ok := d.Users[r.Subject]
			if !ok {
				out[i] = erasure.Rectified{Outcome: erasure.Declined, Ground: "the subject has no profile to add a statement to"}
				continue
			}
			out[i].Outcome = erasure.Supplemented
			if !slices.Contains(u.Statements, c.Text) {
				u.Statements = append(slices.Clone(u.Statements), c.Text)
				d.Users[u.ID] = u
				out[i].Records = 1
			}
			continue
		}
		set := setter(d, c.Kind, c.Field)
		if set == nil {
			out[i] = erasure.Rectified{Outcome: erasure.Declined, Ground: "the field cannot be corrected"}
			continue
		}
		out[i].Outcome = erasure.Corrected
		for _, id := range it.Records {
			if set(id, c.Value) {
				out[i].Records++
			}
		}
	}
	return out, nil
}

// setter returns the function that sets field of a record of kind and
// reports whether it changed, or nil when the field cannot be corrected.
func setter(d *Data, k erasure.Kind, field string) func(id, v string) bool {
	switch {
	case k == erasure.KindEndUser && (field == "name" || field == "email"):
		return func(id, v string) bool {
			u, ok := d.Users[gdprkit.SubjectID(id)]
			if !ok {
				return false
			}
			p := &u.Name
			if field == "email" {
				p = &u.Email
			}
			changed := *p != v
			*p = v
			d.Users[u.ID] = u
			return changed
		}
	case k == erasure.KindIdentity && field == "value":
		return func(id, v string) bool {
			x, ok := d.Identities[id]
			changed := ok && x.Value != v
			if changed {
				x.Value = v
				d.Identities[id] = x
			}
			return changed
		}
	case k == erasure.KindPortalProfile && (field == "display_name" || field == "company"):
		return func(id, v string) bool {
			x, ok := d.Portal[id]
			if !ok {
				return false
			}
			p := &x.DisplayName
			if field == "company" {
				p = &x.Company
			}
			changed := *p != v
			*p = v
			d.Portal[id] = x
			return changed
		}
	case k == erasure.KindSavedSearch && (field == "name" || field == "query"):
		return func(id, v string) bool {
			x, ok := d.Searches[id]
			if !ok {
				return false
			}
			p := &x.Name
			if field == "query" {
				p = &x.Query
			}
			changed := *p != v
			*p = v
			d.Searches[id] = x
			return changed
		}
	}
	return nil
}

var _ erasure.Rectifier = (*Helpdesk)(nil)
