package memstore

import (
	"github.com/gdprkit/gdprkit/spam"
)

// Spam returns the spam filter's store: a spam.MemoryStore, whose models a
// spam.Filter classifies from directly, so each model is held in memory
// once.
func (s *Store) Spam() spam.Store { return domain(s, "spam", spam.NewMemoryStore) }
