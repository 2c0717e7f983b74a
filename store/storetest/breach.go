package storetest

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
)

// runBreach checks breach.Store. ClaimNotice is global and the factory may
// share a database between tests, so every parallel test leaves its
// notices sent or due only in year 9999, and everything that claims runs
// in one sequential group at times no other test uses.
func runBreach(t *testing.T, f func(*testing.T) breach.Store) {
	ctx := context.Background()
	at := T0.Add(987654321 * time.Microsecond) // not a whole second: checks precision
	never := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	sealer := func(a gdprkit.AccountID) func(breach.Head, *breach.Entry) error {
		return func(h breach.Head, e *breach.Entry) error {
			e.Seq, e.PrevHash = h.Seq+1, h.Hash
			e.Hash = fmt.Sprintf("h%d-%s", e.Seq, a)
			return nil
		}
	}
	newBreach := func(a gdprkit.AccountID, incident string) breach.Breach {
		return breach.Breach{ID: gdprkit.NewID(), Account: a, State: breach.StateOpen, Version: 1, RecordedAt: at, UpdatedAt: at, Deadline: at.Add(72 * time.Hour),
			Report: breach.Report{Incident: incident, Title: "Bucket — ünïcode", Nature: "n", Types: []breach.Type{breach.Confidentiality},
				OccurredAt: at.Add(-time.Hour), AwareAt: at, DataCategories: []string{"email"}, ApproxRecords: 7}}
	}
	entry := func(id string, typ breach.EntryType) breach.Entry {
		return breach.Entry{ID: gdprkit.NewID(), Breach: id, Type: typ, At: at, Actor: "admin-1", Data: json.RawMessage(`{"k":"v — ü"}`)}
	}
	notice := func(a gdprkit.AccountID, id string, to breach.Audience, ps gdprkit.Pseudonym, next time.Time) breach.Notice {
		return breach.Notice{ID: gdprkit.NewID(), Account: a, Breach: id, To: to, Subject: ps, State: breach.NoticePending, RequestedAt: at, RequestedBy: "admin-1", NextAt: next}
	}
	create := func(t *testing.T, st breach.Store, a gdprkit.AccountID, b breach.Breach, w breach.Write) []breach.Entry {
		t.Helper()
		w.Breach = &b
		es, err := st.Mutate(ctx, a, b.ID, func(_ breach.Breach, found bool) (breach.Write, error) {
			if found {
				return breach.Write{}, errors.New("found before created")
			}
			return w, nil
		}, sealer(a))
		require.NoError(t, err)
		return es
	}

	t.Run("a mutation stores the breach, subjects, notices and sealed entries, read back exactly", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		b := newBreach(a, "INC-1")
		n1 := notice(a, b.ID, breach.ToAuthority, "", never)
		n2 := notice(a, b.ID, breach.ToSubject, "ps_2", never)
		es := create(t, st, a, b, breach.Write{Subjects: []gdprkit.Pseudonym{"ps_2", "ps_1", "ps_3"}, Notices: []breach.Notice{n1, n2},
			Entries: []breach.Entry{entry(b.ID, breach.EntryRecorded), entry(b.ID, breach.EntryNotify)}})
		require.Len(t, es, 2)
		assert.EqualValues(t, 2, es[1].Seq)
		assert.Equal(t, es[0].Hash, es[1].PrevHash)

		got, err := st.Breach(ctx, a, b.ID)
		require.NoError(t, err)
		assert.Equal(t, b, got)
		bs, err := st.Breaches(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, []breach.Breach{b}, bs)
		ps, err := st.Subjects(ctx, a, b.ID, "", 2)
		require.NoError(t, err)
		assert.Equal(t, []gdprkit.Pseudonym{"ps_1", "ps_2"}, ps, "ordered, limited")
		ps, err = st.Subjects(ctx, a, b.ID, "ps_2", 10)
		require.NoError(t, err)
		assert.Equal(t, []gdprkit.Pseudonym{"ps_3"}, ps, "after the cursor")
		ns, err := st.Notices(ctx, a, b.ID)
		require.NoError(t, err)
		require.Len(t, ns, 2)
		assert.Equal(t, n1, ns[0])
		assert.Equal(t, n2, ns[1])
		hs, err := st.History(ctx, a, 0, 10)
		require.NoError(t, err)
		assert.Equal(t, es, hs)
		hs, err = st.History(ctx, a, 1, 10)
		require.NoError(t, err)
		assert.Equal(t, es[1:], hs)
		h, err := st.Head(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, breach.Head{Seq: 2, Hash: es[1].Hash}, h)

		// An update sees the stored breach and replaces it.
		_, err = st.Mutate(ctx, a, b.ID, func(cur breach.Breach, found bool) (breach.Write, error) {
			require.True(t, found)
			assert.Equal(t, b, cur)
			cur.State, cur.Version = breach.StateClosed, 2
			return breach.Write{Breach: &cur, Entries: []breach.Entry{entry(b.ID, breach.EntryClosed)}}, nil
		}, sealer(a))
		require.NoError(t, err)
		got, _ = st.Breach(ctx, a, b.ID)
		assert.Equal(t, breach.StateClosed, got.State)
		h, _ = st.Head(ctx, a)
		assert.EqualValues(t, 3, h.Seq)
	})

	t.Run("a failing step stores nothing", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		b := newBreach(a, "INC-1")
		create(t, st, a, b, breach.Write{Subjects: []gdprkit.Pseudonym{"ps_1"}, Entries: []breach.Entry{entry(b.ID, breach.EntryRecorded)}})
		other := newBreach(a, "INC-2")
		boom := errors.New("boom")
		full := func() breach.Write {
			o := other
			return breach.Write{Breach: &o, Notices: []breach.Notice{notice(a, other.ID, breach.ToDPO, "", never)}, Entries: []breach.Entry{entry(other.ID, breach.EntryRecorded)}}
		}
		cases := map[string]struct {
			fn   func(breach.Breach, bool) (breach.Write, error)
			seal func(breach.Head, *breach.Entry) error
			want error
		}{
			"fn fails": {fn: func(breach.Breach, bool) (breach.Write, error) { return full(), boom }, seal: sealer(a), want: boom},
			"seal fails": {fn: func(breach.Breach, bool) (breach.Write, error) { return full(), nil },
				seal: func(breach.Head, *breach.Entry) error { return boom }, want: boom},
			"incident taken": {fn: func(breach.Breach, bool) (breach.Write, error) {
				w := full()
				w.Breach.Incident = "INC-1"
				return w, nil
			}, seal: sealer(a), want: gdprkit.ErrConflict},
			"duplicate subject": {fn: func(cur breach.Breach, _ bool) (breach.Write, error) {
				return breach.Write{Breach: &cur, Subjects: []gdprkit.Pseudonym{"ps_9", "ps_1"}, Entries: []breach.Entry{entry(b.ID, breach.EntrySubjects)}}, nil
			}, seal: sealer(a), want: gdprkit.ErrConflict},
			"a second notice for one subject": {fn: func(cur breach.Breach, _ bool) (breach.Write, error) {
				return breach.Write{Notices: []breach.Notice{notice(a, b.ID, breach.ToSubject, "ps_1", never), notice(a, b.ID, breach.ToSubject, "ps_1", never)}}, nil
			}, seal: sealer(a), want: gdprkit.ErrConflict},
			"settling a notice without its lease": {fn: func(cur breach.Breach, _ bool) (breach.Write, error) {
				n := notice(a, b.ID, breach.ToDPO, "", never)
				return breach.Write{Breach: &cur, Settle: &n, Token: "t"}, nil
			}, seal: sealer(a), want: gdprkit.ErrLeaseLost},
		}
		for name, c := range cases {
			id := other.ID
			if name == "duplicate subject" || name == "a second notice for one subject" || name == "settling a notice without its lease" {
				id = b.ID
			}
			_, err := st.Mutate(ctx, a, id, c.fn, c.seal)
			require.ErrorIs(t, err, c.want, name)
		}
		bs, err := st.Breaches(ctx, a)
		require.NoError(t, err)
		require.Len(t, bs, 1, "the other breach was never stored")
		ps, _ := st.Subjects(ctx, a, b.ID, "", 10)
		assert.Equal(t, []gdprkit.Pseudonym{"ps_1"}, ps)
		ns, _ := st.Notices(ctx, a, b.ID)
		assert.Empty(t, ns)
		ns, _ = st.Notices(ctx, a, other.ID)
		assert.Empty(t, ns)
		h, _ := st.Head(ctx, a)
		assert.EqualValues(t, 1, h.Seq)
	})

	// TenantIsolation: nothing written under one account is visible to,
	// changed by or deleted through another.
	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		t.Run("accounts are isolated", func(t *testing.T) {
			t.Parallel()
			st, a, x := f(t), NewAccount(t), NewAccount(t)
			b := newBreach(a, "INC-1")
			n := notice(a, b.ID, breach.ToDPO, "", never)
			create(t, st, a, b, breach.Write{Subjects: []gdprkit.Pseudonym{"ps_1"}, Notices: []breach.Notice{n}, Entries: []breach.Entry{entry(b.ID, breach.EntryRecorded)}})
			_, err := st.Breach(ctx, x, b.ID)
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			bs, _ := st.Breaches(ctx, x)
			assert.Empty(t, bs)
			ps, _ := st.Subjects(ctx, x, b.ID, "", 10)
			assert.Empty(t, ps)
			ns, _ := st.Notices(ctx, x, b.ID)
			assert.Empty(t, ns)
			hs, _ := st.History(ctx, x, 0, 10)
			assert.Empty(t, hs)
			h, _ := st.Head(ctx, x)
			assert.Zero(t, h.Seq)
			// x's mutation of the same ID finds nothing of a's, and the same
			// incident is x's own.
			xb := b
			xb.Account = x
			_, err = st.Mutate(ctx, x, b.ID, func(cur breach.Breach, found bool) (breach.Write, error) {
				assert.False(t, found, "another account's breach is not found")
				return breach.Write{Breach: &xb, Entries: []breach.Entry{entry(b.ID, breach.EntryRecorded)}}, nil
			}, sealer(x))
			require.NoError(t, err)
			n2, err := st.DeleteAccount(ctx, x)
			require.NoError(t, err)
			assert.Equal(t, 1, n2)
			got, err := st.Breach(ctx, a, b.ID)
			require.NoError(t, err, "deleting x leaves a alone")
			assert.Equal(t, b, got)
			n2, err = st.DeleteAccount(ctx, a)
			require.NoError(t, err)
			assert.Equal(t, 1, n2)
			for _, check := range []func() int{
				func() int { bs, _ := st.Breaches(ctx, a); return len(bs) },
				func() int { ps, _ := st.Subjects(ctx, a, b.ID, "", 10); return len(ps) },
				func() int { ns, _ := st.Notices(ctx, a, b.ID); return len(ns) },
				func() int { hs, _ := st.History(ctx, a, 0, 10); return len(hs) },
			} {
				assert.Zero(t, check())
			}
			_, err = st.Breaches(ctx, a+" ")
			require.ErrorIs(t, err, gdprkit.ErrInvalid, "a padded account is refused")
		})
		t.Run("padded account IDs name other accounts, never this one (#15)", func(t *testing.T) {
			t.Parallel()
			st, a := f(t), NewAccount(t)
			b := newBreach(a, "INC-1")
			n := notice(a, b.ID, breach.ToDPO, "", never)
			es := create(t, st, a, b, breach.Write{Subjects: []gdprkit.Pseudonym{"ps_1"}, Notices: []breach.Notice{n}, Entries: []breach.Entry{entry(b.ID, breach.EntryRecorded)}})
			isolatePaddedAccount(t, a, map[string]paddedOp{
				"Breach": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					_, err := st.Breach(ctx, pa, b.ID)
					return err == nil, err
				},
				"Breaches": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					bs, err := st.Breaches(ctx, pa)
					return len(bs) > 0, err
				},
				"Subjects": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					ps, err := st.Subjects(ctx, pa, b.ID, "", 10)
					return len(ps) > 0, err
				},
				"Notices": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					ns, err := st.Notices(ctx, pa, b.ID)
					return len(ns) > 0, err
				},
				"History": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					hs, err := st.History(ctx, pa, 0, 10)
					return len(hs) > 0, err
				},
				"Head": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					h, err := st.Head(ctx, pa)
					return h.Seq > 0, err
				},
				"Mutate": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					leaked := false
					_, err := st.Mutate(ctx, pa, b.ID, func(_ breach.Breach, found bool) (breach.Write, error) {
						leaked = found
						return breach.Write{}, nil
					}, sealer(pa))
					return leaked, err
				},
				"DeleteAccount": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
					n, err := st.DeleteAccount(ctx, pa)
					return n > 0, err
				},
			})
			got, err := st.Breach(ctx, a, b.ID)
			require.NoError(t, err)
			assert.Equal(t, b, got)
			hs, err := st.History(ctx, a, 0, 10)
			require.NoError(t, err)
			assert.Equal(t, es, hs)
			ns, err := st.Notices(ctx, a, b.ID)
			require.NoError(t, err)
			assert.Equal(t, []breach.Notice{n}, ns)
		})
	})

	t.Run("concurrent mutations of one account form one unbroken chain", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		b := newBreach(a, "")
		create(t, st, a, b, breach.Write{Entries: []breach.Entry{entry(b.ID, breach.EntryRecorded)}})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					_, err := st.Mutate(ctx, a, b.ID, func(cur breach.Breach, _ bool) (breach.Write, error) {
						cur.Version++
						return breach.Write{Breach: &cur, Entries: []breach.Entry{entry(b.ID, breach.EntryUpdated)}}, nil
					}, sealer(a))
					assert.NoError(t, err)
				}
			}()
		}
		wg.Wait()
		hs, err := st.History(ctx, a, 0, 100)
		require.NoError(t, err)
		require.Len(t, hs, 25)
		for i, e := range hs {
			assert.EqualValues(t, i+1, e.Seq)
			if i > 0 {
				assert.Equal(t, hs[i-1].Hash, e.PrevHash)
			}
		}
		got, _ := st.Breach(ctx, a, b.ID)
		assert.EqualValues(t, 25, got.Version, "no update was lost")
	})

	// The outbox is global: everything that claims runs here, in order.
	t.Run("queue", func(t *testing.T) {
		t.Parallel()
		st, a, x := f(t), NewAccount(t), NewAccount(t)
		base := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
		ba, bx := newBreach(a, ""), newBreach(x, "")
		na := notice(a, ba.ID, breach.ToAuthority, "", base.Add(2*time.Minute))
		nx := notice(x, bx.ID, breach.ToDPO, "", base.Add(time.Minute))
		create(t, st, a, ba, breach.Write{Notices: []breach.Notice{na}})
		create(t, st, x, bx, breach.Write{Notices: []breach.Notice{nx}})
		settle := func(acct gdprkit.AccountID, n breach.Notice, token string, state breach.NoticeState) error {
			_, err := st.Mutate(ctx, acct, n.Breach, func(breach.Breach, bool) (breach.Write, error) {
				d := n
				d.State, d.Attempts, d.SentAt, d.Reference = state, 1, base, "ref"
				d.LeaseOwner, d.LeaseToken, d.LeaseUntil = "", "", time.Time{}
				return breach.Write{Settle: &d, Token: token}, nil
			}, sealer(acct))
			return err
		}

		t.Run("the earliest due notice is claimed, across accounts, and only when due", func(t *testing.T) {
			_, err := st.ClaimNotice(ctx, base, "w", "tok-0", base.Add(time.Minute))
			require.ErrorIs(t, err, gdprkit.ErrNotFound, "nothing due yet")
			got, err := st.ClaimNotice(ctx, base.Add(5*time.Minute), "w1", "tok-1", base.Add(10*time.Minute))
			require.NoError(t, err)
			assert.Equal(t, nx.ID, got.ID)
			assert.Equal(t, x, got.Account)
			assert.Equal(t, breach.NoticeSending, got.State)
			assert.Equal(t, "w1", got.LeaseOwner)
			assert.Equal(t, "tok-1", got.LeaseToken)
			assert.True(t, got.LeaseUntil.Equal(base.Add(10*time.Minute)))
			got, err = st.ClaimNotice(ctx, base.Add(5*time.Minute), "w2", "tok-2", base.Add(10*time.Minute))
			require.NoError(t, err)
			assert.Equal(t, na.ID, got.ID)
			_, err = st.ClaimNotice(ctx, base.Add(5*time.Minute), "w3", "tok-3", base.Add(10*time.Minute))
			require.ErrorIs(t, err, gdprkit.ErrNotFound, "leased notices are not claimed again")
			ns, _ := st.Notices(ctx, x, bx.ID)
			assert.Equal(t, breach.NoticeSending, ns[0].State, "Notices shows the lease")
		})

		t.Run("the lease token guards the outcome", func(t *testing.T) {
			require.ErrorIs(t, settle(x, nx, "tok-2", breach.NoticeSent), gdprkit.ErrLeaseLost, "another worker's token")
			require.ErrorIs(t, settle(a, breach.Notice{ID: nx.ID, Breach: ba.ID}, "tok-1", breach.NoticeSent), gdprkit.ErrLeaseLost, "another account")
			require.NoError(t, settle(x, nx, "tok-1", breach.NoticeSent))
			ns, _ := st.Notices(ctx, x, bx.ID)
			assert.Equal(t, breach.NoticeSent, ns[0].State)
			assert.Equal(t, "ref", ns[0].Reference)
			assert.Empty(t, ns[0].LeaseToken)
			require.ErrorIs(t, settle(x, nx, "tok-1", breach.NoticeSent), gdprkit.ErrLeaseLost, "settled once")
		})

		t.Run("an expired lease is taken over and the old token is dead", func(t *testing.T) {
			got, err := st.ClaimNotice(ctx, base.Add(15*time.Minute), "w4", "tok-4", base.Add(30*time.Minute))
			require.NoError(t, err)
			assert.Equal(t, na.ID, got.ID)
			require.ErrorIs(t, settle(a, na, "tok-2", breach.NoticeSent), gdprkit.ErrLeaseLost)
			require.NoError(t, settle(a, na, "tok-4", breach.NoticeSent))
			_, err = st.ClaimNotice(ctx, base.Add(time.Hour), "w", "tok-5", base.Add(2*time.Hour))
			require.ErrorIs(t, err, gdprkit.ErrNotFound, "sent notices are not claimed")
		})

		t.Run("concurrent workers claim each notice once", func(t *testing.T) {
			var ns []breach.Notice
			for i := range 24 {
				ns = append(ns, notice(a, ba.ID, breach.ToSubject, gdprkit.Pseudonym(fmt.Sprintf("ps_%02d", i)), base.Add(time.Duration(i)*time.Second)))
			}
			_, err := st.Mutate(ctx, a, ba.ID, func(breach.Breach, bool) (breach.Write, error) { return breach.Write{Notices: ns}, nil }, sealer(a))
			require.NoError(t, err)
			var mu sync.Mutex
			claimed := map[string]int{}
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						tok := fmt.Sprintf("tok-w%d-%s", w, gdprkit.NewID())
						n, err := st.ClaimNotice(ctx, base.Add(2*time.Hour), "w", tok, base.Add(3*time.Hour))
						if errors.Is(err, gdprkit.ErrNotFound) {
							return
						}
						if !assert.NoError(t, err) {
							return
						}
						mu.Lock()
						claimed[n.ID]++
						mu.Unlock()
						assert.NoError(t, settle(a, n, tok, breach.NoticeSent))
					}
				}()
			}
			wg.Wait()
			assert.Len(t, claimed, 24)
			for id, c := range claimed {
				assert.Equal(t, 1, c, "notice %s claimed once", id)
			}
		})

		t.Run("two services on one store send each notice once and the register verifies", func(t *testing.T) {
			clock := fakeclock.New(base.Add(24 * time.Hour))
			ps, err := gdprkit.NewPseudonymizer(TestKey)
			require.NoError(t, err)
			var mu sync.Mutex
			sends := map[string]int{}
			mk := func() *breach.Service {
				svc, err := breach.New(breach.Config{Store: st, Pseudonymizer: ps, Clock: clock,
					Finder: breach.FinderFunc(func(context.Context, gdprkit.AccountID, breach.Criteria) ([]gdprkit.SubjectID, error) {
						out := make([]gdprkit.SubjectID, 30)
						for i := range out {
							out[i] = gdprkit.SubjectID(fmt.Sprintf("user-%d", i))
						}
						return out, nil
					}),
					Notifier: breach.NotifierFunc(func(_ context.Context, m breach.Message) (string, error) {
						mu.Lock()
						sends[m.IdempotencyKey]++
						mu.Unlock()
						return "ok", nil
					})})
				require.NoError(t, err)
				return svc
			}
			s1, s2 := mk(), mk()
			acct := NewAccount(t)
			b, err := s1.Record(ctx, acct, breach.Report{Title: "t", Nature: "n", OccurredAt: clock.Now().Add(-time.Hour), AwareAt: clock.Now(), HighRisk: true, By: "admin-1"})
			require.NoError(t, err)
			n, err := s1.FindSubjects(ctx, acct, b.ID, breach.Criteria{}, "admin-1")
			require.NoError(t, err)
			assert.Equal(t, 30, n)
			q, err := s2.Notify(ctx, acct, b.ID, breach.NotifyRequest{Authority: true, DPO: true, Subjects: true, By: "admin-1"})
			require.NoError(t, err)
			assert.Equal(t, 30, q.Subjects)
			var wg sync.WaitGroup
			for i, svc := range []*breach.Service{s1, s2, s1, s2} {
				wg.Add(1)
				go func() { defer wg.Done(); svc.RunUntilIdle(ctx, fmt.Sprintf("p%d", i)) }()
			}
			wg.Wait()
			assert.Len(t, sends, 32)
			for k, c := range sends {
				assert.Equal(t, 1, c, "notice %s sent once", k)
			}
			reg, err := s2.Register(ctx, acct)
			require.NoError(t, err)
			require.True(t, reg.Verification.OK, reg.Verification.Problem)
			require.Len(t, reg.Breaches, 1)
			assert.Equal(t, breach.StateNotified, reg.Breaches[0].Breach.State)
			assert.Equal(t, 30, reg.Breaches[0].Subjects.Sent)
			assert.Empty(t, reg.Breaches[0].Outstanding)
		})
	})
}
