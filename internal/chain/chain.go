// Package chain is the append-only, hash-chained log shared by the breach
// register and the staff access trail: every entry's hash is SHA-256 over
// a domain tag, the account, its position, the previous entry's hash and
// the entry's canonical fields, so editing, removing or reordering an
// entry breaks every hash after it.
package chain

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Head is the position and hash of the last entry of a chain; the zero
// Head is the empty chain.
type Head struct {
	// Seq is the last entry's position (0: no entry).
	Seq int64 `json:"seq"`
	// Hash is the last entry's hash ("" when there is none).
	Hash string `json:"hash"`
}

// Link is what Sum hashes of one entry besides its fields.
type Link struct {
	// Tag separates the chains of different packages and versions.
	Tag string
	// Account is the chain's account.
	Account gdprkit.AccountID
	// Seq is the entry's position.
	Seq int64
	// Prev is the previous entry's hash.
	Prev string
	// At is the entry's time (hashed in UTC, RFC 3339 with nanoseconds).
	At time.Time
}

// Sum returns the lower-case hex SHA-256 of the link and the fields, each
// part length-prefixed (4 bytes, big-endian) so ("a","bc") and ("ab","c")
// differ.
func Sum(l Link, fields ...string) string {
	b := make([]byte, 0, 256)
	put := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	put(l.Tag)
	put(string(l.Account))
	put(strconv.FormatInt(l.Seq, 10))
	put(l.At.UTC().Format(time.RFC3339Nano))
	for _, f := range fields {
		put(f)
	}
	put(l.Prev)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Equal compares two hashes in constant time.
func Equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Walker checks entries fed to it in chain order against each other.
type Walker struct {
	head Head
}

// Next checks that the entry at seq follows the previous one (its Prev is
// the previous hash) and that hash is what its content hashes to (want),
// then advances. The error names the first break; it does not wrap a
// sentinel, the caller wraps its own.
func (w *Walker) Next(seq int64, prev, hash, want string) error {
	if seq != w.head.Seq+1 {
		return fmt.Errorf("expected entry %d, found %d (an entry was removed or reordered)", w.head.Seq+1, seq)
	}
	if !Equal(prev, w.head.Hash) {
		return fmt.Errorf("entry %d does not link to entry %d", seq, w.head.Seq)
	}
	if !Equal(hash, want) {
		return fmt.Errorf("entry %d: content does not match its hash (edited)", seq)
	}
	w.head = Head{Seq: seq, Hash: hash}
	return nil
}

// Head returns the last entry checked.
func (w *Walker) Head() Head { return w.head }

// End checks that the walk ended at the stored head: an entry removed from
// the end of the chain (or a head moved back) is a break too.
func (w *Walker) End(stored Head) error {
	if stored.Seq != w.head.Seq || !Equal(stored.Hash, w.head.Hash) {
		return fmt.Errorf("the chain ends at entry %d but its head says %d (entries were removed from the end)", w.head.Seq, stored.Seq)
	}
	return nil
}
