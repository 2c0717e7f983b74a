package ipfilter

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
)

// MaxEntryLen is the longest entry text ParsePrefix accepts, in bytes. The
// longest well-formed entry
// ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128") is 49 bytes.
const MaxEntryLen = 64

// MaxNoteLen is the longest note an entry may carry, in bytes.
const MaxNoteLen = 500

// Entry is one rule in an allow or deny list: an IPv4 or IPv6 prefix (a
// single address is a /32 or /128), a free-text note, and who added it when.
type Entry struct {
	// Prefix is canonical: masked, no zone, never an IPv4-mapped IPv6
	// prefix.
	Prefix netip.Prefix
	// Note is the admin's free text ("Prague office"). It is shown to
	// admins only and never sent to a denied client.
	Note string
	// AddedBy is the actor who first put this prefix in this list.
	AddedBy gdprkit.ActorID
	// AddedAt is when AddedBy did so.
	AddedAt time.Time
}

// Input is one entry as an admin typed it, before parsing.
type Input struct {
	// Value is an address ("192.0.2.7", "2001:db8::1") or a CIDR prefix
	// ("192.0.2.0/24", "2001:db8::/32").
	Value string
	// Note is optional free text, at most MaxNoteLen bytes of UTF-8 without
	// control characters.
	Note string
}

// List names one of a surface's two lists.
type List string

// The two lists of a surface.
const (
	ListAllow List = "allow"
	ListDeny  List = "deny"
)

// EntryError is the error for one bad entry. It wraps gdprkit.ErrInvalid and
// names the entry by list, position (0-based) and a quoted, shortened copy of
// what was typed.
type EntryError struct {
	List   List
	Index  int
	Input  string // as typed, shortened to MaxEntryLen bytes
	Reason string
}

// Error names the list, the entry's position and text, and the reason.
func (e *EntryError) Error() string {
	if e.List == "" {
		return fmt.Sprintf("ipfilter: entry %q: %s", e.Input, e.Reason)
	}
	return fmt.Sprintf("ipfilter: %s entry %d %q: %s", e.List, e.Index+1, e.Input, e.Reason)
}

// Unwrap returns gdprkit.ErrInvalid.
func (e *EntryError) Unwrap() error { return gdprkit.ErrInvalid }

func shorten(s string) string {
	if len(s) <= MaxEntryLen {
		return s
	}
	s = s[:MaxEntryLen]
	for !utf8.ValidString(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// ParsePrefix parses one allow- or deny-list entry strictly. It accepts a
// bare IPv4 or IPv6 address (taken as /32 or /128) or a CIDR prefix, and
// rejects, with an *EntryError wrapping gdprkit.ErrInvalid:
//
//   - empty input, input longer than MaxEntryLen, and any whitespace or
//     other character outside an address (no trimming is done);
//   - IPv4 octets or prefix lengths with leading zeros ("010.0.0.1",
//     "10.0.0.0/08"), which other parsers read as octal;
//   - IPv6 zones ("fe80::1%eth0"): a zone is local to one host;
//   - host bits set under the mask ("10.1.2.3/8"): write "10.0.0.0/8";
//   - IPv4-mapped IPv6 entries ("::ffff:10.0.0.0/104"): write the IPv4 form,
//     which already matches mapped client addresses.
func ParsePrefix(s string) (netip.Prefix, error) {
	p, reason := parsePrefix(s)
	if reason != "" {
		return netip.Prefix{}, &EntryError{Input: shorten(s), Reason: reason}
	}
	return p, nil
}

func parsePrefix(s string) (netip.Prefix, string) {
	switch {
	case s == "":
		return netip.Prefix{}, "empty"
	case len(s) > MaxEntryLen:
		return netip.Prefix{}, fmt.Sprintf("longer than %d bytes", MaxEntryLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':', c == '/':
		case c == '%':
			return netip.Prefix{}, "zones are not allowed"
		default:
			return netip.Prefix{}, fmt.Sprintf("unexpected character %q at offset %d", rune(c), i)
		}
	}
	addrText, bitsText, hasBits := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(addrText)
	if err != nil {
		return netip.Prefix{}, "not an IP address: " + addrReason(err)
	}
	if addr.Is4In6() {
		return netip.Prefix{}, fmt.Sprintf("IPv4-mapped IPv6 entries are not allowed; write the IPv4 form (%s)", addr.Unmap())
	}
	if !hasBits {
		return netip.PrefixFrom(addr, addr.BitLen()), ""
	}
	if bitsText == "" {
		return netip.Prefix{}, "missing prefix length after '/'"
	}
	bits := 0
	for i := 0; i < len(bitsText); i++ {
		c := bitsText[i]
		if c < '0' || c > '9' {
			return netip.Prefix{}, "prefix length is not a decimal number"
		}
		if i > 0 && bitsText[0] == '0' {
			return netip.Prefix{}, "prefix length has a leading zero"
		}
		bits = bits*10 + int(c-'0')
		if bits > 128 {
			break
		}
	}
	if bits > addr.BitLen() {
		return netip.Prefix{}, fmt.Sprintf("prefix length /%s is longer than %d bits", bitsText, addr.BitLen())
	}
	p := netip.PrefixFrom(addr, bits)
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Sprintf("host bits are set under the mask; did you mean %s?", m)
	}
	return p, ""
}

// addrReason shortens netip's error, which quotes the input, to its reason.
func addrReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "): "); i >= 0 {
		return msg[i+3:]
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

func validNote(note string) string {
	switch {
	case len(note) > MaxNoteLen:
		return fmt.Sprintf("note longer than %d bytes", MaxNoteLen)
	case !utf8.ValidString(note):
		return "note is not valid UTF-8"
	}
	for _, r := range note {
		if r < 0x20 || r == 0x7f {
			return "note contains a control character"
		}
	}
	return ""
}

// Warning is a problem in a list that does not make it invalid: an exact
// duplicate (dropped, the first one kept) or a prefix covered by a wider one
// in the same list (kept, but it changes nothing).
type Warning struct {
	List  List
	Index int    // position of the redundant entry in the input, 0-based
	Entry string // the redundant prefix
	// Kind is "duplicate" or "covered".
	Kind string
	// By is the earlier equal prefix (duplicate) or the wider prefix that
	// covers Entry (covered).
	By string
}

// String describes the warning for an admin.
func (w Warning) String() string {
	if w.Kind == "duplicate" {
		return fmt.Sprintf("%s entry %d %s duplicates an earlier entry (dropped)", w.List, w.Index+1, w.Entry)
	}
	return fmt.Sprintf("%s entry %d %s is already covered by %s", w.List, w.Index+1, w.Entry, w.By)
}

// ParseList parses the inputs of one list. It returns every bad entry at
// once (errors.Join of *EntryError, each wrapping gdprkit.ErrInvalid) and then
// no entries; otherwise the parsed entries with exact duplicates dropped,
// and a warning for each duplicate and each prefix covered by a wider one.
func ParseList(list List, in []Input) ([]Entry, []Warning, error) {
	var errs []error
	out := make([]Entry, 0, len(in))
	seen := make(map[netip.Prefix]int, len(in))
	var warns []Warning
	for i, x := range in {
		p, reason := parsePrefix(x.Value)
		if reason == "" {
			reason = validNote(x.Note)
		}
		if reason != "" {
			errs = append(errs, &EntryError{List: list, Index: i, Input: shorten(x.Value), Reason: reason})
			continue
		}
		if _, dup := seen[p]; dup {
			warns = append(warns, Warning{List: list, Index: i, Entry: p.String(), Kind: "duplicate", By: p.String()})
			continue
		}
		seen[p] = i
		out = append(out, Entry{Prefix: p, Note: x.Note})
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	prefixes := make([]netip.Prefix, len(out))
	for i, e := range out {
		prefixes[i] = e.Prefix
	}
	for _, c := range coveredPrefixes(prefixes) {
		warns = append(warns, Warning{List: list, Index: seen[c.inner], Entry: c.inner.String(), Kind: "covered", By: c.outer.String()})
	}
	return out, warns, nil
}

type coverage struct{ inner, outer netip.Prefix }

// coveredPrefixes returns, for each prefix strictly inside another of the
// (duplicate-free) set, the widest prefix covering it, in input order.
func coveredPrefixes(ps []netip.Prefix) []coverage {
	// Walk each prefix's ancestors (at most 128) and look them up: O(n·bits).
	set := make(map[netip.Prefix]struct{}, len(ps))
	for _, p := range ps {
		set[p] = struct{}{}
	}
	var out []coverage
	for _, p := range ps {
		for bits := 0; bits < p.Bits(); bits++ {
			anc := netip.PrefixFrom(p.Addr(), bits).Masked()
			if _, ok := set[anc]; ok {
				out = append(out, coverage{inner: p, outer: anc})
				break
			}
		}
	}
	return out
}
