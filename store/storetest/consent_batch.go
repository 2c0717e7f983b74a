package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
)

// grantN records n grants of subject for purpose, 100 per atomic step, and
// returns them.
func (h *consentHarness) grantN(t *testing.T, subject gdprkit.SubjectID, purpose string, n int) []consent.Record {
	t.Helper()
	var out []consent.Record
	for n > 0 {
		k := min(n, 100)
		ds := make([]consent.Decision, k)
		for i := range ds {
			ds[i] = grant(subject, purpose)
			ds[i].RecordedBy = gdprkit.ActorID(subject)
		}
		rs, err := h.svc.Record(context.Background(), h.acct, ds, consent.Grant)
		require.NoError(t, err)
		out = append(out, rs...)
		n -= k
	}
	return out
}

// walkLive returns every live record ID of subject, page by page.
func (h *consentHarness) walkLive(t *testing.T, subject gdprkit.SubjectID, page int) [][]string {
	t.Helper()
	var pages [][]string
	after := ""
	for {
		ids, err := h.svc.LiveRecordIDs(context.Background(), h.acct, subject, after, page)
		require.NoError(t, err)
		if len(ids) == 0 {
			return pages
		}
		require.True(t, sort.StringsAreSorted(ids), "a page is in ID order")
		require.Greater(t, ids[0], after, "a page starts after the cursor")
		pages = append(pages, ids)
		after = ids[len(ids)-1]
	}
}

func runConsentBatches(t *testing.T, f func(*testing.T) consent.Store) {
	ctx := context.Background()

	t.Run("1,500 records of one subject are pseudonymised in batches of 500", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		const heavy = gdprkit.SubjectID("heavy@example.com")
		h.grantN(t, "other@example.com", "chat", 2)
		written := h.grantN(t, heavy, "chat", 1500)
		h.grantN(t, "other@example.com", "chat", 1)
		before, err := h.svc.ExportProof(ctx, h.acct, heavy)
		require.NoError(t, err)
		require.Len(t, before.Records, 1500)
		require.NoError(t, consent.VerifyProof(before))

		pages := h.walkLive(t, heavy, 500)
		require.Len(t, pages, 3)
		seen := map[string]bool{}
		for _, p := range pages {
			require.Len(t, p, 500)
			for _, id := range p {
				require.False(t, seen[id], "ID %s listed twice", id)
				seen[id] = true
			}
		}
		for _, r := range written {
			require.True(t, seen[r.ID], "record %d was listed", r.Seq)
		}

		// The erasure engine's walk: a page of refs, then exactly those.
		var counts []int
		after := ""
		for {
			ids, err := h.svc.LiveRecordIDs(ctx, h.acct, heavy, after, 500)
			require.NoError(t, err)
			if len(ids) == 0 {
				break
			}
			n, err := h.svc.PseudonymizeRecords(ctx, h.acct, heavy, ids, "system:erasure")
			require.NoError(t, err)
			counts = append(counts, n)
			after = ids[len(ids)-1]
		}
		assert.Equal(t, []int{500, 500, 500}, counts, "each batch changes exactly the records it names")
		n, err := h.svc.PseudonymizeRecords(ctx, h.acct, heavy, pages[0], "system:erasure")
		require.NoError(t, err)
		assert.Zero(t, n, "records already pseudonymised count 0")
		n, err = h.svc.Pseudonymize(ctx, h.acct, heavy, "system:erasure")
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.Empty(t, h.walkLive(t, heavy, 500), "nothing is left to pseudonymise")

		res, err := h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, int64(1503), res.Records)
		assert.Equal(t, int64(2), res.States)
		require.NoError(t, consent.VerifyProof(before), "a proof exported before still verifies on its own")
		require.NoError(t, h.svc.ConfirmProof(ctx, h.acct, before), "and still matches the chain")
		st, err := h.svc.Check(ctx, h.acct, heavy, "chat")
		require.NoError(t, err)
		assert.Equal(t, consent.StatusGranted, st, "the proof that consent existed survives")

		afterProof, err := h.svc.ExportProof(ctx, h.acct, heavy)
		require.NoError(t, err)
		require.NoError(t, consent.VerifyProof(afterProof))
		require.NoError(t, h.svc.ConfirmProof(ctx, h.acct, afterProof))
		b, err := json.Marshal(afterProof)
		require.NoError(t, err)
		for _, s := range []string{"heavy", "203.0.113.7", "Mozilla", "I agree"} {
			assert.NotContains(t, string(b), s, "nothing of the erased subject is left")
		}
		other, err := h.svc.History(ctx, h.acct, "other@example.com")
		require.NoError(t, err)
		for _, r := range other {
			assert.False(t, r.Pseudonymized, "another subject's records are untouched")
			assert.Equal(t, gdprkit.ActorID("other@example.com"), r.RecordedBy)
		}
	})

	t.Run("pseudonymising by ID changes exactly the listed records", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		h.purpose(t, "news", 0)
		rs := h.grantN(t, "ivy", "chat", 4)
		wd, err := h.svc.Withdraw(ctx, h.acct, grant("ivy", "news"))
		require.NoError(t, err)
		rs = append(rs, wd)
		otherRec := h.grantN(t, "jay", "chat", 1)[0]
		pick := []string{rs[1].ID, rs[4].ID, otherRec.ID, "no-such-record"}
		n, err := h.svc.PseudonymizeRecords(ctx, h.acct, "ivy", pick, "system:erasure")
		require.NoError(t, err)
		assert.Equal(t, 2, n, "another subject's record and an unknown ID are skipped")
		got, err := h.svc.RecordsByID(ctx, h.acct, "ivy", []string{rs[4].ID, rs[0].ID, rs[1].ID, otherRec.ID})
		require.NoError(t, err)
		require.Len(t, got, 3, "only the subject's records are exported")
		assert.Equal(t, []int64{rs[0].Seq, rs[1].Seq, rs[4].Seq}, []int64{got[0].Seq, got[1].Seq, got[2].Seq}, "in chain order")
		assert.Equal(t, rs[0], got[0], "a record not listed is untouched")
		assert.Equal(t, consent.StripIdentifiers(rs[1]), got[1], "a listed record loses exactly its identifying values")
		assert.Equal(t, consent.StripIdentifiers(rs[4]), got[2])
		jay, err := h.svc.History(ctx, h.acct, "jay")
		require.NoError(t, err)
		assert.Equal(t, otherRec, jay[0])
		live := h.walkLive(t, "ivy", 2)
		assert.Equal(t, [][]string{sortedIDs(rs[0], rs[2]), sortedIDs(rs[3])}, live)
		n, err = h.svc.PseudonymizeRecords(ctx, h.acct, "ivy", nil, "system:erasure")
		require.NoError(t, err)
		assert.Zero(t, n, "an empty list changes nothing")
		st, err := h.svc.Check(ctx, h.acct, "ivy", "news")
		require.NoError(t, err)
		assert.Equal(t, consent.StatusWithdrawn, st, "Check answers from a pseudonymised record too")
		_, err = h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
		assert.Len(t, h.audit.OfType("consent.pseudonymized"), 1, "one event per call that changed something")
	})

	t.Run("batch calls refuse bad input and change nothing", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		rs := h.grantN(t, "kim", "chat", 2)
		tooMany := make([]string, consent.MaxBatch+1)
		for i := range tooMany {
			tooMany[i] = rs[0].ID
		}
		for name, ids := range map[string][]string{
			"too many IDs":          tooMany,
			"an empty ID":           {rs[0].ID, ""},
			"an ID with a newline":  {rs[0].ID, "x\ny"},
			"an ID of 65 bytes":     {rs[0].ID, string(make([]byte, 65))},
			"an ID with a NUL byte": {rs[0].ID, "a\x00"},
		} {
			_, err := h.svc.PseudonymizeRecords(ctx, h.acct, "kim", ids, "x")
			assert.ErrorIs(t, err, gdprkit.ErrInvalid, name)
			_, err = h.svc.RecordsByID(ctx, h.acct, "kim", ids)
			assert.ErrorIs(t, err, gdprkit.ErrInvalid, name)
		}
		_, err := h.svc.PseudonymizeRecords(ctx, h.acct, "", []string{rs[0].ID}, "x")
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, "empty subject")
		for _, limit := range []int{0, -1, consent.MaxBatch + 1} {
			_, err := h.svc.LiveRecordIDs(ctx, h.acct, "kim", "", limit)
			assert.ErrorIs(t, err, gdprkit.ErrInvalid, "limit %d", limit)
		}
		_, err = h.svc.LiveRecordIDs(ctx, h.acct, "kim", "bad\tcursor", 10)
		assert.ErrorIs(t, err, gdprkit.ErrInvalid)
		hist, err := h.svc.History(ctx, h.acct, "kim")
		require.NoError(t, err)
		assert.Equal(t, rs, hist, "nothing changed")
	})

	t.Run("the current state lists each subject's latest record per purpose, page by page", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		h.purpose(t, "news", 0)
		subjects := []gdprkit.SubjectID{"s1", "s2", "s3"}
		latest := map[consent.StateKey]consent.Record{}
		for round := range 2 {
			for _, sub := range subjects {
				for _, p := range []string{"chat", "news"} {
					d := grant(sub, p)
					var r consent.Record
					var err error
					if round == 1 && p == "news" {
						r, err = h.svc.Withdraw(ctx, h.acct, d)
					} else {
						r, err = h.svc.Grant(ctx, h.acct, d)
					}
					require.NoError(t, err)
					latest[consent.StateKey{SubjectPS: r.SubjectPS, Purpose: p}] = r
				}
			}
		}
		var all []consent.State
		after := consent.StateKey{}
		for {
			page, err := h.st.States(ctx, h.acct, after, 4)
			require.NoError(t, err)
			all = append(all, page...)
			if len(page) < 4 {
				break
			}
			after = page[len(page)-1].StateKey
		}
		require.Len(t, all, 6)
		for i, st := range all {
			if i > 0 {
				prev := all[i-1]
				assert.True(t, prev.SubjectPS < st.SubjectPS || (prev.SubjectPS == st.SubjectPS && prev.Purpose < st.Purpose), "ordered by key")
			}
			r, ok := latest[st.StateKey]
			require.True(t, ok)
			assert.Equal(t, r.Seq, st.Seq)
			assert.Equal(t, r.Action, st.Action)
			assert.Equal(t, r.PolicyVersion, st.PolicyVersion)
			assert.True(t, r.At.Equal(st.At))
		}
		res, err := h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, int64(6), res.States)
		assert.Equal(t, int64(12), res.Records)
	})

	t.Run("one atomic step with several decisions of one subject and purpose keeps the last", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		d := grant("lee", "chat")
		_, err := h.svc.Record(ctx, h.acct, []consent.Decision{d, d, d}, consent.Withdraw)
		require.NoError(t, err)
		rs, err := h.svc.Record(ctx, h.acct, []consent.Decision{d, d}, consent.Grant)
		require.NoError(t, err)
		l, err := h.st.Lookup(ctx, h.acct, rs[1].SubjectPS, "chat")
		require.NoError(t, err)
		assert.Equal(t, rs[1].Seq, l.Seq)
		_, err = h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
	})

	t.Run("rewrite is atomic when rewriting fails", func(t *testing.T) {
		t.Parallel()
		h := newConsentHarness(t, f)
		h.purpose(t, "chat", 0)
		h.grantN(t, "mo", "chat", 5)
		before, err := h.st.Records(ctx, h.acct, 0, 10)
		require.NoError(t, err)
		head, err := h.st.Head(ctx, h.acct)
		require.NoError(t, err)
		boom := errors.New("boom")
		_, err = h.st.Rewrite(ctx, h.acct, 2, func(head consent.ChainHead, r *consent.Record) error {
			if r.Seq == 4 {
				return boom
			}
			r.PrevHash, r.Hash = head.Hash, fmt.Sprintf("rewritten-%d", r.Seq)
			return nil
		})
		require.ErrorIs(t, err, boom)
		_, err = h.st.Rewrite(ctx, h.acct, 2, func(_ consent.ChainHead, r *consent.Record) error {
			r.At = r.At.Add(time.Second)
			return nil
		})
		require.Error(t, err, "a rewrite may not move a record")
		after, err := h.st.Records(ctx, h.acct, 0, 10)
		require.NoError(t, err)
		assert.Equal(t, before, after, "nothing changed")
		head2, err := h.st.Head(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, head, head2)

		var heads []consent.ChainHead
		n, err := h.st.Rewrite(ctx, h.acct, 4, func(head consent.ChainHead, r *consent.Record) error {
			heads = append(heads, head)
			r.PrevHash, r.Hash, r.PriorHash = head.Hash, fmt.Sprintf("rewritten-%d", r.Seq), r.Hash
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.Equal(t, []consent.ChainHead{{Seq: 3, Hash: before[2].Hash}, {Seq: 4, Hash: "rewritten-4"}}, heads)
		head2, err = h.st.Head(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, consent.ChainHead{Seq: 5, Hash: "rewritten-5"}, head2, "the head follows the rewrite")
		after, err = h.st.Records(ctx, h.acct, 0, 10)
		require.NoError(t, err)
		assert.Equal(t, before[:3], after[:3], "records before fromSeq are untouched")
		assert.Equal(t, before[4].Hash, after[4].PriorHash, "every stored field is replaced")
		n, err = h.st.Rewrite(ctx, h.acct, 6, func(consent.ChainHead, *consent.Record) error { return boom })
		require.NoError(t, err)
		assert.Zero(t, n, "nothing beyond the head")
	})
}

func sortedIDs(rs ...consent.Record) []string {
	out := make([]string, len(rs))
	for i := range rs {
		out[i] = rs[i].ID
	}
	sort.Strings(out)
	return out
}

// runConsentLegacy runs the tests of the version-1 fixture. Its hashes bind
// its account, so they share it: they run one after another, each on a
// fresh copy of the chain, in one parallel subtest.
func runConsentLegacy(t *testing.T, f func(*testing.T) consent.Store) {
	ctx := context.Background()
	// legacy stores a fresh copy of the fixture and returns a harness in its
	// account.
	legacy := func(t *testing.T) (*consentHarness, *LegacyConsentChain) {
		lc := LoadLegacyConsentChain(t)
		h := newConsentHarness(t, f)
		h.acct = lc.Account
		_, err := h.st.DeleteAccount(ctx, lc.Account)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = h.st.DeleteAccount(context.WithoutCancel(ctx), lc.Account) })
		StoreLegacyConsentChain(t, h.st, lc)
		return h, lc
	}
	t.Run("version-1 chains", func(t *testing.T) {
		t.Parallel()
		runConsentLegacySteps(t, legacy)
	})
}

func runConsentLegacySteps(t *testing.T, legacy func(*testing.T) (*consentHarness, *LegacyConsentChain)) {
	ctx := context.Background()

	t.Run("a version-1 chain verifies, is pseudonymised and resealed, and its old proofs still verify", func(t *testing.T) {
		h, lc := legacy(t)

		res, err := h.svc.Verify(ctx, h.acct)
		require.NoError(t, err, "version-1 records verify under their own rule")
		assert.Equal(t, consent.VerifyResult{Records: 7, Head: lc.Head, States: 5, Legacy: 7}, res)
		for _, c := range []struct {
			subject gdprkit.SubjectID
			purpose string
			want    consent.Status
		}{{"c-carla", "chat", consent.StatusGranted}, {"c-carla", "news", consent.StatusWithdrawn},
			{"c-ben", "chat", consent.StatusWithdrawn}, {"c-ben", "news", consent.StatusGranted}, {"c-dora", "chat", consent.StatusGranted}} {
			st, err := h.svc.Check(ctx, h.acct, c.subject, c.purpose)
			require.NoError(t, err)
			assert.Equal(t, c.want, st, "%s %s", c.subject, c.purpose)
		}
		confirmOld := func(when string) {
			t.Helper()
			for name, p := range lc.Proofs {
				require.NoError(t, consent.VerifyProof(p), "%s: old proof %s", when, name)
				require.NoError(t, h.svc.ConfirmProof(ctx, h.acct, p), "%s: old proof %s matches the chain", when, name)
			}
		}
		confirmOld("as stored")

		// Erasure before Reseal: the old rule removes what it can.
		ids, err := h.svc.LiveRecordIDs(ctx, h.acct, "c-carla", "", 10)
		require.NoError(t, err)
		require.Len(t, ids, 3)
		n, err := h.svc.PseudonymizeRecords(ctx, h.acct, "c-carla", ids, "system:erasure")
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		hist, err := h.svc.History(ctx, h.acct, "c-carla")
		require.NoError(t, err)
		for _, r := range hist {
			assert.Empty(t, r.Subject)
			assert.Empty(t, r.Evidence.IP)
			assert.Empty(t, r.Evidence.UserAgent)
			assert.Equal(t, gdprkit.ActorID("c-carla"), r.RecordedBy, "version 1 hashes the recorder as it is")
		}
		_, err = h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
		confirmOld("after pseudonymisation under version 1")

		rr, err := h.svc.Reseal(ctx, h.acct, "system:upgrade")
		require.NoError(t, err)
		assert.Equal(t, 7, rr.Resealed)
		assert.Equal(t, lc.Head, rr.Before)
		assert.Equal(t, int64(7), rr.After.Seq)
		res, err = h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, consent.VerifyResult{Records: 7, Head: rr.After, States: 5}, res, "no legacy record is left")
		all, err := h.st.Records(ctx, h.acct, 0, 10)
		require.NoError(t, err)
		for i, r := range all {
			assert.Equal(t, consent.ChainVersion, r.Version)
			assert.Equal(t, lc.Records[i].Hash, r.PriorHash, "record %d keeps its old hash", r.Seq)
			assert.Empty(t, r.Salt)
			if r.Pseudonymized {
				assert.Empty(t, r.RecordedBy, "record %d: Reseal finishes the old pseudonymisation", r.Seq)
				assert.Empty(t, r.Evidence.Wording)
				assert.Equal(t, consent.Fields{}, r.Salts)
			}
		}
		assert.Equal(t, rr.Before.Hash, all[6].PriorHash, "an anchor of the old head links to the new one")
		confirmOld("after Reseal")
		for _, ev := range h.audit.OfType("consent.chain_resealed") {
			assert.Equal(t, lc.Head.Hash, ev.Attrs["before_hash"])
			assert.Equal(t, rr.After.Hash, ev.Attrs["after_hash"])
		}
		assert.Len(t, h.audit.OfType("consent.chain_resealed"), 1)

		again, err := h.svc.Reseal(ctx, h.acct, "system:upgrade")
		require.NoError(t, err)
		assert.Equal(t, consent.ResealResult{Before: rr.After, After: rr.After}, again, "Reseal is idempotent")

		// c-dora's record was not erased: resealed with fresh commitments,
		// it can now lose its recorder as well.
		dora, err := h.svc.History(ctx, h.acct, "c-dora")
		require.NoError(t, err)
		require.Len(t, dora, 1)
		assert.Equal(t, gdprkit.ActorID("a-agent1"), dora[0].RecordedBy)
		assert.Equal(t, "Customer agreed on the phone.", dora[0].Evidence.Wording)
		pDora, err := h.svc.ExportProof(ctx, h.acct, "c-dora")
		require.NoError(t, err)
		require.NoError(t, consent.VerifyProof(pDora))
		n, err = h.svc.Pseudonymize(ctx, h.acct, "c-dora", "system:erasure")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = h.svc.Grant(ctx, h.acct, grant("c-eve", "chat"))
		require.NoError(t, err)
		res, err = h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, int64(8), res.Records)
		require.NoError(t, h.svc.ConfirmProof(ctx, h.acct, pDora), "a proof exported before pseudonymisation matches after")
		confirmOld("at the end")
		all, err = h.st.Records(ctx, h.acct, 0, 7)
		require.NoError(t, err)
		b, err := json.Marshal(all)
		require.NoError(t, err)
		for _, s := range []string{"c-carla", "c-ben", "c-dora", "a-agent1", "203.0.113.7", "198.51.100.2", "2001:db8::7", "Mozilla", "phone"} {
			assert.NotContains(t, string(b), s, "nothing identifying is left in the erased subjects' records")
		}
	})
	t.Run("Reseal and concurrent grants keep one valid chain", func(t *testing.T) {
		h, _ := legacy(t)
		// Version-2 records behind the version-1 ones before Reseal starts.
		for i := range 3 {
			_, err := h.svc.Grant(ctx, h.acct, grant(gdprkit.SubjectID(fmt.Sprintf("early-%d", i)), "chat"))
			require.NoError(t, err)
		}
		early, err := h.st.Records(ctx, h.acct, 7, 3)
		require.NoError(t, err)
		proof, err := h.svc.ExportProof(ctx, h.acct, "early-1")
		require.NoError(t, err)
		const writers, each = 4, 5
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					_, err := h.svc.Grant(ctx, h.acct, grant(gdprkit.SubjectID(fmt.Sprintf("w%d-%d", w, i)), "chat"))
					assert.NoError(t, err)
				}
			}()
		}
		rr, err := h.svc.Reseal(ctx, h.acct, "system:upgrade")
		wg.Wait()
		require.NoError(t, err)
		assert.GreaterOrEqual(t, rr.Resealed, 10, "from the first version-1 record to the head at the time")
		res, err := h.svc.Verify(ctx, h.acct)
		require.NoError(t, err)
		assert.Equal(t, int64(10+writers*each), res.Records)
		assert.Zero(t, res.Legacy)
		relinked, err := h.st.Records(ctx, h.acct, 7, 3)
		require.NoError(t, err)
		for i := range relinked {
			assert.Equal(t, early[i].Hash, relinked[i].PriorHash, "a version-2 record behind the re-sealed ones is relinked and keeps its old hash")
			assert.Equal(t, early[i].Commits, relinked[i].Commits)
		}
		require.NoError(t, h.svc.ConfirmProof(ctx, h.acct, proof))
	})
}
