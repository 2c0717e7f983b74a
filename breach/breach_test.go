package breach_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	key = []byte("breach-test-key-0123456789abcdef")
)

// sent records what a notifier was asked to send, by idempotency key.
type sent struct {
	mu   sync.Mutex
	msgs map[string][]breach.Message
	fail func(m breach.Message) error
}

func (s *sent) Send(_ context.Context, m breach.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.msgs == nil {
		s.msgs = map[string][]breach.Message{}
	}
	s.msgs[m.IdempotencyKey] = append(s.msgs[m.IdempotencyKey], m)
	if s.fail != nil {
		if err := s.fail(m); err != nil {
			return "", err
		}
	}
	return "ref-" + string(m.Notice.To), nil
}

func (s *sent) count(to breach.Audience) (n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ms := range s.msgs {
		if ms[0].Notice.To == to {
			n += len(ms)
		}
	}
	return n
}

type fixture struct {
	svc   *breach.Service
	st    breach.Store
	clock *fakeclock.Clock
	out   *sent
	audit *gdprkit.MemoryAudit
	found []gdprkit.SubjectID
	asked []breach.Criteria
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: memstore.New().Breach(), clock: fakeclock.New(t0), out: &sent{}, audit: &gdprkit.MemoryAudit{}}
	ps, err := gdprkit.NewPseudonymizer(key)
	require.NoError(t, err)
	f.svc, err = breach.New(breach.Config{Store: f.st, Pseudonymizer: ps, Clock: f.clock, Notifier: f.out, Audit: f.audit,
		Authority: "Test DPA",
		Finder: breach.FinderFunc(func(_ context.Context, _ gdprkit.AccountID, c breach.Criteria) ([]gdprkit.SubjectID, error) {
			f.asked = append(f.asked, c)
			return f.found, nil
		})})
	require.NoError(t, err)
	return f
}

func report() breach.Report {
	return breach.Report{
		Title: "Attachment bucket public", Nature: "A storage bucket holding attachments was readable without authentication.",
		Types: []breach.Type{breach.Confidentiality}, OccurredAt: t0.Add(-48 * time.Hour), OccurredUntil: t0.Add(-2 * time.Hour),
		AwareAt: t0.Add(-time.Hour), DataCategories: []string{"attachments", "email"}, SubjectCategories: []string{"customers"},
		Kinds: []string{"attachment"}, ApproxSubjects: 10, ApproxRecords: 120, Consequences: "Documents may have been read.",
		MeasuresTaken: "Bucket made private; keys rotated.", HighRisk: true,
		DPO: breach.Contact{Name: "Dana Privacy", Email: "dpo@acme.test"}, By: "admin-1",
	}
}

func TestRecordValidatesAndStoresNothingOnBadInput(t *testing.T) {
	f := newFixture(t)
	for name, mod := range map[string]func(*breach.Report){
		"no title":                    func(r *breach.Report) { r.Title = " " },
		"no nature":                   func(r *breach.Report) { r.Nature = "" },
		"no actor":                    func(r *breach.Report) { r.By = "" },
		"aware before it occurred":    func(r *breach.Report) { r.AwareAt = r.OccurredAt.Add(-time.Second) },
		"aware in the future":         func(r *breach.Report) { r.AwareAt = t0.Add(time.Minute) },
		"ends before it began":        func(r *breach.Report) { r.OccurredUntil = r.OccurredAt.Add(-time.Second) },
		"unknown type":                func(r *breach.Report) { r.Types = []breach.Type{"leak"} },
		"negative count":              func(r *breach.Report) { r.ApproxRecords = -1 },
		"control character":           func(r *breach.Report) { r.Title = "a\x00b" },
		"no occurrence time":          func(r *breach.Report) { r.OccurredAt = time.Time{} },
		"empty data category":         func(r *breach.Report) { r.DataCategories = []string{""} },
		"oversized nature":            func(r *breach.Report) { r.Nature = string(make([]byte, breach.MaxText+1)) },
		"too many subject categories": func(r *breach.Report) { r.SubjectCategories = make([]string, breach.MaxItems+1) },
	} {
		t.Run(name, func(t *testing.T) {
			r := report()
			mod(&r)
			_, err := f.svc.Record(ctx, "acme", r)
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
		})
	}
	_, err := f.svc.Record(ctx, "acme ", report())
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "padded account")
	bs, err := f.svc.Breaches(ctx, "acme")
	require.NoError(t, err)
	assert.Empty(t, bs)
	h, err := f.st.Head(ctx, "acme")
	require.NoError(t, err)
	assert.Zero(t, h.Seq, "no history entry either")
}

func TestRecordSetsTheDeadlineFromAwareness(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	assert.Equal(t, breach.StateOpen, b.State)
	assert.True(t, b.Deadline.Equal(t0.Add(71*time.Hour)), "72 hours after AwareAt, which was an hour ago")
	assert.Equal(t, "Test DPA", b.Authority, "the configured authority by default")
	assert.EqualValues(t, 1, b.Version)
	got, err := f.svc.Breach(ctx, "acme", b.ID)
	require.NoError(t, err)
	assert.Equal(t, b.Title, got.Title)
	_, err = f.svc.Breach(ctx, "other", b.ID)
	require.ErrorIs(t, err, gdprkit.ErrNotFound, "another account cannot read it")
	require.Len(t, f.audit.OfType(breach.EventRecorded), 1)
}

func TestIncidentAcrossAccountsIsOneBreachPerAccountAndRetryable(t *testing.T) {
	f := newFixture(t)
	r := report()
	r.Incident = "INC-7"
	bs, err := f.svc.RecordIncident(ctx, []gdprkit.AccountID{"acme", "globex"}, r)
	require.NoError(t, err)
	require.Len(t, bs, 2)
	assert.NotEqual(t, bs[0].ID, bs[1].ID)
	assert.Equal(t, gdprkit.AccountID("globex"), bs[1].Account)
	again, err := f.svc.RecordIncident(ctx, []gdprkit.AccountID{"acme", "globex", "initech"}, r)
	require.NoError(t, err, "a retry keeps what exists")
	require.Len(t, again, 3)
	assert.Equal(t, bs[0].ID, again[0].ID)
	assert.Equal(t, bs[1].ID, again[1].ID)
	_, err = f.svc.Record(ctx, "acme", r)
	require.ErrorIs(t, err, gdprkit.ErrConflict, "one breach per incident per account")
	r.Incident = ""
	_, err = f.svc.RecordIncident(ctx, []gdprkit.AccountID{"acme"}, r)
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
}

func TestFindSubjectsStoresPseudonymsOnceEach(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	f.found = []gdprkit.SubjectID{"ana", "bob", "ana"}
	n, err := f.svc.FindSubjects(ctx, "acme", b.ID, breach.Criteria{Where: "bucket-a"}, "admin-1")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	require.Len(t, f.asked, 1)
	assert.Equal(t, []string{"attachment"}, f.asked[0].Kinds, "the breach's kinds by default")
	assert.True(t, f.asked[0].From.Equal(b.OccurredAt), "the breach's window by default")
	assert.True(t, f.asked[0].Until.Equal(b.OccurredUntil))
	assert.Equal(t, "bucket-a", f.asked[0].Where)

	f.found = []gdprkit.SubjectID{"bob", "cy"}
	n, err = f.svc.FindSubjects(ctx, "acme", b.ID, breach.Criteria{Kinds: []string{"message"}}, "admin-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "bob was found before")
	ps, err := f.svc.Subjects(ctx, "acme", b.ID, "", 0)
	require.NoError(t, err)
	require.Len(t, ps, 3)
	p, _ := gdprkit.NewPseudonymizer(key)
	assert.Contains(t, ps, p.Subject("acme", "ana"), "stored as the account's keyed pseudonym")
	for _, x := range ps {
		assert.NotContains(t, []gdprkit.Pseudonym{"ana", "bob", "cy"}, x, "never the raw ID")
	}
	got, _ := f.svc.Breach(ctx, "acme", b.ID)
	assert.EqualValues(t, 3, got.SubjectsFound)
	assert.EqualValues(t, 10, got.ApproxSubjects, "the estimate stays when above the count")

	f.found = []gdprkit.SubjectID{"bad\x00id"}
	_, err = f.svc.FindSubjects(ctx, "acme", b.ID, breach.Criteria{}, "admin-1")
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = f.svc.FindSubjects(ctx, "acme", "nope", breach.Criteria{}, "admin-1")
	require.ErrorIs(t, err, gdprkit.ErrNotFound)
}

func TestNotifyingAfterTheDeadlineNeedsAReason(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	f.clock.Advance(71*time.Hour + time.Second) // one second past the deadline
	_, err = f.svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Authority: true, By: "admin-1"})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	ns, _ := f.svc.Notices(ctx, "acme", b.ID)
	assert.Empty(t, ns, "nothing queued")

	q, err := f.svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Authority: true, DelayReason: "Forensics needed to scope the breach.", By: "admin-1"})
	require.NoError(t, err)
	assert.Equal(t, 1, q.Authority)
	runs, errs := f.svc.RunUntilIdle(ctx, "w1")
	require.Empty(t, errs)
	assert.Equal(t, 1, runs)
	got, _ := f.svc.Breach(ctx, "acme", b.ID)
	assert.Equal(t, breach.StateNotified, got.State)
	assert.True(t, got.AuthorityNotifiedAt.Equal(f.clock.Now()))
	assert.Equal(t, "Forensics needed to scope the breach.", got.DelayReason)
	form, err := f.svc.Form(ctx, "acme", b.ID)
	require.NoError(t, err)
	assert.True(t, form.Late)
	assert.Equal(t, got.DelayReason, form.DelayReason)
}

func TestNotifyQueuesDurablyAndWorkersSendEachOnce(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	f.found = []gdprkit.SubjectID{"ana", "bob", "cy"}
	_, err = f.svc.FindSubjects(ctx, "acme", b.ID, breach.Criteria{}, "admin-1")
	require.NoError(t, err)
	q, err := f.svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Authority: true, DPO: true, Subjects: true, By: "admin-1"})
	require.NoError(t, err)
	assert.Equal(t, breach.Queued{Authority: 1, DPO: 1, Subjects: 3}, q)

	_, err = f.svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Authority: true, By: "admin-1"})
	require.ErrorIs(t, err, gdprkit.ErrConflict, "the authority's notice is queued once")
	q, err = f.svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Subjects: true, By: "admin-1"})
	require.NoError(t, err)
	assert.Zero(t, q.Subjects, "every subject has a notice already")

	// Nothing is sent before a worker runs: the outbox is durable.
	assert.Zero(t, f.out.count(breach.ToAuthority))
	ns, _ := f.svc.Notices(ctx, "acme", b.ID)
	require.Len(t, ns, 5)
	for _, n := range ns {
		assert.Equal(t, breach.NoticePending, n.State)
	}

	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); f.svc.RunUntilIdle(ctx, fmt.Sprintf("w%d", i)) }()
	}
	wg.Wait()
	assert.Equal(t, 1, f.out.count(breach.ToAuthority))
	assert.Equal(t, 1, f.out.count(breach.ToDPO))
	assert.Equal(t, 3, f.out.count(breach.ToSubject))
	for k, ms := range f.out.msgs {
		assert.Len(t, ms, 1, "notice %s sent once", k)
		assert.Equal(t, k, ms[0].Notice.ID, "the idempotency key is the notice ID")
		assert.Equal(t, "Dana Privacy", ms[0].Form.DPO.Name)
	}
	ns, _ = f.svc.Notices(ctx, "acme", b.ID)
	for _, n := range ns {
		assert.Equal(t, breach.NoticeSent, n.State)
		assert.Equal(t, "ref-"+string(n.To), n.Reference)
		assert.Equal(t, 1, n.Attempts)
	}

	// A subject found later needs its own notice.
	f.found = []gdprkit.SubjectID{"dee"}
	_, err = f.svc.FindSubjects(ctx, "acme", b.ID, breach.Criteria{}, "admin-1")
	require.NoError(t, err)
	q, err = f.svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Subjects: true, By: "admin-1"})
	require.NoError(t, err)
	assert.Equal(t, 1, q.Subjects)

	reg, err := f.svc.Register(ctx, "acme")
	require.NoError(t, err)
	require.True(t, reg.Verification.OK, reg.Verification.Problem)
	require.Len(t, reg.Breaches, 1)
	e := reg.Breaches[0]
	assert.Equal(t, 1, e.Authority.Sent)
	assert.Equal(t, []string{"ref-authority"}, e.Authority.References)
	assert.Equal(t, 3, e.Subjects.Sent)
	assert.Equal(t, 1, e.Subjects.Pending)
	assert.Contains(t, e.Outstanding, "high risk: 1 affected subjects not yet told")
	assert.False(t, e.Late)
}

func TestTransientFailuresRetryAndPermanentOnesFail(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	f.found = []gdprkit.SubjectID{"gone"}
	_, err = f.svc.FindSubjects(ctx, "acme", b.ID, breach.Criteria{}, "admin-1")
	require.NoError(t, err)
	down := true
	f.out.fail = func(m breach.Message) error {
		switch {
		case m.Notice.To == breach.ToSubject:
			return fmt.Errorf("subject erased: %w", gdprkit.ErrNotFound)
		case down:
			return fmt.Errorf("portal down: %w", gdprkit.ErrUnavailable)
		}
		return nil
	}
	_, err = f.svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Authority: true, Subjects: true, By: "admin-1"})
	require.NoError(t, err)
	runs, errs := f.svc.RunUntilIdle(ctx, "w")
	assert.Equal(t, 2, runs)
	require.Len(t, errs, 2)
	ns, _ := f.svc.Notices(ctx, "acme", b.ID)
	for _, n := range ns {
		if n.To == breach.ToSubject {
			assert.Equal(t, breach.NoticeFailed, n.State, "a permanent error fails at once")
		} else {
			assert.Equal(t, breach.NoticePending, n.State)
			assert.True(t, n.NextAt.Equal(t0.Add(time.Second)), "retried after a backoff")
			assert.Contains(t, n.LastError, "portal down")
		}
	}
	runs, _ = f.svc.RunUntilIdle(ctx, "w")
	assert.Zero(t, runs, "not before the backoff")
	down = false
	f.clock.Advance(time.Second)
	runs, errs = f.svc.RunUntilIdle(ctx, "w")
	assert.Equal(t, 1, runs)
	assert.Empty(t, errs)
	got, _ := f.svc.Breach(ctx, "acme", b.ID)
	assert.Equal(t, breach.StateNotified, got.State)
	reg, err := f.svc.Register(ctx, "acme")
	require.NoError(t, err)
	assert.True(t, reg.Verification.OK, reg.Verification.Problem)
	assert.Equal(t, 1, reg.Breaches[0].Subjects.Failed)
}

func TestAFailedAuthorityNoticeCanBeAskedForAgain(t *testing.T) {
	f := newFixture(t)
	ps, _ := gdprkit.NewPseudonymizer(key)
	svc, err := breach.New(breach.Config{Store: f.st, Pseudonymizer: ps, Clock: f.clock, MaxAttempts: 2,
		Notifier: breach.NotifierFunc(func(context.Context, breach.Message) (string, error) { return "", errors.New("timeout") })})
	require.NoError(t, err)
	b, err := svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	_, err = svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Authority: true, By: "admin-1"})
	require.NoError(t, err)
	svc.RunUntilIdle(ctx, "w")
	f.clock.Advance(time.Minute)
	svc.RunUntilIdle(ctx, "w")
	ns, _ := svc.Notices(ctx, "acme", b.ID)
	require.Len(t, ns, 1)
	assert.Equal(t, breach.NoticeFailed, ns[0].State, "failed after MaxAttempts")
	assert.Equal(t, 2, ns[0].Attempts)
	got, _ := svc.Breach(ctx, "acme", b.ID)
	assert.Equal(t, breach.StateOpen, got.State)
	assert.Empty(t, got.AuthorityNotice)
	_, err = svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Authority: true, By: "admin-1"})
	require.NoError(t, err, "a failed notice can be asked for again")
}

func TestACrashedWorkersNoticeIsResentWithTheSameKey(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	_, err = f.svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Authority: true, By: "admin-1"})
	require.NoError(t, err)
	// Worker A claims the notice and dies before settling it.
	n, err := f.st.ClaimNotice(ctx, f.clock.Now(), "A", "token-a", f.clock.Now().Add(breach.DefaultLease))
	require.NoError(t, err)
	runs, _ := f.svc.RunUntilIdle(ctx, "B")
	assert.Zero(t, runs, "B does not take a notice under a live lease")
	f.clock.Advance(breach.DefaultLease)
	runs, errs := f.svc.RunUntilIdle(ctx, "B")
	require.Empty(t, errs)
	assert.Equal(t, 1, runs, "B takes it over when the lease ends")
	require.Len(t, f.out.msgs[n.ID], 1)
	assert.Equal(t, n.ID, f.out.msgs[n.ID][0].IdempotencyKey)
	// A comes back and tries to record its own outcome: refused.
	_, err = f.st.Mutate(ctx, "acme", b.ID, func(breach.Breach, bool) (breach.Write, error) {
		done := n
		done.State = breach.NoticeSent
		return breach.Write{Settle: &done, Token: "token-a"}, nil
	}, func(breach.Head, *breach.Entry) error { return nil })
	require.ErrorIs(t, err, gdprkit.ErrLeaseLost)
}

func TestCloseNeedsAReasonWhenTheAuthorityWasNotNotified(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	_, err = f.svc.Close(ctx, "acme", b.ID, "", "admin-1")
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	c, err := f.svc.Close(ctx, "acme", b.ID, "Encrypted at rest; unlikely to result in a risk.", "admin-1")
	require.NoError(t, err)
	assert.Equal(t, breach.StateClosed, c.State)
	_, err = f.svc.Close(ctx, "acme", b.ID, "again", "admin-1")
	require.ErrorIs(t, err, gdprkit.ErrConflict)
	r := report()
	_, err = f.svc.Update(ctx, "acme", b.ID, r)
	require.ErrorIs(t, err, gdprkit.ErrConflict, "a closed breach is not edited")
	_, err = f.svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{DPO: true, By: "admin-1"})
	require.ErrorIs(t, err, gdprkit.ErrConflict)
}

func TestUpdateKeepsTheIncidentAndEveryVersionInTheHistory(t *testing.T) {
	f := newFixture(t)
	r := report()
	r.Incident = "INC-1"
	b, err := f.svc.Record(ctx, "acme", r)
	require.NoError(t, err)
	r.Incident = "INC-2"
	r.MeasuresProposed = "Move to signed URLs."
	r.AwareAt = t0.Add(-2 * time.Hour)
	u, err := f.svc.Update(ctx, "acme", b.ID, r)
	require.NoError(t, err)
	assert.Equal(t, "INC-1", u.Incident)
	assert.True(t, u.Deadline.Equal(t0.Add(70*time.Hour)))
	assert.EqualValues(t, 2, u.Version)
	es, err := f.svc.History(ctx, "acme", b.ID)
	require.NoError(t, err)
	require.Len(t, es, 2)
	other, err := f.svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	all, err := f.svc.History(ctx, "acme", "")
	require.NoError(t, err)
	assert.Len(t, all, 3)
	mine, err := f.svc.History(ctx, "acme", other.ID)
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.EqualValues(t, 3, mine[0].Seq)
	assert.Equal(t, breach.EntryRecorded, es[0].Type)
	assert.Equal(t, breach.EntryUpdated, es[1].Type)
	var first struct{ Breach breach.Breach }
	require.NoError(t, json.Unmarshal(es[0].Data, &first))
	assert.Empty(t, first.Breach.MeasuresProposed, "the earlier version is kept")
	v, err := f.svc.Verify(ctx, "acme")
	require.NoError(t, err)
	assert.EqualValues(t, 3, v.Entries)
	assert.Equal(t, mine[0].Hash, v.Head.Hash)
}

func TestFormJSONHasTheAuthorityFields(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.Record(ctx, "acme", report())
	require.NoError(t, err)
	raw, err := f.svc.FormJSON(ctx, "acme", b.ID)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	for _, k := range []string{"nature", "types", "occurred_at", "aware_at", "deadline", "subject_categories", "approx_subjects",
		"data_categories", "approx_records", "dpo", "consequences", "measures_taken", "high_risk", "authority", "late"} {
		assert.Contains(t, m, k)
	}
	assert.Equal(t, "dpo@acme.test", m["dpo"].(map[string]any)["email"])
	_, err = f.svc.FormJSON(ctx, "globex", b.ID)
	require.ErrorIs(t, err, gdprkit.ErrNotFound)
}

func TestResolveFindsTheSubjectOfAPseudonym(t *testing.T) {
	ps, _ := gdprkit.NewPseudonymizer(key)
	users := lister{"ana", "bob", "cy"}
	id, err := breach.Resolve(ctx, ps, users, "acme", ps.Subject("acme", "cy"))
	require.NoError(t, err)
	assert.Equal(t, gdprkit.SubjectID("cy"), id)
	_, err = breach.Resolve(ctx, ps, users, "acme", ps.Subject("globex", "cy"))
	require.ErrorIs(t, err, gdprkit.ErrNotFound, "pseudonyms are per account")
}

// lister pages one subject at a time.
type lister []gdprkit.SubjectID

func (l lister) Subjects(_ context.Context, _ gdprkit.AccountID, cursor string, _ int) ([]gdprkit.SubjectID, string, error) {
	i := 0
	if cursor != "" {
		fmt.Sscan(cursor, &i)
	}
	if i >= len(l) {
		return nil, "", nil
	}
	next := ""
	if i+1 < len(l) {
		next = fmt.Sprint(i + 1)
	}
	return l[i : i+1], next, nil
}

func TestNewRejectsBadConfig(t *testing.T) {
	ps, _ := gdprkit.NewPseudonymizer(key)
	_, err := breach.New(breach.Config{Pseudonymizer: ps})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = breach.New(breach.Config{Store: memstore.New().Breach()})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = breach.New(breach.Config{Store: memstore.New().Breach(), Pseudonymizer: ps, Lease: -1})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	svc, err := breach.New(breach.Config{Store: memstore.New().Breach(), Pseudonymizer: ps})
	require.NoError(t, err)
	_, err = svc.RunOnce(ctx, "w")
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "no notifier")
	_, err = svc.FindSubjects(ctx, "acme", "x", breach.Criteria{}, "admin")
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "no finder")
}
