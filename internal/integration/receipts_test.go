package integration

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// receiptBatch is the erasure batch size of TestReceiptsCountWhatChanged:
// every kind of the subject spans more than three batches.
const receiptBatch = 3

// kindIPRuleAuthor is the kind the IP rules a user added are bound as.
const kindIPRuleAuthor erasure.Kind = "ip_rule_author"

// receiptWorld is every gdprkit service over one store, and a host
// helpdesk, bound into one erasure graph with a small batch size.
type receiptWorld struct {
	st      store.Store
	clock   *fakeclock.Clock
	hd      *memhelpdesk.Helpdesk
	consent *consent.Service
	auth    *authn.Service
	ips     *ipfilter.Filter
	spam    *spam.Filter
	erasure *erasure.Service
}

func newReceiptWorld(t *testing.T, st store.Store) *receiptWorld {
	t.Helper()
	w := &receiptWorld{st: st, clock: fakeclock.New(storetest.T0), hd: memhelpdesk.New()}
	ps, err := gdprkit.NewPseudonymizer(storetest.TestKey)
	require.NoError(t, err)
	w.consent, err = consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps, Clock: w.clock})
	require.NoError(t, err)
	keys, err := authn.NewKeyRing("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	w.ips, err = ipfilter.New(ipfilter.Config{Store: st.IPFilter(), Clock: w.clock})
	require.NoError(t, err)
	w.auth, err = authn.New(authn.Config{Store: st.Authn(), Keys: keys, Clock: w.clock, Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	require.NoError(t, err)
	w.spam, err = spam.New(spam.Config{Store: st.Spam(), Key: []byte("spam-key-0123456789"), Clock: w.clock})
	require.NoError(t, err)
	targets := append(w.hd.Targets(), kitdata.ConsentTarget(w.consent), kitdata.CredentialsTarget(w.auth.Credentials()),
		kitdata.ActorRefsTarget(kindIPRuleAuthor, "IP rules the user added: kept, authorship anonymised", w.ips),
		kitdata.SpamLessonTarget(w.spam, erasure.KindMessage, w.trained))
	graph, err := erasure.NewGraph(targets...)
	require.NoError(t, err)
	w.erasure, err = erasure.New(erasure.Config{Store: st.Erasure(), Graph: graph, Directory: w.hd, Pseudonymizer: ps, Clock: w.clock,
		BatchSize: receiptBatch})
	require.NoError(t, err)
	return w
}

// trained says how the host trained the spam filter: on every message,
// by its ID, as a chat message of its body.
func (w *receiptWorld) trained(_ context.Context, a gdprkit.AccountID, records []string) ([]kitdata.SpamTrained, error) {
	var out []kitdata.SpamTrained
	w.hd.Update(a, func(d *memhelpdesk.Data) {
		for _, id := range records {
			if m, ok := d.Messages[id]; ok {
				out = append(out, kitdata.SpamTrained{Record: id, Example: spam.Example{ID: id, Message: spam.Chat(m.Body)}})
			}
		}
	})
	return out, nil
}

const receiptPassword = "correct horse battery staple"

// seed gives user (whose login is user + ".login") n of every kind of
// gdprkit's own data: consent records, sessions, API tokens, recovery
// codes (a set of ten), an active and a pending TOTP enrolment, failure
// counters, IP rules they added, and lessons the spam filter learned from
// the messages of tickets they requested.
func (w *receiptWorld) seed(t *testing.T, a gdprkit.AccountID, user gdprkit.SubjectID, n int, netBase byte) {
	t.Helper()
	ctx := context.Background()
	w.hd.AddUser(a, memhelpdesk.User{ID: user, Role: gdprkit.RoleAdmin, Name: "Admin " + string(user)})

	// Consent: n records, alternately granted and withdrawn.
	for i := range n {
		d := consent.Decision{Subject: user, Purpose: "chat", Source: consent.SourcePortal}
		var err error
		if i%2 == 0 {
			_, err = w.consent.Grant(ctx, a, d)
		} else {
			_, err = w.consent.Withdraw(ctx, a, d)
		}
		require.NoError(t, err)
	}

	// Credentials: the enrolment comes first, since confirming it ends
	// every session, then n logins with a TOTP code each, n API tokens,
	// a second (pending) enrolment and one failed attempt per factor.
	login := string(user) + ".login"
	require.NoError(t, w.auth.CreateUser(ctx, a, string(user), login, receiptPassword))
	r, err := w.auth.Login(ctx, authn.LoginRequest{Account: a, Username: login, Password: receiptPassword})
	require.NoError(t, err)
	p, err := w.auth.AuthenticateSession(ctx, authn.SessionRequest{Account: a, Token: r.SessionToken})
	require.NoError(t, err)
	e, err := w.auth.BeginTOTP(ctx, p, "acme")
	require.NoError(t, err)
	codes, err := w.auth.ConfirmTOTP(ctx, p, authn.TOTP(e.Key.Secret, w.clock.Now(), e.Key.Params))
	require.NoError(t, err)
	require.Len(t, codes, authn.RecoveryCodeCount)
	for range n {
		w.clock.Advance(30 * time.Second) // a fresh TOTP code
		r, err := w.auth.Login(ctx, authn.LoginRequest{Account: a, Username: login, Password: receiptPassword})
		require.NoError(t, err)
		r, err = w.auth.CompleteLogin(ctx, authn.SecondFactorRequest{Account: a, Challenge: r.Challenge, Code: authn.TOTP(e.Key.Secret, w.clock.Now(), e.Key.Params)})
		require.NoError(t, err)
		p, err = w.auth.AuthenticateSession(ctx, authn.SessionRequest{Account: a, Token: r.SessionToken})
		require.NoError(t, err)
	}
	for i := range n {
		_, _, err := w.auth.CreateToken(ctx, p, authn.TokenSpec{Name: fmt.Sprintf("token %d", i)})
		require.NoError(t, err)
	}
	_, err = w.auth.BeginTOTP(ctx, p, "acme") // a second, pending enrolment
	require.NoError(t, err)
	_, err = w.auth.Login(ctx, authn.LoginRequest{Account: a, Username: login, Password: "a wrong password, typed once"})
	require.ErrorIs(t, err, gdprkit.ErrUnauthenticated)
	require.ErrorIs(t, w.auth.VerifyTOTP(ctx, a, string(user), "000000"), gdprkit.ErrUnauthenticated)

	// IP rules the user added: allow and deny entries on the API.
	var allow, deny []ipfilter.Input
	for i := range n {
		in := ipfilter.Input{Value: fmt.Sprintf("198.%d.%d.0/24", netBase, i), Note: fmt.Sprintf("office %d", i)}
		if i%2 == 0 {
			allow = append(allow, in)
		} else {
			deny = append(deny, in)
		}
	}
	rs, err := w.ips.Rules(ctx, a)
	require.NoError(t, err)
	api := rs.Surface(gdprkit.SurfaceAPI)
	for _, e := range api.Allow {
		allow = append(allow, ipfilter.Input{Value: e.Prefix.String(), Note: e.Note})
	}
	for _, e := range api.Deny {
		deny = append(deny, ipfilter.Input{Value: e.Prefix.String(), Note: e.Note})
	}
	_, err = w.ips.SetRules(ctx, ipfilter.Change{Account: a, Surface: gdprkit.SurfaceAPI, Allow: allow, Deny: deny,
		Actor: gdprkit.ActorID(user), ActorIP: netip.MustParseAddr("10.0.0.9"), ActorSurface: gdprkit.SurfaceAgentPanel, ExpectedVersion: ipfilter.AnyVersion})
	require.NoError(t, err)

	// Tickets the user requested, three messages each, every message
	// trained.
	for i := range (n + 2) / 3 {
		tid := fmt.Sprintf("t-%s-%d", user, i)
		w.hd.Update(a, func(d *memhelpdesk.Data) {
			d.Tickets[tid] = memhelpdesk.Ticket{ID: tid, Requester: user, Subject: "Order " + tid}
			for j := range 3 {
				mid := fmt.Sprintf("m-%s-%d-%d", user, i, j)
				d.Messages[mid] = memhelpdesk.Message{ID: mid, Ticket: tid, Author: user, Body: fmt.Sprintf("message %d about order %s, cheap pills %d", j, tid, i)}
			}
		})
		for j := range 3 {
			mid := fmt.Sprintf("m-%s-%d-%d", user, i, j)
			class := spam.Ham
			if j == 2 {
				class = spam.Spam
			}
			_, err := w.spam.Train(ctx, a, mid, spam.Chat(fmt.Sprintf("message %d about order %s, cheap pills %d", j, tid, i)), class)
			require.NoError(t, err)
		}
	}
}

// counts reads, directly from the stores, how many records of every
// gdprkit kind the user has: consent records not yet pseudonymised, authn
// records by sort, IP entries naming the user as their author, and spam
// lessons of the messages the host holds for them.
func (w *receiptWorld) counts(t *testing.T, a gdprkit.AccountID, user gdprkit.SubjectID, messages []string) map[string]int {
	t.Helper()
	ctx := context.Background()
	out := map[string]int{}
	live, err := w.consent.LiveRecordIDs(ctx, a, user, "", 1000)
	require.NoError(t, err)
	out["consent"] = len(live)
	c, err := w.st.Authn().CountUser(ctx, a, string(user))
	require.NoError(t, err)
	out["credentials.user"], out["credentials.totp"], out["credentials.recovery"] = c.Users, c.TOTP, c.RecoveryCodes
	out["credentials.token"], out["credentials.session"], out["credentials.throttle"] = c.Tokens, c.Sessions, c.Throttles
	out["credentials"] = c.Total()
	rs, err := w.st.IPFilter().Rules(ctx, a)
	require.NoError(t, err)
	for _, sr := range rs.Surfaces {
		for _, e := range append(append([]ipfilter.Entry(nil), sr.Allow...), sr.Deny...) {
			if string(e.AddedBy) == string(user) {
				out[string(kindIPRuleAuthor)]++
			}
		}
	}
	ls, err := w.spam.Lessons(ctx, a, messages)
	require.NoError(t, err)
	out["spam_lesson"] = len(ls)
	return out
}

// messagesOf lists the IDs of the messages in tickets user requested.
func (w *receiptWorld) messagesOf(a gdprkit.AccountID, user gdprkit.SubjectID) []string {
	var out []string
	w.hd.Update(a, func(d *memhelpdesk.Data) {
		for id, m := range d.Messages {
			if d.Tickets[m.Ticket].Requester == user {
				out = append(out, id)
			}
		}
	})
	sort.Strings(out)
	return out
}

// TestReceiptsCountWhatChanged erases one subject who has more than three
// batches of every kind of gdprkit's own data — consent records,
// credentials of every sort, spam lessons and IP rules they added — and
// checks, kind by kind, on every store, that the plan, the receipt and a
// count taken from the stores before and after all agree (issue #25 item
// 7): no target acts beyond the refs it is given, and none reports fewer
// changes than it made. Another user's data is left as it was.
func TestReceiptsCountWhatChanged(t *testing.T) {
	for name, open := range everyStore(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newReceiptWorld(t, open(t))
			a := storetest.NewAccount(t)
			w.hd.AddUser(a, memhelpdesk.User{ID: "owner", Role: gdprkit.RoleOwner, Name: "Olga Owner"})
			_, err := w.consent.DefinePurpose(ctx, a, consent.Purpose{Key: "chat", Name: "Chat"})
			require.NoError(t, err)
			_, err = w.consent.PublishPolicy(ctx, a, "chat", "We keep chats.", false, "owner")
			require.NoError(t, err)
			const n = 4*receiptBatch + 1 // more than three batches of every kind
			w.seed(t, a, "ana", n, 51)
			w.seed(t, a, "bob", 5, 52)

			anaMsgs, bobMsgs := w.messagesOf(a, "ana"), w.messagesOf(a, "bob")
			before := w.counts(t, a, "ana", anaMsgs)
			bobBefore := w.counts(t, a, "bob", bobMsgs)
			for _, k := range []string{"consent", "credentials", "credentials.session", "credentials.token", "credentials.recovery",
				string(kindIPRuleAuthor), "spam_lesson"} {
				require.Greater(t, before[k], 3*receiptBatch, "%s: the subject has more than three batches", k)
			}
			require.Equal(t, 1, before["credentials.user"])
			require.Equal(t, 2, before["credentials.totp"], "an active and a pending enrolment")
			require.Positive(t, before["credentials.throttle"], "failure counters")

			plan, err := w.erasure.Plan(ctx, a, "ana", erasure.ScopeFull, nil)
			require.NoError(t, err)
			r, err := w.erasure.Submit(ctx, a, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "owner", Verified: true})
			require.NoError(t, err)
			_, errs := w.erasure.RunUntilIdle(ctx, "worker-1")
			require.Empty(t, errs)
			rc, err := w.erasure.Receipt(ctx, a, r.ID)
			require.NoError(t, err)
			after := w.counts(t, a, "ana", anaMsgs)

			changed := func(res []erasure.TargetResult, k erasure.Kind) int64 {
				for _, x := range res {
					if x.Kind == k {
						return x.Deleted + x.Anonymized
					}
				}
				return -1
			}
			var planned []erasure.TargetResult
			for _, pt := range plan.Targets {
				planned = append(planned, pt.TargetResult)
			}
			for _, k := range []erasure.Kind{erasure.KindConsent, erasure.KindCredentials, kindIPRuleAuthor, erasure.KindSpamLesson} {
				gone := int64(before[string(k)] - after[string(k)])
				assert.Zero(t, after[string(k)], "%s: nothing of the subject is left", k)
				assert.Equal(t, gone, changed(rc.Targets, k), "%s: the receipt counts what changed (before %d, after %d)", k, before[string(k)], after[string(k)])
				assert.Equal(t, gone, changed(planned, k), "%s: the plan counted what changed", k)
			}
			assert.False(t, rc.Partial)
			assert.Equal(t, bobBefore, w.counts(t, a, "bob", bobMsgs), "another user's data is untouched")
		})
	}
}
