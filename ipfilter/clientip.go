package ipfilter

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// Header names the one forwarding header a deployment's trusted proxies
// set. Only that header is read: a proxy that sets X-Forwarded-For usually
// passes a client's own Forwarded or X-Real-IP header through untouched, so
// believing a second header would let the client choose its address.
type Header uint8

// The forwarding headers.
const (
	// HeaderXForwardedFor: "X-Forwarded-For: client, proxy1, proxy2", each
	// proxy appending the address of its peer. The default.
	HeaderXForwardedFor Header = iota
	// HeaderForwarded: RFC 7239 "Forwarded: for=192.0.2.60;proto=https,
	// for=\"[2001:db8::1]:4711\"", read like X-Forwarded-For.
	HeaderForwarded
	// HeaderXRealIP: "X-Real-IP: 192.0.2.60", one address that the proxy
	// replaces. Present more than once, it is not believed.
	HeaderXRealIP
)

// ProxyConfig says which connections come from trusted reverse proxies and
// what they tell us. The zero value trusts no proxy: the client address is
// the connection's, and forwarding headers are ignored.
type ProxyConfig struct {
	// Trusted lists the addresses of the reverse proxies (load balancers,
	// CDNs) in front of the host. Forwarding headers are believed only on
	// connections from these.
	Trusted []netip.Prefix
	// Header is the forwarding header the trusted proxies set. Default:
	// HeaderXForwardedFor.
	Header Header
	// MaxHops is the most trusted proxies a request may pass through;
	// a longer chain of trusted addresses yields no client address.
	// Default: 16.
	MaxHops int
}

// Extractor finds the client address of a request. It is safe for
// concurrent use and allocates nothing per request.
type Extractor struct {
	trusted *PrefixSet
	header  Header
	maxHops int
}

// ErrNoClientAddress is the error of Extractor.ClientIP when no client
// address can be trusted. It wraps gdprkit.ErrInvalid.
var ErrNoClientAddress = fmt.Errorf("%w: ipfilter: no usable client address", gdprkit.ErrInvalid)

// NewExtractor validates cfg and returns an Extractor. Invalid prefixes or
// an unknown Header fail with gdprkit.ErrInvalid.
func NewExtractor(cfg ProxyConfig) (*Extractor, error) {
	for _, p := range cfg.Trusted {
		if !p.IsValid() {
			return nil, fmt.Errorf("%w: ipfilter: invalid trusted proxy prefix", gdprkit.ErrInvalid)
		}
	}
	if cfg.Header > HeaderXRealIP {
		return nil, fmt.Errorf("%w: ipfilter: unknown forwarding header %d", gdprkit.ErrInvalid, cfg.Header)
	}
	if cfg.MaxHops < 0 {
		return nil, fmt.Errorf("%w: ipfilter: negative MaxHops", gdprkit.ErrInvalid)
	}
	return &Extractor{trusted: NewPrefixSet(cfg.Trusted), header: cfg.Header, maxHops: cmpOr(cfg.MaxHops, 16)}, nil
}

// normalize unmaps IPv4-mapped IPv6 addresses and strips zones.
func normalize(ip netip.Addr) netip.Addr { return ip.Unmap().WithZone("") }

// PeerAddr parses an http.Request.RemoteAddr ("192.0.2.1:1234",
// "[2001:db8::1%eth0]:443", or a bare address) into a normalised address.
func PeerAddr(remoteAddr string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		return normalize(ap.Addr()), nil
	}
	if ip, err := netip.ParseAddr(remoteAddr); err == nil {
		return normalize(ip), nil
	}
	return netip.Addr{}, fmt.Errorf("%w: unparsable peer address", ErrNoClientAddress)
}

// ClientIP returns r's client address, normalised (IPv4-mapped addresses
// unmapped, zones stripped). It is the connection's peer unless the peer is
// a trusted proxy; then the configured header is read right to left,
// skipping trusted proxies, and the first untrusted address is the client
// (if every address is trusted, the leftmost is). Repeated header lines are
// read as one comma-separated list, last line last. A header that is
// missing leaves the peer as the client; one that does not parse where it
// matters, or a chain longer than MaxHops, gives ErrNoClientAddress, and so
// does a RemoteAddr that is not an IP address (a Unix socket).
func (e *Extractor) ClientIP(r *http.Request) (netip.Addr, error) {
	peer, err := PeerAddr(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, err
	}
	if !e.trusted.Contains(peer) {
		return peer, nil
	}
	switch e.header {
	case HeaderXRealIP:
		vals := r.Header["X-Real-Ip"]
		switch len(vals) {
		case 0:
			return peer, nil
		case 1:
			ip, ok := parseNodeAddr(strings.TrimSpace(vals[0]))
			if !ok {
				return netip.Addr{}, fmt.Errorf("%w: bad X-Real-IP", ErrNoClientAddress)
			}
			return ip, nil
		}
		return netip.Addr{}, fmt.Errorf("%w: repeated X-Real-IP", ErrNoClientAddress)
	case HeaderForwarded:
		return e.walk(peer, r.Header["Forwarded"], true)
	}
	return e.walk(peer, r.Header["X-Forwarded-For"], false)
}

// walk reads the comma-separated elements of vals right to left; rfc7239
// selects Forwarded syntax, X-Forwarded-For otherwise.
func (e *Extractor) walk(peer netip.Addr, vals []string, rfc7239 bool) (netip.Addr, error) {
	hops := 0
	last := peer
	for i := len(vals) - 1; i >= 0; i-- {
		v := vals[i]
		for end := len(v); end >= 0; {
			start := lastComma(v[:end], rfc7239) + 1
			elem := strings.TrimSpace(v[start:end])
			end = start - 1
			if elem == "" {
				continue // empty list elements are allowed by RFC 9110
			}
			var ip netip.Addr
			var ok bool
			if rfc7239 {
				ip, ok = forwardedFor(elem)
			} else {
				ip, ok = parseNodeAddr(elem)
			}
			if !ok {
				return netip.Addr{}, fmt.Errorf("%w: bad forwarding header element", ErrNoClientAddress)
			}
			if !e.trusted.Contains(ip) {
				return ip, nil
			}
			if hops++; hops > e.maxHops {
				return netip.Addr{}, fmt.Errorf("%w: more than %d trusted hops", ErrNoClientAddress, e.maxHops)
			}
			last = ip
		}
	}
	return last, nil
}

// lastComma returns the index of the last list separator in s, or -1. With
// quotes set, commas inside quoted strings (RFC 7239) are skipped.
func lastComma(s string, quotes bool) int {
	if !quotes {
		return strings.LastIndexByte(s, ',')
	}
	in := false
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case '"':
			// Count preceding backslashes: an odd number escapes it.
			n := 0
			for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 {
				in = !in
			}
		case ',':
			if !in {
				return i
			}
		}
	}
	return -1
}

// parseNodeAddr parses one X-Forwarded-For element or X-Real-IP value: an
// address, optionally with a port ("192.0.2.1:443", "[2001:db8::1]:443").
func parseNodeAddr(s string) (netip.Addr, bool) {
	if len(s) > 64 {
		return netip.Addr{}, false
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return normalize(ip), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr()), true
	}
	return netip.Addr{}, false
}

var errForwarded = errors.New("bad Forwarded element")

// forwardedFor parses one RFC 7239 forwarded-element
// ("for=192.0.2.60;proto=http;by=203.0.113.43") and returns its "for"
// address. A missing "for", "unknown", an obfuscated identifier
// ("_hidden") or bad syntax are not usable.
func forwardedFor(elem string) (netip.Addr, bool) {
	ip, err := parseForwardedElement(elem)
	return ip, err == nil
}

func parseForwardedElement(elem string) (netip.Addr, error) {
	var forVal string
	found := false
	rest := elem
	for rest != "" {
		var pair string
		pair, rest = splitPair(rest)
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !isToken(name) {
			return netip.Addr{}, errForwarded
		}
		if len(value) > 0 && value[0] == '"' {
			uq, ok := unquote(value)
			if !ok {
				return netip.Addr{}, errForwarded
			}
			value = uq
		} else if !isToken(value) {
			return netip.Addr{}, errForwarded
		}
		if strings.EqualFold(name, "for") {
			if found {
				return netip.Addr{}, errForwarded // "for" twice in one element
			}
			forVal, found = value, true
		}
	}
	if !found {
		return netip.Addr{}, errForwarded
	}
	return parseForwardedNode(forVal)
}

// parseForwardedNode parses an RFC 7239 node: nodename [ ":" node-port ],
// where nodename is an IPv4 address, "[" IPv6 "]", "unknown" or an
// obfuscated "_name", and node-port is 1 to 5 digits or an obfuscated
// "_port". Only IP nodenames are usable; the port is checked and dropped.
func parseForwardedNode(node string) (netip.Addr, error) {
	name, port := node, ""
	if strings.HasPrefix(node, "[") {
		end := strings.IndexByte(node, ']')
		if end < 0 {
			return netip.Addr{}, errForwarded
		}
		name, port = node[1:end], node[end+1:]
		ip, err := netip.ParseAddr(name)
		if err != nil || !ip.Is6() {
			return netip.Addr{}, errForwarded
		}
		if !validNodePort(port) {
			return netip.Addr{}, errForwarded
		}
		return normalize(ip), nil
	}
	if i := strings.IndexByte(node, ':'); i >= 0 {
		name, port = node[:i], node[i:]
	}
	ip, err := netip.ParseAddr(name)
	if err != nil || !ip.Is4() || !validNodePort(port) {
		return netip.Addr{}, errForwarded
	}
	return ip, nil
}

// validNodePort accepts "", ":" followed by 1 to 5 digits, or ":_" followed
// by letters, digits, '.', '_' or '-'.
func validNodePort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' || len(p) < 2 {
		return false
	}
	p = p[1:]
	if p[0] == '_' {
		if len(p) < 2 {
			return false
		}
		for i := 1; i < len(p); i++ {
			c := p[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return true
	}
	if len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// splitPair cuts the first ';'-separated pair off s, honouring quotes.
func splitPair(s string) (pair, rest string) {
	in := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if in {
				i++
			}
		case '"':
			in = !in
		case ';':
			if !in {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// unquote returns the content of an RFC 9110 quoted-string that makes up
// all of s. Addresses never contain backslashes, so an escape makes the
// value unusable rather than being decoded (which would allocate).
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	in := s[1 : len(s)-1]
	if strings.ContainsAny(in, "\\\"") {
		return "", false
	}
	return in, true
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			// RFC 9110 tchar excludes these; ':' and '[' ']' appear only
			// in quoted node values.
			return false
		}
	}
	return true
}
