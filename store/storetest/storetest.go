// Package storetest is the conformance suite every gdprkit storage adapter
// passes. An adapter's test file is a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
//	}
//
// The factory must return a store that is ready to use (migrated). It may
// return the same backing database to several tests: every test works in
// accounts of its own (random AccountIDs), which is itself part of what the
// suite checks — nothing written for one account is visible to, or changed
// by, another.
//
// Domains are grouped as parallel subtests: Consent, …, and TenantIsolation.
// Unavailable calls every method of every domain with a context that has
// ended and expects gdprkit.ErrUnavailable and no change.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/store"
)

// Factory returns a fresh, migrated store for one test.
type Factory func(t *testing.T) store.Store

// Run runs the whole conformance suite against the adapter f builds.
func Run(t *testing.T, f Factory) {
	t.Helper()
	t.Run("Consent", func(t *testing.T) { t.Parallel(); runConsent(t, f) })
	t.Run("Retention", func(t *testing.T) { t.Parallel(); runRetention(t, f) })
	t.Run("IPFilter", func(t *testing.T) { t.Parallel(); runIPFilter(t, f) })
	t.Run("Authn", func(t *testing.T) { t.Parallel(); runAuthn(t, f) })
	t.Run("Spam", func(t *testing.T) { t.Parallel(); runSpam(t, f) })
	t.Run("Erasure", func(t *testing.T) { t.Parallel(); runErasure(t, f) })
	t.Run("ErasureRights", func(t *testing.T) { t.Parallel(); runErasureRights(t, f) })
	t.Run("Breach", func(t *testing.T) { t.Parallel(); runBreach(t, f) })
	t.Run("StaffAccess", func(t *testing.T) { t.Parallel(); runStaffAccess(t, f) })
	t.Run("Unavailable", func(t *testing.T) { t.Parallel(); runUnavailable(t, f) })
	// Each domain adds one line here: t.Run("<Domain>", …run<Domain>(t, f)).
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
