package spam

import (
	"context"
	"fmt"

	"github.com/gdprkit/gdprkit"
)

// Store is the storage the filter needs: per account, the message counts,
// the token counts and the lessons (which message was trained as what).
// Implementations live in store/memstore and store/sqlstore and pass the
// conformance suite in store/storetest.
//
// Every method takes the account it acts on; an implementation MUST NOT
// read or change another account's data. Token hashes and lesson keys are
// opaque 64-bit values (keyed hashes); an implementation MUST store all 64
// bits (as a signed 64-bit integer is fine) and MUST NOT assume anything
// about their distribution.
type Store interface {
	// LoadModel returns the account's message counts and every token
	// count, in no particular order. An account that was never trained has
	// an empty model; that is not an error.
	LoadModel(ctx context.Context, account gdprkit.AccountID) (Snapshot, error)

	// Lessons returns the lessons recorded for the given message keys, in
	// no particular order; keys without a lesson are absent from the
	// result.
	Lessons(ctx context.Context, account gdprkit.AccountID, keys []uint64) ([]Lesson, error)

	// Learn applies a batch atomically: all of it or none of it.
	//
	// It MUST first check every LessonChange: the key's current lesson
	// class MUST equal Prev (None meaning no lesson); if any differs it
	// MUST return an error wrapping gdprkit.ErrConflict and change nothing.
	// It then records Next (None deletes the lesson), adds the message
	// count deltas, and adds each token's deltas. Counts MUST NOT go below
	// zero (a negative result is stored as zero); a token whose ham and
	// spam counts are both zero after the batch MUST be removed; a token's
	// Day becomes the larger of its stored and given Day. Each hash appears
	// at most once in Tokens and each key at most once in Lessons.
	//
	// An implementation MUST apply a batch in a bounded number of round
	// trips (one transaction, multi-row statements), never one per token.
	Learn(ctx context.Context, account gdprkit.AccountID, b Batch) error

	// DeleteTokens removes the given tokens from the account's model and
	// returns how many existed. Unknown hashes are ignored.
	DeleteTokens(ctx context.Context, account gdprkit.AccountID, hashes []uint64) (int, error)

	// DeleteLessons removes the account's lessons recorded before day and
	// returns how many were removed.
	DeleteLessons(ctx context.Context, account gdprkit.AccountID, before int32) (int, error)

	// Reset removes everything stored for the account: counts, tokens and
	// lessons. Resetting an empty account is not an error.
	Reset(ctx context.Context, account gdprkit.AccountID) error
}

// Snapshot is an account's whole model as stored.
type Snapshot struct {
	// Ham and Spam count the messages trained as each class.
	Ham, Spam int64
	// Tokens holds one entry per token with a non-zero count.
	Tokens []TokenCount
}

// TokenCount is one token of a model. In a Batch the counts are deltas.
type TokenCount struct {
	// Hash is the keyed hash of the token's text.
	Hash uint64
	// Ham and Spam count the trained messages of each class that held the
	// token (in a Batch: the change to those counts).
	Ham, Spam int64
	// Day is the day (days since 1970-01-01 UTC) the token was last
	// trained on; pruning reads it.
	Day int32
}

// Lesson records that one message was trained as one class, so that a later
// correction moves the message instead of counting it twice.
type Lesson struct {
	// Key is the keyed hash of the host's message ID.
	Key uint64
	// Class is what the message was trained as (Ham or Spam).
	Class Class
	// Day is when the lesson was recorded (days since 1970-01-01 UTC).
	Day int32
}

// LessonChange is a compare-and-set of one lesson inside a Batch.
type LessonChange struct {
	// Key is the lesson's message key.
	Key uint64
	// Prev is the class the lesson must have now; None: no lesson.
	Prev Class
	// Next is the class to record; None deletes the lesson.
	Next Class
	// Day is the day recorded with Next.
	Day int32
}

// Batch is one atomic training step for one account.
type Batch struct {
	// Ham and Spam are deltas to the message counts.
	Ham, Spam int64
	// Tokens are deltas to token counts, each hash at most once.
	Tokens []TokenCount
	// Lessons are the lesson changes the batch is conditional on.
	Lessons []LessonChange
}

// Validate reports whether the batch is well formed: every lesson key and
// every token hash appears once and every class is None, Ham or Spam. Store
// implementations call it and reject a malformed batch with
// gdprkit.ErrInvalid before changing anything.
func (b Batch) Validate() error {
	keys := make(map[uint64]bool, len(b.Lessons))
	for _, l := range b.Lessons {
		if keys[l.Key] || l.Prev < None || l.Prev > Spam || l.Next < None || l.Next > Spam {
			return fmt.Errorf("%w: spam batch: duplicate lesson key or bad class", gdprkit.ErrInvalid)
		}
		keys[l.Key] = true
	}
	hashes := make(map[uint64]bool, len(b.Tokens))
	for _, t := range b.Tokens {
		if hashes[t.Hash] {
			return fmt.Errorf("%w: spam batch: duplicate token hash", gdprkit.ErrInvalid)
		}
		hashes[t.Hash] = true
	}
	return nil
}
