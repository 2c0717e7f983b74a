// Package memstore is the in-memory adapter of gdprkit: a store.Store for
// tests, demos and single-process hosts that do not need durability. It is
// safe for concurrent use and passes the same conformance suite
// (store/storetest) as the SQL adapter.
//
// Each domain's data lives in its own structure behind its own mutex, created
// on first use; values are copied in and out, so callers never share memory
// with the store. Nothing survives the process.
//
// Like the SQL adapter, every method first checks its context: once it has
// ended (cancelled or past its deadline) the method changes nothing and
// returns an error wrapping gdprkit.ErrUnavailable and the context's error.
package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/gdprkit/gdprkit"
)

// Store is the in-memory adapter. The zero value is not usable; call New.
type Store struct {
	domains sync.Map // domain name -> *domain store
}

// New returns an empty in-memory store.
func New() *Store { return &Store{} }

// domain returns the store's single instance of a domain's sub-store,
// creating it with mk on first use.
func domain[T any](s *Store, name string, mk func() *T) *T {
	if v, ok := s.domains.Load(name); ok {
		return v.(*T)
	}
	v, _ := s.domains.LoadOrStore(name, mk())
	return v.(*T)
}

// live returns nil while ctx lasts, and an error wrapping
// gdprkit.ErrUnavailable and ctx.Err() once it has ended.
func live(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %w: %w", gdprkit.ErrUnavailable, err)
	}
	return nil
}
