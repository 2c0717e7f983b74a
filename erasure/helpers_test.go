package erasure_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/erasuretest"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

var (
	t0  = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	key = []byte("erasure-test-key-0123456789abcdef")
	ctx = context.Background()
)

// creds is a fake of authn's credential store.
type creds struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *creds) CountUser(_ context.Context, a gdprkit.AccountID, u gdprkit.SubjectID) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[string(a)+"/"+string(u)], nil
}

func (c *creds) EraseAccount(_ context.Context, a gdprkit.AccountID) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.n {
		if strings.HasPrefix(k, string(a)+"/") {
			n += v
			delete(c.n, k)
		}
	}
	return n, nil
}

func (c *creds) EraseUser(_ context.Context, a gdprkit.AccountID, u gdprkit.SubjectID) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := string(a) + "/" + string(u)
	n := c.n[k]
	delete(c.n, k)
	return n, nil
}

type env struct {
	t       *testing.T
	clock   *fakeclock.Clock
	hd      *memhelpdesk.Helpdesk
	ms      *memstore.Store
	store   erasure.Store
	consent *consent.Service
	creds   *creds
	audit   *gdprkit.MemoryAudit
	svc     *erasure.Service
	acct    gdprkit.AccountID
	faults  *erasuretest.Faults
	notes   *notes
}

type notes struct {
	mu   sync.Mutex
	got  []erasure.Notification
	fail int
}

func (n *notes) Notify(_ context.Context, x erasure.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail > 0 {
		n.fail--
		return fmt.Errorf("crm down: %w", gdprkit.ErrUnavailable)
	}
	n.got = append(n.got, x)
	return nil
}

type envOpt struct {
	store      erasure.Store // default: a fresh memstore
	faults     bool
	batch      int
	recipients bool
	rules      map[erasure.Kind]erasure.Rule
	acct       gdprkit.AccountID
	hd         *memhelpdesk.Helpdesk
	extra      []erasure.Target // added to the graph
	physical   []erasure.PhysicalStep
}

func newEnv(t *testing.T, o envOpt) *env {
	t.Helper()
	e := &env{t: t, clock: fakeclock.New(t0), hd: o.hd, ms: memstore.New(), creds: &creds{n: map[string]int{}},
		audit: &gdprkit.MemoryAudit{}, acct: o.acct, faults: &erasuretest.Faults{}, notes: &notes{}}
	if e.hd == nil {
		e.hd = memhelpdesk.New()
	}
	if e.acct == "" {
		e.acct = "acme"
	}
	ps, err := gdprkit.NewPseudonymizer(key)
	require.NoError(t, err)
	e.consent, err = consent.New(consent.Config{Store: e.ms.Consent(), Pseudonymizer: ps, Clock: e.clock})
	require.NoError(t, err)
	e.store = o.store
	if e.store == nil {
		e.store = e.ms.Erasure()
	}
	targets := append(e.hd.Targets(), kitdata.ConsentTarget(e.consent), kitdata.CredentialsTarget(e.creds))
	targets = append(targets, o.extra...)
	if o.faults {
		e.store = erasuretest.WrapStore(e.store, e.faults)
		targets = erasuretest.WrapTargets(targets, e.faults)
	}
	g, err := erasure.NewGraph(targets...)
	require.NoError(t, err)
	cfg := erasure.Config{Store: e.store, Graph: g, Directory: e.hd, Pseudonymizer: ps, Clock: e.clock, Audit: e.audit, BatchSize: o.batch, Rules: o.rules,
		Physical: o.physical}
	if o.recipients {
		cfg.Recipients = []erasure.Recipient{{Name: "crm", Notifier: e.notes}}
	}
	e.svc, err = erasure.New(cfg)
	require.NoError(t, err)
	return e
}

// seed fills the account: an owner, an admin, two agents, end users ana
// and bob. Ana has every kind of data; bob has a ticket in which ana and
// agent1 wrote.
func (e *env) seed() {
	e.t.Helper()
	a := e.acct
	for _, u := range []memhelpdesk.User{
		{ID: "owner", Role: gdprkit.RoleOwner, Name: "Olga Owner", Email: "olga@acme.test"},
		{ID: "admin", Role: gdprkit.RoleAdmin, Name: "Adam Admin", Email: "adam@acme.test"},
		{ID: "agent1", Role: gdprkit.RoleAgent, Name: "Agnes Agent", Email: "agnes@acme.test"},
		{ID: "agent2", Role: gdprkit.RoleAgent, Name: "Arno Agent", Email: "arno@acme.test"},
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
		d.Sessions["ses-agent1"] = memhelpdesk.Session{ID: "ses-agent1", User: "agent1", IP: "198.51.100.1", UserAgent: "Chrome"}
		d.Searches["ss-ana"] = memhelpdesk.SavedSearch{ID: "ss-ana", User: "ana", Name: "mine", Query: "requester:me"}
		for i := range 3 {
			tid := fmt.Sprintf("t-ana-%d", i)
			d.Tickets[tid] = memhelpdesk.Ticket{ID: tid, Requester: "ana", RequesterName: "Ana Lima", Assignee: "agent1", AssigneeName: "Agnes Agent",
				Subject: fmt.Sprintf("Ana's problem %d", i), Open: i != 2}
			for j := range 2 {
				mid := fmt.Sprintf("m-%s-%d", tid, j)
				author, name := gdprkit.SubjectID("ana"), "Ana Lima"
				if j == 1 {
					author, name = "agent1", "Agnes Agent"
				}
				d.Messages[mid] = memhelpdesk.Message{ID: mid, Ticket: tid, Author: author, AuthorName: name, Body: "text of " + mid}
				aid := "a-" + mid
				d.Attachments[aid] = memhelpdesk.Attachment{ID: aid, Message: mid, Name: "photo.jpg", BlobKey: "blobs/" + aid}
			}
		}
		d.Tickets["t-bob"] = memhelpdesk.Ticket{ID: "t-bob", Requester: "bob", RequesterName: "Bob Stone", Assignee: "agent1", AssigneeName: "Agnes Agent", Subject: "Bob's", Open: false}
		d.Messages["m-bob-0"] = memhelpdesk.Message{ID: "m-bob-0", Ticket: "t-bob", Author: "bob", AuthorName: "Bob Stone", Body: "hello"}
		d.Messages["m-bob-1"] = memhelpdesk.Message{ID: "m-bob-1", Ticket: "t-bob", Author: "ana", AuthorName: "Ana Lima", Body: "me too"}
		d.Messages["m-bob-2"] = memhelpdesk.Message{ID: "m-bob-2", Ticket: "t-bob", Author: "agent1", AuthorName: "Agnes Agent", Body: "fixed"}
		d.Attachments["a-bob"] = memhelpdesk.Attachment{ID: "a-bob", Message: "m-bob-0", Name: "log.txt", BlobKey: "blobs/a-bob"}
		d.Tickets["t-agent2"] = memhelpdesk.Ticket{ID: "t-agent2", Requester: "bob", RequesterName: "Bob Stone", Assignee: "agent1", Subject: "Open one", Open: true}
	})
	e.hd.Update(a, func(d *memhelpdesk.Data) {
		for _, at := range d.Attachments {
			e.hd.Blobs.Put(a, at.BlobKey, []byte(strings.Repeat("x", 100)))
		}
	})
	e.creds.mu.Lock()
	e.creds.n[string(a)+"/ana"] = 2
	e.creds.n[string(a)+"/agent1"] = 3
	e.creds.mu.Unlock()
	_, err := e.consent.DefinePurpose(ctx, a, consent.Purpose{Key: "chat", Name: "Chat"})
	require.NoError(e.t, err)
	_, err = e.consent.PublishPolicy(ctx, a, "chat", "We store chats.", false, "admin")
	require.NoError(e.t, err)
	for _, s := range []gdprkit.SubjectID{"ana", "bob"} {
		_, err = e.consent.Grant(ctx, a, consent.Decision{Subject: s, Purpose: "chat", Source: consent.SourcePreChat,
			IP: netip.MustParseAddr("203.0.113.9"), UserAgent: "Firefox"})
		require.NoError(e.t, err)
	}
}

// drain runs jobs until none is due, moving the clock past backoffs and
// leases, and returns the errors seen.
func (e *env) drain() []error {
	e.t.Helper()
	var errs []error
	for range 200 {
		found, err := e.svc.RunOnce(ctx, "worker-1")
		if err != nil {
			errs = append(errs, err)
		}
		if !found && err == nil {
			// Nothing due now: jump past any backoff or lease.
			e.clock.Advance(2 * time.Hour)
			found, err = e.svc.RunOnce(ctx, "worker-1")
			if err != nil {
				errs = append(errs, err)
			}
			if !found && err == nil {
				return errs
			}
		}
	}
	e.t.Fatal("jobs did not drain")
	return errs
}

func (e *env) erase(subject gdprkit.SubjectID, by gdprkit.ActorID) erasure.Request {
	e.t.Helper()
	r, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeErasure, Subject: subject, By: by, Verified: true})
	require.NoError(e.t, err)
	return r
}

func memstoreErasure() erasure.Store { return memstore.New().Erasure() }

func fakeclockNew() *fakeclock.Clock { return fakeclock.New(t0) }
