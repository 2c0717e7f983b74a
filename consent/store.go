package consent

import (
	"context"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Store is the storage the consent package needs. store/memstore and
// store/sqlstore implement it; store/storetest checks every implementation
// against this contract.
//
// Every method takes the account it acts in and MUST NOT read or change the
// data of any other account. Methods return errors wrapping gdprkit.ErrNotFound
// and gdprkit.ErrConflict as documented; a method that returns an error MUST
// leave the store unchanged.
type Store interface {
	// CreatePurpose stores a new purpose with CurrentVersion and
	// MaterialVersion 0. It MUST return an error wrapping gdprkit.ErrConflict
	// if the account already has a purpose with that key.
	CreatePurpose(ctx context.Context, account gdprkit.AccountID, p Purpose) error

	// Purpose returns one purpose, or an error wrapping gdprkit.ErrNotFound.
	Purpose(ctx context.Context, account gdprkit.AccountID, key string) (Purpose, error)

	// Purposes returns the account's purposes ordered by key.
	Purposes(ctx context.Context, account gdprkit.AccountID) ([]Purpose, error)

	// PublishPolicy stores p as the next version of its purpose: it MUST set
	// p.Version to the purpose's CurrentVersion+1 atomically (two concurrent
	// publishers get two different versions), set the purpose's
	// CurrentVersion to it, and, when p.Material, its MaterialVersion too. It
	// returns the stored policy, or an error wrapping gdprkit.ErrNotFound when
	// the purpose does not exist.
	PublishPolicy(ctx context.Context, account gdprkit.AccountID, p Policy) (Policy, error)

	// Policy returns one version of a purpose's policy, or an error wrapping
	// gdprkit.ErrNotFound.
	Policy(ctx context.Context, account gdprkit.AccountID, purpose string, version int) (Policy, error)

	// Append adds records to the end of the account's chain in one atomic
	// step. For each draft in order it MUST call seal with the chain head as
	// it stands (the head after the previous draft of this call), store the
	// sealed record, and advance the head to (record.Seq, record.Hash). It
	// MUST serialise concurrent Appends of one account so that seal always
	// sees the true head, and it MUST update the current state of
	// (record.SubjectPS, record.Purpose) to the record in the same step. If
	// seal or any write fails, nothing is stored. seal may be called again
	// if the store retries the step. Records are never modified afterwards,
	// except by Pseudonymize.
	Append(ctx context.Context, account gdprkit.AccountID, drafts []Record, seal func(head ChainHead, r *Record) error) ([]Record, error)

	// Lookup returns, in one indexed read, the purpose and the subject's
	// latest record for it (Found is false when there is none). It returns
	// an error wrapping gdprkit.ErrNotFound when the purpose does not exist.
	Lookup(ctx context.Context, account gdprkit.AccountID, subject gdprkit.Pseudonym, purpose string) (Lookup, error)

	// SubjectRecords returns every record of one subject, in chain order.
	SubjectRecords(ctx context.Context, account gdprkit.AccountID, subject gdprkit.Pseudonym) ([]Record, error)

	// Records returns up to limit records with Seq > afterSeq, in chain order.
	Records(ctx context.Context, account gdprkit.AccountID, afterSeq int64, limit int) ([]Record, error)

	// Head returns the chain head; the zero ChainHead when the account has
	// no record.
	Head(ctx context.Context, account gdprkit.AccountID) (ChainHead, error)

	// Pseudonymize removes the direct identifiers from every record of the
	// subject: Subject, IP, UserAgent and Salt become empty and
	// Pseudonymized true. Everything else, including the commitments and
	// hashes, MUST stay as it was. It returns how many records changed
	// (0 when they were already pseudonymised or none exist).
	Pseudonymize(ctx context.Context, account gdprkit.AccountID, subject gdprkit.Pseudonym) (int, error)

	// DeleteAccount removes everything stored for the account — purposes,
	// policies, records, chain head and state — and returns how many
	// records it removed. It is for an account whose live data must go
	// (package retention); deleting an empty account is not an error.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID) (int, error)
}

// ChainHead is the position and hash of the last record in an account's chain.
type ChainHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Lookup is what Store.Lookup returns.
type Lookup struct {
	Purpose Purpose
	// Found reports whether the subject has any record for the purpose.
	Found bool
	// Action, PolicyVersion and At describe the subject's latest record.
	Action        Action
	PolicyVersion int
	At            time.Time
}
