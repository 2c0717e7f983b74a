package integration

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// world is one host wired with every gdprkit service over one store.
type world struct {
	st      store.Store
	clock   *fakeclock.Clock
	hd      *memhelpdesk.Helpdesk
	consent *consent.Service
	auth    *authn.Service
	ips     *ipfilter.Filter
	spam    *spam.Filter
	erasure *erasure.Service
	life    *retention.Service
	sweeper *retention.Sweeper
	breach  *breach.Service
	support *staffaccess.Service
	ps      *gdprkit.Pseudonymizer
	expired map[gdprkit.AccountID]int
}

func newWorld(t *testing.T, st store.Store) *world {
	t.Helper()
	w := &world{st: st, clock: fakeclock.New(storetest.T0), hd: memhelpdesk.New(), expired: map[gdprkit.AccountID]int{}}
	ps, err := gdprkit.NewPseudonymizer(storetest.TestKey)
	require.NoError(t, err)
	w.consent, err = consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps, Clock: w.clock})
	require.NoError(t, err)
	keys, err := authn.NewKeyRing("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	w.life, err = retention.New(retention.Config{Store: st.Retention(), Clock: w.clock})
	require.NoError(t, err)
	w.ips, err = ipfilter.New(ipfilter.Config{Store: st.IPFilter(), Clock: w.clock})
	require.NoError(t, err)
	w.auth, err = authn.New(authn.Config{Store: st.Authn(), Keys: keys, Clock: w.clock, AccountGate: w.life, IPGate: w.ips,
		Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	require.NoError(t, err)
	w.spam, err = spam.New(spam.Config{Store: st.Spam(), Key: []byte("spam-key-0123456789"), Clock: w.clock})
	require.NoError(t, err)
	w.ps = ps
	w.support, err = staffaccess.New(staffaccess.Config{Store: st.StaffAccess(), Clock: w.clock})
	require.NoError(t, err)
	// One graph for the host's data and gdprkit's own: erasing a person
	// and deleting an account both go through it.
	targets := append(w.hd.Targets(), kitdata.ConsentTarget(w.consent), kitdata.CredentialsTarget(w.auth.Credentials()),
		kitdata.ActorRefsTarget("ip_rule_author", "IP rules the user added: kept, authorship anonymised", w.ips),
		kitdata.SpamLessonTarget(w.spam, erasure.KindMessage, func(context.Context, gdprkit.AccountID, []string) ([]kitdata.SpamTrained, error) {
			return nil, nil // this host never trains on messages
		}),
		// The accountability registers end with the account; the breach
		// register is built below, after the erasure service it asks.
		kitdata.BreachRegisterTarget(breachDeleter{w}), kitdata.StaffAccessTarget(w.support))
	graph, err := erasure.NewGraph(targets...)
	require.NoError(t, err)
	w.erasure, err = erasure.New(erasure.Config{Store: st.Erasure(), Graph: graph, Directory: w.hd, Pseudonymizer: ps, Clock: w.clock})
	require.NoError(t, err)
	w.breach, err = breach.New(breach.Config{Store: st.Breach(), Pseudonymizer: ps, Clock: w.clock,
		Finder: kitdata.AffectedFinder(w.erasure, map[string][]erasure.Kind{"files": {erasure.KindAttachment}})})
	require.NoError(t, err)
	w.sweeper, err = retention.NewSweeper(retention.SweeperConfig{
		Service: w.life,
		ConfigRemover: retention.ConfigRemoverFunc(func(ctx context.Context, a gdprkit.AccountID) error {
			// The account's configuration: its IP rules.
			return w.ips.DeleteAccount(ctx, a, "system:retention")
		}),
		Eraser: retention.DataEraserFunc(func(ctx context.Context, a gdprkit.AccountID) error {
			_, err := w.erasure.EraseAccount(ctx, a)
			return err
		}),
		BackupExpirer: retention.BackupExpirerFunc(func(_ context.Context, a gdprkit.AccountID) error {
			w.expired[a]++
			return nil
		}),
	})
	require.NoError(t, err)
	return w
}

// populate gives an account an owner, an agent with credentials, a
// customer with a ticket, a message and a file, consent, IP rules and a
// trained spam model.
func (w *world) populate(t *testing.T, a gdprkit.AccountID) {
	t.Helper()
	ctx := context.Background()
	_, err := w.life.Start(ctx, a, retention.EventStartTrial, "owner")
	require.NoError(t, err)
	w.hd.AddUser(a, memhelpdesk.User{ID: "owner", Role: gdprkit.RoleOwner, Name: "Olga Owner"})
	w.hd.AddUser(a, memhelpdesk.User{ID: "agent", Role: gdprkit.RoleAgent, Name: "Aldo Agent"})
	w.hd.AddUser(a, memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser, Name: "Ana", Email: "ana@example.com"})
	w.hd.Update(a, func(d *memhelpdesk.Data) {
		d.Tickets["t1"] = memhelpdesk.Ticket{ID: "t1", Requester: "ana", Subject: "Refund"}
		d.Messages["m1"] = memhelpdesk.Message{ID: "m1", Ticket: "t1", Author: "ana", Body: "Please refund"}
		d.Attachments["f1"] = memhelpdesk.Attachment{ID: "f1", Message: "m1", BlobKey: "files/f1.pdf"}
	})
	w.hd.Blobs.Put(a, "files/f1.pdf", make([]byte, 1000))
	require.NoError(t, w.auth.CreateUser(ctx, a, "agent", "aldo", "correct horse battery staple"))
	_, err = w.consent.DefinePurpose(ctx, a, consent.Purpose{Key: "chat", Name: "Chat"})
	require.NoError(t, err)
	_, err = w.consent.PublishPolicy(ctx, a, "chat", "text", false, "owner")
	require.NoError(t, err)
	_, err = w.consent.Grant(ctx, a, consent.Decision{Subject: "ana", Purpose: "chat", Source: consent.SourcePreChat})
	require.NoError(t, err)
	_, err = w.ips.SetRules(ctx, ipfilter.Change{Account: a, Surface: gdprkit.SurfaceAgentPanel, Allow: []ipfilter.Input{{Value: "10.0.0.0/8"}},
		Actor: "owner", ActorIP: netip.MustParseAddr("10.0.0.1"), ExpectedVersion: ipfilter.AnyVersion})
	require.NoError(t, err)
	_, err = w.spam.Train(ctx, a, "m1", spam.Chat("Please refund my order"), spam.Ham)
	require.NoError(t, err)
	_, err = w.spam.Train(ctx, a, "m2", spam.Chat("cheap pills buy now"), spam.Spam)
	require.NoError(t, err)
}

func TestErasingAnAdminAnonymisesTheRulesTheyAdded(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, memstore.New())
	a := storetest.NewAccount(t)
	w.populate(t, a)
	w.hd.AddUser(a, memhelpdesk.User{ID: "adm", Role: gdprkit.RoleAdmin, Name: "Ada Admin"})
	_, err := w.ips.SetRules(ctx, ipfilter.Change{Account: a, Surface: gdprkit.SurfaceAPI, Allow: []ipfilter.Input{{Value: "192.0.2.0/24", Note: "partner"}},
		Deny: []ipfilter.Input{{Value: "192.0.2.66"}}, Actor: "adm", ActorIP: netip.MustParseAddr("10.0.0.9"), ActorSurface: gdprkit.SurfaceAgentPanel, ExpectedVersion: ipfilter.AnyVersion})
	require.NoError(t, err)

	plan, err := w.erasure.Plan(ctx, a, "adm", erasure.ScopeFull, nil)
	require.NoError(t, err)
	var planned int64 = -1
	for _, pt := range plan.Targets {
		if pt.Kind == "ip_rule_author" {
			planned = pt.Anonymized
		}
	}
	assert.Equal(t, int64(2), planned, "the dry run sees the two entries Ada added")
	var export strings.Builder
	_, err = w.erasure.ExportSubject(ctx, a, "adm", &export)
	require.NoError(t, err)
	assert.Contains(t, export.String(), "192.0.2.0/24", "an access export lists the rules Ada added")

	_, err = w.erasure.Submit(ctx, a, erasure.Submission{Type: erasure.TypeErasure, Subject: "adm", By: "owner", Verified: true})
	require.NoError(t, err)
	_, err = w.erasure.RunOnce(ctx, "worker-1")
	require.NoError(t, err)

	rules, err := w.ips.Rules(ctx, a)
	require.NoError(t, err)
	api := rules.Surface(gdprkit.SurfaceAPI)
	require.Len(t, api.Allow, 1, "the rules stay")
	require.Len(t, api.Deny, 1)
	for _, e := range append(api.Allow, api.Deny...) {
		assert.NotEqual(t, gdprkit.ActorID("adm"), e.AddedBy)
		assert.True(t, strings.HasPrefix(string(e.AddedBy), "Former user "), e.AddedBy)
	}
	assert.Equal(t, gdprkit.ActorID("owner"), rules.Surface(gdprkit.SurfaceAgentPanel).Allow[0].AddedBy, "others' authorship is untouched")
	// The filter decides with the rules as before.
	err = w.ips.AllowIP(ctx, a, gdprkit.SurfaceAPI, netip.MustParseAddr("192.0.2.66"))
	require.ErrorIs(t, err, gdprkit.ErrForbidden)
	require.NoError(t, w.ips.AllowIP(ctx, a, gdprkit.SurfaceAPI, netip.MustParseAddr("192.0.2.7")))
	n, err := w.ips.AnonymizeActor(ctx, a, "adm", "x")
	require.NoError(t, err)
	assert.Zero(t, n, "anonymising again changes nothing")
}

func TestAbandonedTrialEndsWithNothingLeft(t *testing.T) {
	for name, open := range everyStore(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, open(t))
			gone, kept := storetest.NewAccount(t), storetest.NewAccount(t)
			w.populate(t, gone)
			w.populate(t, kept)
			_, err := w.life.Apply(ctx, kept, retention.EventUpgrade, "owner")
			require.NoError(t, err)

			// Nobody sweeps for 14 + 60 + 30 + 30 days and a bit: one sweep
			// walks the account through every state, each at its due time.
			w.clock.Advance((14+60+30+30)*24*time.Hour + time.Hour)
			for range 10 {
				rep, err := w.sweeper.Sweep(ctx)
				require.NoError(t, err)
				if rep == (retention.SweepReport{}) {
					break
				}
			}
			rec, err := w.life.Record(ctx, gone)
			require.NoError(t, err)
			assert.Equal(t, retention.StatePurged, rec.State)
			assert.False(t, rec.NothingRemainsAt.IsZero(), "the sweeper recorded that nothing remains")
			assert.Equal(t, 1, w.expired[gone], "backups expired once")
			hist, err := w.life.History(ctx, gone)
			require.NoError(t, err)
			var states []retention.State
			for _, h := range hist {
				states = append(states, h.To)
			}
			assert.Equal(t, []retention.State{retention.StateTrial, retention.StateSuspended, retention.StateTerminated, retention.StateDeleted, retention.StatePurged}, states)
			assert.True(t, hist[1].At.Equal(storetest.T0.Add(14*24*time.Hour)), "suspension stamped when it was due, not when swept")

			// Nothing of the account remains in gdprkit's stores or the host's.
			recs, err := w.st.Consent().Records(ctx, gone, 0, 10)
			require.NoError(t, err)
			assert.Empty(t, recs, "consent records")
			n, err := w.auth.CountUser(ctx, gone, "agent")
			require.NoError(t, err)
			assert.Zero(t, n.Total(), "credentials")
			rules, err := w.st.IPFilter().Rules(ctx, gone)
			require.NoError(t, err)
			assert.Empty(t, rules.Surfaces, "IP rules")
			model, err := w.st.Spam().LoadModel(ctx, gone)
			require.NoError(t, err)
			assert.Empty(t, model.Tokens, "spam model")
			d := w.hd.Dump(gone)
			for _, s := range []string{"Ana", "ana@example.com", "Refund", "Please refund", "Olga", "Aldo"} {
				assert.NotContains(t, d, s, "host data")
			}
			assert.Zero(t, w.hd.Blobs.Len(gone), "files")
			_, err = w.auth.Login(ctx, authn.LoginRequest{Account: gone, Username: "aldo", Password: "correct horse battery staple", IP: netip.MustParseAddr("10.0.0.2")})
			require.Error(t, err)

			// The paying account next door is untouched.
			rec, err = w.life.Record(ctx, kept)
			require.NoError(t, err)
			assert.Equal(t, retention.StateActive, rec.State)
			_, err = w.consent.Verify(ctx, kept)
			require.NoError(t, err)
			st, err := w.consent.Check(ctx, kept, "ana", "chat")
			require.NoError(t, err)
			assert.Equal(t, consent.StatusGranted, st)
			assert.Contains(t, w.hd.Dump(kept), "Please refund")
			assert.Equal(t, 1, w.hd.Blobs.Len(kept))
			_, err = w.auth.Login(ctx, authn.LoginRequest{Account: kept, Username: "aldo", Password: "correct horse battery staple", IP: netip.MustParseAddr("10.0.0.2")})
			require.NoError(t, err)
			model, err = w.st.Spam().LoadModel(ctx, kept)
			require.NoError(t, err)
			assert.NotEmpty(t, model.Tokens)
		})
	}
}

// An account with a ticket under legal hold is not purged while the hold
// lasts (issue 14 item 4): the account deletion removes everything else,
// the host erasure step keeps failing with erasure.ErrHeld and is retried,
// and NothingRemainsAt stays unset; once the hold is released the next
// sweeps finish the deletion and the account reaches purged with nothing
// of it left.
func TestHeldTicketKeepsTheAccountFromPurgedUntilReleased(t *testing.T) {
	for name, open := range everyStore(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, open(t))
			a := storetest.NewAccount(t)
			w.populate(t, a)
			hold, err := w.erasure.PlaceHold(ctx, a, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t1", Ground: "Art. 17(3)(e)", By: "owner"})
			require.NoError(t, err)
			sweep := func() (failures int) {
				for range 10 {
					rep, err := w.sweeper.Sweep(ctx)
					require.NoError(t, err)
					failures += rep.Failures
					if rep.Accounts == 0 {
						break
					}
				}
				return failures
			}
			w.clock.Advance((14+60+30+30)*24*time.Hour + time.Hour)
			assert.Positive(t, sweep(), "the host erasure step fails while the hold lasts")
			for range 3 {
				w.clock.Advance(24 * time.Hour)
				sweep()
			}
			rec, err := w.life.Record(ctx, a)
			require.NoError(t, err)
			assert.NotEqual(t, retention.StatePurged, rec.State, "not purged while held data remains")
			assert.True(t, rec.NothingRemainsAt.IsZero())
			d := w.hd.Dump(a)
			assert.Contains(t, d, "Please refund", "the held ticket's message stays")
			assert.NotContains(t, d, "Olga", "everything the hold does not cover is gone")
			assert.Equal(t, 1, w.hd.Blobs.Len(a), "the held ticket's file stays")

			require.NoError(t, w.erasure.ReleaseHold(ctx, a, hold.ID, "owner"))
			for range 5 {
				w.clock.Advance(24 * time.Hour)
				sweep()
			}
			rec, err = w.life.Record(ctx, a)
			require.NoError(t, err)
			assert.Equal(t, retention.StatePurged, rec.State)
			assert.False(t, rec.NothingRemainsAt.IsZero())
			d = w.hd.Dump(a)
			for _, s := range []string{"Ana", "ana@example.com", "Refund", "Please refund"} {
				assert.NotContains(t, d, s)
			}
			assert.Zero(t, w.hd.Blobs.Len(a))
		})
	}
}
