// Package authn authenticates a helpdesk's agents and API clients: argon2id
// passwords, TOTP that Google Authenticator reads, recovery codes, API
// tokens and sessions, behind one Service whose storage is the Store
// interface (implemented by store/memstore and store/sqlstore), composed of
// one small interface per feature: CredentialStore, ThrottleStore,
// FactorStore, TokenStore, SessionStore, RevocationStore and RecordStore.
//
// A host calls Login (username + password → session or second-factor
// challenge), CompleteLogin (challenge + TOTP or recovery code → session),
// AuthenticateSession on every request, and AuthenticateAPI for the REST API
// (username + API token, or username + password). Before each it asks two
// interfaces the host supplies: AccountGate ("may this account log in
// now?", implemented by retention) and IPGate ("may this IP reach this
// surface?", implemented by ipfilter). Every success, failure, lock and
// token event goes to the audit sink, naming the user only by a keyed
// pseudonym and never carrying a password, code or token.
//
// # Passwords
//
// New hashes are argon2id PHC strings at m=19456 KiB, t=2, p=1 (OWASP) with
// a 16-byte salt and a 32-byte key; bcrypt hashes ($2a$, $2b$, $2y$) from an
// older system are verified, and any hash weaker than the current policy is
// replaced after a successful login with a compare-and-set (a failed
// rehash is logged and never fails the login). Stored parameters are
// checked against Limits before any work, so a tampered hash is an error,
// not an outage. A semaphore (Config.MaxConcurrentHashes, default
// GOMAXPROCS) bounds concurrent KDF runs: under a login flood, live KDF
// memory stays at MaxConcurrentHashes × 19 MiB and further logins queue
// (respecting their context). argon2 allocates its buffer per call, so with
// Go's default GOGC the heap peaks at a small multiple of that
// (BenchmarkConcurrentLogins200 measures about 115 MiB for 200 concurrent
// logins with two slots), independent of the number of logins.
//
// The policy follows NIST SP 800-63B rev 4 and ASVS 5 §6.2: length counted
// in characters after NFKC normalisation, minimum 15 (8 with
// Config.RequireTwoFactor), maximum 256 (at least 64), no composition
// rules, no truncation (a password over bcrypt's 72 bytes checked against a
// bcrypt hash is an error), a refusal of ~700 common passwords shipped with
// the package (Openwall's public-domain password.lst, entries of 8
// characters or more, plus recent common ones), of the username and of
// Config.ContextWords (both sides compared after NFKC and Unicode case
// folding, so "STRASSE" contains "Straße"). A refusal is a *PolicyError saying why. Passwords
// are hashed after NFKC; legacy bcrypt hashes are checked against the
// password as typed, as the old system hashed it.
//
// Every password check does the same KDF work, whoever it is about: one
// argon2id run at the current parameters and, once a bcrypt hash has been
// imported or seen (or Config.LegacyBcryptCost is set), one bcrypt run at
// that cost; what a user's own hash does not cover is run against a dummy
// hash. An unknown username, a user on bcrypt, a user on argon2id and a
// user whose stored hash was tampered with therefore take the same time
// (BenchmarkUnknownUserVsWrongPassword: 64.9, 65.3 and 65.3 ms, where a
// bcrypt user took 2.97 times as long before) and get the same
// error. ImportUser parses bcrypt hashes strictly (alphabet, lengths,
// cost). Residual differences: a user whose argon2id parameters are older
// and weaker than the current ones, or whose bcrypt cost is below the
// highest seen, is faster until their next login upgrades the hash.
//
// # TOTP
//
// RFC 6238 with RFC 4226 truncation, SHA-1/SHA-256/SHA-512, 6 or 8 digits;
// new enrolments use SHA-1, 6 digits, 30 s and 160-bit secrets from
// crypto/rand. BeginTOTP returns the otpauth URI (issuer and account
// percent-encoded, a space as %20) and OTPKey.QRCode a PNG of it; the first
// code confirms the enrolment and its time step is recorded, so it cannot
// then log in. Verification accepts Config.Skew steps of drift either way
// (default 1), computes every step of the window and compares in constant
// time without returning early, and does not allocate. Invalid parameters
// match no code, and a stored record with invalid parameters makes
// verification fail with an error (wrapping ErrUnauthenticated and
// ErrInvalid), never a panic. A code is single
// use: the store advances the last accepted step with a compare-and-set.
//
// Secrets are sealed with XChaCha20-Poly1305 under a KeyRing; each record
// names its key and is bound to its account, user and enrolment, so keys
// rotate without downtime (see KeyRing and Service.RewrapTOTP).
//
// # Throttling
//
// See ThrottlePolicy. Failures are counted per user, factor and client in
// the store, after the check: a correct password or code never counts, and
// concurrent correct logins never wait for or throttle one another. The
// check's outcome is recorded in the same compare-and-swap that lets the
// attempt in (a check that uses a code up is made only with a slot of the
// counter reserved), so concurrent guesses cannot outrun the counter: of 50
// racing guesses at most Free (5) are answered and counted. After 5
// failures each attempt waits 1 s, 2 s, 4 s, … never more than 5 min (a
// soft lock that always ends); after 100 consecutive failures, NIST SP
// 800-63B rev 4's limit, the factor is locked for that client until
// Service.Unlock, a new password, or a success. Clients are either "any
// client without a trusted-device token" or one trusted device: every
// successful login returns a device token (LoginResult.DeviceToken) and a
// device that presents it has a counter of its own, so an outsider can
// slow down and lock only clients the user never logged in from. Unknown
// usernames are counted like real ones (under a keyed hash of the name),
// so delays and locks look the same for both. On top, in memory, each
// source network has a failure budget (20, refilled one per 30 s) and each
// account one more (100, refilled ten a second); while the account's is
// spent (password spraying), only sources with no failure left may try.
// Re-enrolling TOTP never resets a counter. A store outage or an ended
// context is returned as gdprkit.ErrUnavailable and counts against nobody.
//
// # Step-up
//
// A session proves its holder's identity at login only; security changes
// need a fresh proof within Config.StepUpWindow (default 10 min): StepUp
// checks a password or code and records the time on the session, and
// BeginTOTP, ConfirmTOTP, RemoveTOTP, GenerateRecoveryCodes and
// CreateToken take the session's Principal and call RequireStepUp.
// ipfilter asks CheckStepUp before changing IP rules when it is given the
// Service as its StepUp gate. A token or password-authenticated API call
// can never make these changes.
//
// # Recovery codes, API tokens, sessions
//
// GenerateRecoveryCodes yields ten codes of 120 bits each (24 base32
// characters in groups of four). Because each carries more than 112 bits,
// ASVS 5 §6.5.2 allows a SHA-256 instead of a salted password hash; the
// hash also binds account and user. Regenerating replaces the whole set.
//
// API tokens read "gdk_" + 30 base62 characters from crypto/rand (178
// bits) + a 6-character CRC-32 checksum, so scanners can recognise a leaked
// token and reject look-alikes without a lookup. Only the SHA-256 is
// stored, with scopes, optional expiry, revocation and a last-used time
// written in batches (Config.TokenUsageFlush, default 1 min). A token
// authenticates the API only; it is never accepted as a password or a
// second factor in an interactive login, and only on the surfaces it was
// created for (TokenSpec.Surfaces, default the API). For users with TOTP,
// the API never checks "username + password" (a password alone could only
// be confirmed): the attempt does the same work, counts as a failure and
// gets the same answer as a wrong password; they must use a token.
//
// Every login mints a new random 256-bit session token (only its SHA-256 is
// stored), with an idle timeout (default 1 h) and an absolute one (default
// 24 h), the values NIST SP 800-63B rev 4 suggests for AAL2. LastSeenAt is
// written at most once a minute. All sessions and tokens of a user are
// revoked when their password or TOTP changes and when the user is
// disabled or erased; RevokeAccount does it for a whole account (retention
// calls it on suspension). Regenerating recovery codes does not revoke.
// So that a login or CreateToken running concurrently with such a change
// cannot leave a credential behind, each reads the user again after
// storing its session or token and undoes it if the user was disabled,
// erased or changed their password meanwhile; and AuthenticateSession (one
// extra read of the user per request) and AuthenticateAPI refuse, and
// delete or revoke, a session or token whose user is gone or disabled or
// whose CreatedAt is before the user's PasswordChangedAt (compared in
// microseconds, as stored).
//
// # Choices where the issue is silent
//
//   - Usernames are compared after NFKC and Unicode case folding and stored
//     only in that canonical form; the host keeps the display form.
//   - Login challenges are stateless: sealed with the key ring, bound to
//     account, user and a fingerprint of the password hash (the one stored
//     after that login upgraded it, if it did), valid for 5 minutes. Replaying one only permits further (throttled, single-use)
//     second-factor attempts.
//   - A password change through ChangePassword or SetPassword revokes the
//     caller's own session too; the host logs the user in again.
//   - Config.RequireTwoFactor does not refuse logins of users without TOTP;
//     it marks the session EnrolmentRequired so the host can confine it to
//     enrolment.
package authn
