package spam

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// checkTable compares every observable of t with the reference map.
func checkTable(t *testing.T, tab *tokenTable, ref map[uint64]tok) {
	t.Helper()
	if tab.len() != len(ref) {
		t.Fatalf("len %d, want %d", tab.len(), len(ref))
	}
	for h, want := range ref {
		if got, ok := tab.get(h); !ok || got != want {
			t.Fatalf("get(%#x) = %v, %v; want %v", h, got, ok, want)
		}
		if nh, ns, ok := tab.counts(h); !ok || nh != want.ham || ns != want.spam {
			t.Fatalf("counts(%#x) = %d, %d, %v; want %v", h, nh, ns, ok, want)
		}
	}
	seen := 0
	tab.each(func(h uint64, v tok) bool {
		if ref[h] != v {
			t.Fatalf("each: %#x = %v, want %v", h, v, ref[h])
		}
		seen++
		return true
	})
	if seen != len(ref) {
		t.Fatalf("each visited %d, want %d", seen, len(ref))
	}
}

// runOps applies a byte-coded sequence of set/del operations to a table
// and to a map. Keys are drawn from a small space whose values share their
// high bits, so that runs collide, wrap around the end of the table and are
// broken up by deletions.
func runOps(t *testing.T, ops []byte) {
	tab := newTokenTable(0)
	ref := map[uint64]tok{}
	for len(ops) >= 3 {
		op, k, v := ops[0], uint64(ops[1]), int32(ops[2])
		ops = ops[3:]
		key := k % 48
		switch k % 4 {
		case 0:
			key <<= 40 // small keys: home slot 0
		case 1:
			key = ^key // near the top: runs wrap around
		}
		if op%3 == 0 {
			tab.del(key)
			delete(ref, key)
		} else {
			tab.set(key, tok{ham: v, spam: int32(op), day: int32(k)})
			ref[key] = tok{ham: v, spam: int32(op), day: int32(k)}
		}
		if _, _, ok := tab.counts(key); ok != (op%3 != 0) {
			t.Fatalf("counts(%#x) after op %d: present %v", key, op, ok)
		}
		if _, ok := tab.get(key); ok != (op%3 != 0) {
			t.Fatalf("get(%#x) after op %d: present %v", key, op, ok)
		}
	}
	checkTable(t, tab, ref)
}

func TestTokenTableMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		ops := make([]byte, 3*r.IntN(400))
		for i := range ops {
			ops[i] = byte(r.Uint32())
		}
		runOps(t, ops)
	}
}

func TestTokenTableLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tab := newTokenTable(1000)
	ref := map[uint64]tok{}
	var keys []uint64
	for i := range 50_000 {
		h := r.Uint64()
		keys = append(keys, h)
		tab.set(h, tok{ham: int32(i)})
		ref[h] = tok{ham: int32(i)}
	}
	for _, h := range keys[:40_000] { // prune most of it, as Prune does
		tab.del(h)
		delete(ref, h)
	}
	checkTable(t, tab, ref)
	if _, ok := tab.get(keys[0]); ok {
		t.Fatal("deleted key still found")
	}
}

// FuzzTokenTable checks the table against a map for any operation
// sequence.
func FuzzTokenTable(f *testing.F) {
	f.Add([]byte{1, 0, 1, 1, 4, 2, 0, 0, 0})
	f.Add(binary.LittleEndian.AppendUint64(nil, 0x0102030405060708))
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 3*2000 {
			return
		}
		runOps(t, ops)
	})
}

func TestHashSetDeduplicates(t *testing.T) {
	var s hashSet
	r := rand.New(rand.NewPCG(5, 6))
	// grow, then shrink, then grow again; then sizes about maxUsed, whose
	// slots reset clears one by one
	sizes := []int{10, 20_000, 5, 3000, 40, maxUsed / 2, maxUsed/2 + 1, 20, 100, 3, 150, 30}
	for round, n := range sizes {
		s.reset()
		for i, h := range s.slots {
			if h != 0 {
				t.Fatalf("round %d: slot %d holds %d after reset", round, i, h)
			}
		}
		seen := map[uint64]bool{}
		for range 3 * n {
			h := r.Uint64N(uint64(2 * n)) // many repeats, and hash 0
			if got := s.add(h); got == seen[h] {
				t.Fatalf("round %d: add(%d) = %v, seen before: %v", round, h, got, seen[h])
			}
			seen[h] = true
		}
	}
}
