package spam

import (
	"context"
	"fmt"
	"sync"

	"github.com/gdprkit/gdprkit"
)

// MemoryStore is a Store that keeps every account's model in this
// process's memory, in the compact table a Filter classifies from. A
// Filter over a MemoryStore reads the store's models directly instead of
// caching copies, so each model is held once (20 bytes a slot, 27 to 40
// bytes a token). Everything is lost when the process exits;
// store/memstore's Spam returns one. It is safe for concurrent use.
type MemoryStore struct {
	mu       sync.Mutex // guards accounts
	accounts map[gdprkit.AccountID]*memAccount
}

// memAccount is one account's model and lessons; model.mu guards both.
type memAccount struct {
	model
	lessons map[uint64]Lesson
}

// check fails with gdprkit.ErrUnavailable once ctx has ended and with
// gdprkit.ErrInvalid for an invalid account ID.
func check(ctx context.Context, a gdprkit.AccountID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("spam: memory store: %w: %w", gdprkit.ErrUnavailable, err)
	}
	return a.Validate()
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{accounts: map[gdprkit.AccountID]*memAccount{}}
}

// acct returns a's entry, creating it when create is set (nil otherwise
// when a was never written).
func (s *MemoryStore) acct(ctx context.Context, a gdprkit.AccountID, create bool) (*memAccount, error) {
	if err := check(ctx, a); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.accounts[a]
	if x == nil && create {
		x = &memAccount{model: model{tokens: newTokenTable(0)}, lessons: map[uint64]Lesson{}}
		s.accounts[a] = x
	}
	return x, nil
}

func (s *MemoryStore) residentModel(ctx context.Context, a gdprkit.AccountID) (*model, error) {
	x, err := s.acct(ctx, a, true)
	if err != nil {
		return nil, err
	}
	return &x.model, nil
}

// LoadModel implements Store.
func (s *MemoryStore) LoadModel(ctx context.Context, a gdprkit.AccountID) (Snapshot, error) {
	x, err := s.acct(ctx, a, false)
	if err != nil || x == nil {
		return Snapshot{}, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	snap := Snapshot{Ham: x.ham, Spam: x.spam, Tokens: make([]TokenCount, 0, x.tokens.len())}
	x.tokens.each(func(h uint64, t tok) bool {
		snap.Tokens = append(snap.Tokens, TokenCount{Hash: h, Ham: int64(t.ham), Spam: int64(t.spam), Day: t.day})
		return true
	})
	return snap, nil
}

// Lessons implements Store.
func (s *MemoryStore) Lessons(ctx context.Context, a gdprkit.AccountID, keys []uint64) ([]Lesson, error) {
	x, err := s.acct(ctx, a, false)
	if err != nil || x == nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Lesson
	for _, k := range keys {
		if l, ok := x.lessons[k]; ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// Learn implements Store. Token counts saturate at the int32 range.
func (s *MemoryStore) Learn(ctx context.Context, a gdprkit.AccountID, b Batch) error {
	if err := check(ctx, a); err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return err
	}
	x, err := s.acct(ctx, a, true)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, lc := range b.Lessons {
		if x.lessons[lc.Key].Class != lc.Prev {
			return fmt.Errorf("%w: spam: memory store: lesson changed concurrently", gdprkit.ErrConflict)
		}
	}
	for _, lc := range b.Lessons {
		if lc.Next == None {
			delete(x.lessons, lc.Key)
		} else {
			x.lessons[lc.Key] = Lesson{Key: lc.Key, Class: lc.Next, Day: lc.Day}
		}
	}
	x.apply(b)
	return nil
}

// DeleteTokens implements Store.
func (s *MemoryStore) DeleteTokens(ctx context.Context, a gdprkit.AccountID, hashes []uint64) (int, error) {
	x, err := s.acct(ctx, a, false)
	if err != nil || x == nil {
		return 0, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.tokens.len()
	for _, h := range hashes {
		x.tokens.del(h)
	}
	return n - x.tokens.len(), nil
}

// DeleteLessons implements Store.
func (s *MemoryStore) DeleteLessons(ctx context.Context, a gdprkit.AccountID, before int32) (int, error) {
	x, err := s.acct(ctx, a, false)
	if err != nil || x == nil {
		return 0, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for k, l := range x.lessons {
		if l.Day < before {
			delete(x.lessons, k)
			n++
		}
	}
	return n, nil
}

// Reset implements Store. The account's model is emptied in place, so a
// Filter reading it sees the reset at once.
func (s *MemoryStore) Reset(ctx context.Context, a gdprkit.AccountID) error {
	x, err := s.acct(ctx, a, false)
	if err != nil || x == nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ham, x.spam, x.tokens = 0, 0, &tokenTable{limit: x.tokens.limit}
	clear(x.lessons)
	return nil
}
