package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/spam"
)

// Spam returns the spam filter's store.
func (s *Store) Spam() spam.Store { return domain(s, "spam", newSpamMem) }

type spamAccount struct {
	ham, spam int64
	tokens    map[uint64]spam.TokenCount
	lessons   map[uint64]spam.Lesson
}

type spamMem struct {
	mu       sync.RWMutex
	accounts map[gdprkit.AccountID]*spamAccount
}

func newSpamMem() *spamMem { return &spamMem{accounts: map[gdprkit.AccountID]*spamAccount{}} }

func (m *spamMem) acct(a gdprkit.AccountID) *spamAccount {
	x := m.accounts[a]
	if x == nil {
		x = &spamAccount{tokens: map[uint64]spam.TokenCount{}, lessons: map[uint64]spam.Lesson{}}
		m.accounts[a] = x
	}
	return x
}

func (m *spamMem) LoadModel(ctx context.Context, a gdprkit.AccountID) (spam.Snapshot, error) {
	if err := live(ctx); err != nil {
		return spam.Snapshot{}, err
	}
	if err := a.Validate(); err != nil {
		return spam.Snapshot{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	x := m.accounts[a]
	if x == nil {
		return spam.Snapshot{}, nil
	}
	snap := spam.Snapshot{Ham: x.ham, Spam: x.spam, Tokens: make([]spam.TokenCount, 0, len(x.tokens))}
	for _, t := range x.tokens {
		snap.Tokens = append(snap.Tokens, t)
	}
	return snap, nil
}

func (m *spamMem) Lessons(ctx context.Context, a gdprkit.AccountID, keys []uint64) ([]spam.Lesson, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	x := m.accounts[a]
	if x == nil {
		return nil, nil
	}
	var out []spam.Lesson
	for _, k := range keys {
		if l, ok := x.lessons[k]; ok {
			out = append(out, l)
		}
	}
	return out, nil
}

func (m *spamMem) Learn(ctx context.Context, a gdprkit.AccountID, b spam.Batch) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.acct(a)
	for _, lc := range b.Lessons {
		if x.lessons[lc.Key].Class != lc.Prev {
			return fmt.Errorf("%w: spam lesson changed concurrently", gdprkit.ErrConflict)
		}
	}
	for _, lc := range b.Lessons {
		if lc.Next == spam.None {
			delete(x.lessons, lc.Key)
		} else {
			x.lessons[lc.Key] = spam.Lesson{Key: lc.Key, Class: lc.Next, Day: lc.Day}
		}
	}
	x.ham = max(0, x.ham+b.Ham)
	x.spam = max(0, x.spam+b.Spam)
	for _, d := range b.Tokens {
		t, ok := x.tokens[d.Hash]
		if !ok {
			t.Hash = d.Hash
		}
		t.Ham = max(0, t.Ham+d.Ham)
		t.Spam = max(0, t.Spam+d.Spam)
		t.Day = max(t.Day, d.Day)
		if t.Ham == 0 && t.Spam == 0 {
			delete(x.tokens, d.Hash)
		} else {
			x.tokens[d.Hash] = t
		}
	}
	return nil
}

func (m *spamMem) DeleteTokens(ctx context.Context, a gdprkit.AccountID, hashes []uint64) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	if err := a.Validate(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.accounts[a]
	if x == nil {
		return 0, nil
	}
	n := 0
	for _, h := range hashes {
		if _, ok := x.tokens[h]; ok {
			delete(x.tokens, h)
			n++
		}
	}
	return n, nil
}

func (m *spamMem) DeleteLessons(ctx context.Context, a gdprkit.AccountID, before int32) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	if err := a.Validate(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.accounts[a]
	if x == nil {
		return 0, nil
	}
	n := 0
	for k, l := range x.lessons {
		if l.Day < before {
			delete(x.lessons, k)
			n++
		}
	}
	return n, nil
}

func (m *spamMem) Reset(ctx context.Context, a gdprkit.AccountID) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.accounts, a)
	return nil
}
