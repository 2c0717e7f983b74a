package spam

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// refSum64 is SipHash-2-4 written plainly, byte by byte, after the paper
// (Aumasson and Bernstein, 2012): the reference sum64 must match.
func refSum64(k sipKey, p []byte) uint64 {
	v := [4]uint64{k.k0 ^ 0x736f6d6570736575, k.k1 ^ 0x646f72616e646f6d, k.k0 ^ 0x6c7967656e657261, k.k1 ^ 0x7465646279746573}
	round := func() {
		v[0] += v[1]
		v[1] = bits.RotateLeft64(v[1], 13) ^ v[0]
		v[0] = bits.RotateLeft64(v[0], 32)
		v[2] += v[3]
		v[3] = bits.RotateLeft64(v[3], 16) ^ v[2]
		v[0] += v[3]
		v[3] = bits.RotateLeft64(v[3], 21) ^ v[0]
		v[2] += v[1]
		v[1] = bits.RotateLeft64(v[1], 17) ^ v[2]
		v[2] = bits.RotateLeft64(v[2], 32)
	}
	compress := func(m uint64) {
		v[3] ^= m
		round()
		round()
		v[0] ^= m
	}
	le := func(b []byte) (m uint64) {
		for j := 7; j >= 0; j-- {
			m = m<<8 | uint64(b[j])
		}
		return m
	}
	n := len(p)
	for i := 0; i+8 <= n; i += 8 {
		compress(le(p[i : i+8]))
	}
	var last [8]byte
	copy(last[:], p[n&^7:])
	last[7] = byte(n)
	compress(le(last[:]))
	v[2] ^= 0xff
	for range 4 {
		round()
	}
	return v[0] ^ v[1] ^ v[2] ^ v[3]
}

// The paper's test vectors (key 00 01 … 0f, messages 00 01 … of length
// 0 to 8 and 15, 16) and, against refSum64, every length to 80 under
// random keys.
func TestSipHashVectors(t *testing.T) {
	var kb [16]byte
	for i := range kb {
		kb[i] = byte(i)
	}
	k := newSipKey(kb)
	msg := make([]byte, 64)
	for i := range msg {
		msg[i] = byte(i)
	}
	want := map[int]uint64{
		0: 0x726fdb47dd0e0e31, 1: 0x74f839c593dc67fd, 2: 0x0d6c8009d9a94f5a, 3: 0x85676696d7fb7e2d,
		4: 0xcf2794e0277187b7, 5: 0x18765564cd99a68d, 6: 0xcbc9466e58fee3ce, 7: 0xab0200f58b01d137,
		8: 0x93f5f5799a932462, 15: 0xa129ca6149be45e5, 16: 0x3f2acc7f57c29bdb,
	}
	for n, w := range want {
		if got := k.sum64(msg[:n]); got != w {
			t.Errorf("len %d: %#x, want %#x", n, got, w)
		}
		if got := refSum64(k, msg[:n]); got != w {
			t.Errorf("reference, len %d: %#x, want %#x", n, got, w)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 80)
	for range 200 {
		k := sipKey{r.Uint64(), r.Uint64()}
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		for n := 0; n <= len(buf); n++ {
			w := refSum64(k, buf[:n])
			// Capacity past the last block (one load) and none (bytes).
			if got := k.sum64(buf[:n]); got != w {
				t.Fatalf("len %d: %#x, want %#x", n, got, w)
			}
			if got := k.sum64(buf[:n:n]); got != w {
				t.Fatalf("len %d, no spare capacity: %#x, want %#x", n, got, w)
			}
		}
	}
}

func BenchmarkSipHash(b *testing.B) {
	k := sipKey{1, 2}
	for _, n := range []int{5, 13, 24} {
		p := make([]byte, n, 64)
		b.Run(fmt.Sprint(n, "B"), func(b *testing.B) {
			b.ReportAllocs()
			var x uint64
			for b.Loop() {
				x += k.sum64(p)
			}
			_ = x
		})
	}
}
