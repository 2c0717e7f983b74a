package store_test

import (
	"context"
	"fmt"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// Example hands each service its own part of one adapter: the aggregate
// store is only a set of accessors, so a host can swap any one domain for
// its own implementation.
func Example() {
	ctx := context.Background()
	var st store.Store = memstore.New()
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps})
	_, _ = svc.DefinePurpose(ctx, "acme", consent.Purpose{Key: "chat", Name: "Chat"})
	purposes, err := svc.Purposes(ctx, "acme")
	fmt.Println(err, len(purposes))
	// Output: <nil> 1
}
