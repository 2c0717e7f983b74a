package spam

import "math/bits"

// tokenTable is an account model's token counts by token hash: open
// addressing with linear probing, keyed directly by the SipHash value (which
// is already uniform, so it needs no second hash). Classifying a message
// looks up every one of its tokens, and in a model of hundreds of
// thousands of tokens most lookups miss the CPU cache; a slot holds the key
// and both counts in 16 bytes, so one probe is about one cache miss. The
// day a token was last trained on, which only training and pruning read,
// lives in a parallel slice.
//
// The table is cut into segments by the top bits of the hash, each grown
// on its own: growing a segment copies a 64th of the model, where growing
// one flat table would hold the old and the new array at once, half as
// much memory again as the model at the moment it is largest. Within a
// segment a hash's home slot is the high bits of hash × size, so a segment
// can have any size: it grows by half, and past the size the model's cap
// needs only by an eighth. Deletion shifts the following entries back, so
// there are no tombstones and lookups stay short however much the model is
// pruned. It is not safe for concurrent use: the model's mutex guards it.
type tokenTable struct {
	segs [segments]segment
	n    int // entries in segs
	zero tok // the entry of hash 0, which cannot live in a segment
	hasZ bool
	// limit, when positive, is the table size (all segments) past which a
	// segment grows only as far as it must: tableSize of the model's cap
	// (Config.MaxTokens), so that a model at its cap is not held in
	// segments half as large again as it needs.
	limit int
}

// segBits is log2 of the number of segments.
const (
	segBits  = 6
	segments = 1 << segBits
)

type segment struct {
	slots []tokSlot // key 0 marks an empty slot
	days  []int32   // days[i] is the day of slots[i]
	n     int
}

type tokSlot struct {
	key       uint64
	ham, spam int32
}

// newTokenTable returns a table sized for n entries.
func newTokenTable(n int) *tokenTable {
	t := &tokenTable{}
	if n > 0 {
		for i := range t.segs {
			t.segs[i].alloc(tableSize(n / segments))
		}
	}
	return t
}

// tableSize is the size that holds n entries at most 3/4 full.
func tableSize(n int) int {
	return max(4, n+n/3+1)
}

func (s *segment) alloc(size int) {
	s.slots = make([]tokSlot, size)
	s.days = make([]int32, size)
}

// seg returns h's segment.
func (t *tokenTable) seg(h uint64) *segment { return &t.segs[h>>(64-segBits)] }

// home returns h's home slot in s (the bits below the segment's).
func (s *segment) home(h uint64) int {
	hi, _ := bits.Mul64(h<<segBits, uint64(len(s.slots)))
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
	s := t.seg(h)
	if len(s.slots) == 0 {
		return tok{}, false
	}
	for i := s.home(h); ; {
		sl := &s.slots[i]
		if sl.key == h {
			return tok{sl.ham, sl.spam, s.days[i]}, true
		}
		if sl.key == 0 {
			return tok{}, false
		}
		if i++; i == len(s.slots) {
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
	s := t.seg(h)
	if len(s.slots) == 0 {
		return 0, 0, false
	}
	for i := s.home(h); ; {
		sl := &s.slots[i]
		if sl.key == h {
			return sl.ham, sl.spam, true
		}
		if sl.key == 0 {
			return 0, 0, false
		}
		if i++; i == len(s.slots) {
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
	var x uint64
	for _, h := range hs {
		if s := t.seg(h); len(s.slots) > 0 {
			x ^= s.slots[s.home(h)].key
		}
	}
	return x
}

// set stores v as the counts of h.
func (t *tokenTable) set(h uint64, v tok) {
	if h == 0 {
		t.zero, t.hasZ = v, true
		return
	}
	s := t.seg(h)
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow(t.limit / segments)
	}
	for i := s.home(h); ; {
		sl := &s.slots[i]
		if sl.key == h || sl.key == 0 {
			if sl.key == 0 {
				s.n++
				t.n++
			}
			*sl = tokSlot{h, v.ham, v.spam}
			s.days[i] = v.day
			return
		}
		if i++; i == len(s.slots) {
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
	s := t.seg(h)
	size := len(s.slots)
	if size == 0 {
		return
	}
	next := func(i int) int {
		if i++; i == size {
			return 0
		}
		return i
	}
	i := s.home(h)
	for ; s.slots[i].key != h; i = next(i) {
		if s.slots[i].key == 0 {
			return
		}
	}
	// Backward-shift deletion: move each following entry of the run into
	// the hole when the hole lies between its home slot and where it is
	// (cyclically), so that every entry stays reachable from its home.
	for j := next(i); s.slots[j].key != 0; j = next(j) {
		home := s.home(s.slots[j].key)
		if (j-home+size)%size >= (j-i+size)%size {
			s.slots[i], s.days[i] = s.slots[j], s.days[j]
			i = j
		}
	}
	s.slots[i], s.days[i] = tokSlot{}, 0
	s.n--
	t.n--
}

// each calls fn for every entry, in no particular order, until fn returns
// false. fn must not change the table.
func (t *tokenTable) each(fn func(h uint64, v tok) bool) {
	if t.hasZ && !fn(0, t.zero) {
		return
	}
	for k := range t.segs {
		s := &t.segs[k]
		for i := range s.slots {
			if sl := &s.slots[i]; sl.key != 0 && !fn(sl.key, tok{sl.ham, sl.spam, s.days[i]}) {
				return
			}
		}
	}
}

// grow makes the segment half as large again (at least 4 slots; past
// limit only an eighth larger) and reinserts its entries.
func (s *segment) grow(limit int) {
	old, oldDays := s.slots, s.days
	size := len(old) + len(old)/2
	if limit > 0 && size > limit {
		size = max(limit, len(old)+len(old)/8)
	}
	s.alloc(max(tableSize(s.n+1), size))
	for k, sl := range old {
		if sl.key == 0 {
			continue
		}
		i := s.home(sl.key)
		for s.slots[i].key != 0 {
			if i++; i == len(s.slots) {
				i = 0
			}
		}
		s.slots[i], s.days[i] = sl, oldDays[k]
	}
}
