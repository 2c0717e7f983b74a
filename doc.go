// Package gdprkit is the shared vocabulary of a GDPR compliance engine for
// helpdesks: identifiers, roles, the clock, sentinel errors, audit events and
// the keyed pseudonymizer that every other package speaks.
//
// The capabilities live in sub-packages — consent, authn, ipfilter, spam,
// retention and erasure — and reach storage only through the small interfaces
// each declares in its store.go. The adapters in store/memstore and
// store/sqlstore implement all of them and pass one conformance suite,
// store/storetest.
//
// Choices this package makes for everyone:
//
//   - AccountID, SubjectID and ActorID are opaque strings chosen by the host
//     (a tenant key, a user key); the library never parses them. IDs the
//     library mints itself are UUIDv7 strings from NewID, so SQL indexes stay
//     ordered by time.
//   - Time only ever comes from a Clock; fakeclock provides one tests drive.
//   - Errors wrap the sentinels below with %w; compare with errors.Is.
//   - A Pseudonymizer turns an identifier into a stable keyed pseudonym
//     (HMAC-SHA-256), so receipts, tombstones and pseudonymised records can
//     name a subject without holding the identifier.
package gdprkit
