package store_test

import (
	"context"
	"fmt"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// ExampleDeleteAccountData removes everything gdprkit's own stores hold for
// one account, as a retention sweeper does when a terminated account's data
// must go.
func ExampleDeleteAccountData() {
	ctx := context.Background()
	var st store.Store = memstore.New()
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := consent.New(st.Consent(), consent.Config{Pseudonymizer: ps})
	svc.DefinePurpose(ctx, "acme", consent.Purpose{Key: "chat", Name: "Chat"})
	svc.PublishPolicy(ctx, "acme", "chat", "Kept 12 months.", false, "owner")
	svc.Grant(ctx, "acme", consent.Decision{Subject: "ana", Purpose: "chat", Source: consent.SourcePreChat})

	err := store.DeleteAccountData(ctx, st, "acme")
	purposes, _ := svc.Purposes(ctx, "acme")
	fmt.Println(err, len(purposes))
	// Output: <nil> 0
}
