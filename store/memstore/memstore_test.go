package memstore_test

import (
	"testing"

	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// TestConformance runs every domain's entry point, each on stores of its
// own: a fresh memstore per test, of which the domain sees only its part.
func TestConformance(t *testing.T) {
	t.Run("Consent", func(t *testing.T) {
		t.Parallel()
		storetest.RunConsent(t, func(t *testing.T) consent.Store { return memstore.New().Consent() })
	})
	t.Run("Authn", func(t *testing.T) {
		t.Parallel()
		storetest.RunAuthn(t, func(t *testing.T) authn.Store { return memstore.New().Authn() })
	})
	t.Run("Erasure", func(t *testing.T) {
		t.Parallel()
		storetest.RunErasure(t, func(t *testing.T) erasure.Store { return memstore.New().Erasure() })
	})
	t.Run("Retention", func(t *testing.T) {
		t.Parallel()
		storetest.RunRetention(t, func(t *testing.T) retention.Store { return memstore.New().Retention() })
	})
	t.Run("Spam", func(t *testing.T) {
		t.Parallel()
		storetest.RunSpam(t, func(t *testing.T) spam.Store { return memstore.New().Spam() })
	})
	t.Run("IPFilter", func(t *testing.T) {
		t.Parallel()
		storetest.RunIPFilter(t, func(t *testing.T) ipfilter.Store { return memstore.New().IPFilter() })
	})
	t.Run("Breach", func(t *testing.T) {
		t.Parallel()
		storetest.RunBreach(t, func(t *testing.T) breach.Store { return memstore.New().Breach() })
	})
	t.Run("StaffAccess", func(t *testing.T) {
		t.Parallel()
		storetest.RunStaffAccess(t, func(t *testing.T) staffaccess.Store { return memstore.New().StaffAccess() })
	})
}

// TestConformanceAllInOne runs the all-in-one storetest.Run on one shared
// memstore, as an adapter of the whole aggregate would: every domain's
// cases then share the backing store, which the suite's isolation cases
// are written for.
func TestConformanceAllInOne(t *testing.T) {
	s := memstore.New()
	storetest.Run(t, func(t *testing.T) store.Store { return s })
}
