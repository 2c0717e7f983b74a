// Package memstore is the in-memory adapter of gdprkit: a store.Store for
// tests, demos and single-process hosts that do not need durability. It is
// safe for concurrent use and passes the same conformance suite
// (store/storetest) as the SQL adapter.
//
// Each domain's data lives in its own structure behind its own mutex, created
// on first use; values are copied in and out, so callers never share memory
// with the store. Nothing survives the process.
package memstore

import (
	"sync"
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
