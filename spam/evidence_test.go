package spam_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// oldRules are the defaults before issue 16: every clue counted fully, no
// damping of the score by the amount of evidence, no minimum of clues.
var oldRules = spam.Config{Attestation: 1e-9, EffectiveSize: 0.3, EvidenceScale: -1, HamCutoff: 0.49, SpamCutoff: 0.70,
	SpamVeto: -1, MinSpamClues: -1, MinHamClues: -1}

// The example helpdesk's demo model (four spam and four ham lessons), then
// one click on "spam" for a ticket: a two-word message made of that
// ticket's words scored 97 % spam. A lesson of one message is evidence of
// two clues seen once; it must not make a confident verdict.
func TestOneLessonIsNotEvidenceEnough(t *testing.T) {
	demo := func(cfg spam.Config) *spam.Filter {
		t.Helper()
		f, _, _ := newFilter(t, cfg)
		var ex []spam.Example
		for i, s := range []string{
			"Win a free prize now, click here, limited offer",
			"Cheap pills online, free shipping, act now, best price guaranteed",
			"You won the lottery! Claim your free money now, click the link",
			"Hot singles in your area, click here now, free",
		} {
			ex = append(ex, spam.Example{ID: fmt.Sprint("seed-spam-", i), Message: spam.Message{Subject: "Offer", Text: s}, Class: spam.Spam})
		}
		for i, s := range []string{
			"My invoice shows the wrong amount, could you check it please?",
			"How do I reset my password? The link in the e-mail has expired.",
			"Thanks for the quick answer, the export works now.",
			"Can we add a second agent seat to our plan next month?",
		} {
			ex = append(ex, spam.Example{ID: fmt.Sprint("seed-ham-", i), Message: spam.Message{Subject: "Question", Text: s}, Class: spam.Ham})
		}
		ex = append(ex, spam.Example{ID: "ticket-2", Class: spam.Spam,
			Message: spam.Message{Subject: "Webinar", Text: "Join our crypto webinar tonight and double your savings"}})
		_, err := f.TrainBatch(ctx, acct, ex)
		require.NoError(t, err)
		return f
	}
	msg := spam.Chat("crypto webinar")

	r, err := demo(spam.Config{}).Classify(ctx, acct, msg)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict)
	assert.Less(t, r.Score, 0.75, "two clues seen once are not a confident score")
	t.Logf("score %.3f", r.Score)
	assert.Equal(t, 3, r.SpamClues, "the two words and their pair")

	// The same model under the old rules: the case of the issue.
	r, err = demo(oldRules).Classify(ctx, acct, msg)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictSpam, r.Verdict)
	assert.Greater(t, r.Score, 0.97)
}

// The score's confidence follows the number and strength of the clues,
// and a verdict needs MinSpamClues (spam) or MinHamClues (ham) of them.
func TestConfidenceFollowsTheEvidence(t *testing.T) {
	f, _, _ := trained(t, spam.Config{})
	prev := 0.5
	for k := 1; k <= len(spamWords); k++ {
		r, err := f.Classify(ctx, acct, spam.Chat(strings.Join(spamWords[:k], " ")))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, r.Score, prev, "%d spam words", k)
		prev = r.Score
		if r.SpamClues < 3 {
			assert.Equal(t, spam.VerdictUnsure, r.Verdict, "%d clues: too few for a verdict (score %.3f)", r.SpamClues, r.Score)
		} else if k >= 4 {
			assert.Equal(t, spam.VerdictSpam, r.Verdict, "%d spam words", k)
		}
	}
	assert.Greater(t, prev, 0.99, "all the spam words together: a confident score")

	one, err := f.Classify(ctx, acct, spam.Chat(spamWords[0]))
	require.NoError(t, err)
	assert.Equal(t, 1, one.SpamClues)
	assert.Less(t, one.Score, 0.75, "one word, however often seen in spam, is no confident score")

	// Clues seen once count less than clues seen often.
	g, _, _ := newFilter(t, spam.Config{})
	ham, sp := corpus(1, 30)
	_, err = g.TrainBatch(ctx, acct, append(ham, sp...))
	require.NoError(t, err)
	_, err = g.Train(ctx, acct, "rare", spam.Chat("zygote quasar nebula"), spam.Spam)
	require.NoError(t, err)
	rare, err := g.Classify(ctx, acct, spam.Chat("zygote quasar nebula"))
	require.NoError(t, err)
	common, err := g.Classify(ctx, acct, spam.Chat(strings.Join(spamWords[:3], " ")))
	require.NoError(t, err)
	assert.Less(t, rare.Score, common.Score)
	assert.Equal(t, spam.VerdictUnsure, rare.Verdict, "three words of one lesson")
	assert.Less(t, rare.SpamWeight, 1.5)
	h, _, _ := newFilter(t, spam.Config{MinSpamWeight: -1})
	_, err = h.TrainBatch(ctx, acct, append(ham, sp...))
	require.NoError(t, err)
	_, err = h.Train(ctx, acct, "rare", spam.Chat("zygote quasar nebula"), spam.Spam)
	require.NoError(t, err)
	r, err := h.Classify(ctx, acct, spam.Chat("zygote quasar nebula"))
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictSpam, r.Verdict, "MinSpamWeight is what holds it back")

	// Nothing known: unsure; one ham word and no spam evidence: ham.
	r, err = f.Classify(ctx, acct, spam.Chat("quarterly filing"))
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict)
	assert.Equal(t, 0.5, r.Score)
	r, err = f.Classify(ctx, acct, spam.Chat("agenda"))
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictHam, r.Verdict)
	assert.Equal(t, 1, r.HamClues)
	g, _, _ = trained(t, spam.Config{MinHamClues: 2})
	r, err = g.Classify(ctx, acct, spam.Chat("agenda"))
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict, "MinHamClues")
}

// Spam that imitates ham (a newsletter-like text with a spammer's words)
// scores hammy, but significant spam evidence keeps it from the inbox.
func TestSpamVetoKeepsSpamEvidenceFromHam(t *testing.T) {
	msg := spam.Chat(strings.Join(hamWords, " ") + " " + strings.Join(spamWords[:6], " "))
	f, _, _ := trained(t, spam.Config{})
	r, err := f.Classify(ctx, acct, msg)
	require.NoError(t, err)
	require.Less(t, r.Score, 0.475, "the mix must score as ham for the veto to matter")
	require.Greater(t, r.SpamSignificance, 0.7)
	assert.Equal(t, spam.VerdictUnsure, r.Verdict)
	assert.True(t, r.SpamVetoed)

	off, _, _ := trained(t, spam.Config{SpamVeto: -1})
	r, err = off.Classify(ctx, acct, msg)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictHam, r.Verdict, "a negative SpamVeto disables the veto")
	assert.False(t, r.SpamVetoed)
}

func TestProfiles(t *testing.T) {
	msg := spam.Chat(strings.Join(spamWords[:4], " ") + " meeting")
	b, _, _ := trained(t, spam.Config{})
	rb, err := b.Classify(ctx, acct, msg)
	require.NoError(t, err)
	c, _, _ := trained(t, spam.Config{Profile: spam.Cautious})
	rc, err := c.Classify(ctx, acct, msg)
	require.NoError(t, err)
	assert.Equal(t, rb.Score, rc.Score, "a profile changes verdicts, not scores")
	assert.Equal(t, spam.VerdictSpam, rb.Verdict)
	assert.Equal(t, spam.VerdictUnsure, rc.Verdict, "cautious needs a higher score and more clues (score %.3f)", rc.Score)
	o, _, _ := trained(t, spam.Config{Profile: spam.Cautious, SpamCutoff: 0.7, MinSpamClues: 3})
	ro, err := o.Classify(ctx, acct, msg)
	require.NoError(t, err)
	assert.Equal(t, spam.VerdictSpam, ro.Verdict, "fields set in Config override the profile")

	assert.Equal(t, "balanced", spam.Balanced.String())
	assert.Equal(t, "cautious", spam.Cautious.String())
	_, err = spam.New(spam.Config{Store: memstore.New().Spam(), Key: key, Profile: 9})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = spam.New(spam.Config{Store: memstore.New().Spam(), Key: key, SpamVeto: 1})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
}

// A Filter over a MemoryStore holds each model once: the store's table is
// the one it classifies from. Two copies (a store's own map and the
// Filter's cache) took well over 100 bytes a token.
func TestMemoryStoreHoldsOneCopyOfTheModel(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 100,000 tokens")
	}
	st := memstore.New().Spam()
	f, err := spam.New(spam.Config{Store: st, Key: key, MaxTokens: 1 << 20})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(7, 7))
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for b := range 10 {
		var ex []spam.Example
		for i := range 50 {
			var sb strings.Builder
			for range 200 {
				fmt.Fprintf(&sb, "w%08x ", r.Uint32())
			}
			ex = append(ex, spam.Example{ID: fmt.Sprint(b, "-", i), Class: spam.Class(1 + i%2), Message: spam.Chat(sb.String())})
		}
		_, err := f.TrainBatch(ctx, acct, ex)
		require.NoError(t, err)
	}
	s, err := f.Stats(ctx, acct)
	require.NoError(t, err)
	require.Greater(t, s.Tokens, 100_000)
	perToken := float64(heap()-before) / float64(s.Tokens)
	t.Logf("%d tokens, %.1f bytes each", s.Tokens, perToken)
	assert.Less(t, perToken, 48.0)
	runtime.KeepAlive(f)
}

// The filter reads a raw message without copying it; nothing it returns
// may alias those bytes.
func TestExplainDoesNotKeepTheRawMessage(t *testing.T) {
	f, _, _ := trained(t, spam.Config{})
	raw := []byte("Subject: FREE money offer\r\nFrom: promo@deals.example\r\n\r\nviagra cheap pills winner lottery claim prize\r\n")
	r, err := f.Explain(ctx, acct, spam.Email(raw), 0)
	require.NoError(t, err)
	var before []string
	for _, c := range r.Clues {
		before = append(before, strings.Clone(c.Token)) // a copy that cannot alias raw
	}
	for i := range raw {
		raw[i] = 'x'
	}
	for i, c := range r.Clues {
		assert.Equal(t, before[i], c.Token)
	}
	assert.Contains(t, before, "viagra")
}
