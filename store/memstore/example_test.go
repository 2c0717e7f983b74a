package memstore_test

import (
	"context"
	"fmt"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/store/memstore"
)

func Example() {
	st := memstore.New()
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps})
	_, err := svc.DefinePurpose(context.Background(), "acme", consent.Purpose{Key: "chat", Name: "Chat"})
	fmt.Println(err)
	// Output: <nil>
}
