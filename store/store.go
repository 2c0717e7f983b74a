// Package store declares the aggregate Store every storage adapter
// satisfies. Each domain package declares the small interface it needs in its
// own store.go; Store only gathers them behind accessors, so an adapter is one
// value and method names never collide.
//
// Adapters: store/memstore (in memory) and store/sqlstore (SQLite,
// PostgreSQL, MySQL/MariaDB). Both pass the conformance suite in
// store/storetest.
package store

import (
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/staffaccess"
)

// Store is one storage backend for every gdprkit package. Every method of
// every domain store takes a context and an account ID and never reads or
// changes another account's data.
type Store interface {
	// Consent returns the consent records store.
	Consent() consent.Store
	// Retention returns the account lifecycle and retention rules store.
	Retention() retention.Store
	// IPFilter returns the per-account IP allow/deny rules store.
	IPFilter() ipfilter.Store
	// Authn returns the credentials, TOTP, tokens and sessions store.
	Authn() authn.Store
	// Spam returns the spam filter's model store.
	Spam() spam.Store
	// Erasure returns the erasure requests, jobs, receipts, tombstones and holds store.
	Erasure() erasure.Store
	// Breach returns the breach register store: breaches, affected
	// subjects, the notification outbox and the hash-chained history.
	Breach() breach.Store
	// StaffAccess returns the vendor support access grants and their
	// hash-chained access trail.
	StaffAccess() staffaccess.Store
}
