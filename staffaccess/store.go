package staffaccess

import (
	"context"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/chain"
)

// Head is the position and hash of the last entry of an account's trail.
type Head = chain.Head

// Write is what one Store.Mutate step stores, all or nothing.
type Write struct {
	// Grant, when set, is stored: inserted when it was not found,
	// replacing the stored one otherwise. Its ID is the one Mutate was
	// called with.
	Grant *Grant
	// Entries are appended to the account's trail, each sealed in order.
	Entries []Entry
}

// Store keeps, per account, the support access grants and the hash-chained
// trail of every decision and access. store/memstore and store/sqlstore
// implement it; store/storetest checks them.
//
// Every method takes the account it acts in and MUST NOT read or change
// another account's data. Every method MUST first fail with
// gdprkit.ErrUnavailable when ctx has ended, MUST return gdprkit.ErrInvalid
// for an account ID that fails Validate, and MUST leave the store unchanged
// when it returns an error. Implementations MUST be safe for concurrent use
// by several goroutines and processes.
type Store interface {
	// Mutate runs one atomic step on the account, serialised with every
	// other Mutate of the account (a lock on its trail head): it reads grant
	// id as it stands once the lock is held — never an older copy, so a
	// step that follows a committed revocation sees it — calls fn with it
	// (found is false when there is none), and stores what fn returns,
	// sealing each entry in order with the head as it stands. If fn, seal
	// or any write fails, nothing is stored and the error is returned as
	// it is. fn and seal may be called again if the store retries. It
	// returns the sealed entries.
	Mutate(ctx context.Context, account gdprkit.AccountID, id string, fn func(cur Grant, found bool) (Write, error), seal func(head Head, e *Entry) error) ([]Entry, error)

	// Grant returns one grant, or an error wrapping gdprkit.ErrNotFound.
	Grant(ctx context.Context, account gdprkit.AccountID, id string) (Grant, error)

	// Grants returns the account's grants (only staff's when staff is not
	// ""), newest request first (ties by ID, descending).
	Grants(ctx context.Context, account gdprkit.AccountID, staff gdprkit.ActorID) ([]Grant, error)

	// Trail returns up to limit entries with Seq > afterSeq, in order, with
	// every field as stored.
	Trail(ctx context.Context, account gdprkit.AccountID, afterSeq int64, limit int) ([]Entry, error)

	// Head returns the account's trail head (zero when empty).
	Head(ctx context.Context, account gdprkit.AccountID) (Head, error)

	// DeleteAccount removes the account's grants and trail and returns how
	// many grants it removed. Deleting an empty account is not an error.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID) (int, error)
}
