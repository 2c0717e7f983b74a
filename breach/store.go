package breach

import (
	"context"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/chain"
)

// Head is the position and hash of the last entry of an account's history.
type Head = chain.Head

// Write is what one Store.Mutate step stores, all or nothing.
type Write struct {
	// Breach, when set, is stored: inserted when the breach was not found,
	// replacing the stored one otherwise. Its ID is the one Mutate was
	// called with.
	Breach *Breach
	// Subjects are added to the breach's affected subjects; a pseudonym
	// the breach already has is a conflict (gdprkit.ErrConflict).
	Subjects []gdprkit.Pseudonym
	// Notices are added to the outbox. A notice ID that exists, or a
	// ToSubject notice for a subject that has one for the same breach,
	// is a conflict (gdprkit.ErrConflict).
	Notices []Notice
	// Settle, when set, replaces the stored notice with its ID, but only
	// while that notice is NoticeSending under lease token Token;
	// otherwise Mutate fails with an error wrapping gdprkit.ErrLeaseLost.
	Settle *Notice
	// Token is the lease token Settle is guarded by.
	Token string
	// Entries are appended to the account's history, each sealed in order.
	Entries []Entry
}

// Store keeps breach registers: per account, the breaches, their affected
// subjects (as pseudonyms), the notification outbox and the hash-chained
// history. store/memstore and store/sqlstore implement it; store/storetest
// checks them.
//
// Every method but ClaimNotice takes the account it acts in and MUST NOT
// read or change another account's data. ClaimNotice is the one global
// query, for the workers of a deployment. Every method MUST first fail
// with gdprkit.ErrUnavailable when ctx has ended, MUST return
// gdprkit.ErrInvalid for an account ID that fails Validate, and MUST leave
// the store unchanged when it returns an error. Implementations MUST be
// safe for concurrent use by several goroutines and processes.
type Store interface {
	// Mutate runs one atomic step on the account, serialised with every
	// other Mutate of the account (a lock on its history head): it reads
	// breach id (found is false when there is none, or id is ""), calls fn
	// with it, and stores what fn returns. Each of the Write's entries is
	// passed to seal with the head as it stands (after the previous entry
	// of this step) and stored as sealed; the head then moves to the last.
	// If fn, seal or any write fails, nothing is stored and the error is
	// returned as it is. fn and seal may be called again if the store
	// retries the step. It returns the sealed entries.
	Mutate(ctx context.Context, account gdprkit.AccountID, id string, fn func(cur Breach, found bool) (Write, error), seal func(head Head, e *Entry) error) ([]Entry, error)

	// Breach returns one breach, or an error wrapping gdprkit.ErrNotFound.
	Breach(ctx context.Context, account gdprkit.AccountID, id string) (Breach, error)

	// Breaches returns the account's breaches, most recently become aware
	// of first (ties by ID).
	Breaches(ctx context.Context, account gdprkit.AccountID) ([]Breach, error)

	// Subjects returns up to limit pseudonyms of the breach's affected
	// subjects greater than after ("" starts at the first), in ascending
	// order of the store's byte comparison.
	Subjects(ctx context.Context, account gdprkit.AccountID, breach string, after gdprkit.Pseudonym, limit int) ([]gdprkit.Pseudonym, error)

	// Notices returns the breach's notices in ID order (the order they
	// were requested).
	Notices(ctx context.Context, account gdprkit.AccountID, breach string) ([]Notice, error)

	// ClaimNotice leases the notice due first across all accounts: a
	// NoticePending one whose NextAt is at or before now, or a
	// NoticeSending one whose LeaseUntil is at or before now (its worker
	// died). It sets State NoticeSending, LeaseOwner = owner, LeaseToken =
	// token and LeaseUntil = until, and returns it. Two concurrent claims
	// never return the same notice under a live lease. It returns an error
	// wrapping gdprkit.ErrNotFound when nothing is due.
	ClaimNotice(ctx context.Context, now time.Time, owner, token string, until time.Time) (Notice, error)

	// History returns up to limit entries with Seq > afterSeq, in order,
	// with every field as stored.
	History(ctx context.Context, account gdprkit.AccountID, afterSeq int64, limit int) ([]Entry, error)

	// Head returns the account's history head (zero when empty).
	Head(ctx context.Context, account gdprkit.AccountID) (Head, error)

	// DeleteAccount removes everything stored for the account and returns
	// how many breaches it removed. Deleting an empty account is not an
	// error.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID) (int, error)
}
