package spam

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Limits that keep tokenizing any input bounded in time and memory.
const (
	// maxInput is how much of a raw message is read; the rest is ignored.
	maxInput = 2 << 20
	// maxPartText is how much decoded text one MIME part contributes.
	maxPartText = 512 << 10
	// maxTokens is how many tokens one message may offer before the rest
	// are ignored (duplicates count).
	maxTokens = 30000
	// maxDepth bounds nested multiparts and attached messages.
	maxDepth = 8
	// maxParts bounds the MIME parts read from one message.
	maxParts = 200
	// maxHeaders bounds the header fields read from one header block.
	maxHeaders = 400
)

// sink receives tokens as they are produced, hashes them with the account
// model's key and collects the distinct hashes of one message.
type sink struct {
	key    sipKey
	buf    []byte
	hashes []uint64
	texts  map[uint64]string // token text by hash, only when explaining
	n      int
	// pair is "bi:<the last body word> ", the start of the next word
	// pair; empty after a break.
	pair  []byte
	seen  hashSet
	clues []clue   // scratch for Classify's clues
	memo  probMemo // clues by token counts, for Classify
}

func (s *sink) reset() {
	s.hashes = s.hashes[:0]
	s.seen.reset()
	s.n = 0
	s.pair = s.pair[:0]
	if s.texts != nil {
		clear(s.texts)
	}
}

// full reports whether the message has offered its maximum of tokens.
func (s *sink) full() bool { return s.n >= maxTokens }

// add emits prefix+word with word lower-cased. Most words are ASCII: they
// are copied whole and lower-cased in place, and only from the first
// non-ASCII byte on is the rest decoded rune by rune.
func (s *sink) add(prefix, word string) {
	s.buf = append(append(s.buf[:0], prefix...), word...)
	b := s.buf[len(prefix):]
	for i, c := range b {
		if c >= utf8.RuneSelf {
			s.buf = s.buf[:len(prefix)+i]
			s.lowerRunes(word[i:])
			break
		}
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	s.emit()
}

// lowerRunes appends w lower-cased to s.buf.
func (s *sink) lowerRunes(w string) {
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			s.buf = append(s.buf, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(w[i:])
		s.buf = utf8.AppendRune(s.buf, unicode.ToLower(r))
		i += n
	}
}

// addExact emits prefix+word unchanged.
func (s *sink) addExact(prefix, word string) {
	s.buf = append(append(s.buf[:0], prefix...), word...)
	s.emit()
}

// addNum emits prefix followed by a decimal number.
func (s *sink) addNum(prefix string, n int) {
	s.buf = strconv.AppendInt(append(s.buf[:0], prefix...), int64(n), 10)
	s.emit()
}

// emit emits the token in s.buf.
func (s *sink) emit() { s.emitBytes(s.buf) }

// emitBytes emits the token b.
func (s *sink) emitBytes(b []byte) {
	if s.n >= maxTokens {
		return
	}
	s.n++
	h := s.key.sum64(b)
	if !s.seen.add(h) {
		return
	}
	s.hashes = append(s.hashes, h)
	if s.texts != nil {
		if _, ok := s.texts[h]; !ok {
			s.texts[h] = string(b)
		}
	}
}

// distinct returns the distinct hashes of the message, in the order they
// first appeared: a token counts once per message, in training and in
// scoring. The slice is the sink's own, valid until the next reset.
func (s *sink) distinct() []uint64 { return s.hashes }

// hashSet is the set of hashes one message has emitted so far: open
// addressing with linear probing over uniformly distributed keys (the
// hashes are SipHash outputs), 8 bytes a slot, so that de-duplicating a
// message costs one probe per token, mostly in cache, instead of a sort.
type hashSet struct {
	slots []uint64 // 0 marks an empty slot
	zero  bool     // whether hash 0, which cannot live in slots, is in
	n     int
	// used holds the slots filled since the last reset while they are few
	// (a chat line's), so that reset clears those instead of the table;
	// nil once more were filled than it holds.
	used []int32
}

// maxUsed is how many filled slots hashSet remembers for reset.
const maxUsed = 64

func (t *hashSet) reset() {
	switch {
	case len(t.slots) > 4096 && len(t.slots) > 16*t.n:
		// A long message grew the table; keep it from spreading the next,
		// typical one over more cache lines than it needs.
		t.slots = nil
	case t.n == 0:
	case t.used != nil && len(t.used) == t.n:
		for _, i := range t.used {
			t.slots[i] = 0
		}
	default:
		clear(t.slots)
	}
	t.n, t.zero = 0, false
	if t.used == nil {
		t.used = make([]int32, 0, maxUsed)
	}
	t.used = t.used[:0]
}

// add inserts h and reports whether it was new.
func (t *hashSet) add(h uint64) bool {
	if h == 0 {
		was := t.zero
		t.zero = true
		return !was
	}
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.slots[i] {
		case 0:
			t.slots[i] = h
			t.n++
			if len(t.used) < cap(t.used) {
				t.used = append(t.used, int32(i))
			}
			return true
		case h:
			return false
		}
	}
}

func (t *hashSet) grow() {
	old := t.slots
	size := max(256, 2*len(old))
	for size < 4*(t.n+1) {
		size *= 2
	}
	t.slots = make([]uint64, size)
	t.used = t.used[:0]
	mask := uint64(size - 1)
	for _, h := range old {
		if h != 0 {
			i := h & mask
			for t.slots[i] != 0 {
				i = (i + 1) & mask
			}
			t.slots[i] = h
			if len(t.used) < cap(t.used) {
				t.used = append(t.used, int32(i))
			}
		}
	}
}
