package erasure_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/erasuretest"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// rightsEnv is a service over one store.Store (erasure and consent on the
// same store), the memhelpdesk graph, its Rectifier and kitdata's
// consent Objector.
type rightsEnv struct {
	t       *testing.T
	clock   *fakeclock.Clock
	hd      *memhelpdesk.Helpdesk
	erasure erasure.Store
	consent *consent.Service
	audit   *gdprkit.MemoryAudit
	svc     *erasure.Service
	faults  *erasuretest.Faults
}

// rightsStores returns the stores every rights test runs on: memory and
// each configured SQL dialect.
func rightsStores(t *testing.T) map[string]func(t *testing.T) store.Store {
	out := map[string]func(t *testing.T) store.Store{"memory": func(*testing.T) store.Store { return memstore.New() }}
	for _, d := range testdb.Dialects(t) {
		out[string(d)] = func(t *testing.T) store.Store { s, _ := testdb.OpenStore(t, d); return s }
	}
	return out
}

func newRightsEnv(t *testing.T, st store.Store, faults bool, physical ...erasure.PhysicalStep) *rightsEnv {
	t.Helper()
	e := &rightsEnv{t: t, clock: fakeclock.New(t0), hd: memhelpdesk.New(), erasure: st.Erasure(), audit: &gdprkit.MemoryAudit{}, faults: &erasuretest.Faults{}}
	ps, err := gdprkit.NewPseudonymizer(key)
	require.NoError(t, err)
	e.consent, err = consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps, Clock: e.clock})
	require.NoError(t, err)
	targets := append(e.hd.Targets(), kitdata.ConsentTarget(e.consent))
	if faults {
		e.erasure = erasuretest.WrapStore(e.erasure, e.faults)
	}
	g, err := erasure.NewGraph(targets...)
	require.NoError(t, err)
	e.svc, err = erasure.New(erasure.Config{Store: e.erasure, Graph: g, Directory: e.hd, Pseudonymizer: ps, Clock: e.clock, Audit: e.audit,
		Rectifier: e.hd, Objector: kitdata.Objector(e.consent), BatchSize: 4, Physical: physical})
	require.NoError(t, err)
	return e
}

// seed gives account a an admin, an agent and end users ana and bob, as
// env.seed does, and consent purposes chat and marketing that ana and bob
// granted.
func (e *rightsEnv) seed(a gdprkit.AccountID) {
	e.t.Helper()
	for _, u := range []memhelpdesk.User{
		{ID: "admin", Role: gdprkit.RoleAdmin, Name: "Adam Admin", Email: "adam@acme.test"},
		{ID: "agent1", Role: gdprkit.RoleAgent, Name: "Agnes Agent", Email: "agnes@acme.test"},
		{ID: "ana", Role: gdprkit.RoleEndUser, Name: "Ana Lima", Email: "ana@example.com"},
		{ID: "bob", Role: gdprkit.RoleEndUser, Name: "Bob Stone", Email: "bob@example.com"},
	} {
		e.hd.AddUser(a, u)
	}
	e.hd.Update(a, func(d *memhelpdesk.Data) {
		d.Identities["idn-ana-phone"] = memhelpdesk.Identity{ID: "idn-ana-phone", User: "ana", Kind: "phone", Value: "+351 900 000 001"}
		d.Portal["pp-ana"] = memhelpdesk.PortalProfile{ID: "pp-ana", User: "ana", DisplayName: "Ana L.", Company: "Lima Lda"}
		d.Portal["pp-bob"] = memhelpdesk.PortalProfile{ID: "pp-bob", User: "bob", DisplayName: "Bob", Company: "Stone Inc"}
		d.Tokens["tok-ana"] = memhelpdesk.OAuthToken{ID: "tok-ana", User: "ana", Client: "mobile", Token: "secret-ana"}
		d.Sessions["ses-ana"] = memhelpdesk.Session{ID: "ses-ana", User: "ana", IP: "203.0.113.9", UserAgent: "Firefox"}
		d.Searches["ss-ana"] = memhelpdesk.SavedSearch{ID: "ss-ana", User: "ana", Name: "mine", Query: "requester:me"}
		for i := range 3 {
			tid := fmt.Sprintf("t-ana-%d", i)
			d.Tickets[tid] = memhelpdesk.Ticket{ID: tid, Requester: "ana", RequesterName: "Ana Lima", Assignee: "agent1", Subject: "problem", Open: true}
			for j := range 2 {
				mid := fmt.Sprintf("m-%s-%d", tid, j)
				author := gdprkit.SubjectID("ana")
				if j == 1 {
					author = "agent1"
				}
				d.Messages[mid] = memhelpdesk.Message{ID: mid, Ticket: tid, Author: author, Body: "text of " + mid}
				d.Attachments["a-"+mid] = memhelpdesk.Attachment{ID: "a-" + mid, Message: mid, Name: "photo.jpg", BlobKey: "blobs/a-" + mid}
			}
		}
		d.Tickets["t-bob"] = memhelpdesk.Ticket{ID: "t-bob", Requester: "bob", Assignee: "agent1", Subject: "Bob's"}
		d.Messages["m-bob-0"] = memhelpdesk.Message{ID: "m-bob-0", Ticket: "t-bob", Author: "bob", Body: "hello"}
		d.Messages["m-bob-1"] = memhelpdesk.Message{ID: "m-bob-1", Ticket: "t-bob", Author: "ana", Body: "me too"}
	})
	e.hd.Update(a, func(d *memhelpdesk.Data) {
		for _, at := range d.Attachments {
			e.hd.Blobs.Put(a, at.BlobKey, []byte("jpeg"))
		}
	})
	for _, p := range []string{"chat", "marketing"} {
		_, err := e.consent.DefinePurpose(ctx, a, consent.Purpose{Key: p, Name: p})
		require.NoError(e.t, err)
		_, err = e.consent.PublishPolicy(ctx, a, p, "We use your data for "+p+".", false, "admin")
		require.NoError(e.t, err)
		for _, s := range []gdprkit.SubjectID{"ana", "bob"} {
			_, err = e.consent.Grant(ctx, a, consent.Decision{Subject: s, Purpose: p, Source: consent.SourcePreChat, IP: netip.MustParseAddr("203.0.113.9")})
			require.NoError(e.t, err)
		}
	}
}

// drain runs due jobs, moving the clock past backoffs, until none is left.
func (e *rightsEnv) drain() []error {
	e.t.Helper()
	var errs []error
	for range 500 {
		found, err := e.svc.RunOnce(ctx, "w1")
		if err != nil {
			errs = append(errs, err)
		}
		if !found && err == nil {
			e.clock.Advance(2 * time.Hour)
			if found, err = e.svc.RunOnce(ctx, "w1"); err != nil {
				errs = append(errs, err)
			}
			if !found && err == nil {
				return errs
			}
		}
	}
	e.t.Fatal("jobs did not drain")
	return nil
}

func (e *rightsEnv) submit(a gdprkit.AccountID, s erasure.Submission) erasure.Request {
	e.t.Helper()
	r, err := e.svc.Submit(ctx, a, s)
	require.NoError(e.t, err)
	return r
}

// completed checks that request id completed with a receipt of its type
// on an intact chain, and returns the receipt.
func (e *rightsEnv) completed(a gdprkit.AccountID, id string) erasure.Receipt {
	e.t.Helper()
	r, err := e.svc.Request(ctx, a, id)
	require.NoError(e.t, err)
	require.Equal(e.t, erasure.StatusCompleted, r.Status)
	assert.Empty(e.t, r.Subject, "a closed request forgets the subject")
	rc, err := e.svc.Receipt(ctx, a, id)
	require.NoError(e.t, err)
	assert.Equal(e.t, r.Type, rc.Type)
	assert.Equal(e.t, r.SubjectPS, rc.SubjectPS)
	_, err = e.svc.VerifyReceipts(ctx, a)
	require.NoError(e.t, err, "the receipt chain is intact")
	return rc
}

func (e *rightsEnv) events(a gdprkit.AccountID, typ gdprkit.EventType) []gdprkit.Event {
	var out []gdprkit.Event
	for _, ev := range e.audit.OfType(typ) {
		if ev.Account == a {
			out = append(out, ev)
		}
	}
	return out
}

func counts(cs []erasure.KindCount) map[erasure.Kind]int64 {
	out := map[erasure.Kind]int64{}
	for _, c := range cs {
		out[c.Kind] = c.Records
	}
	return out
}

func TestRights(t *testing.T) {
	for name, mk := range rightsStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newRightsEnv(t, mk(t), false)
			t.Run("restriction marks the subject's records until it is lifted", func(t *testing.T) { rightsRestriction(t, e) })
			t.Run("rectification corrects through the Rectifier and records no value", func(t *testing.T) { rightsRectification(t, e) })
			t.Run("objection withdraws consent with evidence", func(t *testing.T) { rightsObjection(t, e) })
			t.Run("portability exports only what the subject provided", func(t *testing.T) { rightsPortability(t, e) })
			t.Run("a request for an unknown subject completes with nothing found", func(t *testing.T) { rightsUnknown(t, e) })
			t.Run("bad input is refused and records nothing", func(t *testing.T) { rightsBadInput(t, e) })
			t.Run("a rejected request does nothing", func(t *testing.T) { rightsRejected(t, e) })
		})
	}
}

func rightsRestriction(t *testing.T, e *rightsEnv) {
	const a = gdprkit.AccountID("acct-restrict")
	e.seed(a)
	r := e.submit(a, erasure.Submission{Type: erasure.TypeRestriction, Subject: "ana", By: "ana"})
	assert.Equal(t, erasure.StatusOpen, r.Status)
	assert.NotEmpty(t, r.JobID)
	assert.True(t, r.DueAt.Equal(erasure.DueDate(t0, 0)), "due one month after receipt (Art. 12(3))")
	require.Empty(t, e.drain())
	restricted, err := e.svc.Restricted(ctx, a, erasure.KindMessage, "m-t-ana-0-0")
	require.NoError(t, err)
	assert.False(t, restricted, "nothing is marked before the identity is verified")

	_, err = e.svc.LiftRestriction(ctx, a, r.ID, "admin", "not yet in force")
	require.ErrorIs(t, err, gdprkit.ErrConflict, "an open restriction is rejected, not lifted")
	ext, err := e.svc.Extend(ctx, a, r.ID, 1, "many records", "admin")
	require.NoError(t, err)
	assert.True(t, ext.DueAt.Equal(erasure.DueDate(t0, 1)))
	require.NoError(t, e.svc.VerifyIdentity(ctx, a, r.ID, "admin"))
	require.Empty(t, e.drain())

	rc := e.completed(a, r.ID)
	assert.Equal(t, map[erasure.Kind]int64{erasure.KindEndUser: 1, erasure.KindIdentity: 2, erasure.KindPortalProfile: 1, erasure.KindOAuthToken: 1,
		erasure.KindSession: 1, erasure.KindSavedSearch: 1, erasure.KindTicket: 3, erasure.KindMessage: 6, erasure.KindAttachment: 6, erasure.KindBlob: 6,
		erasure.KindAuthoredMessage: 4, erasure.KindConsent: 2}, counts(rc.Rights.Restricted))
	assert.False(t, rc.Partial)

	for _, c := range []struct {
		kind erasure.Kind
		id   string
		want bool
	}{
		{erasure.KindMessage, "m-t-ana-0-0", true},
		{erasure.KindMessage, "m-t-ana-2-1", true},
		{erasure.KindBlob, "blobs/a-m-t-ana-1-0", true},
		{erasure.KindEndUser, "ana", true},
		{erasure.KindAuthoredMessage, "m-bob-1", true},
		{erasure.KindMessage, "m-bob-1", true}, // the same record, reached as a message
		{erasure.KindMessage, "m-bob-0", false},
		{erasure.KindTicket, "t-bob", false},
		{erasure.KindEndUser, "bob", false},
	} {
		got, err := e.svc.Restricted(ctx, a, c.kind, c.id)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%s %s", c.kind, c.id)
	}
	batch, err := e.svc.RestrictedRecords(ctx, a, erasure.KindTicket, []string{"t-ana-0", "t-bob", "t-ana-2", "t-none"})
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"t-ana-0": true, "t-ana-2": true}, batch)
	other, err := e.svc.Restricted(ctx, "acct-other", erasure.KindMessage, "m-t-ana-0-0")
	require.NoError(t, err)
	assert.False(t, other, "marks stay in their account")
	for s, want := range map[gdprkit.SubjectID]bool{"ana": true, "bob": false} {
		got, err := e.svc.SubjectRestricted(ctx, a, s)
		require.NoError(t, err)
		assert.Equal(t, want, got, "subject %s", s)
	}

	_, err = e.svc.LiftRestriction(ctx, a, r.ID, "admin", " ")
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "lifting needs a reason")
	e.clock.Advance(24 * time.Hour)
	n, err := e.svc.LiftRestriction(ctx, a, r.ID, "admin", "accuracy confirmed; subject told on 2026-01-06")
	require.NoError(t, err)
	assert.Equal(t, 1+34-3, n, "the subject mark and one per record (ana's 3 messages in her own tickets, reached as message and as authored_message, are 3 records)")
	restricted, err = e.svc.Restricted(ctx, a, erasure.KindMessage, "m-t-ana-0-0")
	require.NoError(t, err)
	assert.False(t, restricted)
	still, err := e.svc.SubjectRestricted(ctx, a, "ana")
	require.NoError(t, err)
	assert.False(t, still)
	rs, err := e.svc.Restrictions(ctx, a, "ana")
	require.NoError(t, err)
	require.Len(t, rs, 1, "the lift is recorded on the mark, which stays")
	assert.Equal(t, gdprkit.ActorID("admin"), rs[0].LiftedBy)
	assert.True(t, rs[0].LiftedAt.Equal(e.clock.Now().UTC().Truncate(time.Microsecond)))
	assert.Equal(t, "accuracy confirmed; subject told on 2026-01-06", rs[0].LiftReason)
	_, err = e.svc.LiftRestriction(ctx, a, r.ID, "admin", "again")
	require.ErrorIs(t, err, gdprkit.ErrConflict)
	_, err = e.svc.LiftRestriction(ctx, a, "no-such-request", "admin", "x")
	require.ErrorIs(t, err, gdprkit.ErrNotFound)

	for typ, n := range map[gdprkit.EventType]int{"erasure.requested": 1, "erasure.extended": 1, "erasure.verified": 1,
		"erasure.restriction_completed": 1, "erasure.restriction_lifted": 1} {
		assert.Len(t, e.events(a, typ), n, "%s", typ)
	}
	done := e.events(a, "erasure.restriction_completed")[0]
	assert.Equal(t, r.SubjectPS, done.Subject)
	assert.Equal(t, "34", done.Attrs["restricted"])
	assert.Equal(t, gdprkit.ActorID("subject"), done.Actor, "events name the subject only by pseudonym")
}

func rightsRectification(t *testing.T, e *rightsEnv) {
	const a = gdprkit.AccountID("acct-rectify")
	e.seed(a)
	r := e.submit(a, erasure.Submission{Type: erasure.TypeRectification, Subject: "ana", By: "ana", Verified: true, Corrections: []erasure.Correction{
		{Kind: erasure.KindEndUser, Field: "name", Value: "Ana Lima-Souza"},
		{Kind: erasure.KindPortalProfile, RecordID: "pp-ana", Field: "company", Value: "Lima & Filhos"},
		{Kind: erasure.KindPortalProfile, RecordID: "pp-bob", Field: "company", Value: "Not Bob's"},
		{Kind: erasure.KindSession, Field: "ip", Value: "192.0.2.1"},
		{Text: "My phone number belongs to my old employer."},
	}})
	assert.True(t, r.Verified)
	require.Empty(t, e.drain())
	rc := e.completed(a, r.ID)
	assert.True(t, rc.Partial, "some corrections were declined")

	d := e.hd
	var ana memhelpdesk.User
	var ppAna, ppBob memhelpdesk.PortalProfile
	d.Update(a, func(d *memhelpdesk.Data) { ana, ppAna, ppBob = d.Users["ana"], d.Portal["pp-ana"], d.Portal["pp-bob"] })
	assert.Equal(t, "Ana Lima-Souza", ana.Name)
	assert.Equal(t, "Lima & Filhos", ppAna.Company)
	assert.Equal(t, "Stone Inc", ppBob.Company, "a record that is not the subject's is never handed to the Rectifier")
	assert.Equal(t, []string{"My phone number belongs to my old employer."}, ana.Statements)

	cs := rc.Rights.Corrections
	require.Len(t, cs, 5)
	want := []erasure.CorrectionOutcome{erasure.Corrected, erasure.Corrected, erasure.Declined, erasure.Declined, erasure.Supplemented}
	for i, c := range cs {
		assert.Equal(t, i, c.Index)
		assert.Equal(t, want[i], c.Outcome, "correction %d", i)
	}
	assert.Equal(t, []gdprkit.Pseudonym{e.svc.RecordPseudonym(a, erasure.KindEndUser, "ana")}, cs[0].RecordPS)
	assert.Equal(t, []gdprkit.Pseudonym{e.svc.RecordPseudonym(a, erasure.KindPortalProfile, "pp-ana")}, cs[1].RecordPS)
	assert.EqualValues(t, 1, cs[1].Records, "one record changed")
	assert.Equal(t, "no record of the subject matches", cs[2].Ground)
	assert.Empty(t, cs[2].RecordPS)
	assert.Equal(t, "the field cannot be corrected", cs[3].Ground)
	assert.Equal(t, "name", cs[0].Field)

	body, err := json.Marshal(rc)
	require.NoError(t, err)
	job, err := e.erasure.Job(ctx, a, r.JobID)
	require.NoError(t, err)
	assert.Equal(t, erasure.JobDone, job.Status)
	ev := e.events(a, "erasure.rectification_completed")
	require.Len(t, ev, 1)
	evBody, _ := json.Marshal(ev)
	for _, secret := range []string{"Lima-Souza", "Lima & Filhos", "Not Bob", "192.0.2.1", "old employer", "pp-ana", "pp-bob", `"ana"`} {
		assert.NotContains(t, string(body), secret, "the receipt holds no value or identifier")
		assert.NotContains(t, string(job.State), secret, "the finished job keeps no value or identifier")
		assert.NotContains(t, string(evBody), secret, "the event holds no value or identifier")
	}
	assert.Equal(t, map[string]string{"request": r.ID, "type": "rectification", "receipt_seq": "1", "partial": "true",
		"corrected": "2", "supplemented": "1", "declined": "2"}, ev[0].Attrs)
}

func rightsObjection(t *testing.T, e *rightsEnv) {
	const a = gdprkit.AccountID("acct-object")
	e.seed(a)
	r := e.submit(a, erasure.Submission{Type: erasure.TypeObjection, Subject: "ana", By: "agent1", Purposes: []string{"marketing", "newsletter"}})
	require.Empty(t, e.drain())
	st, err := e.consent.Check(ctx, a, "ana", "marketing")
	require.NoError(t, err)
	assert.Equal(t, consent.StatusGranted, st, "nothing changes before the identity is verified")
	require.NoError(t, e.svc.VerifyIdentity(ctx, a, r.ID, "agent1"))
	require.Empty(t, e.drain())

	rc := e.completed(a, r.ID)
	require.Len(t, rc.Rights.Objections, 2)
	m, n := rc.Rights.Objections[0], rc.Rights.Objections[1]
	assert.Equal(t, "marketing", m.Purpose)
	assert.Equal(t, erasure.Withdrawn, m.Outcome)
	assert.Equal(t, erasure.Overridden, n.Outcome)
	assert.Equal(t, "no such consent purpose", n.Ground)
	assert.True(t, rc.Partial)

	for p, want := range map[string]consent.Status{"marketing": consent.StatusWithdrawn, "chat": consent.StatusGranted} {
		st, err := e.consent.Check(ctx, a, "ana", p)
		require.NoError(t, err)
		assert.Equal(t, want, st, p)
	}
	st, err = e.consent.Check(ctx, a, "bob", "marketing")
	require.NoError(t, err)
	assert.Equal(t, consent.StatusGranted, st, "only the subject's consent")
	hist, err := e.consent.History(ctx, a, "ana")
	require.NoError(t, err)
	last := hist[len(hist)-1]
	assert.Equal(t, consent.Withdraw, last.Action)
	assert.Equal(t, "marketing", last.Purpose)
	assert.Equal(t, kitdata.SourceObjection, last.Source)
	assert.Equal(t, "Objection to processing (Art. 21 GDPR), request "+r.ID, last.Evidence.Wording)
	assert.Equal(t, gdprkit.ActorID("agent1"), last.RecordedBy)
	assert.Equal(t, "consent record "+last.ID, m.Evidence, "the receipt points at the evidence")
	_, err = e.consent.Verify(ctx, a)
	require.NoError(t, err, "the consent chain is intact")

	again, err := kitdata.Objector(e.consent).Object(ctx, a, erasure.Objection{RequestID: r.ID, Subject: "ana", Purposes: []string{"marketing"}, By: "agent1"})
	require.NoError(t, err)
	assert.Equal(t, erasure.AlreadyWithdrawn, again[0].Outcome, "asked again after a crash, the objector changes nothing more")
	hist2, err := e.consent.History(ctx, a, "ana")
	require.NoError(t, err)
	assert.Len(t, hist2, len(hist))
	assert.Len(t, e.events(a, "erasure.objection_completed"), 1)
	assert.Equal(t, "1", e.events(a, "erasure.objection_completed")[0].Attrs["withdrawn"])
}

func rightsPortability(t *testing.T, e *rightsEnv) {
	const a = gdprkit.AccountID("acct-port")
	e.seed(a)
	r := e.submit(a, erasure.Submission{Type: erasure.TypePortability, Subject: "ana", By: "ana"})
	assert.Empty(t, r.JobID, "portability is answered by Export, like access")
	var buf bytes.Buffer
	require.ErrorIs(t, e.svc.Export(ctx, a, r.ID, &buf), gdprkit.ErrConflict, "not verified")
	assert.Zero(t, buf.Len(), "nothing written")
	require.NoError(t, e.svc.VerifyIdentity(ctx, a, r.ID, "admin"))
	require.NoError(t, e.svc.Export(ctx, a, r.ID, &buf))

	var doc struct {
		Format  string                       `json:"format"`
		Subject string                       `json:"subject"`
		Data    map[string][]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.Equal(t, erasure.PortabilityFormat, doc.Format)
	var kinds []string
	for k := range doc.Data {
		kinds = append(kinds, k)
	}
	var provided []string
	for _, k := range e.svc.ProvidedKinds() {
		provided = append(provided, string(k))
	}
	assert.ElementsMatch(t, provided, kinds, "only provided kinds")
	assert.ElementsMatch(t, []string{"end_user", "identity", "portal_profile", "saved_search", "ticket", "message", "attachment", "blob", "authored_message"}, kinds)
	for _, k := range []string{"oauth_token", "session", "consent", "agent_profile", "assigned_ticket"} {
		assert.NotContains(t, doc.Data, k)
	}
	assert.Len(t, doc.Data["message"], 6)
	assert.Len(t, doc.Data["authored_message"], 4)
	assert.NotContains(t, buf.String(), "secret-ana", "no token")
	assert.NotContains(t, buf.String(), "203.0.113.9", "no session")

	rc := e.completed(a, r.ID)
	got := counts(rc.Rights.Exported)
	for k, vs := range doc.Data {
		if len(vs) > 0 {
			assert.EqualValues(t, len(vs), got[erasure.Kind(k)], k)
		}
	}
	require.ErrorIs(t, e.svc.Export(ctx, a, r.ID, &bytes.Buffer{}), gdprkit.ErrConflict, "answered once")
	assert.Len(t, e.events(a, "erasure.portability_completed"), 1)

	// The access export of the same subject still holds every kind.
	var all bytes.Buffer
	_, err := e.svc.ExportSubject(ctx, a, "ana", &all)
	require.NoError(t, err)
	assert.Contains(t, all.String(), `"session":[{`)
}

func rightsUnknown(t *testing.T, e *rightsEnv) {
	const a = gdprkit.AccountID("acct-unknown")
	e.seed(a)
	const ghost = gdprkit.SubjectID("ghost@example.com")
	res := e.submit(a, erasure.Submission{Type: erasure.TypeRestriction, Subject: ghost, By: "admin", Verified: true})
	rec := e.submit(a, erasure.Submission{Type: erasure.TypeRectification, Subject: ghost, By: "admin", Verified: true, Corrections: []erasure.Correction{
		{Kind: erasure.KindEndUser, Field: "name", Value: "G"}, {Text: "I never wrote in."}}})
	obj := e.submit(a, erasure.Submission{Type: erasure.TypeObjection, Subject: ghost, By: "admin", Verified: true, Purposes: []string{"marketing"}})
	port := e.submit(a, erasure.Submission{Type: erasure.TypePortability, Subject: ghost, By: "admin", Verified: true})
	require.Empty(t, e.drain())

	rc := e.completed(a, res.ID)
	assert.Empty(t, rc.Rights.Restricted, "no record found")
	marked, err := e.svc.SubjectRestricted(ctx, a, ghost)
	require.NoError(t, err)
	assert.True(t, marked, "the person is restricted even though no record of theirs exists yet")

	rc = e.completed(a, rec.ID)
	require.Len(t, rc.Rights.Corrections, 2)
	assert.Equal(t, erasure.Declined, rc.Rights.Corrections[0].Outcome)
	assert.Equal(t, erasure.Declined, rc.Rights.Corrections[1].Outcome)

	rc = e.completed(a, obj.ID)
	assert.Equal(t, erasure.Withdrawn, rc.Rights.Objections[0].Outcome, "the objection is on record for when they give consent")
	st, err := e.consent.Check(ctx, a, ghost, "marketing")
	require.NoError(t, err)
	assert.Equal(t, consent.StatusWithdrawn, st)

	var buf bytes.Buffer
	require.NoError(t, e.svc.Export(ctx, a, port.ID, &buf))
	assert.Contains(t, buf.String(), `"message":[]`)
	rc = e.completed(a, port.ID)
	assert.Empty(t, rc.Rights.Exported)
}

func rightsBadInput(t *testing.T, e *rightsEnv) {
	const a = gdprkit.AccountID("acct-bad")
	e.seed(a)
	before := len(e.audit.Events())
	long := make([]erasure.Correction, erasure.MaxCorrections+1)
	for i := range long {
		long[i] = erasure.Correction{Text: "x"}
	}
	fix := func(c erasure.Correction) []erasure.Correction { return []erasure.Correction{c} }
	for name, s := range map[string]erasure.Submission{
		"unknown type":                    {Type: "complaint"},
		"rectification without any":       {Type: erasure.TypeRectification},
		"too many corrections":            {Type: erasure.TypeRectification, Corrections: long},
		"a correction of an unknown kind": {Type: erasure.TypeRectification, Corrections: fix(erasure.Correction{Kind: "invoice", Field: "total", Value: "0"})},
		"a field without a kind":          {Type: erasure.TypeRectification, Corrections: fix(erasure.Correction{Field: "name", Value: "x"})},
		"a field and a text":              {Type: erasure.TypeRectification, Corrections: fix(erasure.Correction{Kind: erasure.KindEndUser, Field: "name", Text: "x"})},
		"a value without a field":         {Type: erasure.TypeRectification, Corrections: fix(erasure.Correction{Kind: erasure.KindEndUser, Value: "x"})},
		"a record without a kind":         {Type: erasure.TypeRectification, Corrections: fix(erasure.Correction{RecordID: "pp-ana", Text: "x"})},
		"a value that is not UTF-8":       {Type: erasure.TypeRectification, Corrections: fix(erasure.Correction{Kind: erasure.KindEndUser, Field: "name", Value: "\xff"})},
		"a field with a control char":     {Type: erasure.TypeRectification, Corrections: fix(erasure.Correction{Kind: erasure.KindEndUser, Field: "na\nme", Value: "x"})},
		"a blank statement":               {Type: erasure.TypeRectification, Corrections: fix(erasure.Correction{Text: "  "})},
		"objection without purposes":      {Type: erasure.TypeObjection},
		"a purpose that is not a key":     {Type: erasure.TypeObjection, Purposes: []string{"Marketing!"}},
		"a purpose named twice":           {Type: erasure.TypeObjection, Purposes: []string{"chat", "chat"}},
		"purposes on a restriction":       {Type: erasure.TypeRestriction, Purposes: []string{"chat"}},
		"corrections on an erasure":       {Type: erasure.TypeErasure, Corrections: fix(erasure.Correction{Text: "x"})},
		"a portal-scoped portability":     {Type: erasure.TypePortability, Scope: erasure.ScopePortal},
		"rules on a restriction":          {Type: erasure.TypeRestriction, Rules: map[erasure.Kind]erasure.Rule{erasure.KindTicket: {Action: erasure.Delete}}},
	} {
		s.Subject, s.By = "ana", "admin"
		_, err := e.svc.Submit(ctx, a, s)
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, name)
	}
	rs, err := e.svc.Requests(ctx, a, erasure.RequestFilter{})
	require.NoError(t, err)
	assert.Empty(t, rs, "nothing was recorded")
	assert.Len(t, e.audit.Events(), before, "no event")

	bare, err := erasure.New(erasure.Config{Store: e.erasure, Graph: rightsGraph(t, e.hd), Directory: e.hd, Pseudonymizer: mustPS(t)})
	require.NoError(t, err)
	_, err = bare.Submit(ctx, a, erasure.Submission{Type: erasure.TypeRectification, Subject: "ana", By: "ana", Corrections: fix(erasure.Correction{Text: "x"})})
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "no Rectifier")
	_, err = bare.Submit(ctx, a, erasure.Submission{Type: erasure.TypeObjection, Subject: "ana", By: "ana", Purposes: []string{"chat"}})
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "no Objector")
	_, err = e.svc.Submit(ctx, a, erasure.Submission{Type: erasure.TypeRestriction, Subject: "admin", By: "agent1"})
	assert.ErrorIs(t, err, gdprkit.ErrForbidden, "an agent cannot file for an admin")

	_, err = e.svc.Restricted(ctx, a, "invoice", "1")
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "unknown kind")
	_, err = e.svc.Restricted(ctx, a, erasure.KindMessage, "")
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "empty ID")
	_, err = e.svc.RestrictedRecords(ctx, a, erasure.KindMessage, make([]string, erasure.MaxRestrictedBatch+1))
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "too many IDs")
	rs, err = e.svc.Requests(ctx, a, erasure.RequestFilter{})
	require.NoError(t, err)
	assert.Empty(t, rs)
}

func rightsGraph(t *testing.T, hd *memhelpdesk.Helpdesk) *erasure.Graph {
	g, err := erasure.NewGraph(hd.Targets()...)
	require.NoError(t, err)
	return g
}

// TestRightsJobsResumeAfterAFault fails every storage call of a
// restriction and of a rectification in turn, resumes, and checks that
// each ends completed exactly once with the same result as a run without
// faults.
func TestRightsJobsResumeAfterAFault(t *testing.T) {
	run := func(t *testing.T, failAt int) (erasure.Receipt, *rightsEnv, int) {
		e := newRightsEnv(t, memstore.New(), true)
		const a = gdprkit.AccountID("acme")
		e.seed(a)
		res := e.submit(a, erasure.Submission{Type: erasure.TypeRestriction, Subject: "ana", By: "admin", Verified: true})
		rec := e.submit(a, erasure.Submission{Type: erasure.TypeRectification, Subject: "ana", By: "admin", Verified: true,
			Corrections: []erasure.Correction{{Kind: erasure.KindEndUser, Field: "name", Value: "Ana S."}, {Text: "note"}}})
		e.faults.FailAt(failAt)
		e.drain()
		calls := e.faults.Calls()
		e.faults.FailAt(0)
		e.drain()
		e.completed(a, rec.ID)
		var ana memhelpdesk.User
		e.hd.Update(a, func(d *memhelpdesk.Data) { ana = d.Users["ana"] })
		assert.Equal(t, "Ana S.", ana.Name)
		assert.Equal(t, []string{"note"}, ana.Statements, "the statement is added once")
		return e.completed(a, res.ID), e, calls
	}
	clean, _, calls := run(t, 0)
	require.Greater(t, calls, 10)
	t.Logf("%d storage calls, each failed in turn", calls)
	for n := 1; n <= calls; n++ {
		rc, e, _ := run(t, n)
		assert.Equal(t, clean.Rights, rc.Rights, "fault at call %d", n)
		head, err := e.erasure.ReceiptHead(ctx, "acme")
		require.NoError(t, err)
		assert.EqualValues(t, 2, head.Seq, "fault at call %d: one receipt per request", n)
		restricted, err := e.svc.Restricted(ctx, "acme", erasure.KindMessage, "m-t-ana-1-1")
		require.NoError(t, err)
		assert.True(t, restricted, "fault at call %d", n)
		if t.Failed() {
			return
		}
	}
}

func rightsRejected(t *testing.T, e *rightsEnv) {
	const a = gdprkit.AccountID("acct-reject")
	e.seed(a)
	obj := e.submit(a, erasure.Submission{Type: erasure.TypeObjection, Subject: "ana", By: "admin", Purposes: []string{"marketing"}})
	res := e.submit(a, erasure.Submission{Type: erasure.TypeRestriction, Subject: "ana", By: "admin"})
	port := e.submit(a, erasure.Submission{Type: erasure.TypePortability, Subject: "ana", By: "admin"})
	for _, r := range []erasure.Request{obj, res, port} {
		require.NoError(t, e.svc.Reject(ctx, a, r.ID, "admin"), r.Type)
		got, err := e.svc.Request(ctx, a, r.ID)
		require.NoError(t, err)
		assert.Equal(t, erasure.StatusRejected, got.Status, r.Type)
		require.ErrorIs(t, e.svc.VerifyIdentity(ctx, a, r.ID, "admin"), gdprkit.ErrConflict, r.Type)
	}
	require.Empty(t, e.drain())
	st, err := e.consent.Check(ctx, a, "ana", "marketing")
	require.NoError(t, err)
	assert.Equal(t, consent.StatusGranted, st)
	marked, err := e.svc.SubjectRestricted(ctx, a, "ana")
	require.NoError(t, err)
	assert.False(t, marked)
	require.ErrorIs(t, e.svc.Export(ctx, a, port.ID, &bytes.Buffer{}), gdprkit.ErrConflict)
	job, err := e.erasure.Job(ctx, a, obj.JobID)
	require.NoError(t, err)
	assert.Equal(t, erasure.JobCancelled, job.Status)
	head, err := e.erasure.ReceiptHead(ctx, a)
	require.NoError(t, err)
	assert.Zero(t, head.Seq, "no receipt")
	assert.Len(t, e.events(a, "erasure.rejected"), 3)
}
