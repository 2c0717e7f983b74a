package spam

import (
	"context"
	"math"
	"sync"

	"github.com/gdprkit/gdprkit"
)

// model is one account's message and token counts in memory, the form the
// Filter classifies from: the Filter's cache of a store's model, or, for a
// MemoryStore, the store's own.
type model struct {
	mu        sync.RWMutex // guards the fields below
	ham, spam int64
	tokens    *tokenTable
}

// tok is a token's counts in a model.
type tok struct {
	ham, spam int32
	day       int32
}

// newModel returns an empty model whose table is sized for at most
// maxTokens tokens (see tokenTable.limit).
func newModel(maxTokens int) *model {
	return &model{tokens: &tokenTable{limit: tableSize(maxTokens)}}
}

// limitTable sizes m's table for at most maxTokens tokens; when several
// Filters share a resident model, the largest cap wins.
func (m *model) limitTable(maxTokens int) {
	m.mu.Lock()
	m.tokens.limit = max(m.tokens.limit, tableSize(maxTokens))
	m.mu.Unlock()
}

// apply adds a batch's counts, with the Store rules: counts never go
// below zero (nor above the int32 range, where they saturate), a token
// whose counts are both zero is removed and a token's day is the latest.
// Caller holds m.mu for writing.
func (m *model) apply(b Batch) {
	m.ham = max(0, m.ham+b.Ham)
	m.spam = max(0, m.spam+b.Spam)
	for _, d := range b.Tokens {
		t, _ := m.tokens.get(d.Hash)
		t.ham = clamp32(int64(t.ham) + d.Ham)
		t.spam = clamp32(int64(t.spam) + d.Spam)
		t.day = max(t.day, d.Day)
		if t.ham == 0 && t.spam == 0 {
			m.tokens.del(d.Hash)
		} else {
			m.tokens.set(d.Hash, t)
		}
	}
}

func clamp32(v int64) int32 {
	switch {
	case v < 0:
		return 0
	case v > math.MaxInt32:
		return math.MaxInt32
	}
	return int32(v)
}

// resident is implemented by stores that keep their models in this
// process's memory in the Filter's own form (MemoryStore): the Filter
// then classifies from the store's model instead of loading a copy, so
// each model is held once. The store applies every batch to that model
// itself, under model.mu.
type resident interface {
	residentModel(ctx context.Context, a gdprkit.AccountID) (*model, error)
}
