package gdprkit

import "errors"

// Sentinel errors. Every package wraps one of these with %w and its own
// detail; callers test with errors.Is. Storage adapters map their driver's
// errors into them (a unique-key violation becomes ErrConflict, and so on).
var (
	// ErrNotFound: the thing asked for does not exist in this account.
	ErrNotFound = errors.New("gdprkit: not found")
	// ErrConflict: the write collides with existing state (duplicate key,
	// lost compare-and-set, stale version).
	ErrConflict = errors.New("gdprkit: conflict")
	// ErrInvalid: the input is malformed or out of bounds; nothing was changed.
	ErrInvalid = errors.New("gdprkit: invalid input")
	// ErrForbidden: the actor may not do this (role hierarchy, policy).
	ErrForbidden = errors.New("gdprkit: forbidden")
	// ErrUnauthenticated: credentials are missing or wrong. Messages never say
	// which part was wrong.
	ErrUnauthenticated = errors.New("gdprkit: unauthenticated")
	// ErrLocked: too many failures; try again later.
	ErrLocked = errors.New("gdprkit: locked")
	// ErrAccountSuspended: the account is suspended; no login, no data access.
	ErrAccountSuspended = errors.New("gdprkit: account suspended")
	// ErrAccountTerminated: the account is terminated or deleted.
	ErrAccountTerminated = errors.New("gdprkit: account terminated")
	// ErrLeaseLost: a durable job's lease was taken over by another worker;
	// the holder must stop without writing.
	ErrLeaseLost = errors.New("gdprkit: lease lost")
	// ErrUnavailable: the backing store failed in a way that may pass
	// (connection lost, deadlock, serialization failure); retrying may help.
	ErrUnavailable = errors.New("gdprkit: storage unavailable")
)
