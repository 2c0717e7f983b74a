package spam_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/memstore"
)

var (
	ctx   = context.Background()
	acct  = gdprkit.AccountID("acct-1")
	other = gdprkit.AccountID("acct-2")
	key   = []byte("0123456789abcdef-test-key")
	t0    = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
)

// countingStore wraps a Store and counts Learn calls and what they carry.
type countingStore struct {
	spam.Store
	mu      sync.Mutex
	learns  int
	batches []spam.Batch
}

func (c *countingStore) Learn(ctx context.Context, a gdprkit.AccountID, b spam.Batch) error {
	c.mu.Lock()
	c.learns++
	c.batches = append(c.batches, b)
	c.mu.Unlock()
	return c.Store.Learn(ctx, a, b)
}

func newFilter(t *testing.T, cfg spam.Config) (*spam.Filter, *countingStore, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(t0)
	st := &countingStore{Store: memstore.New().Spam()}
	if cfg.Key == nil {
		cfg.Key = key
	}
	if cfg.Clock == nil {
		cfg.Clock = clk
	}
	cfg.Store = st
	f, err := spam.New(cfg)
	require.NoError(t, err)
	return f, st, clk
}

var (
	spamWords = strings.Fields("viagra cheap pills winner lottery claim prize free money offer unsubscribe click casino bonus credit debt mortgage rates guaranteed")
	hamWords  = strings.Fields("meeting agenda project deadline review patch commit release notes lunch tomorrow invoice attached thanks regards build server")
	common    = strings.Fields("the and for with this that your have from about will please")
)

// synth builds a plain-text e-mail of n words, mostly from words.
func synth(r *rand.Rand, from, subject string, words []string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: support@helpdesk.example\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", from, subject)
	for i := range n {
		if i%4 == 3 {
			b.WriteString(common[r.IntN(len(common))])
		} else {
			b.WriteString(words[r.IntN(len(words))])
		}
		b.WriteByte(' ')
	}
	return []byte(b.String())
}

// corpus returns n ham and n spam examples.
func corpus(seed uint64, n int) (ham, sp []spam.Example) {
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range n {
		ham = append(ham, spam.Example{ID: fmt.Sprintf("ham-%d-%d", seed, i), Class: spam.Ham,
			Message: spam.Email(synth(r, "colleague@company.example", "project update", hamWords, 40))})
		sp = append(sp, spam.Example{ID: fmt.Sprintf("spam-%d-%d", seed, i), Class: spam.Spam,
			Message: spam.Email(synth(r, "promo@deals.example", "FREE money offer", spamWords, 40))})
	}
	return ham, sp
}

func trained(t *testing.T, cfg spam.Config) (*spam.Filter, *countingStore, *fakeclock.Clock) {
	t.Helper()
	f, st, clk := newFilter(t, cfg)
	ham, sp := corpus(1, 30)
	_, err := f.TrainBatch(ctx, acct, append(ham, sp...))
	require.NoError(t, err)
	return f, st, clk
}

func TestTrainedFilterSeparatesSpamFromHam(t *testing.T) {
	f, _, _ := trained(t, spam.Config{})
	ham, sp := corpus(2, 20)
	for _, e := range ham {
		r, err := f.Classify(ctx, acct, e.Message)
		require.NoError(t, err)
		assert.Equal(t, spam.VerdictHam, r.Verdict, "score %v", r.Score)
	}
	for _, e := range sp {
		r, err := f.Classify(ctx, acct, e.Message)
		require.NoError(t, err)
		assert.Equal(t, spam.VerdictSpam, r.Verdict, "score %v", r.Score)
	}
	// Chat messages share the model.
	r, err := f.Classify(ctx, acct, spam.Chat("claim your free lottery prize money, click casino bonus"))
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictSpam, r.Verdict)
	r, err = f.Classify(ctx, acct, spam.Message{Subject: "project", Text: "the patch for the release notes is attached, review before the meeting tomorrow"})
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictHam, r.Verdict)
}

// A message with strong spam evidence and significant ham evidence (a
// colleague forwarding a spam, a newsletter from a list the account reads)
// scores spammy, but the ham veto makes it unsure rather than spam.
func TestHamVetoMakesEvidenceBothWaysUnsure(t *testing.T) {
	mixed := spam.Chat(strings.Join(spamWords, " ") + " " + strings.Join(hamWords[:8], " "))
	pure := spam.Chat("viagra cheap pills winner lottery claim prize casino bonus credit debt mortgage")

	f, _, _ := trained(t, spam.Config{})
	r, err := f.Classify(ctx, acct, mixed)
	require.NoError(t, err)
	require.GreaterOrEqual(t, r.Score, 0.7, "the mix must score as spam for the veto to matter")
	require.Greater(t, r.HamSignificance, 2.0)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict)
	assert.True(t, r.HamVetoed)
	r, err = f.Classify(ctx, acct, pure)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictSpam, r.Verdict, "spam without ham evidence is not vetoed")
	assert.False(t, r.HamVetoed)

	off, _, _ := trained(t, spam.Config{HamVeto: -1})
	r, err = off.Classify(ctx, acct, mixed)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictSpam, r.Verdict, "a negative HamVeto disables the veto")
	assert.False(t, r.HamVetoed)
}

func TestUntrainedOrEmptyIsUnsure(t *testing.T) {
	f, _, _ := newFilter(t, spam.Config{})
	r, err := f.Classify(ctx, acct, spam.Chat("anything at all"))
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict)
	assert.Equal(t, 0.5, r.Score)
	// One class only: everything would look like it, so nothing is decided.
	_, err = f.Train(ctx, acct, "s1", spam.Chat("cheap pills offer"), spam.Spam)
	require.NoError(t, err)
	r, err = f.Classify(ctx, acct, spam.Chat("cheap pills offer"))
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict)
	assert.Greater(t, r.Score, 0.6, "the score is still reported")

	f, _, _ = trained(t, spam.Config{})
	r, err = f.Classify(ctx, acct, spam.Message{})
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict)
}

func TestCorrectionMovesTheLessonInsteadOfDoublingIt(t *testing.T) {
	f, _, _ := newFilter(t, spam.Config{})
	msg := spam.Chat("quarterly invoice attached for review")
	st, err := f.Train(ctx, acct, "m1", msg, spam.Spam)
	require.NoError(t, err)
	assert.Equal(t, spam.TrainStats{Learned: 1}, st)

	st, err = f.Train(ctx, acct, "m1", msg, spam.Spam)
	require.NoError(t, err)
	assert.Equal(t, spam.TrainStats{Unchanged: 1}, st, "training the same verdict again is a no-op")

	st, err = f.Train(ctx, acct, "m1", msg, spam.Ham)
	require.NoError(t, err)
	assert.Equal(t, spam.TrainStats{Moved: 1}, st)
	s, err := f.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, spam.Stats{Ham: 1, Spam: 0, Tokens: s.Tokens}, s)

	r, err := f.Explain(ctx, acct, msg, 0)
	require.NoError(t, err)
	require.NotEmpty(t, r.Clues)
	for _, c := range r.Clues {
		assert.EqualValues(t, 1, c.Ham, c.Token)
		assert.Zero(t, c.Spam, "the old spam lesson is removed: %s", c.Token)
	}

	require.NoError(t, f.Forget(ctx, acct, "m1", msg))
	s, err = f.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, spam.Stats{}, s, "forgetting the only message empties the model")
	require.ErrorIs(t, f.Forget(ctx, acct, "m1", msg), gdprkit.ErrNotFound)
}

func TestTrainBatchIsOneStoreCall(t *testing.T) {
	f, st, _ := newFilter(t, spam.Config{})
	ham, sp := corpus(3, 25)
	res, err := f.TrainBatch(ctx, acct, append(ham, sp...))
	require.NoError(t, err)
	assert.Equal(t, 50, res.Learned)
	assert.Equal(t, 1, st.learns)
	require.Len(t, st.batches, 1)
	assert.Len(t, st.batches[0].Lessons, 50)
	assert.EqualValues(t, 25, st.batches[0].Ham)
}

func TestInvalidTrainingChangesNothing(t *testing.T) {
	f, st, _ := newFilter(t, spam.Config{})
	msg := spam.Chat("hello there")
	cases := map[string][]spam.Example{
		"empty ID":        {{ID: "", Message: msg, Class: spam.Ham}},
		"class none":      {{ID: "a", Message: msg, Class: spam.None}},
		"empty message":   {{ID: "a", Class: spam.Spam}},
		"duplicate IDs":   {{ID: "a", Message: msg, Class: spam.Spam}, {ID: "a", Message: msg, Class: spam.Ham}},
		"ID too long":     {{ID: strings.Repeat("x", spam.MaxIDLen+1), Message: msg, Class: spam.Ham}},
		"one bad in many": {{ID: "ok", Message: msg, Class: spam.Spam}, {ID: "bad", Message: msg, Class: 7}},
	}
	for name, ex := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.TrainBatch(ctx, acct, ex)
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
		})
	}
	_, err := f.Train(ctx, "", "id", msg, spam.Ham)
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	assert.Zero(t, st.learns)
	s, err := f.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, spam.Stats{}, s)
}

func TestConfigValidation(t *testing.T) {
	st := memstore.New().Spam()
	for name, cfg := range map[string]spam.Config{
		"no key":             {},
		"short key":          {Key: []byte("short")},
		"cutoffs reversed":   {Key: key, HamCutoff: 0.9, SpamCutoff: 0.5},
		"prior out of range": {Key: key, Prior: 1.5},
		"veto level 1":       {Key: key, HamVeto: 1},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Store = st
			_, err := spam.New(cfg)
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
		})
	}
	_, err := spam.New(spam.Config{Key: key})
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "no Store")
	require.ErrorContains(t, err, "Store")
}

func TestTrainOnErrorSkipsWhatTheModelAlreadyGetsRight(t *testing.T) {
	f, _, _ := trained(t, spam.Config{TrainOnError: true})
	ham, sp := corpus(4, 5)
	st, err := f.TrainBatch(ctx, acct, append(ham, sp...))
	require.NoError(t, err)
	assert.Equal(t, 10, st.Skipped)
	assert.Zero(t, st.Learned)

	// A spam the model calls ham is learned.
	tricky := spam.Chat("meeting agenda project deadline review patch commit")
	r, err := f.Classify(ctx, acct, tricky)
	require.NoError(t, err)
	require.Equal(t, spam.VerdictHam, r.Verdict)
	st, err = f.Train(ctx, acct, "tricky", tricky, spam.Spam)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Learned)
}

func TestAccountsHaveSeparateModels(t *testing.T) {
	f, _, _ := trained(t, spam.Config{})
	_, sp := corpus(5, 1)
	r, err := f.Classify(ctx, other, sp[0].Message)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict, "another account's training does not leak")
	s, err := f.Stats(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, spam.Stats{}, s)
}

func TestModelHoldsOnlyKeyedHashes(t *testing.T) {
	msg := spam.Email([]byte("From: Alice Liddell <alice@wonderland.example>\r\nSubject: tea party\r\n\r\nCall me on 555-0100, Alice\r\n"))
	hashes := func(k []byte, a gdprkit.AccountID) map[uint64]bool {
		f, st, _ := newFilter(t, spam.Config{Key: k})
		_, err := f.Train(ctx, a, "m", msg, spam.Ham)
		require.NoError(t, err)
		out := map[uint64]bool{}
		for _, tc := range st.batches[0].Tokens {
			out[tc.Hash] = true
		}
		return out
	}
	a := hashes(key, acct)
	assert.Len(t, a, len(spam.Tokens(msg)))
	for name, b := range map[string]map[uint64]bool{
		"another key":     hashes([]byte("another key, 16+ bytes long"), acct),
		"another account": hashes(key, other),
	} {
		for h := range b {
			assert.False(t, a[h], "%s: the same token must hash differently", name)
		}
	}
}

func TestExplainGivesTheStrongestClues(t *testing.T) {
	f, _, _ := trained(t, spam.Config{})
	r, err := f.Explain(ctx, acct, spam.Chat("free lottery prize meeting"), 3)
	require.NoError(t, err)
	require.Len(t, r.Clues, 3)
	for i := 1; i < len(r.Clues); i++ {
		assert.GreaterOrEqual(t, abs(r.Clues[i-1].Prob-0.5), abs(r.Clues[i].Prob-0.5))
	}
	var toks []string
	for _, c := range r.Clues {
		toks = append(toks, c.Token)
	}
	assert.Subset(t, []string{"free", "lottery", "prize", "meeting"}, toks)
	plain, err := f.Classify(ctx, acct, spam.Chat("free lottery prize meeting"))
	require.NoError(t, err)
	assert.Empty(t, plain.Clues)
	assert.Equal(t, plain.Score, r.Score)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestLongMessagesDoNotUnderflow(t *testing.T) {
	f, _, _ := newFilter(t, spam.Config{})
	var words []string
	for i := range 6000 {
		words = append(words, fmt.Sprintf("tok%05d", i))
	}
	long := spam.Chat(strings.Join(words, " "))
	_, err := f.Train(ctx, acct, "long-spam", long, spam.Spam)
	require.NoError(t, err)
	_, err = f.Train(ctx, acct, "short-ham", spam.Chat("hello colleague"), spam.Ham)
	require.NoError(t, err)
	r, err := f.Classify(ctx, acct, long)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictSpam, r.Verdict)
	assert.Greater(t, r.ClueCount, 5000)
	assert.InDelta(t, 1, r.Score, 1e-9)
}

func TestPruneDropsRareOldTokensAndCapsTheModel(t *testing.T) {
	audit := &gdprkit.MemoryAudit{}
	f, _, clk := newFilter(t, spam.Config{Audit: audit, MaxTokens: 1000, LessonTTL: 90 * 24 * time.Hour})
	_, err := f.Train(ctx, acct, "old", spam.Chat("ancient obsolete wording"), spam.Spam)
	require.NoError(t, err)
	_, err = f.Train(ctx, acct, "old2", spam.Chat("obsolete but repeated"), spam.Spam)
	require.NoError(t, err)
	clk.Advance(100 * 24 * time.Hour)
	_, err = f.Train(ctx, acct, "new", spam.Chat("fresh modern wording"), spam.Ham)
	require.NoError(t, err)

	ps, err := f.Prune(ctx, acct)
	require.NoError(t, err)
	// Seen in one message and 100 days old: ancient, but, repeated and the
	// four old word pairs ("bi:ancient obsolete", …). "obsolete" was seen
	// twice; "wording" was trained again today; fresh, modern and their
	// two pairs are new.
	assert.Equal(t, 7, ps.Tokens)
	assert.Equal(t, 6, ps.Remaining)
	assert.Equal(t, 0, ps.Lessons, "training \"new\" already deleted the two lessons past LessonTTL")
	r, err := f.Explain(ctx, acct, spam.Chat("ancient obsolete wording fresh"), 0)
	require.NoError(t, err)
	var kept []string
	for _, c := range r.Clues {
		kept = append(kept, c.Token)
	}
	// "wording" is in one ham and one spam: kept, but no clue.
	assert.ElementsMatch(t, []string{"obsolete", "fresh"}, kept)
	require.Len(t, audit.OfType("spam.pruned"), 1)

	// The hard cap: a model above MaxTokens is cut to 90% of it while training.
	var words []string
	for i := range 1500 {
		words = append(words, fmt.Sprintf("w%04d", i))
	}
	_, err = f.Train(ctx, acct, "big", spam.Chat(strings.Join(words, " ")), spam.Spam)
	require.NoError(t, err)
	s, err := f.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, 900, s.Tokens)
}

func TestResetErasesTheModel(t *testing.T) {
	audit := &gdprkit.MemoryAudit{}
	f, _, _ := trained(t, spam.Config{Audit: audit})
	require.NoError(t, f.Reset(ctx, acct))
	s, err := f.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, spam.Stats{}, s)
	require.Len(t, audit.OfType("spam.reset"), 1)
	assert.Equal(t, acct, audit.OfType("spam.reset")[0].Account)
}

func TestAnotherProcessSeesTrainingAfterRefresh(t *testing.T) {
	clk := fakeclock.New(t0)
	// A store outside this process (as SQL is): each Filter caches a copy.
	st := struct{ spam.Store }{memstore.New().Spam()}
	a, err := spam.New(spam.Config{Store: st, Key: key, Clock: clk})
	require.NoError(t, err)
	b, err := spam.New(spam.Config{Store: st, Key: key, Clock: clk, Refresh: time.Minute})
	require.NoError(t, err)
	msg := spam.Chat("claim your free lottery prize money, click casino bonus")
	r, err := b.Classify(ctx, acct, msg) // b caches the empty model
	require.NoError(t, err)
	require.Equal(t, spam.VerdictUnsure, r.Verdict)
	ham, sp := corpus(1, 30)
	_, err = a.TrainBatch(ctx, acct, append(ham, sp...))
	require.NoError(t, err)
	r, err = b.Classify(ctx, acct, msg)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict, "cached until Refresh")
	clk.Advance(2 * time.Minute)
	r, err = b.Classify(ctx, acct, msg)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictSpam, r.Verdict)
}

// Filters over one MemoryStore classify from the store's own model: there
// is no second copy to refresh, so another Filter sees a lesson at once.
func TestFiltersOverAMemoryStoreShareItsModel(t *testing.T) {
	st := spam.NewMemoryStore()
	a, err := spam.New(spam.Config{Store: st, Key: key})
	require.NoError(t, err)
	b, err := spam.New(spam.Config{Store: st, Key: key, Refresh: time.Hour})
	require.NoError(t, err)
	msg := spam.Chat("claim your free lottery prize money, click casino bonus")
	r, err := b.Classify(ctx, acct, msg)
	require.NoError(t, err)
	require.Equal(t, spam.VerdictUnsure, r.Verdict)
	ham, sp := corpus(1, 30)
	_, err = a.TrainBatch(ctx, acct, append(ham, sp...))
	require.NoError(t, err)
	r, err = b.Classify(ctx, acct, msg)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictSpam, r.Verdict, "no refresh needed")
	sa, err := a.Stats(ctx, acct)
	require.NoError(t, err)
	sb, err := b.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, sa, sb)
	snap, err := st.LoadModel(ctx, acct)
	require.NoError(t, err)
	assert.Len(t, snap.Tokens, sa.Tokens)

	// Pruning and resetting through one Filter reach the other at once.
	_, err = a.Prune(ctx, acct)
	require.NoError(t, err)
	require.NoError(t, a.Reset(ctx, acct))
	sb, err = b.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, spam.Stats{}, sb)
	r, err = b.Classify(ctx, acct, msg)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict)
}

func TestConcurrentClassifyAndTrain(t *testing.T) {
	f, _, _ := trained(t, spam.Config{})
	ham, sp := corpus(6, 40)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				e := ham[i]
				if (i+w)%2 == 0 {
					e = sp[i]
				}
				_, err := f.Classify(ctx, acct, e.Message)
				assert.NoError(t, err)
			}
		}()
	}
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 40; i += 2 {
				_, err := f.TrainBatch(ctx, acct, []spam.Example{ham[i], sp[i]})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	s, err := f.Stats(ctx, acct)
	require.NoError(t, err)
	assert.EqualValues(t, 70, s.Ham)
	assert.EqualValues(t, 70, s.Spam)
}

func TestCacheKeepsAtMostMaxCachedAccounts(t *testing.T) {
	st := &countingStore{Store: memstore.New().Spam()}
	loads := 0
	f, err := spam.New(spam.Config{Store: loadCounter{st, &loads}, Key: key, MaxCachedAccounts: 2, Refresh: -1})
	require.NoError(t, err)
	use := func(a gdprkit.AccountID) {
		_, err := f.Classify(ctx, a, spam.Chat("hello"))
		require.NoError(t, err)
	}
	use("a")
	use("b")
	use("a")
	assert.Equal(t, 2, loads)
	use("c") // evicts b, the least recently used
	assert.Equal(t, 3, loads)
	use("a")
	assert.Equal(t, 3, loads, "a stayed cached")
	use("b")
	assert.Equal(t, 4, loads, "b was evicted and is loaded again")

	// An evicted account's lessons are in the store, not lost.
	_, err = f.Train(ctx, "c", "m", spam.Chat("cheap pills"), spam.Spam)
	require.NoError(t, err)
	use("a")
	use("b") // c is now least recently used and goes
	s, err := f.Stats(ctx, "c")
	require.NoError(t, err)
	assert.EqualValues(t, 1, s.Spam)
}

type loadCounter struct {
	spam.Store
	n *int
}

func (l loadCounter) LoadModel(ctx context.Context, a gdprkit.AccountID) (spam.Snapshot, error) {
	*l.n++
	return l.Store.LoadModel(ctx, a)
}

// The cached model a process keeps up to date while it trains scores
// exactly as the model a fresh process loads from the store.
func TestTrainedCacheScoresAsFreshLoad(t *testing.T) {
	st := memstore.New().Spam()
	f, err := spam.New(spam.Config{Store: st, Key: key})
	require.NoError(t, err)
	ham, sp := corpus(21, 60)
	for i := 0; i < len(ham); i += 7 { // many small batches: the totals change often
		end := min(i+7, len(ham))
		_, err := f.TrainBatch(ctx, acct, append(slices.Clone(ham[i:end]), sp[i:end]...))
		require.NoError(t, err)
	}
	require.NoError(t, f.Forget(ctx, acct, ham[0].ID, ham[0].Message))
	fresh, err := spam.New(spam.Config{Store: st, Key: key})
	require.NoError(t, err)
	test, testSpam := corpus(22, 20)
	for _, e := range append(test, testSpam...) {
		a, err := f.Classify(ctx, acct, e.Message)
		require.NoError(t, err)
		b, err := fresh.Classify(ctx, acct, e.Message)
		require.NoError(t, err)
		require.Equal(t, b, a)
	}
}

// Erasing a subject forgets the lessons of their messages in one store
// batch: afterwards the model is the model of the other messages alone.
func TestForgetBatchLeavesTheModelOfTheRest(t *testing.T) {
	f, st, _ := newFilter(t, spam.Config{})
	ham, sp := corpus(31, 10)
	all := append(slices.Clone(ham), sp...)
	_, err := f.TrainBatch(ctx, acct, all)
	require.NoError(t, err)

	ls, err := f.Lessons(ctx, acct, []string{ham[0].ID, sp[0].ID, "never-trained"})
	require.NoError(t, err)
	require.Len(t, ls, 2)
	assert.Equal(t, spam.Ham, ls[ham[0].ID].Class)
	assert.Equal(t, spam.Spam, ls[sp[0].ID].Class)

	gone := []spam.Example{ham[0], sp[0], ham[1], {ID: "never-trained", Message: spam.Chat("x")}}
	_, err = f.ForgetBatch(ctx, acct, append(gone, ham[0]))
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "a duplicate ID is refused")
	before := st.learns
	n, err := f.ForgetBatch(ctx, acct, gone)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, before+1, st.learns, "one store batch")
	n, err = f.ForgetBatch(ctx, acct, gone)
	require.NoError(t, err)
	assert.Zero(t, n, "forgetting again changes nothing")
	ls, err = f.Lessons(ctx, acct, []string{ham[0].ID, sp[0].ID, ham[1].ID})
	require.NoError(t, err)
	assert.Empty(t, ls)

	// The same as never having trained them.
	rest, _, _ := newFilter(t, spam.Config{})
	_, err = rest.TrainBatch(ctx, acct, append(slices.Clone(ham[2:]), sp[1:]...))
	require.NoError(t, err)
	got, err := f.Stats(ctx, acct)
	require.NoError(t, err)
	want, err := rest.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	for _, e := range all {
		a, err := f.Classify(ctx, acct, e.Message)
		require.NoError(t, err)
		b, err := rest.Classify(ctx, acct, e.Message)
		require.NoError(t, err)
		assert.InDelta(t, b.Score, a.Score, 1e-12)
	}
}
