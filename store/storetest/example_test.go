package storetest_test

import (
	"testing"

	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// Example shows the whole test file of an adapter of the aggregate
// store.Store: one call.
func Example() {
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
	}
}

// ExampleRunConsent shows the test of an adapter of one domain: a host that
// keeps consent in its own tables passes its consent.Store, and only that,
// to the consent entry point. The other domains have entry points of the
// same shape (RunAuthn, RunErasure, RunRetention, RunSpam, RunIPFilter,
// RunBreach, RunStaffAccess).
func ExampleRunConsent() {
	_ = func(t *testing.T) {
		storetest.RunConsent(t, func(t *testing.T) consent.Store {
			return memstore.New().Consent() // the host's own adapter here
		})
	}
}
