package ipfilter

import (
	"context"

	"github.com/gdprkit/gdprkit"
)

// SurfaceRules are the two lists of one surface of one account. An empty
// Allow list means the restriction is off for that surface (the Deny list
// still applies).
type SurfaceRules struct {
	Surface gdprkit.Surface
	Allow   []Entry
	Deny    []Entry
}

// Empty reports whether both lists are empty.
func (r SurfaceRules) Empty() bool { return len(r.Allow) == 0 && len(r.Deny) == 0 }

// RuleSet is everything stored for one account: the rules of every surface
// that has any, and the account's version.
type RuleSet struct {
	Account gdprkit.AccountID
	// Version counts the account's changes: 0 before the first, then +1 for
	// each successful ReplaceRules or DeleteAccount.
	Version int64
	// Surfaces holds one element per surface with at least one entry,
	// sorted by Surface.
	Surfaces []SurfaceRules
}

// Surface returns the rules of surface s (empty when it has none).
func (rs RuleSet) Surface(s gdprkit.Surface) SurfaceRules {
	for _, r := range rs.Surfaces {
		if r.Surface == s {
			return r
		}
	}
	return SurfaceRules{Surface: s}
}

// Store keeps IP rules per account, with a version per account that every
// process of a deployment polls to notice changes. Implementations are
// provided by store/memstore and store/sqlstore and checked by
// store/storetest.
//
// Every method takes the context first and the account next, and never
// reads or changes another account's rules. Implementations MUST be safe for
// concurrent use by several goroutines and, for shared databases, several
// processes. Implementations MUST return gdprkit.ErrInvalid (and change
// nothing) for an account ID that fails Validate or an empty surface, and
// MUST NOT otherwise judge the entries: parsing, normalising and policy are
// the Filter's job. Implementations MUST map transient backend failures to
// gdprkit.ErrUnavailable.
type Store interface {
	// Rules returns the account's rules and version, read consistently (the
	// version is the one the rules belong to). Entries come back in the order
	// they were written, with Prefix, Note, AddedBy and AddedAt as written
	// (AddedAt at microsecond precision, UTC). An account never written
	// returns version 0 and no surfaces, not ErrNotFound. Surfaces with no
	// entry MUST NOT be returned.
	Rules(ctx context.Context, account gdprkit.AccountID) (RuleSet, error)

	// Version returns the account's current version (0 if never written).
	// It MUST be cheap: every process calls it once per refresh interval
	// for every account it has cached.
	Version(ctx context.Context, account gdprkit.AccountID) (int64, error)

	// ReplaceRules replaces both lists of rules.Surface with rules.Allow and
	// rules.Deny, atomically, if and only if the account's version is still
	// expectedVersion, and returns the new version, expectedVersion+1. On a
	// version mismatch it MUST return an error wrapping gdprkit.ErrConflict
	// and change nothing. Replacing with two empty lists removes the surface
	// but still bumps the version. Other surfaces are left unchanged.
	ReplaceRules(ctx context.Context, account gdprkit.AccountID, rules SurfaceRules, expectedVersion int64) (int64, error)

	// DeleteAccount removes every rule of the account (for example when the
	// account is terminated) and returns the new version. The version MUST
	// keep counting up from where it was, never restart at 0, so a process
	// holding an old snapshot always sees a different version.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID) (int64, error)
}
