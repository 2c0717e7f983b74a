package spam

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Config configures a Filter. Zero values select the documented defaults;
// only Store and Key are required.
type Config struct {
	// Store holds the per-account token counts and lessons. Required.
	Store Store
	// Key is the secret (at least 16 bytes) from which each account's token
	// and message-ID hash keys are derived. Changing it orphans every model
	// trained with the old key. Required.
	Key []byte

	// Clock supplies time for token ages and lessons. Default: system clock.
	Clock gdprkit.Clock
	// Logger receives operational messages, never message content.
	// Default: discard.
	Logger *slog.Logger
	// Audit receives spam.reset and spam.pruned events. Default: discard.
	Audit gdprkit.AuditSink

	// Profile picks the verdict rules: the cutoffs, the vetoes and the
	// evidence a verdict needs. Default Balanced. Any of HamCutoff,
	// SpamCutoff, HamVeto, SpamVeto, MinSpamClues, MinSpamWeight and
	// MinHamClues that is set (non-zero) overrides the profile's value.
	Profile Profile

	// Strength is Robinson's s, how many messages' worth of weight the
	// prior carries. Default 0.01: a token's own counts dominate quickly
	// (bogofilter ships 0.0178; SpamBayes' 0.45 ranked worse on the
	// SpamAssassin corpus, see package doc).
	Strength float64
	// Prior is Robinson's x, the probability of a token never seen.
	// Default 0.5.
	Prior float64
	// MinDeviation: tokens whose probability is closer than this to 0.5
	// are ignored. Default 0.3.
	MinDeviation float64
	// Attestation weighs each clue, when the amount of evidence is
	// counted, by how many trained messages back it: a token seen in n
	// messages counts as n/(n+Attestation) of a clue, so a token seen
	// once counts a quarter and one seen in 30 messages almost fully.
	// Default 3.
	Attestation float64
	// EffectiveSize is the effective size factor: how much of an
	// independent test one clue counts as when clues are combined
	// (0 < EffectiveSize <= 1; 1 is Fisher's method unchanged). Tokens are
	// correlated, and without it scores saturate at 0.5 whenever a message
	// has strong evidence both ways. Default 0.3.
	EffectiveSize float64
	// EvidenceScale makes the score's confidence follow the amount of
	// evidence: with L the net evidence of a message in nats and W its
	// clues on the leaning side, counted by Attestation (see package doc),
	// the score moves from 0.5 towards the side the clues favour by the
	// share (1 − e^(−L/EvidenceScale))·(1 − e^(−W/2)). A few clues, or
	// clues seen once or twice, leave a message near 0.5; dozens of
	// well-attested ones give the full score. Default 2; negative: no such
	// damping.
	EvidenceScale float64
	// MaxClues, when positive, caps how many of the strongest tokens are
	// combined (SpamBayes uses 150). Default 0: all tokens that pass
	// MinDeviation.
	MaxClues int
	// HamCutoff: scores below it are ham, unless SpamVeto holds them back
	// or fewer than MinHamClues clues favour ham. Default: the profile's
	// (Balanced: 0.475, so that a message whose evidence barely leans ham
	// stays unsure).
	HamCutoff float64
	// SpamCutoff: scores at or above it are spam, unless HamVeto holds
	// them back or the spam clues are fewer than MinSpamClues or weigh
	// less than MinSpamWeight. Default: the profile's (Balanced: 0.7).
	SpamCutoff float64
	// HamVeto is the significance level of the ham veto: a message whose
	// ham evidence alone is significant at this level (Fisher's ham-side
	// chi-square tail probability qH below HamVeto) is unsure, never spam,
	// however spammy it scores. Strong evidence both ways is for a human
	// to weigh. Default: the profile's (Balanced: 0.01); negative disables
	// the veto.
	HamVeto float64
	// SpamVeto mirrors HamVeto for ham verdicts: a message whose spam
	// evidence alone is significant at this level (qS below SpamVeto) is
	// unsure, never ham, however hammy it scores: spam that mimics a
	// correspondent's ham still carries its own vocabulary. Default: the
	// profile's (Balanced: 0.2); negative disables the veto.
	SpamVeto float64
	// MinSpamClues is how many clues (tokens past MinDeviation) must
	// favour spam for a spam verdict. Default: the profile's (Balanced: 3,
	// so that one or two words never make a message spam, however often
	// they were seen in spam); negative: no minimum.
	MinSpamClues int
	// MinSpamWeight is how much those clues must weigh together, each
	// counted by how many trained messages back it (Attestation: a token
	// seen once counts 0.25, one seen in 30 messages 0.9). Default: the
	// profile's (Balanced: 1.5, so that a short message made of the words
	// of a single lesson is not spam); negative: no minimum.
	MinSpamWeight float64
	// MinHamClues is how many clues must favour ham for a ham verdict.
	// Default: the profile's (Balanced: 1, so that a message the model
	// knows nothing about is unsure); negative: no minimum.
	MinHamClues int

	// TrainOnError, when set, makes Train learn a new message only if the
	// current model does not already classify it as its class (wrong or
	// unsure). Corrections of earlier lessons are always applied.
	TrainOnError bool

	// MaxTokens caps an account's model; see Prune for the rule. Default
	// 500,000 (13 to 20 MB of memory per account at the cap).
	MaxTokens int
	// PruneCount: tokens seen in at most this many messages are "rare".
	// Default 1.
	PruneCount int
	// PruneAge: tokens not trained on for this long are "old". Default 60
	// days.
	PruneAge time.Duration
	// LessonTTL is how long a lesson (message ID hash and class) is kept
	// so that a correction can move the message; after it, the lesson is
	// ignored (correcting the message trains it as new, forgetting it
	// changes no counts) and deleted by the next day's training or Prune.
	// Default 365 days.
	LessonTTL time.Duration
	// MaxCachedAccounts caps how many accounts' models are kept in memory;
	// when a model is loaded beyond it, the least recently used one is
	// dropped from the cache (its data stays in the store and is reloaded
	// on next use). Default 1,000.
	MaxCachedAccounts int
	// Refresh is how old a cached model may get before it is reloaded from
	// the store, which matters when several processes train one account:
	// each process sees the others' lessons within Refresh. A reload reads
	// the account's whole model (while the old one keeps serving), so hosts
	// with one process, or very large models, may raise it. Default 1
	// minute; negative: never reload.
	Refresh time.Duration
}

func (c *Config) defaults() error {
	if len(c.Key) < 16 {
		return fmt.Errorf("%w: spam: Config.Key must be at least 16 bytes", gdprkit.ErrInvalid)
	}
	c.Clock = gdprkit.ClockOrSystem(c.Clock)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Audit = gdprkit.SinkOrDiscard(c.Audit)
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	r, ok := profiles[c.Profile]
	if !ok {
		return fmt.Errorf("%w: spam: unknown Profile %d", gdprkit.ErrInvalid, c.Profile)
	}
	def(&c.Strength, 0.01)
	def(&c.Prior, 0.5)
	def(&c.MinDeviation, 0.3)
	def(&c.Attestation, 3)
	def(&c.EffectiveSize, 0.3)
	def(&c.EvidenceScale, 2)
	def(&c.HamCutoff, r.HamCutoff)
	def(&c.SpamCutoff, r.SpamCutoff)
	def(&c.HamVeto, r.HamVeto)
	def(&c.SpamVeto, r.SpamVeto)
	def(&c.MinSpamWeight, r.MinSpamWeight)
	if c.MinSpamClues == 0 {
		c.MinSpamClues = r.MinSpamClues
	}
	if c.MinHamClues == 0 {
		c.MinHamClues = r.MinHamClues
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = 500_000
	}
	if c.PruneCount <= 0 {
		c.PruneCount = 1
	}
	if c.PruneAge <= 0 {
		c.PruneAge = 60 * 24 * time.Hour
	}
	if c.LessonTTL <= 0 {
		c.LessonTTL = 365 * 24 * time.Hour
	}
	if c.MaxCachedAccounts <= 0 {
		c.MaxCachedAccounts = 1000
	}
	if c.Refresh == 0 {
		c.Refresh = time.Minute
	}
	switch {
	case c.Strength < 0, c.Prior <= 0 || c.Prior >= 1, c.MinDeviation < 0 || c.MinDeviation >= 0.5,
		c.HamCutoff < 0, c.SpamCutoff > 1, c.HamCutoff > c.SpamCutoff, c.HamVeto >= 1, c.SpamVeto >= 1,
		c.EffectiveSize < 0 || c.EffectiveSize > 1, c.Attestation < 0, math.IsNaN(c.EvidenceScale):
		return fmt.Errorf("%w: spam: scoring parameters out of range", gdprkit.ErrInvalid)
	}
	return nil
}
