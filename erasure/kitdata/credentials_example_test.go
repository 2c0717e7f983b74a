package kitdata_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// Erasing a user deletes their login, sessions, second factors and API
// tokens one record at a time, in as many batches as it takes: the plan
// and the receipt count every record.
func ExampleCredentialsTarget() {
	ctx := context.Background()
	st := memstore.New()
	clock := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	keys, _ := authn.NewKeyRing("k1", map[string][]byte{"k1": authn.NewKey()})
	auth, _ := authn.New(authn.Config{Store: st.Authn(), Keys: keys, Clock: clock, Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	_ = auth.CreateUser(ctx, "acme", "ana", "ana", "correct horse battery staple")
	_, _ = auth.Login(ctx, authn.LoginRequest{Account: "acme", Username: "ana", Password: "a typo leaves a failure counter"})
	for range 4 {
		_, _ = auth.Login(ctx, authn.LoginRequest{Account: "acme", Username: "ana", Password: "correct horse battery staple"})
	}
	hd := memhelpdesk.New()
	hd.AddUser("acme", memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser, Name: "Ana"})
	hd.AddUser("acme", memhelpdesk.User{ID: "admin", Role: gdprkit.RoleAdmin, Name: "Ada"})
	graph, _ := erasure.NewGraph(append(hd.Targets(), kitdata.CredentialsTarget(auth.Credentials()))...)
	svc, _ := erasure.New(erasure.Config{Store: st.Erasure(), Graph: graph, Directory: hd, Pseudonymizer: ps, Clock: clock, BatchSize: 2})

	stored, _ := auth.CountUser(ctx, "acme", "ana")
	plan, _ := svc.Plan(ctx, "acme", "ana", erasure.ScopeFull, nil)
	req, _ := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
	_, _ = svc.RunUntilIdle(ctx, "worker-1")
	rc, _ := svc.Receipt(ctx, "acme", req.ID)
	left, _ := auth.CountUser(ctx, "acme", "ana")
	for _, t := range plan.Targets {
		if t.Kind == erasure.KindCredentials {
			fmt.Println("planned:", t.Deleted)
		}
	}
	for _, t := range rc.Targets {
		if t.Kind == erasure.KindCredentials {
			fmt.Println("receipt:", t.Deleted)
		}
	}
	fmt.Println("stored before:", stored.Total(), "after:", left.Total())
	// Output:
	// planned: 6
	// receipt: 6
	// stored before: 6 after: 0
}
