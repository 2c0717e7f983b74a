package spam

import (
	"math/bits"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Word rules, after SpamBayes' measured tokenizer: words are split on white
// space only (punctuation inside a word carries signal: "$99", "free!!"),
// lower-cased, shorter than minWord runes dropped, longer than maxWord runes
// replaced by a length-class token "skip:<first rune>:<length rounded down
// to 10>" (long words are mostly encoded junk, whose exact text never
// repeats but whose presence does).
const (
	minWord = 3
	maxWord = 12
)

// text tokenizes free text: a chat message, a ticket body, a decoded e-mail
// part. prefix is prepended to every word token ("" for bodies,
// "subject:" for subjects).
func (s *sink) text(prefix, t string) {
	if len(t) > maxPartText {
		t = t[:maxPartText]
	}
	if !plainText(t) {
		if !utf8.ValidString(t) {
			t = strings.ToValidUTF8(t, "\uFFFD")
		}
		if !norm.NFC.IsNormalString(t) {
			t = norm.NFC.String(t)
		}
	}
	s.pair = s.pair[:0]
	for len(t) > 0 && !s.full() {
		// skip white space
		i := 0
		for i < len(t) {
			c := t[i]
			if c < utf8.RuneSelf {
				if byteClass[c]&classSpace == 0 {
					break
				}
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(t[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += n
		}
		t = t[i:]
		j := 0
		for j < len(t) {
			if j+8 <= len(t) {
				// Eight bytes at a time to the first that is below '!'
				// or not ASCII (the lowest flag of the borrow trick is
				// exact), then byte by byte.
				b := t[j : j+8]
				x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
					uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
				stop := (x | (x-0x2121212121212121)&^x) & 0x8080808080808080
				if stop == 0 {
					j += 8
					continue
				}
				j += bits.TrailingZeros64(stop) >> 3
			}
			c := t[j]
			if c < utf8.RuneSelf {
				if byteClass[c]&classSpace != 0 {
					break
				}
				j++
				continue
			}
			r, n := utf8.DecodeRuneInString(t[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += n
		}
		if j > 0 {
			s.word(prefix, t[:j])
		}
		t = t[j:]
	}
}

// plainText reports that t is valid UTF-8 in NFC because each of its
// runes is ASCII or one nfcSafe holds safe, in one pass (ASCII eight bytes
// at a time), so that the commonest chat lines (Latin letters, a byte
// order mark, curly quotes, emoji) skip the checks of the validator and
// the normaliser. False means only "not known".
func plainText(t string) bool {
	for i := 0; i < len(t); {
		for ; i+8 <= len(t); i += 8 {
			b := t[i : i+8] // constant indexes: one 8-byte load
			if (uint64(b[0])|uint64(b[1])<<8|uint64(b[2])<<16|uint64(b[3])<<24|
				uint64(b[4])<<32|uint64(b[5])<<40|uint64(b[6])<<48|uint64(b[7])<<56)&0x8080808080808080 != 0 {
				break
			}
		}
		if i == len(t) {
			break
		}
		if t[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(t[i:])
		if !nfcSafe(r) || (r == utf8.RuneError && n == 1) {
			return false
		}
		i += n
	}
	return true
}

// nfcSafe reports whether r is in ranges whose every rune is NFC quick
// check Yes with canonical combining class 0 (TestNFCSafeRunes checks
// them against golang.org/x/text/unicode/norm): a string of such runes is
// in NFC, whatever their order.
func nfcSafe(r rune) bool {
	switch {
	case r < 0x300, // Latin-1, Latin Extended-A and -B, IPA, spacing modifiers
		0x2010 <= r && r <= 0x2027, 0x2030 <= r && r <= 0x205E, // punctuation
		0x2600 <= r && r <= 0x27BF,   // symbols, dingbats
		0xFE00 <= r && r <= 0xFE0F,   // variation selectors
		r == 0xFEFF,                  // byte order mark
		0x1F300 <= r && r <= 0x1FAFF: // emoji
		return true
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Byte classes, for the tokenizer's scans: ASCII white space (as the
// white-space loops of text read it), punctuation trimmed from the start
// and from the end of a word, and what word looks for in one pass.
const (
	classSpace = 1 << iota
	classTrimLeft
	classTrimRight
	classLower // a-z
	classUpper // A-Z
	classColon
	classAt
	classHigh // not ASCII
)

var byteClass = func() (t [256]uint8) {
	for _, c := range " \t\n\r\f\v" {
		t[c] |= classSpace
	}
	for _, c := range "\"'([{<*`,;:.>|_=-" {
		t[c] |= classTrimLeft
	}
	for _, c := range "\"')]}>*`,;:.<|_=-" {
		t[c] |= classTrimRight
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= classLower
		t[c-'a'+'A'] |= classUpper
	}
	t[':'] |= classColon
	t['@'] |= classAt
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] |= classHigh
	}
	return t
}()

func trimLeftPunct(c byte) bool { return byteClass[c]&classTrimLeft != 0 }

func trimRightPunct(c byte) bool { return byteClass[c]&classTrimRight != 0 }

// word tokenizes one white-space-delimited word.
func (s *sink) word(prefix, w string) {
	for len(w) > 0 && trimLeftPunct(w[0]) {
		w = w[1:]
	}
	for len(w) > 0 && trimRightPunct(w[len(w)-1]) {
		w = w[:len(w)-1]
	}
	if w == "" {
		return
	}
	// One pass finds what the rules below ask of the word: the classes
	// of its bytes, the first '@', the number of upper-case ASCII letters.
	var classes uint8
	at, upper := -1, 0
	for i := 0; i < len(w); i++ {
		c := byteClass[w[i]]
		classes |= c
		switch {
		case c&classUpper != 0:
			upper++
		case c&classAt != 0 && at < 0:
			at = i
		}
	}
	if classes&classColon != 0 { // most words have no colon: skip the slower search
		if i := strings.Index(w, "://"); i > 0 && i < 10 {
			s.url(w)
			return
		}
	}
	if len(w) > 4 && (w[:4] == "www." || w[:4] == "WWW.") {
		s.url("http://" + w)
		return
	}
	if at > 0 && at < len(w)-3 && strings.IndexByte(w[at:], '.') > 0 {
		s.address(prefix+"email:", w)
		return
	}
	ascii := classes&classHigh == 0
	if prefix == "" && len(w) >= 4 && classes&classLower == 0 && upper >= 3 { // isUpperASCII(w)
		// Shouting is signal that lower-casing would lose; the word's
		// lower-case token is emitted as well.
		s.addExact("caps:", w)
	}
	if !ascii && s.cjk(prefix, w) {
		return
	}
	n := len(w)
	if !ascii {
		n = utf8.RuneCountInString(w)
	}
	switch {
	case n < minWord:
		return
	case n > maxWord:
		s.pair = s.pair[:0]
		s.skip(prefix, w)
	default:
		if ascii && upper == 0 { // nothing to lower-case
			s.addExact(prefix, w)
		} else {
			s.add(prefix, w)
		}
		if prefix == "" {
			s.bigram()
		}
	}
}

// bigram emits "bi:<previous word> <word>" for the body word just emitted
// (in s.buf) and remembers the word for the next one. Pairs are made of
// consecutive body words of minWord to maxWord runes, skipping shorter
// words and URLs ("free of charge" pairs "free" and "charge"); a long word
// or a new part breaks the chain. Word pairs add the context single words
// lack (SpamBayes and CRM114 use them); here they ranked better on the
// drifting tuning split.
func (s *sink) bigram() {
	if len(s.pair) > 0 {
		s.pair = append(s.pair, s.buf...)
		s.emitBytes(s.pair)
	} else {
		s.pair = append(s.pair, "bi:"...)
	}
	s.pair = append(append(s.pair[:len("bi:")], s.buf...), ' ')
}

// skip emits the length-class token of a word too long to be useful.
func (s *sink) skip(prefix, w string) {
	r, _ := utf8.DecodeRuneInString(w)
	s.buf = append(append(s.buf[:0], prefix...), "skip:"...)
	s.buf = utf8.AppendRune(s.buf, unicode.ToLower(r))
	s.buf = append(s.buf, ':')
	n := utf8.RuneCountInString(w) / 10 * 10 // runes, as maxWord counts them
	if n > 200 {
		n = 200
	}
	s.buf = appendInt(s.buf, n)
	s.emit()
}

func appendInt(b []byte, n int) []byte {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// isCJK reports whether r is written without spaces between words: Han,
// Hiragana, Katakana, Hangul, Thai.
func isCJK(r rune) bool {
	if uint32(r) > unicode.MaxRune {
		return false
	}
	switch cjkBlocks[r>>8] {
	case cjkNone:
		return false
	case cjkAll:
		return true
	}
	return inCJKScripts(r)
}

func inCJKScripts(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Thai, r)
}

// cjkBlocks tells, for each block of 256 code points, whether none, all or
// some of them are in the scripts isCJK looks for, so that isCJK searches
// the scripts' tables only in the few mixed blocks: the Latin letters,
// emoji and punctuation of most chat lines are ruled out by one load.
var cjkBlocks = func() *[(unicode.MaxRune + 1) >> 8]uint8 {
	var count [(unicode.MaxRune + 1) >> 8]uint16
	for _, t := range []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai} {
		for _, rg := range t.R16 {
			for r := uint32(rg.Lo); r <= uint32(rg.Hi); r += uint32(rg.Stride) {
				count[r>>8]++
			}
		}
		for _, rg := range t.R32 {
			for r := rg.Lo; r <= rg.Hi; r += rg.Stride {
				count[r>>8]++
			}
		}
	}
	var b [(unicode.MaxRune + 1) >> 8]uint8
	for i, n := range count {
		switch n {
		case 0:
			b[i] = cjkNone
		case 256:
			b[i] = cjkAll
		default:
			b[i] = cjkSome
		}
	}
	return &b
}()

// The kinds of cjkBlocks' blocks.
const (
	cjkNone = iota
	cjkAll
	cjkSome
)

// cjk tokenizes runs of scripts written without spaces as overlapping
// character bigrams (a lone character is a unigram), the usual substitute
// for a word segmenter; other runs in the same word are tokenized as words.
// It reports false when w holds no such script.
func (s *sink) cjk(prefix, w string) bool {
	has := false
	for _, r := range w {
		if isCJK(r) {
			has = true
			break
		}
	}
	if !has {
		return false
	}
	var prev rune = -1
	runStart := -1 // start of a non-CJK run
	for i, r := range w {
		if !isCJK(r) {
			if runStart < 0 {
				runStart = i
			}
			if prev >= 0 {
				prev = -1
			}
			continue
		}
		if runStart >= 0 {
			s.word(prefix, w[runStart:i])
			runStart = -1
		}
		if prev >= 0 {
			s.buf = append(s.buf[:0], prefix...)
			s.buf = utf8.AppendRune(utf8.AppendRune(s.buf, prev), r)
			s.emit()
		} else {
			next, _ := utf8.DecodeRuneInString(w[i+utf8.RuneLen(r):])
			if !isCJK(next) {
				s.buf = utf8.AppendRune(append(s.buf[:0], prefix...), r)
				s.emit()
			}
		}
		prev = r
	}
	if runStart >= 0 {
		s.word(prefix, w[runStart:])
	}
	return true
}

// url tokenizes a URL into its scheme, host (with each parent domain, or
// IP network prefixes), port and path pieces, so "http://x.example.com/a/b"
// yields url:scheme:http, url:host:x.example.com, url:host:example.com,
// url:host:com, url:path:a, url:path:b.
func (s *sink) url(u string) {
	i := strings.Index(u, "://")
	if i < 0 {
		return
	}
	s.add("url:scheme:", u[:i])
	rest := u[i+3:]
	end := strings.IndexAny(rest, "/?#")
	host := rest
	path := ""
	if end >= 0 {
		host, path = rest[:end], rest[end:]
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		s.addExact("url:", "userinfo")
		host = host[at+1:]
	}
	if c := strings.LastIndexByte(host, ':'); c >= 0 && !strings.Contains(host[c:], "]") {
		s.add("url:port:", host[c+1:])
		host = host[:c]
	}
	if strings.Contains(host, "%") {
		s.addExact("url:", "escaped-host")
	}
	s.host("url:host:", host)
	if strings.Contains(path, "%") {
		s.addExact("url:", "escaped-path")
	}
	for path != "" && !s.full() {
		j := strings.IndexAny(path, "/?#&=.,;:+_-~!%")
		piece := path
		if j >= 0 {
			piece, path = path[:j], path[j+1:]
		} else {
			path = ""
		}
		switch n := len(piece); {
		case n == 0:
		case n > maxWord:
			s.skip("url:path:", piece)
		case n >= 2:
			s.add("url:path:", piece)
		}
	}
}

// host emits a host name and its parent domains, or an IP address with its
// /8, /16 and /24 (IPv4) networks.
func (s *sink) host(prefix, h string) {
	h = strings.Trim(h, "[].")
	if h == "" || len(h) > 255 {
		return
	}
	// Only a string that starts with a digit or holds a colon can be an
	// address; parsing a host name would allocate an error.
	if c := h[0]; ('0' <= c && c <= '9') || strings.IndexByte(h, ':') >= 0 {
		if ip, err := netip.ParseAddr(h); err == nil {
			s.ip(prefix, ip)
			return
		}
	}
	for n := 0; h != "" && n < 6; n++ {
		s.add(prefix, h)
		dot := strings.IndexByte(h, '.')
		if dot < 0 {
			break
		}
		h = h[dot+1:]
	}
}

// ip emits an IP address: "ip" and, for IPv4, its /8, /16 and /24
// networks, for IPv6 its /48.
func (s *sink) ip(prefix string, ip netip.Addr) {
	s.addExact(prefix, "ip")
	if ip.Is4() {
		b := ip.As4()
		s.buf = append(s.buf[:0], prefix...)
		s.buf = appendInt(s.buf, int(b[0]))
		s.emit()
		s.buf = appendInt(append(s.buf, '.'), int(b[1]))
		s.emit()
		s.buf = appendInt(append(s.buf, '.'), int(b[2]))
		s.emit()
		return
	}
	p, _ := ip.Prefix(48)
	s.addExact(prefix, p.String())
}

// address tokenizes an e-mail address: the whole address, its local part
// and its domain with parent domains.
func (s *sink) address(prefix, a string) {
	a = strings.Trim(a, "<>\"'()[],;:")
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 {
		if a != "" {
			s.add(prefix+"bad:", a)
		}
		return
	}
	if len(a) <= 64 {
		s.add(prefix+"addr:", a)
	}
	local := a[:at]
	if len(local) > maxWord {
		s.skip(prefix+"user:", local)
	} else {
		s.add(prefix+"user:", local)
	}
	s.host(prefix+"domain:", a[at+1:])
}
