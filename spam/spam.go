package spam

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdprkit/gdprkit"
)

// The classes. None is the zero value and means "no class": no lesson.
const (
	None Class = iota
	Ham
	Spam
)

// The three verdicts.
const (
	// VerdictHam: the score is below Config.HamCutoff.
	VerdictHam Verdict = iota + 1
	// VerdictUnsure: between the cutoffs; a human should look.
	VerdictUnsure
	// VerdictSpam: the score is at or above Config.SpamCutoff and the
	// ham veto (Config.HamVeto) does not hold it back.
	VerdictSpam
)

// Filter classifies and learns messages, one model per account. It is safe
// for concurrent use: any number of Classify calls run in parallel with
// training, which is serialised per account.
type Filter struct {
	st       Store
	cfg      Config
	accounts sync.Map // gdprkit.AccountID -> *account
	cached   atomic.Int64
	tick     atomic.Int64 // use counter, for least-recently-used eviction
	evictMu  sync.Mutex
	sinks    sync.Pool
	// train serialises training, pruning, resetting and reloading per
	// account. It lives here, not in the cache entry, so that an entry
	// loaded after an eviction waits for a batch the evicted entry still
	// has in flight (accounts share a lock by hash of their ID).
	train [64]sync.Mutex
}

// New returns a Filter over cfg.Store. It fails with gdprkit.ErrInvalid when
// the configuration is unusable (no store, no key, cutoffs out of order).
func New(cfg Config) (*Filter, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: spam: Config.Store is required", gdprkit.ErrInvalid)
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	cfg.Key = append([]byte(nil), cfg.Key...)
	return &Filter{st: cfg.Store, cfg: cfg, sinks: sync.Pool{New: func() any { return new(sink) }}}, nil
}

// account is one account's cached model.
type account struct {
	id       gdprkit.AccountID
	tokenKey sipKey
	msgKey   sipKey

	loadOnce  sync.Mutex // guards the first load
	loaded    atomic.Bool
	reloading atomic.Bool
	lastUsed  atomic.Int64 // Filter.tick at the last use
	// lessonsExpired is the day training last deleted expired lessons.
	lessonsExpired atomic.Int32

	// shared is set when m is the store's own model (a resident store):
	// the store applies batches to it, the Filter only reads it.
	shared   bool
	m        atomic.Pointer[model]
	loadedAt atomic.Int64 // when m was loaded, Unix nanoseconds
}

// model returns the account's current model.
func (a *account) model() *model { return a.m.Load() }

func (f *Filter) derive(label string, a gdprkit.AccountID) sipKey {
	m := hmac.New(sha256.New, f.cfg.Key)
	m.Write([]byte("gdprkit/spam/" + label + "\x00"))
	m.Write([]byte(a))
	var k [16]byte
	copy(k[:], m.Sum(nil))
	return newSipKey(k)
}

// account returns the account's cached model, loading it on first use and
// reloading it when older than Config.Refresh.
func (f *Filter) account(ctx context.Context, id gdprkit.AccountID) (*account, error) {
	// Only valid IDs enter the cache, so a cached one needs no validation.
	v, ok := f.accounts.Load(id)
	if !ok {
		if err := id.Validate(); err != nil {
			return nil, err
		}
		_, shared := f.st.(resident)
		na := &account{id: id, tokenKey: f.derive("token", id), msgKey: f.derive("message", id), shared: shared}
		na.m.Store(newModel(f.cfg.MaxTokens))
		v, _ = f.accounts.LoadOrStore(id, na)
	}
	a := v.(*account)
	a.lastUsed.Store(f.tick.Add(1))
	if !a.loaded.Load() {
		a.loadOnce.Lock()
		defer a.loadOnce.Unlock()
		if !a.loaded.Load() {
			mu := f.trainLock(id)
			mu.Lock()
			err := f.reload(ctx, a)
			mu.Unlock()
			if err != nil {
				return nil, err
			}
			a.loaded.Store(true)
			if f.cached.Add(1) > int64(f.cfg.MaxCachedAccounts) {
				f.evict(a)
			}
		}
		return a, nil
	}
	if f.cfg.Refresh > 0 && !a.shared {
		stale := f.cfg.Clock.Now().Sub(time.Unix(0, a.loadedAt.Load())) > f.cfg.Refresh
		if stale && a.reloading.CompareAndSwap(false, true) {
			defer a.reloading.Store(false)
			mu := f.trainLock(id)
			mu.Lock()
			err := f.reload(ctx, a)
			mu.Unlock()
			if err != nil {
				// Keep serving the cached model; the store is retried on
				// the next call.
				f.cfg.Logger.Warn("spam: model reload failed", "err", err)
			}
		}
	}
	return a, nil
}

// trainLock returns the mutex that serialises changes to id's model.
func (f *Filter) trainLock(id gdprkit.AccountID) *sync.Mutex {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &f.train[h%uint32(len(f.train))]
}

// lockAccount returns id's cache entry with its training lock held (the
// caller unlocks the returned mutex). The entry is the one in the cache
// when the lock was taken: a batch applied to an entry evicted before that
// would be missing from the entry that replaced it, so an evicted entry is
// dropped and the current one fetched again. Entries evicted later are
// harmless: their replacement loads under the same lock, after the batch.
func (f *Filter) lockAccount(ctx context.Context, id gdprkit.AccountID) (*account, *sync.Mutex, error) {
	for {
		a, err := f.account(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		mu := f.trainLock(id)
		mu.Lock()
		if cur, ok := f.accounts.Load(id); ok && cur == a {
			return a, mu, nil
		}
		mu.Unlock()
	}
}

// evict drops least recently used models from the cache until it holds
// MaxCachedAccounts, never keep (the model just loaded). A caller still
// holding an evicted model finishes with it; the next call loads afresh.
func (f *Filter) evict(keep *account) {
	f.evictMu.Lock()
	defer f.evictMu.Unlock()
	for f.cached.Load() > int64(f.cfg.MaxCachedAccounts) {
		var victim *account
		f.accounts.Range(func(_, v any) bool {
			a := v.(*account)
			if a != keep && a.loaded.Load() && (victim == nil || a.lastUsed.Load() < victim.lastUsed.Load()) {
				victim = a
			}
			return true
		})
		if victim == nil || !f.accounts.CompareAndDelete(victim.id, victim) {
			return
		}
		f.cached.Add(-1)
	}
}

// reload replaces the cached model with the store's; for a resident store
// it takes the store's own model. Caller holds trainLock(a.id).
func (f *Filter) reload(ctx context.Context, a *account) error {
	if rs, ok := f.st.(resident); ok {
		m, err := rs.residentModel(ctx, a.id)
		if err != nil {
			return fmt.Errorf("spam: load model: %w", err)
		}
		m.limitTable(f.cfg.MaxTokens)
		a.m.Store(m)
		a.loadedAt.Store(f.cfg.Clock.Now().UnixNano())
		return nil
	}
	snap, err := f.st.LoadModel(ctx, a.id)
	if err != nil {
		return fmt.Errorf("spam: load model: %w", err)
	}
	m := &model{ham: snap.Ham, spam: snap.Spam, tokens: newTokenTable(len(snap.Tokens))}
	m.tokens.limit = tableSize(f.cfg.MaxTokens)
	for _, t := range snap.Tokens {
		m.tokens.set(t.Hash, tok{clamp32(t.Ham), clamp32(t.Spam), t.Day})
	}
	a.m.Store(m)
	a.loadedAt.Store(f.cfg.Clock.Now().UnixNano())
	return nil
}

// Result is a verdict with its score and, from Explain, its clues.
type Result struct {
	// Verdict is ham, unsure or spam by the configured cutoffs.
	Verdict Verdict
	// Score is the combined spam probability, 0 (ham) to 1 (spam).
	Score float64
	// Tokens is how many distinct tokens the message held; Clues counts
	// those strong enough to be combined.
	Tokens, ClueCount int
	// HamSignificance is how significant the ham evidence alone is, as
	// −log10 of Fisher's ham-side chi-square tail probability: 2 means
	// p = 0.01; 0 for no ham clues at all.
	HamSignificance float64
	// HamVetoed reports that the score reached SpamCutoff but the
	// message's ham evidence was significant (Config.HamVeto), so the
	// verdict is unsure: "strong evidence both ways", for an agent's UI.
	HamVetoed bool
	// SpamSignificance is HamSignificance for the spam evidence alone.
	SpamSignificance float64
	// SpamVetoed reports that the score was below HamCutoff but the
	// message's spam evidence was significant (Config.SpamVeto), so the
	// verdict is unsure.
	SpamVetoed bool
	// SpamClues and HamClues count the clues that favour each side (they
	// add up to ClueCount); a verdict needs Config.MinSpamClues or
	// Config.MinHamClues of them.
	SpamClues, HamClues int
	// SpamWeight is the spam clues' weights added up, each counted by how
	// many trained messages back it; a spam verdict needs
	// Config.MinSpamWeight.
	SpamWeight float64
	// Clues are the strongest tokens behind the verdict, strongest first;
	// only Explain fills them.
	Clues []Clue
}

// Clue is one token's part in a verdict, for an agent's UI. Token text
// exists only here, computed from the message at hand: the model stores
// hashes, never text.
type Clue struct {
	// Token is the token, for example "subject:free" or
	// "url:host:example.com".
	Token string
	// Prob is the token's spam probability: near 1 spammy, near 0 hammy.
	Prob float64
	// Ham and Spam are how many trained messages of each class held it.
	Ham, Spam int64
	// Weight is how much of a clue the token counts as when the amount of
	// evidence is weighed, by how many trained messages held it
	// (Config.Attestation).
	Weight float64
}

// Classify scores msg against the account's model. It fails only when the
// account ID is invalid or the model cannot be loaded; a malformed message
// is classified from what can be read of it, and an empty one is unsure.
// Until the account has trained at least one ham and one spam message every
// verdict is unsure: hosts should train ham as well as spam (for example
// when an agent answers a message, or marks it "not spam").
func (f *Filter) Classify(ctx context.Context, acct gdprkit.AccountID, msg Message) (Result, error) {
	return f.classify(ctx, acct, msg, 0)
}

// Explain is Classify that also returns the n strongest clues (all of the
// combined clues when n <= 0).
func (f *Filter) Explain(ctx context.Context, acct gdprkit.AccountID, msg Message, n int) (Result, error) {
	if n <= 0 {
		n = math.MaxInt
	}
	return f.classify(ctx, acct, msg, n)
}

func (f *Filter) classify(ctx context.Context, acct gdprkit.AccountID, msg Message, explain int) (Result, error) {
	a, err := f.account(ctx, acct)
	if err != nil {
		return Result{}, err
	}
	s := f.sinks.Get().(*sink)
	defer f.sinks.Put(s)
	s.reset()
	s.key = a.tokenKey
	if explain > 0 {
		s.texts = map[uint64]string{}
	} else {
		s.texts = nil
	}
	s.tokenize(msg)
	hashes := s.distinct()

	w := f.weigh(a, hashes, s.clues[:0], &s.memo)
	clues := w.clues
	defer func() { s.clues = clues[:0] }() // keep the grown buffer for the next message
	r := Result{Score: w.score, Verdict: f.verdict(&w), Tokens: len(hashes), ClueCount: len(clues),
		HamSignificance: max(0, -w.lnQH/math.Ln10), HamVetoed: w.hamVetoed(&f.cfg),
		SpamSignificance: max(0, -w.lnQS/math.Ln10), SpamVetoed: w.spamVetoed(&f.cfg), SpamClues: w.spamClues, HamClues: w.hamClues, SpamWeight: w.spamWeight}
	if explain > 0 {
		sortClues(clues)
		for i, c := range clues {
			if i >= explain {
				break
			}
			r.Clues = append(r.Clues, Clue{Token: s.texts[c.hash], Prob: c.prob, Ham: c.ham, Spam: c.spam, Weight: c.weight})
		}
		s.texts = nil
	}
	return r, nil
}

// weighing is what the model makes of one message's tokens.
type weighing struct {
	evidence
	clues    []clue // the combined clues
	oneClass bool   // the model has not seen both classes yet
	touched  uint64 // tokenTable.touch's result, kept so its reads stay
}

// weigh looks up hashes in a's model and combines the clues that pass
// MinDeviation (the strongest MaxClues of them), appending to clues. memo,
// when not nil, keeps the clues of tokens of small counts from one call to
// the next (see probMemo).
func (f *Filter) weigh(a *account, hashes []uint64, clues []clue, memo *probMemo) weighing {
	m := a.model()
	m.mu.RLock()
	oneClass := m.ham == 0 || m.spam == 0
	var touched uint64
	if m.tokens.len() > touchMin {
		touched = m.tokens.touch(hashes)
	}
	if memo != nil {
		memo.use(m.ham, m.spam)
	}
	for _, h := range hashes {
		nh, ns, ok := m.tokens.counts(h)
		if !ok {
			continue
		}
		if memo != nil && uint32(nh) < memoCounts && uint32(ns) < memoCounts {
			e := &memo.e[nh*memoCounts+ns]
			if e.gen != memo.gen {
				e.c, e.pass = f.clueOf(nh, ns, m.ham, m.spam)
				e.gen = memo.gen
			}
			if e.pass {
				c := e.c
				c.hash = h
				clues = append(clues, c)
			}
			continue
		}
		if c, pass := f.clueOf(nh, ns, m.ham, m.spam); pass {
			c.hash = h
			clues = append(clues, c)
		}
	}
	m.mu.RUnlock()
	clues = strongest(clues, f.cfg.MaxClues)
	return weighing{evidence: combine(clues, f.cfg.EffectiveSize, f.cfg.EvidenceScale), clues: clues, oneClass: oneClass, touched: touched}
}

// clueOf returns the clue (without its hash) of a token seen in nh of the
// model's ham messages and ns of its spam messages, and whether it passes
// MinDeviation.
func (f *Filter) clueOf(nh, ns int32, ham, spam int64) (clue, bool) {
	p := tokenProb(int64(nh), int64(ns), ham, spam, f.cfg.Strength, f.cfg.Prior)
	if math.Abs(p-0.5) < f.cfg.MinDeviation {
		return clue{}, false
	}
	return newClue(0, p, clueWeight(int64(nh)+int64(ns), f.cfg.Attestation), int64(nh), int64(ns)), true
}

// memoCounts bounds the counts probMemo keeps clues for.
const memoCounts = 16

// probMemo keeps, for one model's message totals, the clue of each token
// count pair (nh, ns) below memoCounts, computed on first use: most
// tokens of a message have such counts (in a chat line nearly all), and a
// clue's probability, its logarithms and its weight depend on nothing
// else. Each sink (one classifying goroutine) has its own; a change of the
// totals (training) invalidates it.
type probMemo struct {
	ham, spam int64
	gen       uint32 // entries of another generation are not set
	e         [memoCounts * memoCounts]memoEntry
}

type memoEntry struct {
	gen  uint32
	pass bool // the token passes MinDeviation
	c    clue
}

// use makes the memo hold the clues of a model of these totals.
func (p *probMemo) use(ham, spam int64) {
	if p.gen != 0 && p.ham == ham && p.spam == spam {
		return
	}
	p.ham, p.spam = ham, spam
	p.gen++
	if p.gen == 0 { // wrapped: no entry may look set
		clear(p.e[:])
		p.gen = 1
	}
}

// touchMin is the model size above which weigh first touches every
// token's slot (tokenTable.touch); smaller models stay in cache anyway.
const touchMin = 1 << 14

// hamVetoed reports whether a spam score is held back by significant ham
// evidence (Config.HamVeto).
func (w *weighing) hamVetoed(cfg *Config) bool {
	return w.score >= cfg.SpamCutoff && cfg.HamVeto > 0 && w.lnQH < math.Log(cfg.HamVeto)
}

// spamVetoed reports whether a ham score is held back by significant spam
// evidence (Config.SpamVeto).
func (w *weighing) spamVetoed(cfg *Config) bool {
	return w.score < cfg.HamCutoff && cfg.SpamVeto > 0 && w.lnQS < math.Log(cfg.SpamVeto)
}

// verdict applies the cutoffs, the vetoes and the evidence a spam verdict
// needs. A model that has seen one class only would call everything that
// class, so its verdicts are unsure.
func (f *Filter) verdict(w *weighing) Verdict {
	switch {
	case w.oneClass:
		return VerdictUnsure
	case w.score < f.cfg.HamCutoff && !w.spamVetoed(&f.cfg) && w.hamClues >= f.cfg.MinHamClues:
		return VerdictHam
	case w.score >= f.cfg.SpamCutoff && !w.hamVetoed(&f.cfg) && w.spamClues >= f.cfg.MinSpamClues && w.spamWeight >= f.cfg.MinSpamWeight:
		return VerdictSpam
	}
	return VerdictUnsure
}

// tokenize feeds msg's tokens into s.
func (s *sink) tokenize(msg Message) {
	if len(msg.Raw) > 0 {
		s.email(msg.Raw)
		return
	}
	if msg.Subject != "" {
		s.text("subject:", msg.Subject)
	}
	s.text("", msg.Text)
}

// Tokens returns the token texts the filter reads from msg, in no
// particular order and without duplicates, for tests and tuning. They are
// never stored: the model keeps only keyed hashes of them.
func Tokens(msg Message) []string {
	s := &sink{texts: map[uint64]string{}}
	s.tokenize(msg)
	out := make([]string, 0, len(s.texts))
	for _, h := range s.distinct() {
		out = append(out, s.texts[h])
	}
	return out
}
