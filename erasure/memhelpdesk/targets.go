package memhelpdesk

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Targets returns the standard helpdesk graph bound to h, with the blob
// target on h.Blobs:
//
//	end_user (every user's profile)            delete
//	├── identity (e-mail, phone, social)       delete
//	├── portal_profile                         delete
//	├── oauth_token                            delete
//	├── session                                delete
//	├── saved_search                           delete
//	└── ticket (requested by the user)         delete (or anonymise)
//	    └── message                            delete (or anonymise)
//	        └── attachment                     delete
//	            └── blob                       delete
//	agent_profile                              delete
//	assigned_ticket (assigned to the agent)    anonymise: reassigned
//	authored_message (written by the user in   anonymise: authorship
//	    others' tickets)
//
// Fields the message target's anonymisation knows: "body" (Keep by
// default; Delete blanks it).
//
// The kinds the subject provided (TargetInfo.Provided, what a portability
// export holds) are end_user, identity, portal_profile, saved_search,
// ticket, message, attachment, blob and authored_message; a ticket's
// messages are one kind, so the replies in the subject's threads go with
// them. Tokens, sessions, agent profiles and assigned tickets do not.
func (h *Helpdesk) Targets() []erasure.Target {
	del := erasure.Rule{Action: erasure.Delete}
	delOnly := []erasure.Action{erasure.Delete}
	both := []erasure.Action{erasure.Delete, erasure.Anonymize}
	userOf := func(q erasure.Query, u gdprkit.SubjectID) bool {
		for _, p := range q.Parents {
			if gdprkit.SubjectID(p) == u {
				return true
			}
		}
		return false
	}
	return []erasure.Target{
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindEndUser, Provided: true, Default: del, Actions: both, Description: "user profile"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				if _, ok := d.Users[q.Subject]; ok {
					emit(string(q.Subject))
				}
			},
			del: func(d *Data, id string) { delete(d.Users, gdprkit.SubjectID(id)) },
			all: func(d *Data) []string { return ids(d.Users) },
			anon: func(d *Data, id string, a erasure.Anon) {
				if u, ok := d.Users[gdprkit.SubjectID(id)]; ok {
					delete(d.Users, u.ID)
					u.ID, u.Name, u.Email = gdprkit.SubjectID(a.Pseudonym), a.Label, ""
					d.Users[u.ID] = u
				}
			},
			export: func(d *Data, id string) any { return lookup(d.Users, gdprkit.SubjectID(id)) }},
		&identityTarget{memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindIdentity, Provided: true, Parent: erasure.KindEndUser, Default: del, Actions: delOnly, Description: "e-mail addresses, phone numbers, social logins"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				for id, x := range d.Identities {
					if userOf(q, x.User) {
						emit(id)
					}
				}
			},
			del:    func(d *Data, id string) { delete(d.Identities, id) },
			all:    func(d *Data) []string { return ids(d.Identities) },
			parent: func(d *Data, id string) (string, bool) { x, ok := d.Identities[id]; return string(x.User), ok },
			export: func(d *Data, id string) any { return lookup(d.Identities, id) }}},
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindPortalProfile, Provided: true, Parent: erasure.KindEndUser, Default: del, Actions: delOnly, Description: "customer-portal profile"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				for id, x := range d.Portal {
					if userOf(q, x.User) {
						emit(id)
					}
				}
			},
			del:    func(d *Data, id string) { delete(d.Portal, id) },
			all:    func(d *Data) []string { return ids(d.Portal) },
			parent: func(d *Data, id string) (string, bool) { x, ok := d.Portal[id]; return string(x.User), ok },
			export: func(d *Data, id string) any { return lookup(d.Portal, id) }},
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindOAuthToken, Parent: erasure.KindEndUser, Default: del, Actions: delOnly, Description: "OAuth tokens"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				for id, x := range d.Tokens {
					if userOf(q, x.User) {
						emit(id)
					}
				}
			},
			del:    func(d *Data, id string) { delete(d.Tokens, id) },
			all:    func(d *Data) []string { return ids(d.Tokens) },
			parent: func(d *Data, id string) (string, bool) { x, ok := d.Tokens[id]; return string(x.User), ok },
			export: func(d *Data, id string) any {
				t, ok := d.Tokens[id]
				if !ok {
					return nil
				}
				t.Token = "(secret, not exported)"
				return t
			}},
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindSession, Parent: erasure.KindEndUser, Default: del, Actions: delOnly, Description: "login sessions"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				for id, x := range d.Sessions {
					if userOf(q, x.User) {
						emit(id)
					}
				}
			},
			del:    func(d *Data, id string) { delete(d.Sessions, id) },
			all:    func(d *Data) []string { return ids(d.Sessions) },
			parent: func(d *Data, id string) (string, bool) { x, ok := d.Sessions[id]; return string(x.User), ok },
			export: func(d *Data, id string) any { return lookup(d.Sessions, id) }},
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindSavedSearch, Provided: true, Parent: erasure.KindEndUser, Default: del, Actions: delOnly, Description: "saved searches"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				for id, x := range d.Searches {
					if userOf(q, x.User) {
						emit(id)
					}
				}
			},
			del:    func(d *Data, id string) { delete(d.Searches, id) },
			all:    func(d *Data) []string { return ids(d.Searches) },
			parent: func(d *Data, id string) (string, bool) { x, ok := d.Searches[id]; return string(x.User), ok },
			export: func(d *Data, id string) any { return lookup(d.Searches, id) }},
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindTicket, Provided: true, Parent: erasure.KindEndUser, Default: del, Actions: both, Description: "tickets the user requested, trashed ones included", Records: "tickets"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				for id, x := range d.Tickets {
					if userOf(q, x.Requester) {
						emit(id)
					}
				}
			},
			del: func(d *Data, id string) { delete(d.Tickets, id) },
			all: func(d *Data) []string { return ids(d.Tickets) },
			anon: func(d *Data, id string, a erasure.Anon) {
				if t, ok := d.Tickets[id]; ok {
					t.Requester, t.RequesterName = "", a.Label
					d.Tickets[id] = t
				}
			},
			export: func(d *Data, id string) any { return lookup(d.Tickets, id) },
			parent: func(d *Data, id string) (string, bool) {
				t, ok := d.Tickets[id]
				return string(t.Requester), ok && t.Requester != ""
			},
			created: func(d *Data, id string) (time.Time, bool) { x, ok := d.Tickets[id]; return x.CreatedAt, ok }},
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindMessage, Provided: true, Parent: erasure.KindTicket, Default: del, Actions: both, Description: "messages of those tickets", Records: "messages"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				set := toSet(q.Parents)
				for id, x := range d.Messages {
					if set[x.Ticket] {
						emit(id)
					}
				}
			},
			del:    func(d *Data, id string) { delete(d.Messages, id) },
			all:    func(d *Data) []string { return ids(d.Messages) },
			anon:   anonMessage,
			export: func(d *Data, id string) any { return lookup(d.Messages, id) },
			parent: func(d *Data, id string) (string, bool) {
				m, ok := d.Messages[id]
				return m.Ticket, ok
			},
			created: func(d *Data, id string) (time.Time, bool) { x, ok := d.Messages[id]; return x.CreatedAt, ok }},
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindAttachment, Provided: true, Parent: erasure.KindMessage, Default: del, Actions: delOnly, Description: "attachments and inline images"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				set := toSet(q.Parents)
				for id, x := range d.Attachments {
					if set[x.Message] {
						emit(id)
					}
				}
			},
			del:    func(d *Data, id string) { delete(d.Attachments, id) },
			all:    func(d *Data) []string { return ids(d.Attachments) },
			export: func(d *Data, id string) any { return lookup(d.Attachments, id) },
			parent: func(d *Data, id string) (string, bool) {
				x, ok := d.Attachments[id]
				return x.Message, ok
			},
			created: func(d *Data, id string) (time.Time, bool) { x, ok := d.Attachments[id]; return x.CreatedAt, ok }},
		erasure.MarkProvided(erasure.BlobTarget(erasure.KindBlob, erasure.KindAttachment, h, h.Blobs)),
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindAgentProfile, Default: del, Actions: delOnly, Description: "agent profile: signature, groups"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				for id, x := range d.Agents {
					if x.User == q.Subject {
						emit(id)
					}
				}
			},
			del:    func(d *Data, id string) { delete(d.Agents, id) },
			all:    func(d *Data) []string { return ids(d.Agents) },
			export: func(d *Data, id string) any { return lookup(d.Agents, id) }},
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindAssignedTicket, Default: erasure.Rule{Action: erasure.Anonymize},
			Actions: []erasure.Action{erasure.Anonymize}, Description: "tickets assigned to the agent: open ones reassigned, closed ones unlinked", Records: "tickets"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				for id, x := range d.Tickets {
					if x.Assignee == q.Subject {
						emit(id)
					}
				}
			},
			anon: func(d *Data, id string, a erasure.Anon) {
				t, ok := d.Tickets[id]
				if !ok || t.Assignee != a.Subject {
					return
				}
				if t.Open {
					t.Assignee, t.AssigneeName = a.ReassignTo, ""
					if u, ok := d.Users[a.ReassignTo]; ok {
						t.AssigneeName = u.Name
					}
				} else {
					t.Assignee, t.AssigneeName = "", a.Label
				}
				d.Tickets[id] = t
			},
			export: func(d *Data, id string) any { return lookup(d.Tickets, id) }},
		&memTarget{h: h, info: erasure.TargetInfo{Kind: erasure.KindAuthoredMessage, Provided: true, Default: erasure.Rule{Action: erasure.Anonymize},
			Actions: both, Description: "messages the user wrote in other people's tickets: authorship anonymised", Records: "messages"},
			find: func(d *Data, q erasure.Query, emit func(string)) {
				for id, x := range d.Messages {
					if x.Author == q.Subject {
						emit(id)
					}
				}
			},
			del:    func(d *Data, id string) { delete(d.Messages, id) },
			anon:   anonMessage,
			export: func(d *Data, id string) any { return lookup(d.Messages, id) }},
	}
}

func anonMessage(d *Data, id string, a erasure.Anon) {
	m, ok := d.Messages[id]
	if !ok {
		return
	}
	if m.Author == a.Subject {
		m.Author, m.AuthorName = "", a.Label
	}
	if a.Fields["body"] == erasure.Delete {
		m.Body = ""
	}
	d.Messages[id] = m
}

func lookup[K comparable, V any](m map[K]V, k K) any {
	v, ok := m[k]
	if !ok {
		return nil
	}
	return v
}

// memTarget is a target over one map of Data.
type memTarget struct {
	erasure.Base
	h      *Helpdesk
	info   erasure.TargetInfo
	find   func(d *Data, q erasure.Query, emit func(string))
	del    func(d *Data, id string)
	anon   func(d *Data, id string, a erasure.Anon)
	export func(d *Data, id string) any
	// parent, for child kinds, returns the ID of a record's parent.
	parent func(d *Data, id string) (string, bool)
	// all lists every record of the account, for account deletion; nil
	// for kinds that reach records another kind owns.
	all func(d *Data) []string
	// created, for kinds that Locate (tickets, messages, attachments),
	// returns when a record was created.
	created func(d *Data, id string) (time.Time, bool)
}

// ParentsOf implements erasure.Target (Caps.Parents).
func (t *memTarget) ParentsOf(_ context.Context, a gdprkit.AccountID, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if t.parent == nil {
		return out, nil
	}
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	d := t.h.data(a)
	for _, id := range ids {
		if p, ok := t.parent(d, id); ok {
			out[id] = p
		}
	}
	return out, nil
}

func (t *memTarget) Info() erasure.TargetInfo {
	info := t.info
	info.Caps.Parents = t.parent != nil
	info.Caps.EraseAccount = t.all != nil
	info.Caps.Locate = t.created != nil && t.all != nil
	return info
}

func (t *memTarget) Find(_ context.Context, a gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	t.h.mu.Lock()
	var ids []string
	emit := func(id string) {
		if id > q.After {
			ids = append(ids, id)
		}
	}
	if q.All {
		if t.all != nil {
			for _, id := range t.all(t.h.data(a)) {
				emit(id)
			}
		}
	} else {
		t.find(t.h.data(a), q, emit)
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

// Delete implements erasure.Target: it counts the records that were
// there.
func (t *memTarget) Delete(_ context.Context, a gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) (erasure.Change, error) {
	if t.del == nil {
		return erasure.Change{}, erasure.ErrUnsupported
	}
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	d := t.h.data(a)
	var n int64
	for _, r := range refs {
		if t.export(d, r.ID) != nil {
			n++
		}
		t.del(d, r.ID)
	}
	return erasure.Change{Records: n}, nil
}

// Anonymize implements erasure.Target: it counts the records it changed.
func (t *memTarget) Anonymize(_ context.Context, a gdprkit.AccountID, refs []erasure.Ref, an erasure.Anon) (erasure.Change, error) {
	if t.anon == nil {
		return erasure.Change{}, erasure.ErrUnsupported
	}
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	d := t.h.data(a)
	var n int64
	for _, r := range refs {
		before, _ := json.Marshal(t.export(d, r.ID))
		t.anon(d, r.ID, an)
		after, _ := json.Marshal(t.export(d, r.ID))
		if string(before) != string(after) {
			n++
		}
	}
	return erasure.Change{Records: n}, nil
}

// EraseAccount implements erasure.Target (Caps.EraseAccount): every
// record of the kind in the account goes.
func (t *memTarget) EraseAccount(_ context.Context, a gdprkit.AccountID) (erasure.Change, error) {
	if t.all == nil {
		return erasure.Change{}, erasure.ErrUnsupported
	}
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	d := t.h.data(a)
	ids := t.all(d)
	for _, id := range ids {
		t.del(d, id)
	}
	return erasure.Change{Records: int64(len(ids))}, nil
}

func (t *memTarget) Export(_ context.Context, a gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	d := t.h.data(a)
	var out []json.RawMessage
	for _, r := range refs {
		v := t.export(d, r.ID)
		if v == nil {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// identityTarget also lists identifiers for tombstones.
type identityTarget struct{ memTarget }

// Info implements erasure.Target: identities list their identifiers.
func (t *identityTarget) Info() erasure.TargetInfo {
	info := t.memTarget.Info()
	info.Caps.Identifiers = true
	return info
}

func (t *identityTarget) Identifiers(_ context.Context, a gdprkit.AccountID, refs []erasure.Ref) ([]erasure.Identifier, error) {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	d := t.h.data(a)
	var out []erasure.Identifier
	for _, r := range refs {
		if x, ok := d.Identities[r.ID]; ok {
			out = append(out, erasure.Identifier{Kind: x.Kind, Value: x.Value})
		}
	}
	return out, nil
}

func ids[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}
