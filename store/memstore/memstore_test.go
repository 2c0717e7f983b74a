package memstore_test

import (
	"testing"

	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}
