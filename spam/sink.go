package spam

import (
	"slices"
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
	prev   []byte // the last body word, for bigrams; empty after a break
	word2  []byte // scratch for bigram
}

func (s *sink) reset() {
	s.hashes = s.hashes[:0]
	s.n = 0
	s.prev = s.prev[:0]
	if s.texts != nil {
		clear(s.texts)
	}
}

// full reports whether the message has offered its maximum of tokens.
func (s *sink) full() bool { return s.n >= maxTokens }

// add emits prefix+word with word lower-cased.
func (s *sink) add(prefix, word string) {
	s.buf = append(s.buf[:0], prefix...)
	for i := 0; i < len(word); {
		c := word[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			s.buf = append(s.buf, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(word[i:])
		s.buf = utf8.AppendRune(s.buf, unicode.ToLower(r))
		i += n
	}
	s.emit()
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

func (s *sink) emit() {
	if s.n >= maxTokens {
		return
	}
	s.n++
	h := s.key.sum64(s.buf)
	s.hashes = append(s.hashes, h)
	if s.texts != nil {
		if _, ok := s.texts[h]; !ok {
			s.texts[h] = string(s.buf)
		}
	}
}

// distinct sorts and de-duplicates the collected hashes: a token counts once
// per message, in training and in scoring.
func (s *sink) distinct() []uint64 {
	slices.Sort(s.hashes)
	s.hashes = slices.Compact(s.hashes)
	return s.hashes
}
