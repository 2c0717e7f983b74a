package gdprkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
)

// MinKeyLen is the shortest key NewPseudonymizer accepts, in bytes.
const MinKeyLen = 32

// Pseudonym is a keyed, stable, one-way stand-in for an identifier: the
// lower-case hex of an HMAC-SHA-256, prefixed "ps_". Equal inputs under the
// same key and account give equal pseudonyms; without the key nobody can
// test a guess against one.
type Pseudonym string

// Pseudonymizer derives pseudonyms with one secret key. It stores nothing.
// Pseudonyms are scoped by account and by kind ("subject", "email", …), so the
// same e-mail address in two accounts, or as two kinds, gives unrelated values.
// It is safe for concurrent use.
type Pseudonymizer struct {
	pool sync.Pool // of hash.Hash keyed with the secret
}

// NewPseudonymizer returns a Pseudonymizer keyed with key, which must hold at
// least MinKeyLen bytes of secret randomness. The key is copied.
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("%w: pseudonymizer key shorter than %d bytes", ErrInvalid, MinKeyLen)
	}
	k := append([]byte(nil), key...)
	p := &Pseudonymizer{}
	p.pool.New = func() any { return hmac.New(sha256.New, k) }
	return p, nil
}

// Pseudonym returns the pseudonym of id, of the given kind, in account.
func (p *Pseudonymizer) Pseudonym(account AccountID, kind, id string) Pseudonym {
	h := p.pool.Get().(hash.Hash)
	h.Reset()
	// Length-prefix every part so ("a","bc") and ("ab","c") differ.
	for _, part := range [...]string{string(account), kind, id} {
		var n [4]byte
		l := len(part)
		n[0], n[1], n[2], n[3] = byte(l>>24), byte(l>>16), byte(l>>8), byte(l)
		h.Write(n[:])
		h.Write([]byte(part))
	}
	var sum [sha256.Size]byte
	out := h.Sum(sum[:0])
	p.pool.Put(h)
	return Pseudonym("ps_" + hex.EncodeToString(out))
}

// Subject is shorthand for Pseudonym(account, "subject", string(s)).
func (p *Pseudonymizer) Subject(account AccountID, s SubjectID) Pseudonym {
	return p.Pseudonym(account, "subject", string(s))
}
