package spam

import (
	"encoding/binary"
	"math/bits"
)

// sipKey is a SipHash-2-4 key. Token hashes are SipHash-2-4 of the token's
// bytes under this key: a keyed pseudo-random function, so a stolen model
// cannot be tested against a dictionary of words or addresses without the key.
type sipKey struct{ k0, k1 uint64 }

func newSipKey(b [16]byte) sipKey {
	return sipKey{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
}

// sipRound is one SipRound.
func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13)
	v1 ^= v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16)
	v3 ^= v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21)
	v3 ^= v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17)
	v1 ^= v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}

// sum64 returns SipHash-2-4(k, p) (Aumasson and Bernstein, 2012). Tokens
// are short, so the last, partial block matters as much as the rest: when
// p's capacity reaches past the block (the sink's buffer), it is read in
// one load and masked, not byte by byte; the bytes past len(p) never
// enter the hash.
func (k sipKey) sum64(p []byte) uint64 {
	v0 := k.k0 ^ 0x736f6d6570736575
	v1 := k.k1 ^ 0x646f72616e646f6d
	v2 := k.k0 ^ 0x6c7967656e657261
	v3 := k.k1 ^ 0x7465646279746573
	n := len(p)
	for len(p) >= 8 {
		m := binary.LittleEndian.Uint64(p)
		v3 ^= m
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0 ^= m
		p = p[8:]
	}
	var m uint64
	if cap(p) >= 8 {
		m = binary.LittleEndian.Uint64(p[:8]) & (1<<(8*uint(len(p))) - 1)
	} else {
		for i := len(p) - 1; i >= 0; i-- {
			m |= uint64(p[i]) << (8 * uint(i))
		}
	}
	m |= uint64(n) << 56
	v3 ^= m
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= m
	v2 ^= 0xff
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	return v0 ^ v1 ^ v2 ^ v3
}
