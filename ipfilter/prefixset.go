package ipfilter

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
)

// PrefixSet is an immutable set of IPv4 and IPv6 prefixes compiled for fast
// membership tests: Contains takes no lock, allocates nothing and is safe
// for concurrent use.
//
// Each address family is flattened into sorted, disjoint, non-adjacent
// address ranges (overlapping and adjacent prefixes merge). A lookup first
// rejects addresses outside the span of all ranges, then reads a bucket
// index built on the bits that follow the span's common leading bits, which
// narrows the binary search to a handful of ranges. The index has about one
// bucket per range (at most 2^16 buckets, 4 bytes each), so memory stays
// linear in the number of prefixes and a lookup costs two or three memory
// reads even at 100,000 prefixes.
type PrefixSet struct {
	v4 table4
	v6 table6
	n  int
}

// NewPrefixSet compiles prefixes. Invalid prefixes are ignored; host bits
// are masked off; an IPv4-mapped IPv6 prefix of length 96 or more is taken
// as the IPv4 prefix it maps (so the set agrees with Contains, which unmaps
// addresses). The slice is not retained.
func NewPrefixSet(prefixes []netip.Prefix) *PrefixSet {
	var r4 []range4
	var r6 []range6
	n := 0
	for _, p := range prefixes {
		if !p.IsValid() {
			continue
		}
		p = p.Masked()
		a := p.Addr()
		if a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			a = p.Addr()
		}
		n++
		if a.Is4() {
			lo := be32(a.As4())
			var host uint32
			if p.Bits() < 32 {
				host = ^uint32(0) >> p.Bits()
			}
			r4 = append(r4, range4{lo, lo | host})
			continue
		}
		b := a.As16()
		lo := u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
		r6 = append(r6, range6{lo, lo.or(hostMask128(p.Bits()))})
	}
	s := &PrefixSet{n: n}
	s.v4 = buildTable4(r4)
	s.v6 = buildTable6(r6)
	return s
}

// Len returns the number of valid prefixes the set was built from.
func (s *PrefixSet) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Empty reports whether the set matches no address.
func (s *PrefixSet) Empty() bool { return s == nil || (len(s.v4.r) == 0 && len(s.v6.r) == 0) }

// Contains reports whether ip lies in any prefix of the set. An
// IPv4-mapped IPv6 address matches IPv4 prefixes; a zone is ignored; the
// zero Addr matches nothing. A nil set contains nothing.
func (s *PrefixSet) Contains(ip netip.Addr) bool {
	if s == nil {
		return false
	}
	switch {
	case ip.Is4():
		return s.v4.contains(be32(ip.As4()))
	case ip.Is4In6():
		b := ip.As16()
		return s.v4.contains(binary.BigEndian.Uint32(b[12:]))
	case ip.Is6():
		b := ip.As16()
		return s.v6.contains(u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])})
	}
	return false
}

func be32(b [4]byte) uint32 { return binary.BigEndian.Uint32(b[:]) }

// maxIndexBits caps the bucket index at 2^16 buckets (256 KiB).
const maxIndexBits = 16

// indexBits picks the number of index bits for n ranges when c leading bits
// are common to the whole span of a w-bit key: about log2(n), none for
// small sets, never past the key's width.
func indexBits(n, c, w int) int {
	if n < 8 {
		return 0
	}
	b := min(bits.Len(uint(n)), maxIndexBits)
	return min(b, w-c)
}

// ---- IPv4 ----

type range4 struct{ lo, hi uint32 }

type table4 struct {
	r      []range4 // sorted by lo, disjoint, non-adjacent
	min    uint32   // r[0].lo
	max    uint32   // r[len-1].hi
	common uint8    // leading bits shared by min and max
	shift  uint8    // 32 - index bits
	idx    []uint32 // idx[k] = number of ranges whose key is < k; len 2^b+1, nil without index
}

func buildTable4(r []range4) table4 {
	if len(r) == 0 {
		return table4{}
	}
	slices.SortFunc(r, func(a, b range4) int { return cmp.Compare(a.lo, b.lo) })
	out := r[:1]
	for _, x := range r[1:] {
		last := &out[len(out)-1]
		if last.hi == ^uint32(0) || x.lo <= last.hi+1 {
			last.hi = max(last.hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	out = slices.Clip(out)
	t := table4{r: out, min: out[0].lo, max: out[len(out)-1].hi}
	c := bits.LeadingZeros32(t.min ^ t.max)
	t.common = uint8(c)
	b := indexBits(len(out), c, 32)
	if b == 0 {
		return t
	}
	t.shift = uint8(32 - b)
	t.idx = make([]uint32, 1<<b+1)
	// Count ranges per key, then prefix-sum into "ranges with key < k".
	for _, x := range out {
		t.idx[t.key(x.lo)+1]++
	}
	for k := 1; k < len(t.idx); k++ {
		t.idx[k] += t.idx[k-1]
	}
	return t
}

func (t *table4) key(x uint32) uint32 { return (x << t.common) >> t.shift }

func (t *table4) contains(x uint32) bool {
	if len(t.r) == 0 || x < t.min || x > t.max {
		return false
	}
	lo, hi := 0, len(t.r)
	if t.idx != nil {
		k := t.key(x)
		lo, hi = int(t.idx[k]), int(t.idx[k+1])
	}
	// First range in [lo, hi) starting after x; the range before it is the
	// only one that can hold x. Ranges before the window start at or before
	// x's bucket, ranges after it start after x's bucket.
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.r[m].lo <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && x <= t.r[lo-1].hi
}

// ---- IPv6 ----

type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool   { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }
func (a u128) or(b u128) u128     { return u128{a.hi | b.hi, a.lo | b.lo} }
func (a u128) isMax() bool        { return a.hi == ^uint64(0) && a.lo == ^uint64(0) }
func (a u128) compare(b u128) int { return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo)) }
func (a u128) addOne() u128 {
	lo := a.lo + 1
	hi := a.hi
	if lo == 0 {
		hi++
	}
	return u128{hi, lo}
}

// hostMask128 returns the mask of the 128-bits host part of a /bits prefix.
func hostMask128(bits int) u128 {
	switch {
	case bits <= 0:
		return u128{^uint64(0), ^uint64(0)}
	case bits < 64:
		return u128{^uint64(0) >> bits, ^uint64(0)}
	case bits < 128:
		return u128{0, ^uint64(0) >> (bits - 64)}
	}
	return u128{}
}

type range6 struct{ lo, hi u128 }

type table6 struct {
	r      []range6
	min    u128
	max    u128
	common uint8 // leading bits of the high word shared by min and max
	shift  uint8
	idx    []uint32
}

func buildTable6(r []range6) table6 {
	if len(r) == 0 {
		return table6{}
	}
	slices.SortFunc(r, func(a, b range6) int { return a.lo.compare(b.lo) })
	out := r[:1]
	for _, x := range r[1:] {
		last := &out[len(out)-1]
		if last.hi.isMax() || !last.hi.addOne().less(x.lo) {
			if last.hi.less(x.hi) {
				last.hi = x.hi
			}
			continue
		}
		out = append(out, x)
	}
	out = slices.Clip(out)
	t := table6{r: out, min: out[0].lo, max: out[len(out)-1].hi}
	c := bits.LeadingZeros64(t.min.hi ^ t.max.hi)
	t.common = uint8(c)
	b := indexBits(len(out), c, 64)
	if b == 0 {
		return t
	}
	t.shift = uint8(64 - b)
	t.idx = make([]uint32, 1<<b+1)
	for _, x := range out {
		t.idx[t.key(x.lo.hi)+1]++
	}
	for k := 1; k < len(t.idx); k++ {
		t.idx[k] += t.idx[k-1]
	}
	return t
}

func (t *table6) key(hi uint64) uint64 { return (hi << t.common) >> t.shift }

func (t *table6) contains(x u128) bool {
	if len(t.r) == 0 || x.less(t.min) || t.max.less(x) {
		return false
	}
	lo, hi := 0, len(t.r)
	if t.idx != nil {
		k := t.key(x.hi)
		lo, hi = int(t.idx[k]), int(t.idx[k+1])
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.less(t.r[m].lo) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && !t.r[lo-1].hi.less(x)
}
