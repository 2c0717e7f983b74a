// Package storetest is the conformance suite every gdprkit storage adapter
// passes. An adapter of the whole aggregate store.Store has a test file of a
// few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
//	}
//
// # One entry point per domain
//
// A host that keeps only part of gdprkit's data in its own tables (its
// consent records, say) proves that adapter alone. Every domain has an
// entry point of one shape, Run<Domain>(t, factory), whose factory returns
// just that domain package's Store interface:
//
//	RunConsent(t, func(t *testing.T) consent.Store)
//	RunAuthn(t, func(t *testing.T) authn.Store)
//	RunErasure(t, func(t *testing.T) erasure.Store)        // requests, jobs, receipts, holds and Art. 18 restrictions
//	RunRetention(t, func(t *testing.T) retention.Store)
//	RunSpam(t, func(t *testing.T) spam.Store)
//	RunIPFilter(t, func(t *testing.T) ipfilter.Store)
//	RunBreach(t, func(t *testing.T) breach.Store)
//	RunStaffAccess(t, func(t *testing.T) staffaccess.Store)
//
// examples/hostconsent is such an adapter — consent in the host's own
// tables — with its test, which is a template for a host's own.
//
// Run is all of them over one store.Store: it calls every Run<Domain> with
// the store's accessor (s.Consent(), s.Authn(), …), each as a parallel
// subtest named after the domain. An adapter test that wraps each
// Run<Domain> in a subtest of the same name (as memstore's and sqlstore's
// do) gives every case the name it has under Run: Consent/…, Authn/….
//
// # The factory
//
// A factory returns a store that is ready to use (migrated). It may return
// the same backing database to several tests: every test works in accounts
// of its own (random AccountIDs from NewAccount), which is itself part of
// what the suite checks. The cases of a domain run as parallel subtests, so
// the store must be safe for concurrent use. A few domains have global
// queues (erasure jobs, breach notices, retention's due accounts): their
// cases that claim from the queue run one after another and use times no
// other case uses, so a shared database does not disturb them.
//
// # What every domain's run holds
//
// Beside the domain's behaviour, every Run<Domain> has two groups:
//
//   - TenantIsolation: data written under one account is never visible,
//     changed or deleted through another — not by reads, writes or deletes
//     that name the first account's IDs, not by deleting the other account,
//     and not by an account ID that differs from the first only by white
//     space (what a PAD SPACE collation would take for it, #15).
//   - Unavailable: every method of the domain's Store, called with a
//     context that has ended, fails with an error wrapping
//     gdprkit.ErrUnavailable (and context.Canceled), and a write so refused
//     changes nothing.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store"
)

// Factory returns a fresh, migrated aggregate store for one test.
type Factory func(t *testing.T) store.Store

// Run runs the whole conformance suite against the adapter f builds: every
// Run<Domain> over the matching accessor of the store, each a parallel
// subtest named after its domain.
func Run(t *testing.T, f Factory) {
	t.Helper()
	t.Run("Consent", func(t *testing.T) {
		t.Parallel()
		RunConsent(t, func(t *testing.T) consent.Store { return f(t).Consent() })
	})
	t.Run("Retention", func(t *testing.T) {
		t.Parallel()
		RunRetention(t, func(t *testing.T) retention.Store { return f(t).Retention() })
	})
	t.Run("IPFilter", func(t *testing.T) {
		t.Parallel()
		RunIPFilter(t, func(t *testing.T) ipfilter.Store { return f(t).IPFilter() })
	})
	t.Run("Authn", func(t *testing.T) {
		t.Parallel()
		RunAuthn(t, func(t *testing.T) authn.Store { return f(t).Authn() })
	})
	t.Run("Spam", func(t *testing.T) {
		t.Parallel()
		RunSpam(t, func(t *testing.T) spam.Store { return f(t).Spam() })
	})
	t.Run("Erasure", func(t *testing.T) {
		t.Parallel()
		RunErasure(t, func(t *testing.T) erasure.Store { return f(t).Erasure() })
	})
	t.Run("Breach", func(t *testing.T) {
		t.Parallel()
		RunBreach(t, func(t *testing.T) breach.Store { return f(t).Breach() })
	})
	t.Run("StaffAccess", func(t *testing.T) {
		t.Parallel()
		RunStaffAccess(t, func(t *testing.T) staffaccess.Store { return f(t).StaffAccess() })
	})
	// A new domain adds its Run<Domain> below and one t.Run here.
}

// RunConsent runs the consent.Store cases against the stores f returns:
// purposes, policy versions, the hash-chained records, the current state,
// pseudonymisation in batches, Rewrite, version-1 chains, account deletion,
// TenantIsolation and Unavailable.
func RunConsent(t *testing.T, f func(t *testing.T) consent.Store) {
	t.Helper()
	t.Run("Unavailable", func(t *testing.T) { t.Parallel(); runUnavailable(t, "Consent", f, endedConsent) })
	runConsent(t, f)
}

// RunAuthn runs the authn.Store cases against the stores f returns: users,
// credentials, TOTP, recovery codes, tokens, sessions, throttling,
// revocation and the record listing for erasure, plus TenantIsolation and
// Unavailable.
func RunAuthn(t *testing.T, f func(t *testing.T) authn.Store) {
	t.Helper()
	t.Run("Unavailable", func(t *testing.T) { t.Parallel(); runUnavailable(t, "Authn", f, endedAuthn) })
	runAuthn(t, f)
}

// RunErasure runs the erasure.Store cases against the stores f returns:
// requests, the job queue and its leases, receipts, tombstones, holds,
// account scrubbing and the Art. 18 restriction marks (subtest Rights),
// plus TenantIsolation and Unavailable.
func RunErasure(t *testing.T, f func(t *testing.T) erasure.Store) {
	t.Helper()
	t.Run("Unavailable", func(t *testing.T) { t.Parallel(); runUnavailable(t, "Erasure", f, endedErasure) })
	t.Run("Rights", func(t *testing.T) { t.Parallel(); runErasureRights(t, f) })
	runErasure(t, f)
}

// RunRetention runs the retention.Store cases against the stores f
// returns: lifecycle records and transitions, due-account leases, rules,
// batches, schedule state and the pause switch, plus TenantIsolation and
// Unavailable.
func RunRetention(t *testing.T, f func(t *testing.T) retention.Store) {
	t.Helper()
	t.Run("Unavailable", func(t *testing.T) { t.Parallel(); runUnavailable(t, "Retention", f, endedRetention) })
	runRetention(t, f)
}

// RunSpam runs the spam.Store cases against the stores f returns: the
// model's counts, lessons, forgetting and reset, plus TenantIsolation and
// Unavailable.
func RunSpam(t *testing.T, f func(t *testing.T) spam.Store) {
	t.Helper()
	t.Run("Unavailable", func(t *testing.T) { t.Parallel(); runUnavailable(t, "Spam", f, endedSpam) })
	runSpam(t, f)
}

// RunIPFilter runs the ipfilter.Store cases against the stores f returns:
// versioned rule replacement per surface and account deletion, plus
// TenantIsolation and Unavailable.
func RunIPFilter(t *testing.T, f func(t *testing.T) ipfilter.Store) {
	t.Helper()
	t.Run("Unavailable", func(t *testing.T) { t.Parallel(); runUnavailable(t, "IPFilter", f, endedIPFilter) })
	runIPFilter(t, f)
}

// RunBreach runs the breach.Store cases against the stores f returns:
// breaches, affected subjects, the notification outbox and its leases, and
// the hash-chained history, plus TenantIsolation and Unavailable.
func RunBreach(t *testing.T, f func(t *testing.T) breach.Store) {
	t.Helper()
	t.Run("Unavailable", func(t *testing.T) { t.Parallel(); runUnavailable(t, "Breach", f, endedBreach) })
	runBreach(t, f)
}

// RunStaffAccess runs the staffaccess.Store cases against the stores f
// returns: grants and their hash-chained trail, plus TenantIsolation and
// Unavailable.
func RunStaffAccess(t *testing.T, f func(t *testing.T) staffaccess.Store) {
	t.Helper()
	t.Run("Unavailable", func(t *testing.T) { t.Parallel(); runUnavailable(t, "StaffAccess", f, endedStaffAccess) })
	runStaffAccess(t, f)
}

// NewAccount returns a random account ID, unique to the calling test.
func NewAccount(t testing.TB) gdprkit.AccountID {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	return gdprkit.AccountID("acct-" + hex.EncodeToString(b[:]))
}

// T0 is the reference time tests start their fake clocks at.
var T0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
