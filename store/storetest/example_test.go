package storetest_test

import (
	"testing"

	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// Example shows the whole test file of an adapter: one call.
func Example() {
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
	}
}
