package authn

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gdprkit/gdprkit"
)

// KeyRing holds the keys that encrypt TOTP secrets (and seal login
// challenges) at rest, with XChaCha20-Poly1305 from golang.org/x/crypto.
// Every sealed record names the key that sealed it, so keys rotate without
// downtime: add a new key and make it primary; records sealed under older
// keys still open, new records use the primary, and Service.RewrapTOTP
// re-seals old records in the background, after which the old key can be
// dropped. A KeyRing is immutable and safe for concurrent use.
type KeyRing struct {
	primary string
	aeads   map[string]cipher.AEAD
	// macKey, derived from the primary key, keys the hashes under which
	// unknown usernames are throttled. A new primary key changes it, which
	// only restarts those counters.
	macKey []byte
}

// NewKeyRing returns a ring whose keys are the 32-byte values of keys, named
// by their map key (1 to 32 printable ASCII characters, for example
// "2026-01"), and which seals new records with keys[primary]. Keys are
// copied.
func NewKeyRing(primary string, keys map[string][]byte) (*KeyRing, error) {
	if _, ok := keys[primary]; !ok {
		return nil, fmt.Errorf("%w: key ring has no primary key %q", gdprkit.ErrInvalid, primary)
	}
	r := &KeyRing{primary: primary, aeads: make(map[string]cipher.AEAD, len(keys))}
	for id, k := range keys {
		if len(id) == 0 || len(id) > 32 {
			return nil, fmt.Errorf("%w: key ID must have 1 to 32 characters", gdprkit.ErrInvalid)
		}
		for i := 0; i < len(id); i++ {
			if id[i] <= ' ' || id[i] > '~' || id[i] == '.' {
				return nil, fmt.Errorf("%w: key ID %q must be printable ASCII without spaces or dots", gdprkit.ErrInvalid, id)
			}
		}
		if len(k) != chacha20poly1305.KeySize {
			return nil, fmt.Errorf("%w: key %q must be %d bytes", gdprkit.ErrInvalid, id, chacha20poly1305.KeySize)
		}
		a, err := chacha20poly1305.NewX(append([]byte(nil), k...))
		if err != nil {
			return nil, fmt.Errorf("authn: key %q: %w", id, err)
		}
		r.aeads[id] = a
		if id == primary {
			m := hmac.New(sha256.New, k)
			m.Write([]byte("gdprkit/authn/mac"))
			r.macKey = m.Sum(nil)
		}
	}
	return r, nil
}

// mac returns the HMAC-SHA-256 of the length-prefixed parts under the
// ring's MAC key.
func (r *KeyRing) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, r.macKey)
	for _, p := range parts {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// NewKey returns a fresh random 32-byte key from crypto/rand.
func NewKey() []byte {
	k := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("authn: crypto/rand failed: " + err.Error())
	}
	return k
}

// Primary returns the ID of the key new records are sealed with.
func (r *KeyRing) Primary() string { return r.primary }

// IDs returns the IDs of all keys in the ring, sorted.
func (r *KeyRing) IDs() []string {
	ids := make([]string, 0, len(r.aeads))
	for id := range r.aeads {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// seal encrypts plaintext bound to aad with the primary key and returns the
// key ID and nonce||ciphertext.
func (r *KeyRing) seal(plaintext, aad []byte) (string, []byte) {
	a := r.aeads[r.primary]
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("authn: crypto/rand failed: " + err.Error())
	}
	return r.primary, a.Seal(nonce, nonce, plaintext, aad)
}

// open decrypts a record sealed by seal. An unknown key ID or a record that
// fails authentication (tampered, or bound to other aad) is an error.
func (r *KeyRing) open(keyID string, sealed, aad []byte) ([]byte, error) {
	a, ok := r.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("authn: sealed record names key %q, which is not in the key ring", keyID)
	}
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, fmt.Errorf("authn: sealed record too short")
	}
	pt, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("authn: sealed record does not authenticate under key %q", keyID)
	}
	return pt, nil
}
