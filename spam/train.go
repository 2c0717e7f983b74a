package spam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// MaxIDLen is the longest message ID Train accepts, in bytes.
const MaxIDLen = 1024

// Example is one message to train: the host's ID for it, the message and
// the class an agent gave it.
type Example struct {
	// ID is the host's stable identifier of the message (ticket message
	// ID, chat message ID). Only its keyed hash is stored.
	ID string
	// Message is the message itself.
	Message Message
	// Class is Ham or Spam.
	Class Class
}

// TrainStats says what a training call did.
type TrainStats struct {
	// Learned counts messages trained for the first time.
	Learned int
	// Moved counts corrections: messages untrained from their old class
	// and trained as the new one.
	Moved int
	// Unchanged counts messages already trained as the given class.
	Unchanged int
	// Skipped counts messages not trained because the model already
	// classified them right (Config.TrainOnError).
	Skipped int
}

// Train teaches the account's model that the message with the host's ID id
// is of class c. Training is idempotent per ID: training the same ID as
// the same class again changes nothing, and training it as the other class
// (an agent correcting a verdict) removes the old lesson before adding the
// new one, so the message is never counted twice; msg must then be the
// message that was trained, since its tokens are what is removed. Invalid
// input (empty ID
// or message, class not Ham or Spam) fails with gdprkit.ErrInvalid and
// changes nothing.
func (f *Filter) Train(ctx context.Context, acct gdprkit.AccountID, id string, msg Message, c Class) (TrainStats, error) {
	return f.TrainBatch(ctx, acct, []Example{{ID: id, Message: msg, Class: c}})
}

// TrainBatch is Train for many messages at once: one store batch (one
// transaction in SQL) for the whole slice. The IDs must be distinct. Either
// every example is applied or, on error, none is.
func (f *Filter) TrainBatch(ctx context.Context, acct gdprkit.AccountID, ex []Example) (TrainStats, error) {
	if err := checkExamples(ex, true); err != nil {
		return TrainStats{}, err
	}
	return f.learn(ctx, acct, ex, false)
}

// checkExamples validates a batch: IDs non-empty, at most MaxIDLen bytes and
// distinct, messages non-empty and, when withClass, classes Ham or Spam.
func checkExamples(ex []Example, withClass bool) error {
	seen := make(map[string]bool, len(ex))
	for i, e := range ex {
		switch {
		case e.ID == "" || len(e.ID) > MaxIDLen:
			return fmt.Errorf("%w: spam: example %d: message ID empty or longer than %d bytes", gdprkit.ErrInvalid, i, MaxIDLen)
		case withClass && e.Class != Ham && e.Class != Spam:
			return fmt.Errorf("%w: spam: example %d: class must be Ham or Spam", gdprkit.ErrInvalid, i)
		case e.Message.empty():
			return fmt.Errorf("%w: spam: example %d: empty message", gdprkit.ErrInvalid, i)
		case seen[e.ID]:
			return fmt.Errorf("%w: spam: example %d: duplicate message ID in batch", gdprkit.ErrInvalid, i)
		}
		seen[e.ID] = true
	}
	return nil
}

// Forget removes the lesson of message id from the account's model: the
// message's tokens are untrained from the class it was trained as. msg
// must be the message that was trained. It fails with gdprkit.ErrNotFound
// when no lesson is recorded for id.
func (f *Filter) Forget(ctx context.Context, acct gdprkit.AccountID, id string, msg Message) error {
	n, err := f.ForgetBatch(ctx, acct, []Example{{ID: id, Message: msg}})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: spam: no lesson for this message", gdprkit.ErrNotFound)
	}
	return nil
}

// ForgetBatch is Forget for many messages at once, in one store batch (one
// transaction in SQL), for example the messages of a subject being erased.
// Each example's Message must be the message that was trained; its Class is
// ignored. IDs without a lesson are skipped, so a repeated call changes
// nothing more. It returns how many lessons were removed. Invalid input
// (an empty or too long ID, an empty message, a duplicate ID) fails with
// gdprkit.ErrInvalid and changes nothing.
func (f *Filter) ForgetBatch(ctx context.Context, acct gdprkit.AccountID, ex []Example) (int, error) {
	if err := checkExamples(ex, false); err != nil {
		return 0, err
	}
	if len(ex) == 0 {
		return 0, nil
	}
	st, err := f.learn(ctx, acct, ex, true)
	return st.Moved, err
}

// Lessons returns the lessons recorded for the host's message IDs, by ID;
// IDs never trained (or forgotten, or expired after Config.LessonTTL) are
// absent. It reads the store, not the cached model.
func (f *Filter) Lessons(ctx context.Context, acct gdprkit.AccountID, ids []string) (map[string]Lesson, error) {
	if err := acct.Validate(); err != nil {
		return nil, err
	}
	msgKey := f.derive("message", acct) // no need to load the model
	byKey := make(map[uint64]string, len(ids))
	keys := make([]uint64, 0, len(ids))
	for _, id := range ids {
		k := msgKey.sum64([]byte(id))
		if _, dup := byKey[k]; !dup {
			byKey[k] = id
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return map[string]Lesson{}, nil
	}
	ls, err := f.st.Lessons(ctx, acct, keys)
	if err != nil {
		return nil, fmt.Errorf("spam: read lessons: %w", err)
	}
	out := make(map[string]Lesson, len(ls))
	cutoff := f.lessonCutoff()
	for _, l := range ls {
		if id, ok := byKey[l.Key]; ok && l.Day >= cutoff {
			out[id] = l
		}
	}
	return out, nil
}

type prepared struct {
	key    uint64
	class  Class
	hashes []uint64
}

func (f *Filter) learn(ctx context.Context, acct gdprkit.AccountID, ex []Example, forget bool) (TrainStats, error) {
	a, err := f.account(ctx, acct)
	if err != nil {
		return TrainStats{}, err
	}
	// Tokenize outside any lock (the keys are the account's whatever its
	// cache entry).
	pre := make([]prepared, len(ex))
	s := &sink{key: a.tokenKey}
	for i, e := range ex {
		s.reset()
		s.tokenize(e.Message)
		pre[i] = prepared{key: a.msgKey.sum64([]byte(e.ID)), class: e.Class, hashes: slices.Clone(s.distinct())}
	}

	a, mu, err := f.lockAccount(ctx, acct)
	if err != nil {
		return TrainStats{}, err
	}
	defer mu.Unlock()
	for attempt := 0; ; attempt++ {
		st, b, err := f.plan(ctx, a, pre, forget)
		if err != nil {
			return TrainStats{}, err
		}
		if len(b.Lessons) == 0 {
			return st, nil
		}
		err = f.st.Learn(ctx, acct, b)
		if errors.Is(err, gdprkit.ErrConflict) && attempt < 3 {
			// Another process changed a lesson between our read and our
			// write: plan again from the stored lessons.
			continue
		}
		if err != nil {
			return TrainStats{}, fmt.Errorf("spam: train: %w", err)
		}
		f.apply(a, b)
		if a.size() > f.cfg.MaxTokens {
			if _, err := f.prune(ctx, a); err != nil {
				f.cfg.Logger.Warn("spam: automatic prune failed", "err", err)
			}
		}
		if today := f.today(); a.lessonsExpired.Load() != today {
			// Once a day per account, training also deletes the lessons
			// past LessonTTL, so hashed message IDs do not outlive it
			// where the host never calls Prune.
			if _, err := f.st.DeleteLessons(ctx, acct, f.lessonCutoff()); err != nil {
				f.cfg.Logger.Warn("spam: expiring lessons failed", "err", err)
			} else {
				a.lessonsExpired.Store(today)
			}
		}
		return st, nil
	}
}

// plan reads the stored lessons of the examples and builds the batch.
// Caller holds f.trainLock(a.id).
func (f *Filter) plan(ctx context.Context, a *account, pre []prepared, forget bool) (TrainStats, Batch, error) {
	keys := make([]uint64, len(pre))
	for i, p := range pre {
		keys[i] = p.key
	}
	ls, err := f.st.Lessons(ctx, a.id, keys)
	if err != nil {
		return TrainStats{}, Batch{}, fmt.Errorf("spam: read lessons: %w", err)
	}
	// stored is each key's lesson as the store has it (for the
	// compare-and-set); live leaves out lessons past LessonTTL, which count
	// as never recorded: their messages' counts are no longer linked to
	// them.
	stored := make(map[uint64]Class, len(ls))
	live := make(map[uint64]Class, len(ls))
	cutoff := f.lessonCutoff()
	for _, l := range ls {
		stored[l.Key] = l.Class
		if l.Day >= cutoff {
			live[l.Key] = l.Class
		}
	}
	day := f.today()
	var st TrainStats
	var b Batch
	// One slot per distinct token of the batch, found through idx: a batch
	// of 100 e-mails touches tens of thousands of tokens, and a pointer
	// per token would be that much more garbage per batch.
	n := 0
	for _, p := range pre {
		n += len(p.hashes)
	}
	idx := make(map[uint64]int32, n/2)
	deltas := make([]TokenCount, 0, n/2)
	add := func(hashes []uint64, c Class, sign int64) {
		if c == Ham {
			b.Ham += sign
		} else {
			b.Spam += sign
		}
		for _, h := range hashes {
			i, ok := idx[h]
			if !ok {
				i = int32(len(deltas))
				idx[h] = i
				deltas = append(deltas, TokenCount{Hash: h})
			}
			d := &deltas[i]
			if c == Ham {
				d.Ham += sign
			} else {
				d.Spam += sign
			}
			if sign > 0 {
				d.Day = day
			}
		}
	}
	for _, p := range pre {
		old := live[p.key]
		switch {
		case forget:
			if old == None {
				if stored[p.key] != None {
					// An expired lesson: drop it, change no counts.
					b.Lessons = append(b.Lessons, LessonChange{Key: p.key, Prev: stored[p.key], Next: None, Day: day})
				}
				continue
			}
			add(p.hashes, old, -1)
			st.Moved++
		case old == p.class:
			st.Unchanged++
			continue
		case old != None:
			add(p.hashes, old, -1)
			add(p.hashes, p.class, +1)
			st.Moved++
		default:
			if f.cfg.TrainOnError && f.score(a, p.hashes) == verdictOf(p.class) {
				st.Skipped++
				continue
			}
			add(p.hashes, p.class, +1)
			st.Learned++
		}
		next := p.class
		if forget {
			next = None
		}
		b.Lessons = append(b.Lessons, LessonChange{Key: p.key, Prev: stored[p.key], Next: next, Day: day})
	}
	b.Tokens = deltas[:0]
	for _, d := range deltas {
		if d.Ham != 0 || d.Spam != 0 {
			b.Tokens = append(b.Tokens, d)
		}
	}
	slices.SortFunc(b.Tokens, func(x, y TokenCount) int { return cmp.Compare(x.Hash, y.Hash) })
	return st, b, nil
}

// lessonCutoff is the first day whose lessons are still live: lessons
// recorded before it are past LessonTTL.
func (f *Filter) lessonCutoff() int32 {
	return f.today() - int32(f.cfg.LessonTTL/(24*time.Hour))
}

func verdictOf(c Class) Verdict {
	if c == Spam {
		return VerdictSpam
	}
	return VerdictHam
}

// score classifies already-tokenized hashes against the cached model.
func (f *Filter) score(a *account, hashes []uint64) Verdict {
	w := f.weigh(a, hashes, make([]clue, 0, len(hashes)), nil)
	return f.verdict(&w)
}

// apply mirrors a stored batch in the cached model, with the store's
// clamping rules (a resident store has applied it to the model already).
func (f *Filter) apply(a *account, b Batch) {
	if a.shared {
		return
	}
	m := a.model()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.apply(b)
}

func (a *account) size() int {
	m := a.model()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.tokens.len()
}

func (f *Filter) today() int32 { return dayOf(f.cfg.Clock.Now()) }

func dayOf(t time.Time) int32 { return int32(t.Unix() / 86400) }

// PruneStats says what Prune removed.
type PruneStats struct {
	// Tokens is how many tokens were removed; Remaining how many are left.
	Tokens, Remaining int
	// Lessons is how many expired lessons were removed.
	Lessons int
}

// Prune applies the size rule to the account's model and drops expired
// lessons. The rule, which training also applies whenever a model grows
// past Config.MaxTokens:
//
//  1. A token is rare and old when it was seen in at most PruneCount
//     messages (ham plus spam) and not trained on for PruneAge. Every rare,
//     old token is removed.
//  2. If the model still holds more than MaxTokens tokens, the tokens with
//     the fewest messages are removed, the least recently trained first
//     among equals, until it holds 90% of MaxTokens.
//
// Lessons older than LessonTTL are removed too. Message counts are kept,
// so probabilities of the remaining tokens do not shift.
func (f *Filter) Prune(ctx context.Context, acct gdprkit.AccountID) (PruneStats, error) {
	a, mu, err := f.lockAccount(ctx, acct)
	if err != nil {
		return PruneStats{}, err
	}
	defer mu.Unlock()
	ps, err := f.prune(ctx, a)
	if err != nil {
		return ps, err
	}
	n, err := f.st.DeleteLessons(ctx, acct, f.lessonCutoff())
	if err != nil {
		return ps, fmt.Errorf("spam: prune lessons: %w", err)
	}
	ps.Lessons = n
	f.record(ctx, acct, "spam.pruned", map[string]string{
		"tokens": strconv.Itoa(ps.Tokens), "remaining": strconv.Itoa(ps.Remaining), "lessons": strconv.Itoa(n)})
	return ps, nil
}

// prune applies the token rule. Caller holds f.trainLock(a.id).
func (f *Filter) prune(ctx context.Context, a *account) (PruneStats, error) {
	type cand struct {
		h     uint64
		total int64
		day   int32
	}
	old := f.today() - int32(f.cfg.PruneAge/(24*time.Hour))
	var drop []uint64
	var rest []cand
	m := a.model()
	m.mu.RLock()
	size := m.tokens.len()
	m.tokens.each(func(h uint64, t tok) bool {
		total := int64(t.ham) + int64(t.spam)
		if total <= int64(f.cfg.PruneCount) && t.day < old {
			drop = append(drop, h)
		} else if size > f.cfg.MaxTokens {
			rest = append(rest, cand{h, total, t.day})
		}
		return true
	})
	m.mu.RUnlock()
	if left := size - len(drop); left > f.cfg.MaxTokens {
		slices.SortFunc(rest, func(x, y cand) int {
			return cmp.Or(cmp.Compare(x.total, y.total), cmp.Compare(x.day, y.day), cmp.Compare(x.h, y.h))
		})
		excess := left - f.cfg.MaxTokens*9/10
		for _, c := range rest[:min(excess, len(rest))] {
			drop = append(drop, c.h)
		}
	}
	if len(drop) == 0 {
		return PruneStats{Remaining: size}, nil
	}
	if _, err := f.st.DeleteTokens(ctx, a.id, drop); err != nil {
		return PruneStats{}, fmt.Errorf("spam: prune tokens: %w", err)
	}
	m.mu.Lock()
	if !a.shared { // a resident store has dropped them already
		for _, h := range drop {
			m.tokens.del(h)
		}
	}
	remaining := m.tokens.len()
	m.mu.Unlock()
	f.cfg.Logger.Debug("spam: pruned model", "tokens", len(drop), "remaining", remaining)
	return PruneStats{Tokens: len(drop), Remaining: remaining}, nil
}

// Reset erases the account's whole model (counts, tokens, lessons), for
// example when the account is deleted. It records a spam.reset event.
func (f *Filter) Reset(ctx context.Context, acct gdprkit.AccountID) error {
	a, mu, err := f.lockAccount(ctx, acct)
	if err != nil {
		return err
	}
	defer mu.Unlock()
	if err := f.st.Reset(ctx, acct); err != nil {
		return fmt.Errorf("spam: reset: %w", err)
	}
	if !a.shared { // a resident store has emptied its model already
		a.m.Store(newModel(f.cfg.MaxTokens))
	}
	f.record(ctx, acct, "spam.reset", nil)
	return nil
}

// Stats describes an account's cached model.
type Stats struct {
	// Ham and Spam count the trained messages; Tokens the distinct tokens.
	Ham, Spam int64
	Tokens    int
}

// Stats returns the size of the account's model.
func (f *Filter) Stats(ctx context.Context, acct gdprkit.AccountID) (Stats, error) {
	a, err := f.account(ctx, acct)
	if err != nil {
		return Stats{}, err
	}
	m := a.model()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return Stats{Ham: m.ham, Spam: m.spam, Tokens: m.tokens.len()}, nil
}

func (f *Filter) record(ctx context.Context, acct gdprkit.AccountID, typ string, attrs map[string]string) {
	e := gdprkit.Event{ID: gdprkit.NewID(), Account: acct, Type: gdprkit.EventType(typ), Time: f.cfg.Clock.Now(), Attrs: attrs}
	if err := f.cfg.Audit.Record(ctx, e); err != nil {
		f.cfg.Logger.Warn("spam: audit sink failed", "event", typ, "err", err)
	}
}
