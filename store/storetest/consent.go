package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/fakeclock"
)

// TestKey is a fixed 32-byte key for pseudonymizers in tests.
var TestKey = []byte("gdprkit-storetest-key-0123456789")

type consentHarness struct {
	st    consent.Store
	svc   *consent.Service
	clock *fakeclock.Clock
	acct  gdprkit.AccountID
	audit *gdprkit.MemoryAudit
}

func newConsentHarness(t *testing.T, f func(*testing.T) consent.Store) *consentHarness {
	t.Helper()
	st := f(t)
	ps, err := gdprkit.NewPseudonymizer(TestKey)
	require.NoError(t, err)
	h := &consentHarness{st: st, clock: fakeclock.New(T0), acct: NewAccount(t), audit: &gdprkit.MemoryAudit{}}
	h.svc, err = consent.New(consent.Config{Store: st, Pseudonymizer: ps, Clock: h.clock, Audit: h.audit})
	require.NoError(t, err)
	return h
}

// purpose defines a purpose with one published policy version.
func (h *consentHarness) purpose(t *testing.T, key string, lifetime time.Duration) {
	t.Helper()
	ctx := context.Background()
	_, err := h.svc.DefinePurpose(ctx, h.acct, consent.Purpose{Key: key, Name: "Purpose " + key, Lifetime: lifetime})
	require.NoError(t, err)
	_, err = h.svc.PublishPolicy(ctx, h.acct, key, "We use your data for "+key+".", false, "admin-1")
	require.NoError(t, err)
}

func grant(subject gdprkit.SubjectID, purpose string) consent.Decision {
	return consent.Decision{Subject: subject, Purpose: purpose, Source: consent.SourcePreChat,
		IP: netip.MustParseAddr("203.0.113.7"), UserAgent: "Mozilla/5.0 (test)", Wording: "I agree"}
}

func runConsent(t *testing.T, f func(*testing.T) consent.Store) {
	ctx := context.Background()

	t.Run("purposes are created once and listed by key", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		for _, k := range []string{"marketing", "chat", "analytics"} {
			_, err := h.svc.DefinePurpose(ctx, h.acct, consent.Purpose{Key: k, Name: k, Lifetime: time.Hour})
			require.NoError(t, err)
		}
		_, err := h.svc.DefinePurpose(ctx, h.acct, consent.Purpose{Key: "chat", Name: "again"})
		require.ErrorIs(t, err, gdprkit.ErrConflict)
		ps, err := h.svc.Purposes(ctx, h.acct)
		require.NoError(t, err)
		require.Len(t, ps, 3)
		assert.Equal(t, []string{"analytics", "chat", "marketing"}, []string{ps[0].Key, ps[1].Key, ps[2].Key})
		assert.Equal(t, time.Hour, ps[0].Lifetime)
		assert.Equal(t, "I agree to analytics.", ps[0].Label)
		assert.True(t, ps[0].CreatedAt.Equal(T0))
		_, err = h.svc.Purpose(ctx, h.acct, "nope")
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
	})

	t.Run("policy versions count up and remember the text shown", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		p2, err := h.svc.PublishPolicy(ctx, h.acct, "chat", "Second text ✓", true, "admin-1")
		require.NoError(t, err)
		assert.Equal(t, 2, p2.Version)
		p3, err := h.svc.PublishPolicy(ctx, h.acct, "chat", "Third text", false, "admin-1")
		require.NoError(t, err)
		assert.Equal(t, 3, p3.Version)
		pu, err := h.svc.Purpose(ctx, h.acct, "chat")
		require.NoError(t, err)
		assert.Equal(t, 3, pu.CurrentVersion)
		assert.Equal(t, 2, pu.MaterialVersion)
		got, err := h.svc.Policy(ctx, h.acct, "chat", 2)
		require.NoError(t, err)
		assert.Equal(t, "Second text ✓", got.Text)
		assert.True(t, got.Material)
		assert.Equal(t, gdprkit.ActorID("admin-1"), got.PublishedBy)
		cur, err := h.svc.Policy(ctx, h.acct, "chat", 0)
		require.NoError(t, err)
		assert.Equal(t, 3, cur.Version)
		_, err = h.svc.Policy(ctx, h.acct, "chat", 4)
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
		_, err = h.svc.PublishPolicy(ctx, h.acct, "missing", "x", false, "admin-1")
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
	})

	t.Run("concurrent publishers get distinct versions", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		_, err := h.svc.DefinePurpose(ctx, h.acct, consent.Purpose{Key: "chat", Name: "Chat"})
		require.NoError(t, err)
		const n = 8
		versions := make(chan int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := h.svc.PublishPolicy(ctx, h.acct, "chat", fmt.Sprintf("text %d", i), false, "admin")
				if assert.NoError(t, err) {
					versions <- p.Version
				}
			}()
		}
		wg.Wait()
		close(versions)
		seen := map[int]bool{}
		for v := range versions {
			assert.False(t, seen[v], "version %d given twice", v)
			seen[v] = true
		}
		assert.Len(t, seen, n)
	})

	t.Run("check follows grant, withdraw, material change and lifetime", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		h.purpose(t, "news", 30*24*time.Hour)
		check := func(purpose string) consent.Status {
			st, err := h.svc.Check(ctx, h.acct, "alice@example.com", purpose)
			require.NoError(t, err)
			return st
		}
		assert.Equal(t, consent.StatusNeverGiven, check("chat"))
		_, err := h.svc.Grant(ctx, h.acct, grant("alice@example.com", "chat"))
		require.NoError(t, err)
		assert.Equal(t, consent.StatusGranted, check("chat"))
		assert.Equal(t, consent.StatusNeverGiven, check("news"), "a grant for one purpose says nothing of another")

		_, err = h.svc.Withdraw(ctx, h.acct, grant("alice@example.com", "chat"))
		require.NoError(t, err)
		assert.Equal(t, consent.StatusWithdrawn, check("chat"))
		_, err = h.svc.Grant(ctx, h.acct, grant("alice@example.com", "chat"))
		require.NoError(t, err)
		assert.Equal(t, consent.StatusGranted, check("chat"))

		_, err = h.svc.PublishPolicy(ctx, h.acct, "chat", "minor wording fix", false, "admin")
		require.NoError(t, err)
		assert.Equal(t, consent.StatusGranted, check("chat"), "a non-material change keeps consent")
		_, err = h.svc.PublishPolicy(ctx, h.acct, "chat", "new processor", true, "admin")
		require.NoError(t, err)
		assert.Equal(t, consent.StatusNeedsReconsent, check("chat"), "a material change makes consent stale")
		_, err = h.svc.Grant(ctx, h.acct, grant("alice@example.com", "chat"))
		require.NoError(t, err)
		assert.Equal(t, consent.StatusGranted, check("chat"))

		_, err = h.svc.Grant(ctx, h.acct, grant("alice@example.com", "news"))
		require.NoError(t, err)
		h.clock.Advance(30*24*time.Hour - time.Microsecond)
		assert.Equal(t, consent.StatusGranted, check("news"), "one microsecond before the lifetime ends")
		h.clock.Advance(time.Microsecond)
		assert.Equal(t, consent.StatusExpired, check("news"), "at the end of its lifetime a grant expires")

		_, err = h.svc.Check(ctx, h.acct, "alice@example.com", "unknown")
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
		assert.Len(t, h.audit.OfType("consent.granted"), 4)
		assert.Len(t, h.audit.OfType("consent.withdrawn"), 1)
		for _, e := range h.audit.Events() {
			assert.NotContains(t, fmt.Sprint(e), "alice", "audit events never carry the identifier")
		}
	})

	t.Run("records read back exactly as written", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		h.clock.Advance(1234567 * time.Microsecond)
		d := grant("bob", "chat")
		d.UserAgent = "Agent/1 ünïcödé"
		d.RecordedBy = "agent-7"
		r, err := h.svc.Grant(ctx, h.acct, d)
		require.NoError(t, err)
		hist, err := h.svc.History(ctx, h.acct, "bob")
		require.NoError(t, err)
		require.Len(t, hist, 1)
		got := hist[0]
		assert.True(t, got.At.Equal(r.At), "time survives the round trip: %v vs %v", got.At, r.At)
		got.At = r.At
		assert.Equal(t, r, got)
		assert.Equal(t, int64(1), r.Seq)
		assert.Equal(t, "", r.PrevHash)
		assert.Equal(t, "203.0.113.7", r.Evidence.IP)
	})

	t.Run("bad input writes nothing", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		_, err := h.svc.DefinePurpose(ctx, h.acct, consent.Purpose{Key: "nopolicy", Name: "No policy yet"})
		require.NoError(t, err)
		cases := map[string]struct {
			d    consent.Decision
			want error
		}{
			"unknown purpose":            {grant("a", "nope"), gdprkit.ErrNotFound},
			"empty subject":              {grant("", "chat"), gdprkit.ErrInvalid},
			"malformed purpose key":      {grant("a", "Bad Key!"), gdprkit.ErrInvalid},
			"policy version not there":   {func() consent.Decision { d := grant("a", "chat"); d.PolicyVersion = 9; return d }(), gdprkit.ErrNotFound},
			"purpose without a policy":   {grant("a", "nopolicy"), gdprkit.ErrNotFound},
			"oversized user agent":       {func() consent.Decision { d := grant("a", "chat"); d.UserAgent = strings.Repeat("x", 5000); return d }(), gdprkit.ErrInvalid},
			"oversized wording":          {func() consent.Decision { d := grant("a", "chat"); d.Wording = strings.Repeat("x", 5000); return d }(), gdprkit.ErrInvalid},
			"subject with control chars": {grant("a\x00b", "chat"), gdprkit.ErrInvalid},
			"empty source":               {func() consent.Decision { d := grant("a", "chat"); d.Source = ""; return d }(), gdprkit.ErrInvalid},
		}
		for name, c := range cases {
			_, err := h.svc.Grant(ctx, h.acct, c.d)
			assert.ErrorIs(t, err, c.want, name)
		}
		_, err = h.svc.Record(ctx, h.acct, []consent.Decision{grant("a", "chat"), grant("a", "nope")}, consent.Grant)
		require.ErrorIs(t, err, gdprkit.ErrNotFound, "one bad decision in a batch refuses the batch")
		head, err := h.st.Head(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, consent.ChainHead{}, head, "nothing was appended")
		st, err := h.svc.Check(ctx, h.acct, "a", "chat")
		require.NoError(t, err)
		assert.Equal(t, consent.StatusNeverGiven, st)
	})

	t.Run("append is atomic when sealing fails", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		_, err := h.svc.Grant(ctx, h.acct, grant("a", "chat"))
		require.NoError(t, err)
		boom := errors.New("boom")
		drafts := []consent.Record{{ID: gdprkit.NewID(), SubjectPS: "ps_x", Purpose: "chat", PolicyVersion: 1, Action: consent.Grant, Source: "api", At: T0},
			{ID: gdprkit.NewID(), SubjectPS: "ps_x", Purpose: "chat", PolicyVersion: 1, Action: consent.Grant, Source: "api", At: T0}}
		calls := 0
		_, err = h.st.Append(ctx, h.acct, drafts, func(head consent.ChainHead, r *consent.Record) error {
			calls++
			if calls%2 == 0 {
				return boom
			}
			r.Seq, r.PrevHash, r.Hash = head.Seq+1, head.Hash, "h"
			return nil
		})
		require.ErrorIs(t, err, boom)
		head, err := h.st.Head(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, int64(1), head.Seq)
		rs, err := h.st.SubjectRecords(ctx, h.acct, "ps_x")
		require.NoError(t, err)
		assert.Empty(t, rs)
		_, err = h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
	})

	t.Run("concurrent grants keep the chain valid", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		const writers, each = 10, 5
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					_, err := h.svc.Grant(ctx, h.acct, grant(gdprkit.SubjectID(fmt.Sprintf("s%d-%d", w, i)), "chat"))
					assert.NoError(t, err)
				}
			}()
		}
		wg.Wait()
		res, err := h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, int64(writers*each), res.Records)
		page, err := h.st.Records(ctx, h.acct, 10, 7)
		require.NoError(t, err)
		require.Len(t, page, 7)
		assert.Equal(t, int64(11), page[0].Seq)
		assert.Equal(t, int64(17), page[6].Seq)
	})

	t.Run("pseudonymize keeps the proof and drops the identifiers", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		for _, s := range []gdprkit.SubjectID{"carol@example.com", "dave@example.com", "carol@example.com"} {
			_, err := h.svc.Grant(ctx, h.acct, grant(s, "chat"))
			require.NoError(t, err)
		}
		n, err := h.svc.Pseudonymize(ctx, h.acct, "carol@example.com", "system:erasure")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		n, err = h.svc.Pseudonymize(ctx, h.acct, "carol@example.com", "system:erasure")
		require.NoError(t, err)
		assert.Equal(t, 0, n, "pseudonymize is idempotent")
		hist, err := h.svc.History(ctx, h.acct, "carol@example.com")
		require.NoError(t, err)
		require.Len(t, hist, 2, "the records stay, found by pseudonym")
		for _, r := range hist {
			assert.True(t, r.Pseudonymized)
			assert.Empty(t, r.Subject)
			assert.Empty(t, r.RecordedBy, "the recorder goes too")
			assert.Empty(t, r.Evidence.IP)
			assert.Empty(t, r.Evidence.UserAgent)
			assert.Empty(t, r.Evidence.Wording)
			assert.Equal(t, consent.Fields{}, r.Salts, "no salt is left to test a guess with")
			assert.NotEmpty(t, r.Commits.Subject)
			assert.NotEmpty(t, r.Commits.RecordedBy)
			assert.NotEmpty(t, r.Commits.IP)
			assert.NotEmpty(t, r.Commits.UserAgent)
		}
		st, err := h.svc.Check(ctx, h.acct, "carol@example.com", "chat")
		require.NoError(t, err)
		assert.Equal(t, consent.StatusGranted, st, "proof that consent existed survives")
		other, err := h.svc.History(ctx, h.acct, "dave@example.com")
		require.NoError(t, err)
		require.Len(t, other, 1)
		assert.Equal(t, gdprkit.SubjectID("dave@example.com"), other[0].Subject, "other subjects are untouched")
		assert.Equal(t, "203.0.113.7", other[0].Evidence.IP)
		_, err = h.svc.Verify(ctx, h.acct)
		require.NoError(t, err, "the chain still verifies after pseudonymisation")
		proof, err := h.svc.ExportProof(ctx, h.acct, "carol@example.com")
		require.NoError(t, err)
		require.NoError(t, consent.VerifyProof(proof))
	})

	t.Run("proof holds the texts shown and verifies alone", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		_, err := h.svc.Grant(ctx, h.acct, grant("erin", "chat"))
		require.NoError(t, err)
		_, err = h.svc.PublishPolicy(ctx, h.acct, "chat", "Version two", true, "admin")
		require.NoError(t, err)
		_, err = h.svc.Grant(ctx, h.acct, grant("frank", "chat"))
		require.NoError(t, err)
		_, err = h.svc.Grant(ctx, h.acct, grant("erin", "chat"))
		require.NoError(t, err)
		_, err = h.svc.Withdraw(ctx, h.acct, grant("erin", "chat"))
		require.NoError(t, err)
		p, err := h.svc.ExportProof(ctx, h.acct, "erin")
		require.NoError(t, err)
		require.Len(t, p.Records, 3)
		require.Len(t, p.Policies, 2)
		assert.Equal(t, "We use your data for chat.", p.Policies[0].Text)
		assert.Equal(t, "Version two", p.Policies[1].Text)
		assert.Equal(t, consent.StatusWithdrawn, p.Status["chat"])
		assert.Equal(t, int64(4), p.Head.Seq)
		require.NoError(t, consent.VerifyProof(p))
		p.Policies[1].Text = "Something else"
		require.ErrorIs(t, consent.VerifyProof(p), consent.ErrChainBroken)
	})

	t.Run("deleting an account removes all of it and nothing of others", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		other := newConsentHarness(t, f)
		for _, x := range []*consentHarness{h, other} {
			x.purpose(t, "chat", 0)
			for _, s := range []gdprkit.SubjectID{"a", "b", "a"} {
				_, err := x.svc.Grant(ctx, x.acct, grant(s, "chat"))
				require.NoError(t, err)
			}
		}
		n, err := h.svc.DeleteAccount(ctx, h.acct, "system:retention")
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		n, err = h.svc.DeleteAccount(ctx, h.acct, "system:retention")
		require.NoError(t, err)
		assert.Equal(t, 0, n, "deleting again is a no-op")
		ps, err := h.svc.Purposes(ctx, h.acct)
		require.NoError(t, err)
		assert.Empty(t, ps)
		head, err := h.st.Head(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, consent.ChainHead{}, head)
		_, err = h.st.Policy(ctx, h.acct, "chat", 1)
		require.ErrorIs(t, err, gdprkit.ErrNotFound)
		rs, err := h.st.Records(ctx, h.acct, 0, 10)
		require.NoError(t, err)
		assert.Empty(t, rs)
		// The account can start afresh.
		h.purpose(t, "chat", 0)
		st, err := h.svc.Check(ctx, h.acct, "a", "chat")
		require.NoError(t, err)
		assert.Equal(t, consent.StatusNeverGiven, st)
		res, err := other.svc.Verify(ctx, other.acct)
		require.NoError(t, err)
		assert.Equal(t, int64(3), res.Records, "the other account keeps everything")
	})

	// TenantIsolation: nothing written under one account is visible to,
	// changed by or deleted through another.
	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		t.Run("padded IDs name other records, never these (#15)", func(t *testing.T) { t.Parallel(); paddedConsent(t, f(t)) })
		t.Run("another account reads, changes and deletes nothing of this one", func(t *testing.T) {
			t.Parallel()
			st := f(t)
			ps, err := gdprkit.NewPseudonymizer(TestKey)
			require.NoError(t, err)
			clock := fakeclock.New(T0)
			svc, err := consent.New(consent.Config{Store: st, Pseudonymizer: ps, Clock: clock})
			require.NoError(t, err)
			a, b := NewAccount(t), NewAccount(t)
			_, err = svc.DefinePurpose(ctx, a, consent.Purpose{Key: "chat", Name: "A chat"})
			require.NoError(t, err)
			_, err = svc.PublishPolicy(ctx, a, "chat", "A's text", true, "admin-a")
			require.NoError(t, err)
			_, err = svc.Grant(ctx, a, grant("same@example.com", "chat"))
			require.NoError(t, err)

			// B sees none of A's purposes, policies or records.
			got, err := svc.Purposes(ctx, b)
			require.NoError(t, err)
			assert.Empty(t, got)
			_, err = svc.Check(ctx, b, "same@example.com", "chat")
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			_, err = st.Policy(ctx, b, "chat", 1)
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			aPS := ps.Subject(a, "same@example.com")
			rs, err := st.SubjectRecords(ctx, b, aPS)
			require.NoError(t, err)
			assert.Empty(t, rs)
			rs, err = st.Records(ctx, b, 0, 100)
			require.NoError(t, err)
			assert.Empty(t, rs)
			head, err := st.Head(ctx, b)
			require.NoError(t, err)
			assert.Equal(t, consent.ChainHead{}, head)
			_, err = st.PublishPolicy(ctx, b, consent.Policy{Purpose: "chat", Text: "x", TextHash: "y", PublishedAt: T0, PublishedBy: "b"})
			require.ErrorIs(t, err, gdprkit.ErrNotFound)

			// B's own purpose of the same key is independent, and B cannot change A.
			_, err = svc.DefinePurpose(ctx, b, consent.Purpose{Key: "chat", Name: "B chat"})
			require.NoError(t, err)
			_, err = svc.PublishPolicy(ctx, b, "chat", "B's text", false, "admin-b")
			require.NoError(t, err)
			_, err = svc.PublishPolicy(ctx, b, "chat", "B's text 2", true, "admin-b")
			require.NoError(t, err)
			aRecs, err := st.SubjectRecords(ctx, a, aPS)
			require.NoError(t, err)
			require.Len(t, aRecs, 1)
			aIDs := []string{aRecs[0].ID}
			n, err := st.PseudonymizeRecords(ctx, b, aPS, aIDs)
			require.NoError(t, err)
			assert.Equal(t, 0, n, "B cannot pseudonymise A's records")
			ids, err := st.LiveRecordIDs(ctx, b, aPS, "", 10)
			require.NoError(t, err)
			assert.Empty(t, ids)
			rs, err = st.RecordsByID(ctx, b, aPS, aIDs)
			require.NoError(t, err)
			assert.Empty(t, rs)
			sts, err := st.States(ctx, b, consent.StateKey{}, 10)
			require.NoError(t, err)
			assert.Empty(t, sts)
			n, err = st.Rewrite(ctx, b, 1, func(consent.ChainHead, *consent.Record) error {
				t.Error("Rewrite of B must not see A's records")
				return nil
			})
			require.NoError(t, err)
			assert.Zero(t, n)
			_, err = svc.Withdraw(ctx, b, grant("same@example.com", "chat"))
			require.NoError(t, err)

			st1, err := svc.Check(ctx, a, "same@example.com", "chat")
			require.NoError(t, err)
			assert.Equal(t, consent.StatusGranted, st1, "B's withdrawal does not reach A")
			pa, err := svc.Purpose(ctx, a, "chat")
			require.NoError(t, err)
			assert.Equal(t, "A chat", pa.Name)
			assert.Equal(t, 1, pa.CurrentVersion, "B's publications do not bump A's versions")
			hist, err := svc.History(ctx, a, "same@example.com")
			require.NoError(t, err)
			require.Len(t, hist, 1)
			assert.Equal(t, gdprkit.SubjectID("same@example.com"), hist[0].Subject)
			ra, err := svc.Verify(ctx, a)
			require.NoError(t, err)
			assert.Equal(t, int64(1), ra.Records)
			rb, err := svc.Verify(ctx, b)
			require.NoError(t, err)
			assert.Equal(t, int64(1), rb.Records)
		})
		isolationConsent(t, f)
	})

	runConsentBatches(t, f)
	runConsentLegacy(t, f)
}
