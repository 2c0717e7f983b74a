package ipfilter_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

func TestParsePrefixAccepts(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7/32"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"2001:DB8::/32", "2001:db8::/32"},
		{"2001:0db8:0000::/48", "2001:db8::/48"}, // IPv6 groups may have leading zeros
		{"::/0", "::/0"},
		{"100.64.0.0/10", "100.64.0.0/10"},
	} {
		p, err := ipfilter.ParsePrefix(c.in)
		if err != nil {
			t.Errorf("ParsePrefix(%q): %v", c.in, err)
			continue
		}
		if p.String() != c.want {
			t.Errorf("ParsePrefix(%q) = %s, want %s", c.in, p, c.want)
		}
	}
}

func TestParsePrefixRejects(t *testing.T) {
	for _, c := range []struct{ name, in, reason string }{
		{"empty", "", "empty"},
		{"leading zero in octet", "010.0.0.1", "not an IP address"},
		{"leading zero in prefix length", "10.0.0.0/08", "leading zero"},
		{"zone", "fe80::1%eth0", "zones"},
		{"zone with prefix", "fe80::%eth0/64", "zones"},
		{"host bits set", "10.1.2.3/8", "did you mean 10.0.0.0/8"},
		{"host bits set v6", "2001:db8::1/32", "did you mean 2001:db8::/32"},
		{"overlong", strings.Repeat("1", 65), "longer than 64"},
		{"garbage", "example.com", "unexpected character"},
		{"whitespace", " 10.0.0.1", "unexpected character"},
		{"trailing newline", "10.0.0.1\n", "unexpected character"},
		{"prefix too long", "10.0.0.0/33", "longer than 32 bits"},
		{"prefix huge", "10.0.0.0/99999999999999999999", "longer than 32 bits"},
		{"missing length", "10.0.0.0/", "missing prefix length"},
		{"two slashes", "10.0.0.0/8/8", "not a decimal"},
		{"mapped", "::ffff:10.0.0.0/104", "write the IPv4 form (10.0.0.0)"},
		{"short ipv4", "10.1", "not an IP address"},
		{"sign", "10.0.0.0/+8", "unexpected character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ipfilter.ParsePrefix(c.in)
			if err == nil {
				t.Fatalf("ParsePrefix(%q) accepted", c.in)
			}
			if !errors.Is(err, gdprkit.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			var ee *ipfilter.EntryError
			if !errors.As(err, &ee) {
				t.Fatalf("error %T is not *EntryError", err)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Errorf("error %q does not say %q", err, c.reason)
			}
			if len(c.in) <= ipfilter.MaxEntryLen && ee.Input != c.in {
				t.Errorf("error names %q, want %q", ee.Input, c.in)
			}
		})
	}
}

func TestParseListReportsEveryBadEntryAndKeepsNothing(t *testing.T) {
	entries, warns, err := ipfilter.ParseList(ipfilter.ListAllow, []ipfilter.Input{
		{Value: "10.0.0.0/8"}, {Value: "10.1.2.3/8"}, {Value: "192.0.2.1", Note: "bad\x00note"}, {Value: "bogus"},
	})
	if err == nil || entries != nil || warns != nil {
		t.Fatalf("ParseList = %v, %v, %v; want only an error", entries, warns, err)
	}
	for _, want := range []string{"allow entry 2 \"10.1.2.3/8\"", "allow entry 3 \"192.0.2.1\": note contains a control character", "allow entry 4 \"bogus\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "entry 1 ") {
		t.Errorf("error %q blames the good entry", err)
	}
}

func TestParseListReportsDuplicatesAndCoveredPrefixes(t *testing.T) {
	entries, warns, err := ipfilter.ParseList(ipfilter.ListDeny, []ipfilter.Input{
		{Value: "10.1.0.0/16"}, {Value: "10.0.0.0/8"}, {Value: "10.1.0.0/16", Note: "again"}, {Value: "192.0.2.1"}, {Value: "2001:db8::/32"}, {Value: "2001:db8:1::1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 {
		t.Fatalf("got %d entries, want 5 (duplicate dropped): %v", len(entries), entries)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		"deny entry 3 10.1.0.0/16 duplicates an earlier entry (dropped)",
		"deny entry 1 10.1.0.0/16 is already covered by 10.0.0.0/8",
		"deny entry 6 2001:db8:1::1/128 is already covered by 2001:db8::/32",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzParsePrefix checks the parser's promises on arbitrary input: it never
// panics, what it accepts is canonical and round-trips, and it accepts
// nothing the standard library would read differently.
func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "192.0.2.1", "010.0.0.1", "10.1.2.3/8", "fe80::1%eth0", "::ffff:1.2.3.4", "2001:db8::/32", "1.2.3.4/032", "::/0", "1.2.3.4/", "/8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ipfilter.ParsePrefix(s)
		if err != nil {
			if !errors.Is(err, gdprkit.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			t.Fatalf("ParsePrefix(%q) = %v: not canonical", s, p)
		}
		if len(s) > ipfilter.MaxEntryLen || strings.ContainsAny(s, " \t\n%") {
			t.Fatalf("ParsePrefix(%q) accepted overlong or spaced input", s)
		}
		std, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				t.Fatalf("ParsePrefix(%q) accepted what netip rejects: %v", s, err)
			}
			std = netip.PrefixFrom(a, a.BitLen())
		}
		if std != p {
			t.Fatalf("ParsePrefix(%q) = %v, netip reads %v", s, p, std)
		}
		again, err := ipfilter.ParsePrefix(p.String())
		if err != nil || again != p {
			t.Fatalf("round trip of %v: %v, %v", p, again, err)
		}
	})
}
