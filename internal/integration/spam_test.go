package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// TestSpamLessonsExpireOnEveryStore runs the spam filter's lesson expiry
// on every store: an expired lesson is dropped by a forget (one
// compare-and-set against the stored row, no counts changed), the day's
// first batch deletes the rest, and a fresh Filter over the same store
// sees the same model and no lessons.
func TestSpamLessonsExpireOnEveryStore(t *testing.T) {
	for name, open := range everyStore(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := open(t).Spam()
			clk := fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
			cfg := spam.Config{Store: st, Key: []byte("spam-key-0123456789"), Clock: clk, LessonTTL: 30 * 24 * time.Hour, Refresh: -1}
			f, err := spam.New(cfg)
			require.NoError(t, err)
			a := storetest.NewAccount(t)
			msg := spam.Chat("cheap pills casino bonus")
			for _, id := range []string{"m1", "m2", "m3"} {
				_, err = f.Train(ctx, a, id, msg, spam.Spam)
				require.NoError(t, err)
			}
			clk.Advance(31 * 24 * time.Hour)

			moved, err := f.ForgetBatch(ctx, a, []spam.Example{{ID: "m1", Message: msg}})
			require.NoError(t, err)
			assert.Zero(t, moved, "an expired lesson is not untrained")
			ts, err := f.Train(ctx, a, "m2", msg, spam.Ham)
			require.NoError(t, err)
			assert.Equal(t, spam.TrainStats{Learned: 1}, ts, "a correction past the TTL trains as new")

			fresh, err := spam.New(cfg)
			require.NoError(t, err)
			want := spam.Stats{Ham: 1, Spam: 3, Tokens: 7}
			for _, g := range []*spam.Filter{f, fresh} {
				s, err := g.Stats(ctx, a)
				require.NoError(t, err)
				assert.Equal(t, want, s)
			}
			ls, err := fresh.Lessons(ctx, a, []string{"m1", "m2", "m3"})
			require.NoError(t, err)
			assert.Len(t, ls, 1)
			assert.Contains(t, ls, "m2")
			ps, err := fresh.Prune(ctx, a)
			require.NoError(t, err)
			assert.Zero(t, ps.Lessons, "training already deleted the expired lessons")
		})
	}
}
