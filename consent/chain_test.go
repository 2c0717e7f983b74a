package consent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// decision is a grant as a customer portal captures it: every identifying
// field filled in.
func decision(subject gdprkit.SubjectID, purpose string) consent.Decision {
	return consent.Decision{Subject: subject, Purpose: purpose, Source: consent.SourcePortal,
		IP: netip.MustParseAddr("192.0.2.1"), UserAgent: "Mozilla/5.0 (" + string(subject) + ")",
		Wording: "Yes, " + string(subject) + " agrees.", RecordedBy: gdprkit.ActorID(subject)}
}

// stateTamper hands Verify and Check a doctored current state, as an
// attacker with write access to storage would.
type stateTamper struct {
	consent.Store
	states func([]consent.State) []consent.State
	lookup func(*consent.Lookup)
}

func (s stateTamper) States(ctx context.Context, a gdprkit.AccountID, after consent.StateKey, limit int) ([]consent.State, error) {
	sts, err := s.Store.States(ctx, a, after, limit)
	if s.states != nil && after == (consent.StateKey{}) {
		sts = s.states(sts)
	}
	return sts, err
}

func (s stateTamper) Lookup(ctx context.Context, a gdprkit.AccountID, sub gdprkit.Pseudonym, purpose string) (consent.Lookup, error) {
	l, err := s.Store.Lookup(ctx, a, sub, purpose)
	if s.lookup != nil && err == nil {
		s.lookup(&l)
	}
	return l, err
}

// Verify covers the current state Check answers from, and Check verifies
// the record it answers from: an edited state entry or record never turns
// into a grant that Verify misses.
func TestVerifyAndCheckCoverTheCurrentState(t *testing.T) {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer(key)
	setup := func(t *testing.T) consent.Store {
		svc, st, _ := newService(t)
		for _, s := range []gdprkit.SubjectID{"a", "b"} {
			_, err := svc.Grant(ctx, acct, decision(s, "chat"))
			require.NoError(t, err)
		}
		_, err := svc.Withdraw(ctx, acct, decision("a", "chat"))
		require.NoError(t, err)
		_, err = svc.Grant(ctx, acct, decision("a", "marketing"))
		require.NoError(t, err)
		res, err := svc.Verify(ctx, acct)
		require.NoError(t, err)
		require.Equal(t, int64(3), res.States)
		return st
	}
	aChat := func(st consent.State) bool { return st.SubjectPS == ps.Subject(acct, "a") && st.Purpose == "chat" }
	states := map[string]func([]consent.State) []consent.State{
		"withdrawal shown as grant": func(sts []consent.State) []consent.State {
			for i := range sts {
				if aChat(sts[i]) {
					sts[i].Action = consent.Grant
				}
			}
			return sts
		},
		"pointed back at the older grant": func(sts []consent.State) []consent.State {
			for i := range sts {
				if aChat(sts[i]) {
					sts[i].Seq, sts[i].Action = 1, consent.Grant
				}
			}
			return sts
		},
		"policy version edited": func(sts []consent.State) []consent.State { sts[0].PolicyVersion = 9; return sts },
		"time edited":           func(sts []consent.State) []consent.State { sts[0].At = sts[0].At.Add(time.Hour); return sts },
		"entry removed":         func(sts []consent.State) []consent.State { return sts[1:] },
		"entry doubled":         func(sts []consent.State) []consent.State { return append(sts, sts[0]) },
		"entry added": func(sts []consent.State) []consent.State {
			extra := sts[0]
			extra.Purpose = "news"
			return append(sts, extra)
		},
	}
	for name, edit := range states {
		t.Run("state "+name, func(t *testing.T) {
			bad, err := consent.New(consent.Config{Store: stateTamper{Store: setup(t), states: edit}, Pseudonymizer: ps})
			require.NoError(t, err)
			_, err = bad.Verify(ctx, acct)
			require.ErrorIs(t, err, consent.ErrChainBroken)
		})
	}

	lookups := map[string]func(*consent.Lookup){
		"record edited to a grant":  func(l *consent.Lookup) { l.Record.Action = consent.Grant },
		"another subject's record":  func(l *consent.Lookup) { l.Record.SubjectPS = ps.Subject(acct, "b") },
		"record of another purpose": func(l *consent.Lookup) { l.Record.Purpose = "marketing" },
		"entry points to no record": func(l *consent.Lookup) { l.Record = consent.Record{} },
		"record is not the entry's": func(l *consent.Lookup) { l.Seq++ },
		"policy version edited":     func(l *consent.Lookup) { l.Record.PolicyVersion = 2 },
		"time edited":               func(l *consent.Lookup) { l.Record.At = l.Record.At.Add(-time.Hour) },
		"commitment swapped":        func(l *consent.Lookup) { l.Record.Commits.Subject = l.Record.Commits.RecordedBy },
	}
	for name, edit := range lookups {
		t.Run("check: "+name, func(t *testing.T) {
			bad, err := consent.New(consent.Config{Store: stateTamper{Store: setup(t), lookup: edit}, Pseudonymizer: ps})
			require.NoError(t, err)
			st, err := bad.Check(ctx, acct, "a", "chat")
			require.ErrorIs(t, err, consent.ErrChainBroken)
			assert.False(t, st.Granted())
		})
	}
}

// Every identifying value can be removed with its salt, alone or together,
// and the chain still verifies; an edited or half-removed value breaks it.
func TestIdentifiersCanBeRemovedButNotEdited(t *testing.T) {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer(key)
	type edit func(r *consent.Record)
	removals := map[string]edit{
		"subject":    func(r *consent.Record) { r.Subject, r.Salts.Subject = "", "" },
		"recorder":   func(r *consent.Record) { r.RecordedBy, r.Salts.RecordedBy = "", "" },
		"ip":         func(r *consent.Record) { r.Evidence.IP, r.Salts.IP = "", "" },
		"user agent": func(r *consent.Record) { r.Evidence.UserAgent, r.Salts.UserAgent = "", "" },
		"wording":    func(r *consent.Record) { r.Evidence.Wording, r.Salts.Wording = "", "" },
		"all of them": func(r *consent.Record) {
			*r = consent.StripIdentifiers(*r)
		},
	}
	forgeries := map[string]edit{
		"recorder edited":             func(r *consent.Record) { r.RecordedBy = "agent-7" },
		"recorder removed, salt kept": func(r *consent.Record) { r.RecordedBy = "" },
		"ip removed, salt kept":       func(r *consent.Record) { r.Evidence.IP = "" },
		"wording edited":              func(r *consent.Record) { r.Evidence.Wording = "Yes to everything." },
		"salt replaced":               func(r *consent.Record) { r.Salts.UserAgent = "00" + r.Salts.UserAgent[2:] },
		"commitment replaced":         func(r *consent.Record) { r.Commits.IP = r.Commits.UserAgent },
		"value moved to another field": func(r *consent.Record) {
			r.Evidence.UserAgent, r.Salts.UserAgent, r.Commits.UserAgent = r.Evidence.IP, r.Salts.IP, r.Commits.IP
		},
		"removed value, marked pseudonymised, salt kept": func(r *consent.Record) {
			r.Subject, r.Pseudonymized = "", true
		},
		"version lowered":   func(r *consent.Record) { r.Version = 1 },
		"prior hash forged": func(r *consent.Record) { r.PriorHash = r.PrevHash },
		"a value recorded empty filled in later": func(r *consent.Record) {
			r.Commits.IP, r.Salts.IP, r.Evidence.IP = "", "", ""
		},
	}
	run := func(name string, e edit, wantBroken bool) {
		t.Run(name, func(t *testing.T) {
			svc, st, _ := newService(t)
			for _, s := range []gdprkit.SubjectID{"a", "b", "a"} {
				_, err := svc.Grant(ctx, acct, decision(s, "chat"))
				require.NoError(t, err)
			}
			proof, err := svc.ExportProof(ctx, acct, "b")
			require.NoError(t, err)
			edited := tamperStore{st, func(rs []consent.Record) []consent.Record {
				for i := range rs {
					if rs[i].Seq == 2 {
						e(&rs[i])
					}
				}
				return rs
			}}
			bad, err := consent.New(consent.Config{Store: byIDTamper{edited}, Pseudonymizer: ps})
			require.NoError(t, err)
			_, verr := bad.Verify(ctx, acct)
			cerr := bad.ConfirmProof(ctx, acct, proof)
			if wantBroken {
				require.ErrorIs(t, verr, consent.ErrChainBroken)
				require.ErrorIs(t, cerr, consent.ErrChainBroken)
				return
			}
			require.NoError(t, verr)
			require.NoError(t, cerr, "the proof exported before still matches")
			p, err := bad.ExportProof(ctx, acct, "b")
			require.NoError(t, err)
			require.NoError(t, consent.VerifyProof(p))
		})
	}
	for name, e := range removals {
		run("removing the "+name, e, false)
	}
	for name, e := range forgeries {
		run(name, e, true)
	}
}

// byIDTamper routes RecordsByID through the tamperStore's edit too.
type byIDTamper struct{ tamperStore }

func (s byIDTamper) RecordsByID(ctx context.Context, a gdprkit.AccountID, sub gdprkit.Pseudonym, ids []string) ([]consent.Record, error) {
	rs, err := s.Store.RecordsByID(ctx, a, sub, ids)
	return s.edit(rs), err
}

// countingStore counts the store calls of the batch API.
type countingStore struct {
	consent.Store
	live, pseudonymize atomic.Int64
	largest            atomic.Int64
}

func (s *countingStore) LiveRecordIDs(ctx context.Context, a gdprkit.AccountID, sub gdprkit.Pseudonym, after string, limit int) ([]string, error) {
	s.live.Add(1)
	return s.Store.LiveRecordIDs(ctx, a, sub, after, limit)
}

func (s *countingStore) PseudonymizeRecords(ctx context.Context, a gdprkit.AccountID, sub gdprkit.Pseudonym, ids []string) (int, error) {
	s.pseudonymize.Add(1)
	if int64(len(ids)) > s.largest.Load() {
		s.largest.Store(int64(len(ids)))
	}
	return s.Store.PseudonymizeRecords(ctx, a, sub, ids)
}

// PseudonymizeRecords is one store step per call, whatever the number of
// IDs; Pseudonymize walks a long history in pages of MaxBatch.
func TestPseudonymizeIsOneStoreStepPerBatch(t *testing.T) {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer(key)
	cs := &countingStore{Store: memstore.New().Consent()}
	svc, err := consent.New(consent.Config{Store: cs, Pseudonymizer: ps, Clock: fakeclock.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))})
	require.NoError(t, err)
	_, err = svc.DefinePurpose(ctx, acct, consent.Purpose{Key: "chat", Name: "Chat"})
	require.NoError(t, err)
	_, err = svc.PublishPolicy(ctx, acct, "chat", "text", false, "owner")
	require.NoError(t, err)
	for range 15 {
		ds := make([]consent.Decision, 100)
		for i := range ds {
			ds[i] = decision("zed", "chat")
		}
		_, err := svc.Record(ctx, acct, ds, consent.Grant)
		require.NoError(t, err)
	}
	ids, err := svc.LiveRecordIDs(ctx, acct, "zed", "", 500)
	require.NoError(t, err)
	n, err := svc.PseudonymizeRecords(ctx, acct, "zed", ids, "system:erasure")
	require.NoError(t, err)
	assert.Equal(t, 500, n)
	assert.Equal(t, int64(1), cs.pseudonymize.Load(), "500 records, one store step")

	cs.live.Store(0)
	cs.pseudonymize.Store(0)
	n, err = svc.Pseudonymize(ctx, acct, "zed", "system:erasure")
	require.NoError(t, err)
	assert.Equal(t, 1000, n)
	assert.Equal(t, int64(1), cs.pseudonymize.Load(), "the remaining 1,000 in one page")
	assert.Equal(t, int64(2), cs.live.Load(), "one page, then the empty one")
	assert.LessOrEqual(t, cs.largest.Load(), int64(consent.MaxBatch))
}

// A proof keeps verifying through everything that may happen to the store
// later: pseudonymisation of its records, new records, Reseal.
func TestProofsOutliveErasureAndReseal(t *testing.T) {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer(storetest.TestKey)
	lc := storetest.LoadLegacyConsentChain(t)
	st := memstore.New().Consent()
	storetest.StoreLegacyConsentChain(t, st, lc)
	svc, err := consent.New(consent.Config{Store: st, Pseudonymizer: ps, Clock: fakeclock.New(storetest.T0)})
	require.NoError(t, err)
	a := lc.Account

	carlaV1 := lc.Proofs["carla_before"]
	carlaNow, err := svc.ExportProof(ctx, a, "c-carla")
	require.NoError(t, err)
	assert.Equal(t, consent.ProofFormat, carlaNow.Format)
	require.NoError(t, consent.VerifyProof(carlaNow), "a version-2 proof of version-1 records")

	rr, err := svc.Reseal(ctx, a, "system:upgrade")
	require.NoError(t, err)
	carlaResealed, err := svc.ExportProof(ctx, a, "c-carla")
	require.NoError(t, err)
	n, err := svc.Pseudonymize(ctx, a, "c-carla", "system:erasure")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	for name, p := range map[string]*consent.Proof{"v1 proof": carlaV1, "v2 proof of v1 records": carlaNow, "proof after reseal": carlaResealed} {
		require.NoError(t, consent.VerifyProof(p), name)
		require.NoError(t, svc.ConfirmProof(ctx, a, p), name)
	}
	_, err = svc.Verify(ctx, a)
	require.NoError(t, err)

	// Forged copies of those proofs do not match.
	forged := *carlaResealed
	forged.Records = append([]consent.Record(nil), carlaResealed.Records...)
	forged.Records[0].At = forged.Records[0].At.Add(time.Second)
	require.ErrorIs(t, svc.ConfirmProof(ctx, a, &forged), consent.ErrChainBroken)
	other := *carlaV1
	other.Account = "someone-else"
	require.Error(t, svc.ConfirmProof(ctx, a, &other))
	v1as2 := *carlaV1
	v1as2.Format = consent.ProofFormat
	require.NoError(t, consent.VerifyProof(&v1as2), "a v2 document may hold v1 records")
	resealedAsV1 := *carlaResealed
	resealedAsV1.Format = consent.ProofFormatV1
	require.ErrorIs(t, consent.VerifyProof(&resealedAsV1), consent.ErrChainBroken, "a v1 document holds only v1 records")

	// After Reseal an edit anywhere still breaks the chain, including the
	// kind of in-place replacement a prior hash might seem to allow.
	for name, e := range map[string]func([]consent.Record) []consent.Record{
		"record replaced in place, linked by its prior hash": func(rs []consent.Record) []consent.Record {
			for i := range rs {
				if rs[i].Seq == 4 {
					rs[i].Source = consent.SourceImport
					rs[i].Hash = rs[i].PriorHash
				}
			}
			return rs
		},
		"next record linked to the prior hash": func(rs []consent.Record) []consent.Record {
			for i := range rs {
				if rs[i].Seq == 5 {
					rs[i].PrevHash = rs[i-1].PriorHash
				}
			}
			return rs
		},
		"resealed record turned back to version 1": func(rs []consent.Record) []consent.Record { rs[3].Version = 1; return rs },
	} {
		bad, err := consent.New(consent.Config{Store: tamperStore{st, e}, Pseudonymizer: ps})
		require.NoError(t, err)
		_, err = bad.Verify(ctx, a)
		require.ErrorIs(t, err, consent.ErrChainBroken, name)
	}
	assert.NotEqual(t, rr.Before.Hash, rr.After.Hash)
}

// Reseal verifies first and re-seals nothing of a broken chain.
func TestResealRefusesABrokenChain(t *testing.T) {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer(storetest.TestKey)
	lc := storetest.LoadLegacyConsentChain(t)
	st := memstore.New().Consent()
	storetest.StoreLegacyConsentChain(t, st, lc)
	bad, err := consent.New(consent.Config{Store: tamperStore{st, func(rs []consent.Record) []consent.Record {
		for i := range rs {
			if rs[i].Seq == 4 {
				rs[i].RecordedBy = "a-agent2"
			}
		}
		return rs
	}}, Pseudonymizer: ps})
	require.NoError(t, err)
	_, err = bad.Reseal(ctx, lc.Account, "system:upgrade")
	require.ErrorIs(t, err, consent.ErrChainBroken)
	rs, err := st.Records(ctx, lc.Account, 0, 10)
	require.NoError(t, err)
	assert.Equal(t, lc.Records, rs, "nothing was re-sealed")
}

// FuzzVerifyProofJSON mutates an exported proof's JSON: whatever decodes and
// still verifies must say what the original said — same records, same
// values wherever it holds them, same subject.
func FuzzVerifyProofJSON(f *testing.F) {
	svc, _, _ := newService(f)
	ctx := context.Background()
	for _, a := range []consent.Action{consent.Grant, consent.Withdraw} {
		_, err := svc.Record(ctx, acct, []consent.Decision{decision("ann", "chat"), decision("ann", "marketing")}, a)
		require.NoError(f, err)
	}
	orig, err := svc.ExportProof(ctx, acct, "ann")
	require.NoError(f, err)
	b, err := json.Marshal(orig)
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"format":"gdprkit-consent-proof-v2","records":[{"seq":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p consent.Proof
		if json.Unmarshal(data, &p) != nil || consent.VerifyProof(&p) != nil {
			return
		}
		if len(p.Records) == 0 {
			return // says nothing
		}
		require.Equal(t, orig.Account, p.Account, "the account is bound by every hash")
		byHash := map[string]consent.Record{}
		for _, r := range orig.Records {
			byHash[r.Hash] = r
		}
		for _, r := range p.Records {
			o, ok := byHash[r.Hash]
			if !ok {
				// A record nobody exported: it can only be a fresh one
				// forged with a valid hash of its own.
				continue
			}
			same := r.Seq == o.Seq && r.ID == o.ID && r.Purpose == o.Purpose && r.Action == o.Action && r.At.Equal(o.At) &&
				r.PolicyHash == o.PolicyHash && r.Commits == o.Commits && r.SubjectPS == o.SubjectPS
			require.True(t, same, "a verified record with a known hash says what it said: %+v", r)
			for _, pair := range [][2]string{{string(r.Subject), string(o.Subject)}, {string(r.RecordedBy), string(o.RecordedBy)},
				{r.Evidence.IP, o.Evidence.IP}, {r.Evidence.UserAgent, o.Evidence.UserAgent}, {r.Evidence.Wording, o.Evidence.Wording}} {
				require.True(t, pair[0] == "" || pair[0] == pair[1], "a value is held as exported or not at all: %q", pair[0])
			}
			if r.Salts.Subject != "" {
				require.Equal(t, orig.Subject, p.Subject, "the subject is the one the records commit to")
			}
		}
	})
}

// ExampleService_PseudonymizeRecords walks a subject's records page by page,
// as an erasure job does, and pseudonymises exactly each page.
func ExampleService_PseudonymizeRecords() {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := consent.New(consent.Config{Store: memstore.New().Consent(), Pseudonymizer: ps})
	svc.DefinePurpose(ctx, "acme", consent.Purpose{Key: "news", Name: "Newsletter"})
	svc.PublishPolicy(ctx, "acme", "news", "One e-mail a month.", false, "owner")
	for range 5 {
		svc.Grant(ctx, "acme", consent.Decision{Subject: "c-bo", Purpose: "news", Source: consent.SourcePortal,
			IP: netip.MustParseAddr("198.51.100.4"), RecordedBy: "c-bo"})
	}
	proof, _ := svc.ExportProof(ctx, "acme", "c-bo")

	after := ""
	for {
		ids, _ := svc.LiveRecordIDs(ctx, "acme", "c-bo", after, 2)
		if len(ids) == 0 {
			break
		}
		n, _ := svc.PseudonymizeRecords(ctx, "acme", "c-bo", ids, "system:erasure")
		fmt.Println("page of", len(ids), "pseudonymised", n)
		after = ids[len(ids)-1]
	}
	h, _ := svc.History(ctx, "acme", "c-bo")
	_, err := svc.Verify(ctx, "acme")
	fmt.Printf("recorded by %q, IP %q; chain valid: %v; earlier proof still matches: %v\n",
		h[0].RecordedBy, h[0].Evidence.IP, err == nil, svc.ConfirmProof(ctx, "acme", proof) == nil)
	// Output:
	// page of 2 pseudonymised 2
	// page of 2 pseudonymised 2
	// page of 1 pseudonymised 1
	// recorded by "", IP ""; chain valid: true; earlier proof still matches: true
}
