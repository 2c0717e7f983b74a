package spam

import "math/bits"

// tokenTable is an account model's token counts by token hash: open
// addressing with linear probing, keyed directly by the SipHash value (which
// is already uniform, so it needs no second hash). Classifying a message
// looks up every one of its tokens, and in a model of hundreds of
// thousands of tokens most lookups miss the CPU cache; a slot holds the key
// and both counts in 16 bytes, so one probe is about one cache miss. The
// day a token was last trained on, which only training and pruning read,
// lives in a parallel slice. A hash's home slot is the high bits of
// hash × size, so the table can have any size: it grows by half, not by
// doubling, and a model loaded whole is sized to fit, which keeps a large
// model's memory near 20 bytes a slot at three quarters full. Deletion
// shifts the following entries back, so there are no tombstones and
// lookups stay short however much the model is pruned. It is not safe for
// concurrent use: the model's mutex guards it.
type tokenTable struct {
	slots []tokSlot // key 0 marks an empty slot
	days  []int32   // days[i] is the day of slots[i]
	n     int       // entries in slots
	zero  tok       // the entry of hash 0, which cannot live in slots
	hasZ  bool
	// limit, when positive, is the size past which the table grows only
	// as far as it must: tableSize of the model's cap (Config.MaxTokens),
	// so that a model at its cap is not held in a table half as large
	// again as it needs.
	limit int
}

type tokSlot struct {
	key       uint64
	ham, spam int32
}

// newTokenTable returns a table sized for n entries.
func newTokenTable(n int) *tokenTable {
	t := &tokenTable{}
	if n > 0 {
		t.alloc(tableSize(n))
	}
	return t
}

// tableSize is the size that holds n entries at most 3/4 full.
func tableSize(n int) int {
	return max(16, n+n/3+1)
}

func (t *tokenTable) alloc(size int) {
	t.slots = make([]tokSlot, size)
	t.days = make([]int32, size)
}

// home returns h's home slot.
func (t *tokenTable) home(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(t.slots)))
	return int(hi)
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
	for i := t.home(h); ; {
		s := &t.slots[i]
		if s.key == h {
			return tok{s.ham, s.spam, t.days[i]}, true
		}
		if s.key == 0 {
			return tok{}, false
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

// counts returns the counts of h without its day: classifying reads only
// the slots, never the days.
func (t *tokenTable) counts(h uint64) (ham, spam int32, ok bool) {
	if h == 0 {
		return t.zero.ham, t.zero.spam, t.hasZ
	}
	if len(t.slots) == 0 {
		return 0, 0, false
	}
	for i := t.home(h); ; {
		s := &t.slots[i]
		if s.key == h {
			return s.ham, s.spam, true
		}
		if s.key == 0 {
			return 0, 0, false
		}
		if i++; i == len(t.slots) {
			i = 0
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
	var x uint64
	for _, h := range hs {
		x ^= t.slots[t.home(h)].key
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
	for i := t.home(h); ; {
		s := &t.slots[i]
		if s.key == h || s.key == 0 {
			if s.key == 0 {
				t.n++
			}
			*s = tokSlot{h, v.ham, v.spam}
			t.days[i] = v.day
			return
		}
		if i++; i == len(t.slots) {
			i = 0
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
	size := len(t.slots)
	next := func(i int) int {
		if i++; i == size {
			return 0
		}
		return i
	}
	i := t.home(h)
	for ; t.slots[i].key != h; i = next(i) {
		if t.slots[i].key == 0 {
			return
		}
	}
	// Backward-shift deletion: move each following entry of the run into
	// the hole when the hole lies between its home slot and where it is
	// (cyclically), so that every entry stays reachable from its home.
	for j := next(i); t.slots[j].key != 0; j = next(j) {
		home := t.home(t.slots[j].key)
		if (j-home+size)%size >= (j-i+size)%size {
			t.slots[i], t.days[i] = t.slots[j], t.days[j]
			i = j
		}
	}
	t.slots[i], t.days[i] = tokSlot{}, 0
	t.n--
}

// each calls fn for every entry, in no particular order, until fn returns
// false. fn must not change the table.
func (t *tokenTable) each(fn func(h uint64, v tok) bool) {
	if t.hasZ && !fn(0, t.zero) {
		return
	}
	for i := range t.slots {
		if s := &t.slots[i]; s.key != 0 && !fn(s.key, tok{s.ham, s.spam, t.days[i]}) {
			return
		}
	}
}

// grow makes the table half as large again (at least 16 slots, at most
// limit unless more is needed) and reinserts every entry.
func (t *tokenTable) grow() {
	old, oldDays := t.slots, t.days
	size := len(old) + len(old)/2
	if t.limit > 0 && size > t.limit {
		size = t.limit
	}
	t.alloc(max(tableSize(t.n+1), size))
	t.n = 0
	for k, s := range old {
		if s.key == 0 {
			continue
		}
		i := t.home(s.key)
		for t.slots[i].key != 0 {
			if i++; i == len(t.slots) {
				i = 0
			}
		}
		t.slots[i], t.days[i] = s, oldDays[k]
		t.n++
	}
}
