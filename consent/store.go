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
	// (record.SubjectPS, record.Purpose) to the record (a State pointing to
	// its Seq) in the same step. If seal or any write fails, nothing is
	// stored. seal may be called again if the store retries the step. The
	// store keeps every field of the sealed record exactly (times to the
	// microsecond). Records are never modified afterwards, except by
	// PseudonymizeRecords and Rewrite.
	Append(ctx context.Context, account gdprkit.AccountID, drafts []Record, seal func(head ChainHead, r *Record) error) ([]Record, error)

	// Lookup returns, in one indexed read, the purpose and the subject's
	// latest record for it, as the current state points to it (Found is
	// false when there is no state). It returns an error wrapping
	// gdprkit.ErrNotFound when the purpose does not exist.
	Lookup(ctx context.Context, account gdprkit.AccountID, subject gdprkit.Pseudonym, purpose string) (Lookup, error)

	// States returns up to limit current-state entries ordered by
	// (SubjectPS, Purpose), starting after the entry with key after (the
	// zero StateKey starts at the first). The order only has to agree with
	// the store's own comparison of keys.
	States(ctx context.Context, account gdprkit.AccountID, after StateKey, limit int) ([]State, error)

	// SubjectRecords returns every record of one subject, in chain order.
	SubjectRecords(ctx context.Context, account gdprkit.AccountID, subject gdprkit.Pseudonym) ([]Record, error)

	// RecordsByID returns the records of subject whose IDs are listed, in
	// chain order; IDs that are not the subject's are left out.
	RecordsByID(ctx context.Context, account gdprkit.AccountID, subject gdprkit.Pseudonym, ids []string) ([]Record, error)

	// LiveRecordIDs returns up to limit IDs of subject's records that are
	// not pseudonymised, in ascending order of ID, each greater than
	// afterID ("" starts at the first). The order MUST be stable and agree
	// with the store's comparison of IDs, so a caller can walk every record
	// page by page while records are pseudonymised behind it.
	LiveRecordIDs(ctx context.Context, account gdprkit.AccountID, subject gdprkit.Pseudonym, afterID string, limit int) ([]string, error)

	// Records returns up to limit records with Seq > afterSeq, in chain order.
	Records(ctx context.Context, account gdprkit.AccountID, afterSeq int64, limit int) ([]Record, error)

	// Head returns the chain head; the zero ChainHead when the account has
	// no record.
	Head(ctx context.Context, account gdprkit.AccountID) (ChainHead, error)

	// PseudonymizeRecords replaces, in one atomic statement or transaction,
	// each listed record of subject that is not yet pseudonymised by
	// StripIdentifiers of it: the identifying values and their salts go,
	// Pseudonymized becomes true, and everything else — commitments,
	// hashes, state — MUST stay as it was. IDs that are not the subject's,
	// or already pseudonymised, are skipped. It returns how many records
	// changed.
	PseudonymizeRecords(ctx context.Context, account gdprkit.AccountID, subject gdprkit.Pseudonym, ids []string) (int, error)

	// Rewrite re-seals the chain from record fromSeq to the head in one
	// atomic step, serialised with Append. For each record in chain order
	// it calls rewrite with the chain head as rewritten so far (the record
	// before fromSeq, then each rewritten record) and the stored record;
	// rewrite changes the record in place, keeping its Seq, ID, SubjectPS,
	// Purpose, Action, PolicyVersion and At. The store replaces every other
	// stored field with the result and finally sets the chain head to the
	// last record. If rewrite or any write fails, nothing changes. It
	// returns how many records it rewrote (0 when fromSeq is beyond the
	// head). rewrite may be called again from fromSeq if the store retries.
	Rewrite(ctx context.Context, account gdprkit.AccountID, fromSeq int64, rewrite func(head ChainHead, r *Record) error) (int, error)

	// DeleteAccount removes everything stored for the account — purposes,
	// policies, records, chain head and state — and returns how many
	// records it removed. It is for an account whose live data must go
	// (package retention); deleting an empty account is not an error.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID) (int, error)
}

// ChainHead is the position and hash of the last record in an account's chain.
type ChainHead struct {
	// Seq is the last record's position (0: no record).
	Seq int64 `json:"seq"`
	// Hash is the last record's hash ("" when there is none).
	Hash string `json:"hash"`
}

// Lookup is what Store.Lookup returns.
type Lookup struct {
	// Purpose is the purpose asked about.
	Purpose Purpose
	// Found reports whether the current state has an entry for the subject
	// and purpose.
	Found bool
	// Seq is the record the state entry points to.
	Seq int64
	// Record is that record as stored; its zero value when the entry points
	// to no record (which Check reports as a broken chain). A store MAY
	// leave out the fields the record's hash does not cover — Subject,
	// Evidence.IP, Evidence.UserAgent, Salts, Salt, Pseudonymized — and,
	// under chain version 2, RecordedBy and Evidence.Wording; every other
	// field MUST be as stored.
	Record Record
}

// StateKey is the key of a current-state entry.
type StateKey struct {
	// SubjectPS is the subject's pseudonym.
	SubjectPS gdprkit.Pseudonym
	// Purpose is the purpose key.
	Purpose string
}

// State is one current-state entry: which record is the latest of a
// subject for a purpose, with the fields of that record the store keeps
// beside the pointer. Verify checks every entry against the chain.
type State struct {
	StateKey
	// Seq is the latest record's position in the chain.
	Seq int64
	// Action, PolicyVersion and At are copies of that record's fields.
	Action        Action
	PolicyVersion int
	At            time.Time
}
