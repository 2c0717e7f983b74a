package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/gaissmai/bart"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

// ipfilterSizes are the prefix counts the issue asks about.
var ipfilterSizes = []int{10, 1000, 100000}

// randomPrefixes draws n prefixes, half IPv4 (/16 to /32) and half IPv6
// (global unicast 2000::/3, /32 to /64, and some /128 hosts).
func randomPrefixes(r *rand.Rand, n int) []netip.Prefix {
	out := make([]netip.Prefix, n)
	for i := range out {
		if i%2 == 0 {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], r.Uint32())
			out[i] = netip.PrefixFrom(netip.AddrFrom4(b), 16+r.IntN(17)).Masked()
			continue
		}
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], r.Uint64()>>3|1<<61)
		binary.BigEndian.PutUint64(b[8:], r.Uint64())
		bits := 32 + r.IntN(33)
		if r.IntN(8) == 0 {
			bits = 128
		}
		out[i] = netip.PrefixFrom(netip.AddrFrom16(b), bits).Masked()
	}
	return out
}

// lookups draws 4096 addresses: half inside a random prefix of ps (hits),
// half random addresses of either family (nearly all misses).
func lookups(r *rand.Rand, ps []netip.Prefix) []netip.Addr {
	out := make([]netip.Addr, 4096)
	for i := range out {
		if i%2 == 0 {
			p := ps[r.IntN(len(ps))]
			b := p.Addr().AsSlice()
			for bit := p.Bits(); bit < len(b)*8; bit++ {
				if r.IntN(2) == 0 {
					b[bit/8] |= 0x80 >> (bit % 8)
				}
			}
			out[i], _ = netip.AddrFromSlice(b)
			continue
		}
		if r.IntN(2) == 0 {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], r.Uint32())
			out[i] = netip.AddrFrom4(b)
		} else {
			var b [16]byte
			binary.BigEndian.PutUint64(b[:8], r.Uint64()>>3|1<<61)
			binary.BigEndian.PutUint64(b[8:], r.Uint64())
			out[i] = netip.AddrFrom16(b)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// staticStore serves one fixed rule set, so the filter benchmark measures
// deciding only.
type staticStore struct{ rs ipfilter.RuleSet }

func (s staticStore) Rules(context.Context, gdprkit.AccountID) (ipfilter.RuleSet, error) {
	return s.rs, nil
}
func (s staticStore) Version(context.Context, gdprkit.AccountID) (int64, error) {
	return s.rs.Version, nil
}
func (staticStore) ReplaceRules(context.Context, gdprkit.AccountID, ipfilter.SurfaceRules, int64) (int64, error) {
	return 0, gdprkit.ErrForbidden
}
func (staticStore) DeleteAccount(context.Context, gdprkit.AccountID) (int64, error) {
	return 0, gdprkit.ErrForbidden
}

var sinkBool bool

// BenchmarkIPFilterDecide compares the membership test of gdprkit's
// compiled PrefixSet with bart.Lite (gaissmai/bart's ACL set) and a linear
// scan of []netip.Prefix, on the same random prefixes and lookups (half
// hits, half misses, IPv4 and IPv6 mixed). "gdprkit-filter" is the whole
// Filter.Decide path with the prefixes as an agent-panel allow list: account
// lookup, refresh check (one clock read), deny and allow lists.
func BenchmarkIPFilterDecide(b *testing.B) {
	for _, n := range ipfilterSizes {
		r := rand.New(rand.NewPCG(uint64(n), 42))
		ps := randomPrefixes(r, n)
		ips := lookups(r, ps)
		const mask = 4096 - 1

		set := ipfilter.NewPrefixSet(ps)
		lite := new(bart.Lite)
		for _, p := range ps {
			lite.Insert(p)
		}
		// Sanity: all three agree before timing anything (on a sample at
		// the largest size, where the linear scan is slow).
		for _, ip := range ips[:min(len(ips), 2_000_000/n)] {
			want := linear(ps, ip)
			if set.Contains(ip) != want || lite.Contains(ip) != want {
				b.Fatalf("n=%d: disagreement on %s", n, ip)
			}
		}

		entries := make([]ipfilter.Entry, len(ps))
		for i, p := range ps {
			entries[i] = ipfilter.Entry{Prefix: p}
		}
		f, err := ipfilter.New(ipfilter.Config{Store: staticStore{ipfilter.RuleSet{Account: "acme", Version: 1,
			Surfaces: []ipfilter.SurfaceRules{{Surface: gdprkit.SurfaceAgentPanel, Allow: entries}}}}})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if _, err := f.Decide(ctx, "acme", gdprkit.SurfaceAgentPanel, ips[0]); err != nil {
			b.Fatal(err)
		}

		b.Run(fmt.Sprintf("gdprkit/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sinkBool = set.Contains(ips[i&mask])
				i++
			}
		})
		b.Run(fmt.Sprintf("bart/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sinkBool = lite.Contains(ips[i&mask])
				i++
			}
		})
		b.Run(fmt.Sprintf("linear/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sinkBool = linear(ps, ips[i&mask])
				i++
			}
		})
		b.Run(fmt.Sprintf("gdprkit-filter/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d, _ := f.Decide(ctx, "acme", gdprkit.SurfaceAgentPanel, ips[i&mask])
				sinkBool = d.Allowed()
				i++
			}
		})
	}
}

func linear(ps []netip.Prefix, ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
