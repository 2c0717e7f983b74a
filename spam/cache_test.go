package spam_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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

func explainAll(t *testing.T, f *spam.Filter, msgs []spam.Message) []spam.Result {
	t.Helper()
	var out []spam.Result
	for _, m := range msgs {
		r, err := f.Explain(ctx, acct, m, 0)
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}

// TestCacheMatchesStoreAfterRandomOps runs random sequences of training,
// corrections, forgetting, pruning and clock jumps, then checks that the
// cached model scores every message exactly as a model freshly loaded from
// the store does.
func TestCacheMatchesStoreAfterRandomOps(t *testing.T) {
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango")
	for seed := range uint64(20) {
		clk := fakeclock.New(t0)
		st := memstore.New().Spam()
		cfg := spam.Config{Store: st, Key: key, Clock: clk, MinDeviation: 1e-9, MaxTokens: 300, PruneAge: 2 * 24 * time.Hour, Refresh: -1}
		f, err := spam.New(cfg)
		require.NoError(t, err)
		r := rand.New(rand.NewPCG(seed, 1))
		var msgs []spam.Message
		for range 40 {
			var b []string
			for range 3 + r.IntN(8) {
				b = append(b, words[r.IntN(len(words))]+fmt.Sprint(r.IntN(5)))
			}
			msgs = append(msgs, spam.Chat(strings.Join(b, " ")))
		}
		for range 300 {
			i := r.IntN(len(msgs))
			id := fmt.Sprint("m", i)
			switch r.IntN(6) {
			case 0, 1, 2:
				c, c2 := spam.Ham, spam.Spam
				if r.IntN(2) == 0 {
					c, c2 = c2, c
				}
				j := (i + 1 + r.IntN(len(msgs)-1)) % len(msgs)
				_, err = f.TrainBatch(ctx, acct, []spam.Example{{ID: id, Message: msgs[i], Class: c}, {ID: fmt.Sprint("m", j), Message: msgs[j], Class: c2}})
			case 3:
				_, err = f.ForgetBatch(ctx, acct, []spam.Example{{ID: id, Message: msgs[i]}})
			case 4:
				_, err = f.Prune(ctx, acct)
			case 5:
				clk.Advance(time.Duration(r.IntN(48)) * time.Hour)
			}
			require.NoError(t, err)
		}
		fresh, err := spam.New(cfg)
		require.NoError(t, err)
		a, err := f.Stats(ctx, acct)
		require.NoError(t, err)
		b, err := fresh.Stats(ctx, acct)
		require.NoError(t, err)
		require.Equal(t, b, a, "seed %d", seed)
		require.Equal(t, explainAll(t, fresh, msgs), explainAll(t, f, msgs), "seed %d", seed)
	}
}

// blockingStore holds the first Learn until released and reports model
// loads.
type blockingStore struct {
	spam.Store
	once    sync.Once
	entered chan struct{}
	release chan struct{}
	loads   chan gdprkit.AccountID
}

func (b *blockingStore) Learn(ctx context.Context, a gdprkit.AccountID, batch spam.Batch) error {
	b.once.Do(func() { close(b.entered); <-b.release })
	return b.Store.Learn(ctx, a, batch)
}

func (b *blockingStore) LoadModel(ctx context.Context, a gdprkit.AccountID) (spam.Snapshot, error) {
	select {
	case b.loads <- a:
	default:
	}
	return b.Store.LoadModel(ctx, a)
}

// TestEvictionDuringTrainingKeepsTheBatch evicts an account while a batch
// is inside Store.Learn and loads it again: the new cache entry must wait
// for the batch and hold it (it once loaded before the commit and missed
// it for good with Refresh < 0).
func TestEvictionDuringTrainingKeepsTheBatch(t *testing.T) {
	base := memstore.New().Spam()
	bs := &blockingStore{Store: base, entered: make(chan struct{}), release: make(chan struct{}), loads: make(chan gdprkit.AccountID, 1)}
	cfg := spam.Config{Store: bs, Key: key, MaxCachedAccounts: 1, Refresh: -1}
	f, err := spam.New(cfg)
	require.NoError(t, err)
	_, err = f.Stats(ctx, acct)
	require.NoError(t, err)

	trained := make(chan error)
	go func() {
		_, err := f.Train(ctx, acct, "m1", spam.Chat("cheap pills casino bonus"), spam.Spam)
		trained <- err
	}()
	<-bs.entered                 // the batch is inside Store.Learn
	<-bs.loads                   // (the first load of acct)
	_, err = f.Stats(ctx, other) // loads other, evicting acct
	require.NoError(t, err)
	<-bs.loads
	reloaded := make(chan error)
	go func() {
		_, err := f.Stats(ctx, acct) // a new entry for acct
		reloaded <- err
	}()
	select {
	case <-bs.loads:
		t.Error("acct was loaded again while its batch was still in Store.Learn")
	case <-time.After(100 * time.Millisecond):
	}
	close(bs.release)
	require.NoError(t, <-trained)
	require.NoError(t, <-reloaded)

	got, err := f.Stats(ctx, acct)
	require.NoError(t, err)
	cfg.Store = base
	fresh, err := spam.New(cfg)
	require.NoError(t, err)
	want, err := fresh.Stats(ctx, acct)
	require.NoError(t, err)
	require.Equal(t, want, got, "the cached model lost a committed training batch")
	require.Equal(t, int64(1), got.Spam)
}

// TestConcurrentEverything runs classification on two accounts against
// training, pruning, forgetting, resets, reloads and evictions, for the
// race detector.
func TestConcurrentEverything(t *testing.T) {
	f, _, clk := trained(t, spam.Config{MaxTokens: 200, Refresh: time.Second, MaxCachedAccounts: 1})
	ham, sp := corpus(9, 30)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := f.Explain(ctx, acct, ham[i%30].Message, 0)
				assert.NoError(t, err)
				_, err = f.Classify(ctx, other, sp[i%30].Message)
				assert.NoError(t, err)
				clk.Advance(500 * time.Millisecond)
			}
		})
	}
	for i := range 30 {
		_, err := f.TrainBatch(ctx, acct, []spam.Example{ham[i], sp[i]})
		assert.NoError(t, err)
		_, err = f.Prune(ctx, acct)
		assert.NoError(t, err)
		_, err = f.ForgetBatch(ctx, acct, []spam.Example{ham[i]})
		assert.NoError(t, err)
		if i%10 == 0 {
			assert.NoError(t, f.Reset(ctx, acct))
		}
	}
	close(stop)
	wg.Wait()
}

// expiringStore counts the lessons DeleteLessons removes.
type expiringStore struct {
	spam.Store
	mu      sync.Mutex
	expired int
}

func (e *expiringStore) DeleteLessons(ctx context.Context, a gdprkit.AccountID, before int32) (int, error) {
	n, err := e.Store.DeleteLessons(ctx, a, before)
	e.mu.Lock()
	e.expired += n
	e.mu.Unlock()
	return n, err
}

// TestLessonsExpireAfterLessonTTL checks that a lesson past LessonTTL
// counts as never recorded at once (Lessons omits it, a correction trains
// the message as new, forgetting changes no counts) and that training
// deletes it from the store without the host calling Prune.
func TestLessonsExpireAfterLessonTTL(t *testing.T) {
	clk := fakeclock.New(t0)
	st := &expiringStore{Store: memstore.New().Spam()}
	f, err := spam.New(spam.Config{Store: st, Key: key, Clock: clk, LessonTTL: 30 * 24 * time.Hour})
	require.NoError(t, err)
	msg := spam.Chat("cheap pills casino")
	for _, id := range []string{"a", "b", "c"} {
		_, err = f.Train(ctx, acct, id, msg, spam.Spam)
		require.NoError(t, err)
	}
	st.expired = 0 // the first batch of the day swept the (empty) store
	ls, err := f.Lessons(ctx, acct, []string{"a", "b", "c"})
	require.NoError(t, err)
	require.Len(t, ls, 3)

	clk.Advance(31 * 24 * time.Hour)
	ls, err = f.Lessons(ctx, acct, []string{"a", "b", "c"})
	require.NoError(t, err)
	assert.Empty(t, ls, "lessons past LessonTTL are absent")

	// Forgetting an expired lesson changes no counts.
	moved, err := f.ForgetBatch(ctx, acct, []spam.Example{{ID: "a", Message: msg}})
	require.NoError(t, err)
	assert.Zero(t, moved)
	s, err := f.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, int64(3), s.Spam)

	// Correcting one trains it as new: the old spam count stays.
	ts, err := f.Train(ctx, acct, "b", msg, spam.Ham)
	require.NoError(t, err)
	assert.Equal(t, spam.TrainStats{Learned: 1}, ts)
	s, err = f.Stats(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, int64(1), s.Ham)
	assert.Equal(t, int64(3), s.Spam)

	// The forget dropped "a", and as the day's first batch it deleted the
	// other two expired lessons; "b" has its new one.
	assert.Equal(t, 2, st.expired)
	ls, err = f.Lessons(ctx, acct, []string{"a", "b", "c"})
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, keys(ls))
	ps, err := f.Prune(ctx, acct)
	require.NoError(t, err)
	assert.Zero(t, ps.Lessons, "nothing expired is left for Prune")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
