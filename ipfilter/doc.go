// Package ipfilter restricts each account's agent panel, API and (if the
// host wants) customer portal to the networks its admins list, deciding on
// a client address that a forged header cannot change.
//
// # Rules
//
// Per account and per surface (gdprkit.SurfaceAgentPanel, SurfaceAPI,
// SurfacePortal, or any lower-case token the host defines) there is an allow
// list and a deny list of IPv4 and IPv6 addresses and CIDR prefixes, each
// entry with a note and who added it when. An empty allow list turns the
// restriction off; the deny list always applies and wins over the allow
// list. A surface without entries is open.
//
// Entries are parsed strictly by ParsePrefix (no leading zeros, no zones,
// no host bits under the mask, no IPv4-mapped IPv6 entries, at most
// MaxEntryLen bytes, no whitespace); Filter.SetRules saves nothing when any
// entry is bad and names every bad one. Exact duplicates are dropped and
// prefixes covered by a wider one are kept; both are reported as warnings.
// A change that would deny the address of the admin making it is refused
// with ErrSelfLockout unless Change.Force is set. Changing rules is a
// security change: with Config.StepUp set (an authn.Service), SetRules
// first asks it whether the admin's session (Change.ActorSession) proved
// their password or a second factor recently, and refuses otherwise.
//
// # Storage and multi-process deployments
//
// Rules are kept through the Store interface (store/memstore,
// store/sqlstore). Every change bumps a version per account, with
// compare-and-set (Change.ExpectedVersion) so two admins editing at once
// cannot overwrite each other unseen. A Filter checks a cached account's
// version at most once per Config.RefreshInterval (default 10 s), on the
// first decision after it, and reloads the rules only when the version
// moved: a change made in one process applies in every other within that
// interval, and at once in the process that made it.
//
// # Deciding
//
// Each account's rules compile into an immutable snapshot, one PrefixSet
// per list, swapped atomically on change. PrefixSet flattens prefixes into
// sorted disjoint ranges per address family with a bucket index, so a
// lookup is two or three memory reads; Filter.Decide takes no lock and
// allocates nothing. Addresses are normalised first: IPv4-mapped IPv6
// addresses match IPv4 rules, zones are ignored.
//
// Choices made where the issue is silent:
//
//   - When the rules cannot be read and nothing is cached, Decide returns an
//     error and the middleware answers 503: it fails closed. When a refresh
//     fails, the last rules keep applying and the store is asked again after
//     RefreshInterval.
//   - A surface that fails ValidateSurface (a misspelling such as "API")
//     is an error wrapping gdprkit.ErrInvalid with a decision that is not
//     Allowed, never an open surface; the middleware answers 503.
//   - An unknown client address (a trusted proxy sent an unusable header, or
//     the peer is a Unix socket) is denied on any surface that has rules,
//     even a deny list only, and allowed on surfaces without rules.
//   - Denials are audited as EventDenied at most once per account, surface
//     and Config.AuditInterval, with a count of the ones suppressed. Events
//     and logs never carry the client address; with a Pseudonymizer the
//     event's Subject is a keyed pseudonym of it.
//
// # Client address
//
// The client address is the connection's peer (Extractor, Config.Proxy).
// Only when the peer is a configured trusted proxy is one forwarding header
// believed, the one the deployment's proxies set: X-Forwarded-For (default)
// or RFC 7239 Forwarded are read right to left, skipping trusted proxies,
// and the first untrusted address is the client; X-Real-IP is believed only
// when present once. Repeated header lines are read as one list; only the
// right end of an oversized header is ever read, and a chain of more than
// ProxyConfig.MaxHops trusted addresses yields no address. A forged
// "X-Forwarded-For: 127.0.0.1" from an untrusted peer changes nothing.
//
// Filter.Middleware wraps an http.Handler: a Resolver supplied by the host
// names the account and surface of each request, and denied requests get a
// bare 403 that reveals nothing about the rules. Filter.AllowIP serves the
// same decision to login code (authn), returning an error wrapping
// gdprkit.ErrForbidden.
package ipfilter
