package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/spam"
)

func spamTokens(snap spam.Snapshot) map[uint64]spam.TokenCount {
	m := make(map[uint64]spam.TokenCount, len(snap.Tokens))
	for _, t := range snap.Tokens {
		m[t.Hash] = t
	}
	return m
}

func runSpam(t *testing.T, f func(*testing.T) spam.Store) {
	ctx := context.Background()
	const (
		h1 = uint64(1)
		h2 = uint64(0xfedcba9876543210) // high bit set: all 64 bits must survive
		h3 = uint64(1 << 63)
		k1 = uint64(0x8000000000000001)
		k2 = uint64(42)
	)
	train := func(key uint64, c spam.Class, day int32, hashes ...uint64) spam.Batch {
		b := spam.Batch{Lessons: []spam.LessonChange{{Key: key, Next: c, Day: day}}}
		for _, h := range hashes {
			tc := spam.TokenCount{Hash: h, Day: day}
			if c == spam.Ham {
				tc.Ham = 1
			} else {
				tc.Spam = 1
			}
			b.Tokens = append(b.Tokens, tc)
		}
		if c == spam.Ham {
			b.Ham = 1
		} else {
			b.Spam = 1
		}
		return b
	}

	t.Run("account never trained has an empty model and no lessons", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.Zero(t, snap.Ham)
		assert.Zero(t, snap.Spam)
		assert.Empty(t, snap.Tokens)
		ls, err := st.Lessons(ctx, a, []uint64{k1, k2})
		require.NoError(t, err)
		assert.Empty(t, ls)
	})

	t.Run("learned counts, tokens and lessons read back with all 64 bits", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		require.NoError(t, st.Learn(ctx, a, train(k1, spam.Spam, 100, h1, h2, h3)))
		require.NoError(t, st.Learn(ctx, a, train(k2, spam.Ham, 105, h2)))
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 1, snap.Ham)
		assert.EqualValues(t, 1, snap.Spam)
		got := spamTokens(snap)
		assert.Equal(t, spam.TokenCount{Hash: h1, Spam: 1, Day: 100}, got[h1])
		assert.Equal(t, spam.TokenCount{Hash: h2, Ham: 1, Spam: 1, Day: 105}, got[h2])
		assert.Equal(t, spam.TokenCount{Hash: h3, Spam: 1, Day: 100}, got[h3])
		assert.Len(t, got, 3)
		ls, err := st.Lessons(ctx, a, []uint64{k1, k2, 7})
		require.NoError(t, err)
		slices.SortFunc(ls, func(x, y spam.Lesson) int {
			if x.Key < y.Key {
				return -1
			}
			return 1
		})
		assert.Equal(t, []spam.Lesson{{Key: k2, Class: spam.Ham, Day: 105}, {Key: k1, Class: spam.Spam, Day: 100}}, ls)
	})

	t.Run("a token's day is the latest it was trained on", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		require.NoError(t, st.Learn(ctx, a, train(k1, spam.Spam, 200, h1)))
		require.NoError(t, st.Learn(ctx, a, train(k2, spam.Spam, 150, h1)))
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, spam.TokenCount{Hash: h1, Spam: 2, Day: 200}, spamTokens(snap)[h1])
	})

	t.Run("a lesson that changed since it was read is a conflict and nothing is applied", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		require.NoError(t, st.Learn(ctx, a, train(k1, spam.Spam, 100, h1)))
		// Claims k1 had no lesson, but it is spam now; k2 is fine.
		b := train(k2, spam.Ham, 100, h2)
		b.Lessons = append(b.Lessons, spam.LessonChange{Key: k1, Prev: spam.None, Next: spam.Ham, Day: 100})
		err := st.Learn(ctx, a, b)
		require.ErrorIs(t, err, gdprkit.ErrConflict)
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.Zero(t, snap.Ham, "nothing of the rejected batch is applied")
		assert.EqualValues(t, 1, snap.Spam)
		assert.NotContains(t, spamTokens(snap), h2)
		ls, err := st.Lessons(ctx, a, []uint64{k1, k2})
		require.NoError(t, err)
		require.Len(t, ls, 1)
		assert.Equal(t, spam.Spam, ls[0].Class)
	})

	t.Run("a correction moves counts and replaces the lesson", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		require.NoError(t, st.Learn(ctx, a, train(k1, spam.Spam, 100, h1, h2)))
		require.NoError(t, st.Learn(ctx, a, train(k2, spam.Ham, 100, h2)))
		fix := spam.Batch{Ham: 1, Spam: -1,
			Tokens:  []spam.TokenCount{{Hash: h1, Ham: 1, Spam: -1, Day: 101}, {Hash: h2, Ham: 1, Spam: -1, Day: 101}},
			Lessons: []spam.LessonChange{{Key: k1, Prev: spam.Spam, Next: spam.Ham, Day: 101}}}
		require.NoError(t, st.Learn(ctx, a, fix))
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 2, snap.Ham)
		assert.Zero(t, snap.Spam)
		got := spamTokens(snap)
		assert.Equal(t, spam.TokenCount{Hash: h1, Ham: 1, Day: 101}, got[h1])
		assert.Equal(t, spam.TokenCount{Hash: h2, Ham: 2, Day: 101}, got[h2])
		ls, err := st.Lessons(ctx, a, []uint64{k1})
		require.NoError(t, err)
		assert.Equal(t, []spam.Lesson{{Key: k1, Class: spam.Ham, Day: 101}}, ls)
	})

	t.Run("counts never go below zero and empty tokens are removed", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		require.NoError(t, st.Learn(ctx, a, train(k1, spam.Spam, 100, h1, h2)))
		forget := spam.Batch{Ham: -3, Spam: -1,
			Tokens:  []spam.TokenCount{{Hash: h1, Spam: -1}, {Hash: h2, Ham: -2, Spam: -1}, {Hash: h3, Ham: -1}},
			Lessons: []spam.LessonChange{{Key: k1, Prev: spam.Spam, Next: spam.None}}}
		require.NoError(t, st.Learn(ctx, a, forget))
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.Zero(t, snap.Ham)
		assert.Zero(t, snap.Spam)
		assert.Empty(t, snap.Tokens)
		ls, err := st.Lessons(ctx, a, []uint64{k1})
		require.NoError(t, err)
		assert.Empty(t, ls, "Next None deletes the lesson")
	})

	t.Run("a malformed batch is rejected and changes nothing", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		dup := train(k1, spam.Spam, 100, h1)
		dup.Tokens = append(dup.Tokens, spam.TokenCount{Hash: h1, Spam: 1})
		require.ErrorIs(t, st.Learn(ctx, a, dup), gdprkit.ErrInvalid)
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.Zero(t, snap.Spam)
		assert.Empty(t, snap.Tokens)
		_, err = st.LoadModel(ctx, "")
		require.ErrorIs(t, err, gdprkit.ErrInvalid)
	})

	t.Run("a batch larger than one statement round-trips", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		var lessons []spam.LessonChange
		var toks []spam.TokenCount
		for i := range 2500 {
			toks = append(toks, spam.TokenCount{Hash: uint64(i)*0x9E3779B97F4A7C15 + 1, Ham: int64(i%3 + 1), Spam: int64(i % 2), Day: 300})
			lessons = append(lessons, spam.LessonChange{Key: uint64(i) << 40, Next: spam.Ham, Day: 300})
		}
		require.NoError(t, st.Learn(ctx, a, spam.Batch{Ham: 2500, Tokens: toks, Lessons: lessons}))
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 2500, snap.Ham)
		got := spamTokens(snap)
		require.Len(t, got, len(toks))
		for _, tc := range toks {
			require.Equal(t, tc, got[tc.Hash])
		}
		keys := make([]uint64, len(lessons))
		for i, l := range lessons {
			keys[i] = l.Key
		}
		ls, err := st.Lessons(ctx, a, keys)
		require.NoError(t, err)
		assert.Len(t, ls, 2500)
		n, err := st.DeleteTokens(ctx, a, []uint64{toks[0].Hash, toks[1].Hash, 12345})
		require.NoError(t, err)
		assert.Equal(t, 2, n, "unknown hashes are ignored")
		snap, err = st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.Len(t, snap.Tokens, 2498)
	})

	t.Run("lessons before a day are deleted, later ones kept", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		require.NoError(t, st.Learn(ctx, a, train(k1, spam.Spam, 100, h1)))
		require.NoError(t, st.Learn(ctx, a, train(k2, spam.Ham, 200, h2)))
		n, err := st.DeleteLessons(ctx, a, 150)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		ls, err := st.Lessons(ctx, a, []uint64{k1, k2})
		require.NoError(t, err)
		assert.Equal(t, []spam.Lesson{{Key: k2, Class: spam.Ham, Day: 200}}, ls)
	})

	t.Run("concurrent batches claiming the same new lesson: one wins, one conflicts", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = st.Learn(ctx, a, train(k1, spam.Spam, 100, h1, h2))
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				// A deadlock the store could not retry away is also a refusal.
				assert.True(t, errors.Is(err, gdprkit.ErrConflict) || errors.Is(err, gdprkit.ErrUnavailable), "%v", err)
			}
		}
		assert.Equal(t, 1, ok)
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.EqualValues(t, 1, snap.Spam, "the message is counted once")
		assert.EqualValues(t, 1, spamTokens(snap)[h1].Spam)
	})

	t.Run("reset removes the account's model and lessons", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		require.NoError(t, st.Learn(ctx, a, train(k1, spam.Spam, 100, h1)))
		require.NoError(t, st.Reset(ctx, a))
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.Zero(t, snap.Spam)
		assert.Empty(t, snap.Tokens)
		ls, err := st.Lessons(ctx, a, []uint64{k1})
		require.NoError(t, err)
		assert.Empty(t, ls)
		require.NoError(t, st.Reset(ctx, a), "resetting an empty account is not an error")
	})

	t.Run("a filter over the store scores the same after another process reloads", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		cfg := spam.Config{Store: st, Key: []byte("storetest spam key, 16+ bytes"), Clock: fakeclock.New(T0)}
		one, err := spam.New(cfg)
		require.NoError(t, err)
		var ex []spam.Example
		for i := range 30 {
			ex = append(ex,
				spam.Example{ID: fmt.Sprintf("h%d", i), Class: spam.Ham, Message: spam.Chat(fmt.Sprintf("meeting %d agenda review patch release notes", i))},
				spam.Example{ID: fmt.Sprintf("s%d", i), Class: spam.Spam, Message: spam.Chat(fmt.Sprintf("free lottery %d prize claim winner casino", i))})
		}
		_, err = one.TrainBatch(ctx, a, ex)
		require.NoError(t, err)
		// A correction and a forget, so counts go down as well as up.
		_, err = one.Train(ctx, a, "s0", ex[1].Message, spam.Ham)
		require.NoError(t, err)
		require.NoError(t, one.Forget(ctx, a, "h1", ex[2].Message))

		two, err := spam.New(cfg)
		require.NoError(t, err)
		s1, err := one.Stats(ctx, a)
		require.NoError(t, err)
		s2, err := two.Stats(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, s1, s2)
		assert.Equal(t, spam.Stats{Ham: 30, Spam: 29, Tokens: s1.Tokens}, s1)
		for _, m := range []spam.Message{spam.Chat("claim the casino prize"), spam.Chat("agenda for the release review"), ex[1].Message} {
			r1, err := one.Classify(ctx, a, m)
			require.NoError(t, err)
			r2, err := two.Classify(ctx, a, m)
			require.NoError(t, err)
			assert.Equal(t, r1, r2)
		}
	})

	// TenantIsolation: nothing written under one account is visible to,
	// changed by or deleted through another.
	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		t.Run("padded IDs name other records, never these (#15)", func(t *testing.T) { t.Parallel(); paddedSpam(t, f(t)) })
		t.Run("one account's model is invisible to and unchangeable by another", func(t *testing.T) {
			t.Parallel()
			st, a, b := f(t), NewAccount(t), NewAccount(t)
			require.NoError(t, st.Learn(ctx, a, train(k1, spam.Spam, 100, h1, h2)))
			// b uses the same lesson key and hashes: no conflict, separate counts.
			require.NoError(t, st.Learn(ctx, b, train(k1, spam.Ham, 100, h1)))
			snapB, err := st.LoadModel(ctx, b)
			require.NoError(t, err)
			assert.Zero(t, snapB.Spam)
			assert.Len(t, snapB.Tokens, 1)
			n, err := st.DeleteTokens(ctx, b, []uint64{h2})
			require.NoError(t, err)
			assert.Zero(t, n)
			n, err = st.DeleteLessons(ctx, b, 1000)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			require.NoError(t, st.Reset(ctx, b))

			snapA, err := st.LoadModel(ctx, a)
			require.NoError(t, err)
			assert.EqualValues(t, 1, snapA.Spam)
			assert.Zero(t, snapA.Ham)
			assert.Len(t, snapA.Tokens, 2)
			ls, err := st.Lessons(ctx, a, []uint64{k1})
			require.NoError(t, err)
			assert.Equal(t, []spam.Lesson{{Key: k1, Class: spam.Spam, Day: 100}}, ls)
		})
	})
}
