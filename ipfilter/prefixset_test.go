package ipfilter_test

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/gdprkit/gdprkit/ipfilter"
)

func mustPrefixes(t testing.TB, ss ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// linearContains is the reference the compiled set must always agree with.
func linearContains(ps []netip.Prefix, ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	for _, p := range ps {
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func TestPrefixSetContains(t *testing.T) {
	s := ipfilter.NewPrefixSet(mustPrefixes(t, "10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "255.255.255.255/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"))
	for _, c := range []struct {
		ip   string
		want bool
	}{
		{"10.0.0.0", true}, {"10.255.255.255", true}, {"11.0.0.0", false}, {"9.255.255.255", false},
		{"192.0.2.7", true}, {"192.0.2.8", false},
		{"::ffff:10.0.0.1", true},   // IPv4-mapped matches IPv4 rules
		{"::ffff:192.0.2.8", false}, //
		{"2001:db8::1", true},       //
		{"2001:db8::1%eth0", true},  // zone ignored
		{"2001:db9::", false},       //
		{"::a00:1", false},          // IPv4-compatible is not IPv4
		{"255.255.255.255", true},   // top of the space
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", false},
	} {
		if got := s.Contains(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("Contains(%s) = %v, want %v", c.ip, got, c.want)
		}
	}
	if s.Contains(netip.Addr{}) {
		t.Error("zero Addr matched")
	}
	var nilSet *ipfilter.PrefixSet
	if nilSet.Contains(netip.MustParseAddr("10.0.0.1")) || !nilSet.Empty() {
		t.Error("nil set is not empty")
	}
	all := ipfilter.NewPrefixSet(mustPrefixes(t, "0.0.0.0/0", "::/0"))
	for _, ip := range []string{"0.0.0.0", "255.255.255.255", "::", "ffff::1", "::ffff:1.2.3.4"} {
		if !all.Contains(netip.MustParseAddr(ip)) {
			t.Errorf("/0 set misses %s", ip)
		}
	}
}

func TestPrefixSetMappedIPv6PrefixIsIPv4(t *testing.T) {
	s := ipfilter.NewPrefixSet(mustPrefixes(t, "::ffff:10.0.0.0/104"))
	if !s.Contains(netip.MustParseAddr("10.1.1.1")) || s.Contains(netip.MustParseAddr("11.0.0.1")) {
		t.Error("mapped prefix not treated as 10.0.0.0/8")
	}
}

// randomPrefix draws a prefix; clustered draws share a common head, to
// exercise the bucket index on dense data.
func randomPrefix(r *rand.Rand, clustered bool) netip.Prefix {
	if r.IntN(2) == 0 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], r.Uint32())
		if clustered {
			b[0], b[1] = 10, byte(r.IntN(3))
		}
		return netip.PrefixFrom(netip.AddrFrom4(b), 8+r.IntN(25)).Masked()
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.Uint64())
	binary.BigEndian.PutUint64(b[8:], r.Uint64())
	if clustered {
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), 16+r.IntN(113)).Masked()
}

// nearAddr draws an address at, inside or just outside one of ps.
func nearAddr(r *rand.Rand, ps []netip.Prefix) netip.Addr {
	p := ps[r.IntN(len(ps))]
	a := p.Addr()
	switch r.IntN(4) {
	case 0:
		return a
	case 1:
		return a.Prev()
	case 2: // last address of p, or one past it
		last := lastAddr(p)
		if r.IntN(2) == 0 {
			return last
		}
		return last.Next()
	}
	if a.Is4() {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], r.Uint32())
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.Uint64())
	binary.BigEndian.PutUint64(b[8:], r.Uint64())
	return netip.AddrFrom16(b)
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestPrefixSetAgreesWithLinearScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 7, 8, 9, 50, 1000, 5000}
	for _, n := range sizes {
		for _, clustered := range []bool{false, true} {
			ps := make([]netip.Prefix, n)
			for i := range ps {
				ps[i] = randomPrefix(r, clustered)
			}
			s := ipfilter.NewPrefixSet(ps)
			if s.Len() != n {
				t.Fatalf("Len = %d, want %d", s.Len(), n)
			}
			for range 3000 {
				ip := nearAddr(r, ps)
				if !ip.IsValid() {
					continue
				}
				if got, want := s.Contains(ip), linearContains(ps, ip); got != want {
					t.Fatalf("n=%d clustered=%v: Contains(%s) = %v, linear scan says %v", n, clustered, ip, got, want)
				}
			}
		}
	}
}

func TestPrefixSetContainsDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ps := make([]netip.Prefix, 1000)
	for i := range ps {
		ps[i] = randomPrefix(r, false)
	}
	s := ipfilter.NewPrefixSet(ps)
	ips := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:1.2.3.4")}
	if n := testing.AllocsPerRun(100, func() {
		for _, ip := range ips {
			s.Contains(ip)
		}
	}); n != 0 {
		t.Errorf("Contains allocates %v times", n)
	}
}

// FuzzPrefixSetDifferential builds a set from fuzzed bytes (each 18-byte
// record: family, length, address) plus n prefixes drawn from seed (so the
// bucket index of large sets is fuzzed too), and checks Contains against a
// linear scan of the same prefixes for fuzzed, boundary and nearby
// addresses, plain and IPv4-mapped.
func FuzzPrefixSetDifferential(f *testing.F) {
	f.Add([]byte("\x04\x08\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), []byte{10, 1, 2, 3}, uint64(1), uint16(0))
	f.Add([]byte("\x06\x20\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00"), []byte("\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"), uint64(2), uint16(300))
	f.Add([]byte{}, []byte{}, uint64(3), uint16(2000))
	f.Fuzz(func(t *testing.T, rules []byte, probe []byte, seed uint64, n uint16) {
		var ps []netip.Prefix
		for len(rules) >= 18 && len(ps) < 512 {
			rec := rules[:18]
			rules = rules[18:]
			var p netip.Prefix
			switch rec[0] % 3 {
			case 0:
				p = netip.PrefixFrom(netip.AddrFrom4([4]byte(rec[2:6])), int(rec[1])%33)
			case 1:
				p = netip.PrefixFrom(netip.AddrFrom16([16]byte(rec[2:18])), int(rec[1])%129)
			default: // IPv4-mapped IPv6
				var b [16]byte
				b[10], b[11] = 0xff, 0xff
				copy(b[12:], rec[2:6])
				p = netip.PrefixFrom(netip.AddrFrom16(b), 96+int(rec[1])%33)
			}
			ps = append(ps, p.Masked())
		}
		r := rand.New(rand.NewPCG(seed, uint64(n)))
		for range int(n) % 3000 {
			ps = append(ps, randomPrefix(r, seed%2 == 0))
		}
		s := ipfilter.NewPrefixSet(ps)
		var probes []netip.Addr
		switch {
		case len(probe) >= 16:
			probes = append(probes, netip.AddrFrom16([16]byte(probe[:16])))
		case len(probe) >= 4:
			probes = append(probes, netip.AddrFrom4([4]byte(probe[:4])))
		}
		for i, p := range ps {
			if i < 600 {
				probes = append(probes, p.Addr(), p.Addr().Prev(), lastAddr(p), lastAddr(p).Next())
			}
		}
		if len(ps) > 0 {
			for range 300 {
				probes = append(probes, nearAddr(r, ps))
			}
		}
		for _, ip := range probes {
			if !ip.IsValid() {
				continue
			}
			for _, v := range []netip.Addr{ip, ip.Unmap(), netip.AddrFrom16(ip.As16())} {
				if got, want := s.Contains(v), linearContains(ps, v); got != want {
					t.Fatalf("Contains(%s) = %v, linear scan of %d prefixes says %v", v, got, len(ps), want)
				}
			}
		}
	})
}
