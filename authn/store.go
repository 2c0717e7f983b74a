package authn

import (
	"context"
	"time"

	"github.com/gdprkit/gdprkit"
)

// User is the credential record of one user. The host owns the user's
// profile; authn keeps only what it needs to authenticate: the canonical
// (NFKC, case-folded) username and the password hash.
type User struct {
	// ID is the host's user key, unique per account (at most 128 bytes).
	ID string
	// Username is the canonical login name, unique per account.
	Username string
	// PasswordHash is an argon2id PHC string or a legacy bcrypt hash.
	PasswordHash string
	// Disabled users cannot authenticate.
	Disabled bool
	// CreatedAt and PasswordChangedAt are set by the Service.
	CreatedAt         time.Time
	PasswordChangedAt time.Time
}

// Factor names an authentication factor for throttling.
type Factor string

// The factors whose failures are counted separately.
const (
	FactorPassword Factor = "password"
	FactorTOTP     Factor = "totp"
	FactorRecovery Factor = "recovery"
)

// ThrottleKey names one failure counter: a user, a factor and a client.
type ThrottleKey struct {
	// User is the user's ID; empty for a username that names no user, whose
	// attempts are counted all the same (so that throttling tells nobody
	// which usernames exist) under a Client that is "?" followed by a keyed
	// hash of the username.
	User string
	// Factor is the factor tried.
	Factor Factor
	// Client is empty for clients without a trusted-device token, or the
	// ID of the device (32 hex digits): a trusted device has a counter of
	// its own, which nobody else's failures raise.
	Client string
}

// Throttle is one failure counter.
type Throttle struct {
	// Failures counts consecutive failures: a success sets it to zero.
	Failures int
	// Last is when Failures last changed (the last failure, or the success
	// that cleared them).
	Last time.Time
	// Pending counts attempts reserved and not yet decided; the Service
	// reserves only for checks that use a code up (a matching TOTP code, a
	// recovery code). A reservation older than the Service's lease is
	// treated as abandoned.
	Pending int
	// PendingAt is when the latest reservation was made.
	PendingAt time.Time
	// Version is zero when there is no counter and changes with every
	// write; SwapThrottle compares it.
	Version int64
}

// TOTPRecord is one TOTP enrolment of a user. A user has at most one
// pending (unconfirmed) and one active record.
type TOTPRecord struct {
	// ID identifies the enrolment; confirming makes it active.
	ID     string
	UserID string
	// Pending is true until the first code confirms the enrolment.
	Pending bool
	// KeyID names the KeyRing key that sealed Sealed.
	KeyID  string
	Sealed []byte
	Params TOTPParams
	// LastStep is the last accepted time step; codes of that step or
	// earlier are refused. -1 when none was accepted yet.
	LastStep  int64
	CreatedAt time.Time
}

// APIToken is the stored form of an API token: its SHA-256, never the
// token itself.
type APIToken struct {
	ID     string
	UserID string
	// Hash is the SHA-256 of the token (32 bytes).
	Hash []byte
	// Name is the owner's label for the token ("CI deploy"); at most 100
	// bytes.
	Name string
	// Scopes the token grants; each a token of [a-z0-9:._-], at most 64
	// bytes.
	Scopes []string
	// Surfaces the token may be used on (Service.AuthenticateAPI refuses it
	// on any other), in order. Stores return [gdprkit.SurfaceAPI] for a
	// token stored without any (as those stored before surfaces were
	// recorded are).
	Surfaces  []gdprkit.Surface
	CreatedAt time.Time
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time
	// RevokedAt is zero while the token is live.
	RevokedAt time.Time
	// LastUsedAt is updated in batches (see Config.TokenUsageFlush).
	LastUsedAt time.Time
}

// Session is the stored form of a login session: the SHA-256 of its token,
// never the token.
type Session struct {
	ID     string
	UserID string
	Hash   []byte
	// SecondFactor is true when the login proved a second factor.
	SecondFactor bool
	CreatedAt    time.Time
	LastSeenAt   time.Time
	// ExpiresAt is the absolute timeout.
	ExpiresAt time.Time
	// VerifiedAt is when the holder last proved a password or a second
	// factor in this session: the login, then each Service.StepUp. Stores
	// return CreatedAt for a session stored without one.
	VerifiedAt time.Time
}

// Counts say how many records an erasure, deletion or revocation touched.
type Counts struct {
	Users         int `json:"users"`
	TOTP          int `json:"totp"`
	RecoveryCodes int `json:"recovery_codes"`
	Tokens        int `json:"tokens"`
	Sessions      int `json:"sessions"`
	Throttles     int `json:"throttles"`
}

// Total is the sum of all counts.
func (c Counts) Total() int {
	return c.Users + c.TOTP + c.RecoveryCodes + c.Tokens + c.Sessions + c.Throttles
}

// Store is the storage authn needs: one value holding every feature's
// part, so an adapter is one value (store/memstore and store/sqlstore
// implement it and pass store/storetest). Each feature's part is a small
// interface of its own, named after it, which a host that keeps one part in
// its own tables can implement alone and combine with an adapter's others.
//
// These rules hold for every method of every part. Every method takes the
// context first and the account next, and MUST NOT read or change data of
// any other account: a user ID, username, token hash or session hash of one
// account means nothing in another. Methods MUST be safe for concurrent
// use. Times are stored with at least microsecond precision and returned in
// UTC. Byte slices and string slices passed in MUST be copied if kept; those
// returned MUST NOT be shared with the store. A method that fails MUST leave
// the store unchanged. Errors wrap gdprkit.ErrNotFound, ErrConflict or
// ErrUnavailable where those apply.
type Store interface {
	CredentialStore
	ThrottleStore
	FactorStore
	TokenStore
	SessionStore
	RevocationStore
	RecordStore
}

// RecordStore lists a user's records one at a time and deletes exactly
// the ones named, so that an erasure counts what it deleted
// (Service.UserRecords, Service.DeleteUserRecords). It reaches the records
// of every other part.
type RecordStore interface {
	// UserRecords returns up to limit (1 or more) refs of the user's
	// records — the user record, TOTP enrolments (pending and active),
	// recovery codes, API tokens (revoked or not), sessions and failure
	// counters — that follow after: ordered by kind as RecordKinds lists
	// them, then by ID within a kind (recovery codes by hash bytes,
	// counters by factor, then client), in an order that is the same on
	// every call. The zero after starts from the first record; after need
	// not name a record that still exists. Fewer than limit refs means
	// there are no more. An after of an unknown kind or a limit below 1
	// fails with ErrInvalid.
	UserRecords(ctx context.Context, account gdprkit.AccountID, user string, after RecordRef, limit int) ([]RecordRef, error)
	// DeleteUserRecords deletes, atomically, the user's records that refs
	// name, and counts by kind those it deleted. A ref that names no
	// record of the user (already deleted, another user's, an unknown
	// kind or a malformed ID) counts zero and is not an error. Nothing
	// else changes: deleting the user record leaves the user's other
	// records in place.
	DeleteUserRecords(ctx context.Context, account gdprkit.AccountID, user string, refs []RecordRef) (Counts, error)
}

// CredentialStore keeps users: their canonical username and password hash.
// Its lifecycle methods (DeleteUser, CountUser, DeleteAccount) reach every
// other part's records of the user or account too, atomically.
type CredentialStore interface {
	// CreateUser adds u. It MUST fail with ErrConflict when the account
	// already has a user with u.ID or u.Username.
	CreateUser(ctx context.Context, account gdprkit.AccountID, u User) error
	// User returns the user with id, or ErrNotFound.
	User(ctx context.Context, account gdprkit.AccountID, id string) (User, error)
	// UserByUsername returns the user whose canonical username equals
	// username exactly, or ErrNotFound.
	UserByUsername(ctx context.Context, account gdprkit.AccountID, username string) (User, error)
	// SetPassword replaces the user's password hash and sets
	// PasswordChangedAt to at; ErrNotFound for an unknown user.
	SetPassword(ctx context.Context, account gdprkit.AccountID, id, hash string, at time.Time) error
	// RehashPassword replaces the hash only if it still equals old (a
	// compare-and-set, so a rehash never overwrites a concurrent password
	// change) and reports whether it did. PasswordChangedAt is unchanged.
	RehashPassword(ctx context.Context, account gdprkit.AccountID, id, old, new string) (bool, error)
	// SetUserDisabled sets the disabled flag; ErrNotFound for an unknown
	// user.
	SetUserDisabled(ctx context.Context, account gdprkit.AccountID, id string, disabled bool) error
	// DeleteUser deletes the user and every credential, TOTP record,
	// recovery code, API token (revoked or not), session and throttle
	// counter of the user, atomically, and counts them. An unknown user is
	// not an error: the counts are zero.
	DeleteUser(ctx context.Context, account gdprkit.AccountID, id string) (Counts, error)
	// CountUser counts what DeleteUser would delete, changing nothing.
	CountUser(ctx context.Context, account gdprkit.AccountID, id string) (Counts, error)
	// DeleteAccount deletes all authn data of the account and counts it.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID) (Counts, error)
}

// ThrottleStore keeps the failure counters that slow down guessing.
type ThrottleStore interface {
	// Throttle returns the counter k; the zero Throttle (Version 0) when
	// there is none.
	Throttle(ctx context.Context, account gdprkit.AccountID, k ThrottleKey) (Throttle, error)
	// SwapThrottle sets counter k to t only if its current Version equals
	// oldVersion (0: only if there is no counter k), and reports whether it
	// did. t.Version is never 0 and differs from oldVersion. Of concurrent
	// swaps from the same old version exactly one wins.
	SwapThrottle(ctx context.Context, account gdprkit.AccountID, k ThrottleKey, oldVersion int64, t Throttle) (bool, error)
	// ResetThrottle deletes the user's counters of factor f (of every
	// client), or all of the user's counters when f is empty.
	ResetThrottle(ctx context.Context, account gdprkit.AccountID, user string, f Factor) error
	// PurgeThrottles deletes the account's counters whose Last and
	// PendingAt are both before before and that either have no Failures or
	// have no User (those of usernames that name no user), and counts them.
	PurgeThrottles(ctx context.Context, account gdprkit.AccountID, before time.Time) (int, error)
}

// FactorStore keeps second factors: TOTP enrolments (secrets sealed by the
// Service) and recovery code hashes.
type FactorStore interface {
	// PutPendingTOTP stores r (with Pending true) as the user's pending
	// enrolment, replacing any earlier pending one; the active record, if
	// any, is untouched.
	PutPendingTOTP(ctx context.Context, account gdprkit.AccountID, r TOTPRecord) error
	// TOTP returns the user's pending or active record, or ErrNotFound.
	TOTP(ctx context.Context, account gdprkit.AccountID, user string, pending bool) (TOTPRecord, error)
	// ActivateTOTP atomically turns the pending record with id into the
	// active one (replacing any active record) with LastStep = step. It
	// fails with ErrNotFound when there is no pending record with that id,
	// so of concurrent confirmations exactly one succeeds.
	ActivateTOTP(ctx context.Context, account gdprkit.AccountID, user, id string, step int64) error
	// AdvanceTOTPStep sets the active record's LastStep to step only if the
	// active record has this id and its LastStep is below step, and
	// reports whether it did. This compare-and-set makes codes single-use:
	// of concurrent calls with the same step exactly one returns true.
	AdvanceTOTPStep(ctx context.Context, account gdprkit.AccountID, user, id string, step int64) (bool, error)
	// DeleteTOTP deletes the user's pending and active records and returns
	// how many there were.
	DeleteTOTP(ctx context.Context, account gdprkit.AccountID, user string) (int, error)
	// TOTPSealedWith lists up to limit records (active or pending) of the
	// account whose KeyID is not keyID, for re-sealing after a key
	// rotation.
	TOTPSealedWith(ctx context.Context, account gdprkit.AccountID, notKeyID string, limit int) ([]TOTPRecord, error)
	// ResealTOTP replaces the sealed secret of the record with id only if
	// it is still sealed under oldKeyID, and reports whether it did.
	ResealTOTP(ctx context.Context, account gdprkit.AccountID, user, id, oldKeyID, keyID string, sealed []byte) (bool, error)

	// ReplaceRecoveryCodes atomically deletes the user's recovery codes and
	// stores the given hashes (32 bytes each) instead.
	ReplaceRecoveryCodes(ctx context.Context, account gdprkit.AccountID, user string, hashes [][]byte, at time.Time) error
	// UseRecoveryCode deletes the user's code with hash and reports whether
	// there was one; of concurrent uses exactly one returns true.
	UseRecoveryCode(ctx context.Context, account gdprkit.AccountID, user string, hash []byte) (bool, error)
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, account gdprkit.AccountID, user string) (int, error)
}

// TokenStore keeps API tokens (their SHA-256, never the token).
type TokenStore interface {
	// CreateToken stores t; ErrConflict when its ID or Hash exists.
	CreateToken(ctx context.Context, account gdprkit.AccountID, t APIToken) error
	// TokenByHash returns the token (revoked or not) with that hash, or
	// ErrNotFound.
	TokenByHash(ctx context.Context, account gdprkit.AccountID, hash []byte) (APIToken, error)
	// Tokens lists the user's tokens, revoked ones included, oldest first.
	Tokens(ctx context.Context, account gdprkit.AccountID, user string) ([]APIToken, error)
	// RevokeToken sets RevokedAt of the user's token id, if not yet set;
	// ErrNotFound when the user has no such token.
	RevokeToken(ctx context.Context, account gdprkit.AccountID, user, id string, at time.Time) error
	// TouchTokens raises LastUsedAt of each token ID in used to the given
	// time (never lowers it), in one batch; unknown IDs are ignored.
	TouchTokens(ctx context.Context, account gdprkit.AccountID, used map[string]time.Time) error
}

// SessionStore keeps login sessions (the SHA-256 of their token, never the
// token).
type SessionStore interface {
	// CreateSession stores s; ErrConflict when its ID or Hash exists.
	CreateSession(ctx context.Context, account gdprkit.AccountID, s Session) error
	// SessionByHash returns the session with that hash, or ErrNotFound.
	SessionByHash(ctx context.Context, account gdprkit.AccountID, hash []byte) (Session, error)
	// Session returns the user's session id, or ErrNotFound.
	Session(ctx context.Context, account gdprkit.AccountID, user, id string) (Session, error)
	// SetSessionVerified sets VerifiedAt of the user's session id to at if
	// that is later; ErrNotFound when the user has no such session.
	SetSessionVerified(ctx context.Context, account gdprkit.AccountID, user, id string, at time.Time) error
	// TouchSession sets LastSeenAt of session id to at if that is later;
	// an unknown id is not an error.
	TouchSession(ctx context.Context, account gdprkit.AccountID, id string, at time.Time) error
	// Sessions lists the user's sessions, oldest first.
	Sessions(ctx context.Context, account gdprkit.AccountID, user string) ([]Session, error)
	// DeleteSession deletes the user's session id; ErrNotFound when the
	// user has no such session.
	DeleteSession(ctx context.Context, account gdprkit.AccountID, user, id string) error
	// DeleteSessionsBefore deletes the account's sessions whose absolute
	// expiry is before expiredBefore or whose LastSeenAt is before
	// idleBefore, and counts them.
	DeleteSessionsBefore(ctx context.Context, account gdprkit.AccountID, expiredBefore, idleBefore time.Time) (int, error)
}

// RevocationStore ends what a credential change must end: a user's (or a
// whole account's) sessions and API tokens, in one atomic step.
type RevocationStore interface {
	// RevokeUser atomically deletes all sessions of the user and revokes
	// (sets RevokedAt of) all the user's live tokens, counting both.
	RevokeUser(ctx context.Context, account gdprkit.AccountID, user string, at time.Time) (Counts, error)
	// RevokeAccount does RevokeUser for every user of the account.
	RevokeAccount(ctx context.Context, account gdprkit.AccountID, at time.Time) (Counts, error)
}
