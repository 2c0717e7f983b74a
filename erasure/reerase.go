package erasure

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// subjectTombstone is the tombstone kind that records a completed erasure
// of scope: "subject" for a full one, "subject:portal" for a portal one,
// so that ReErase repeats what was done and no more.
func subjectTombstone(sc Scope) string {
	if sc == ScopePortal {
		return "subject:portal"
	}
	return "subject"
}

// ReErase files a verified erasure request, by the system actor
// "system:restore", for every user the directory lists whose pseudonym has
// a subject tombstone dated at or after since: after a backup taken at
// since is restored, one call erases again everyone erased since, in the
// scope they were erased in (a portal-only erasure is repeated portal-only;
// a full one, or both, fully). Role checks do not apply (those people were
// already erased once); the owner is skipped. It returns the requests
// filed; workers carry them out.
func (s *Service) ReErase(ctx context.Context, account gdprkit.AccountID, since time.Time) ([]Request, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	ts, err := s.store.Tombstones(ctx, account, since.UTC())
	if err != nil {
		return nil, err
	}
	dead := map[gdprkit.Pseudonym]Scope{}
	for _, t := range ts {
		switch t.Kind {
		case subjectTombstone(ScopeFull):
			dead[t.Pseudonym] = ScopeFull
		case subjectTombstone(ScopePortal):
			if dead[t.Pseudonym] == "" {
				dead[t.Pseudonym] = ScopePortal
			}
		}
	}
	var out []Request
	if len(dead) == 0 {
		return nil, nil
	}
	rules, err := s.rules(nil)
	if err != nil {
		return nil, err
	}
	reassignKey, err := s.reassignee(ctx, account, s.cfg.ReassignTo, "")
	if err != nil {
		return nil, err
	}
	cursor := ""
	for {
		ids, next, err := s.cfg.Directory.Subjects(ctx, account, cursor, 500)
		if err != nil {
			return out, err
		}
		for _, id := range ids {
			ps := s.cfg.Pseudonymizer.Subject(account, id)
			scope := dead[ps]
			if scope == "" {
				continue
			}
			sub, known, err := s.lookup(ctx, account, id)
			if err != nil || !known || sub.Role == gdprkit.RoleOwner {
				continue
			}
			now := s.now()
			r := Request{ID: gdprkit.NewID(), Type: TypeErasure, Subject: id, SubjectPS: ps, SubjectRole: sub.Role, Scope: scope,
				RequestedBy: "system:restore", ReceivedAt: now, Verified: true, VerifiedAt: now, DueAt: DueDate(now, 0), Status: StatusOpen}
			st := &jobState{Rules: rules, ReassignTo: s.cfg.ReassignTo, ReassignKey: reassignKey, Scope: scope, Class: sub.Class, Key: sub.Key, Keys: sub.Keys}
			if st.Key == id {
				st.Key = ""
			}
			body, err := json.Marshal(st)
			if err != nil {
				return out, err
			}
			job := &Job{ID: gdprkit.NewID(), Account: account, RequestID: r.ID, Status: JobQueued, NextRunAt: now, State: body, CreatedAt: now, UpdatedAt: now}
			r.JobID = job.ID
			if err := s.store.CreateRequest(ctx, account, r, job); err != nil {
				return out, err
			}
			out = append(out, r)
		}
		if next == "" || len(ids) == 0 {
			break
		}
		cursor = next
	}
	s.emit(ctx, account, "erasure.re_erased", "system:restore", "", map[string]string{"requests": strconv.Itoa(len(out)), "since": since.UTC().Format(time.RFC3339)})
	return out, nil
}
