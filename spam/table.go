package spam

// tokenTable is an account model's token counts by token hash: open
// addressing with linear probing, keyed directly by the SipHash value (which
// is already uniform, so it needs no second hash), each slot holding the key
// and its counts side by side. Classifying a message looks up every one of
// its tokens, and in a model of hundreds of thousands of tokens most lookups
// miss the CPU cache; one slot per probe keeps that to about one cache miss,
// where a general-purpose map spends more. Deletion shifts the following
// entries back, so there are no tombstones and lookups stay short however
// much the model is pruned. It is not safe for concurrent use: the account's
// mutex guards it.
type tokenTable struct {
	slots []tokSlot // len is 0 or a power of two; key 0 marks an empty slot
	n     int       // entries in slots
	zero  tok       // the entry of hash 0, which cannot live in slots
	hasZ  bool
}

type tokSlot struct {
	key uint64
	t   tok
}

// newTokenTable returns a table sized for n entries.
func newTokenTable(n int) *tokenTable {
	t := &tokenTable{}
	if n > 0 {
		t.slots = make([]tokSlot, tableSize(n))
	}
	return t
}

// tableSize is the power of two that holds n entries at most 3/4 full.
func tableSize(n int) int {
	size := 16
	for size*3/4 < n {
		size *= 2
	}
	return size
}

// len returns the number of entries.
func (t *tokenTable) len() int {
	if t.hasZ {
		return t.n + 1
	}
	return t.n
}

// get returns the counts of h.
func (t *tokenTable) get(h uint64) (tok, bool) {
	if h == 0 {
		return t.zero, t.hasZ
	}
	if len(t.slots) == 0 {
		return tok{}, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == h {
			return s.t, true
		}
		if s.key == 0 {
			return tok{}, false
		}
	}
}

// touch reads the home slot of every hash in hs and returns a value made
// of them (so the reads are not optimised away). In a large model most of
// a message's lookups miss the cache; this loop has no dependency between
// iterations, so the CPU keeps many of those misses in flight at once, and
// the lookups that follow find their slots in cache.
func (t *tokenTable) touch(hs []uint64) uint64 {
	if len(t.slots) == 0 {
		return 0
	}
	mask := uint64(len(t.slots) - 1)
	var x uint64
	for _, h := range hs {
		x ^= t.slots[h&mask].key
	}
	return x
}

// set stores v as the counts of h.
func (t *tokenTable) set(h uint64, v tok) {
	if h == 0 {
		t.zero, t.hasZ = v, true
		return
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == h {
			s.t = v
			return
		}
		if s.key == 0 {
			s.key, s.t = h, v
			t.n++
			return
		}
	}
}

// del removes h, if present.
func (t *tokenTable) del(h uint64) {
	if h == 0 {
		t.zero, t.hasZ = tok{}, false
		return
	}
	if len(t.slots) == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for ; t.slots[i].key != h; i = (i + 1) & mask {
		if t.slots[i].key == 0 {
			return
		}
	}
	// Backward-shift deletion: move each following entry of the run into
	// the hole when the hole lies between its home slot and where it is
	// (cyclically), so that every entry stays reachable from its home.
	for j := (i + 1) & mask; t.slots[j].key != 0; j = (j + 1) & mask {
		home := t.slots[j].key & mask
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = tokSlot{}
	t.n--
}

// each calls fn for every entry, in no particular order, until fn returns
// false. fn must not change the table.
func (t *tokenTable) each(fn func(h uint64, v tok) bool) {
	if t.hasZ && !fn(0, t.zero) {
		return
	}
	for i := range t.slots {
		if s := &t.slots[i]; s.key != 0 && !fn(s.key, s.t) {
			return
		}
	}
}

func (t *tokenTable) grow() {
	old := t.slots
	t.slots = make([]tokSlot, tableSize(max(2*t.n, 12)))
	t.n = 0
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.key == 0 {
			continue
		}
		i := s.key & mask
		for t.slots[i].key != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
		t.n++
	}
}
