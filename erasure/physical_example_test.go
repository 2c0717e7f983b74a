package erasure_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// A physical step runs after the erasure's last batch, and the receipt
// records what it did; it runs once more after the receipt is written.
// erasure/sqltarget's Binding.Compact is the ready step for SQL databases.
func ExamplePhysicalFunc() {
	ctx := context.Background()
	hd := memhelpdesk.New()
	hd.AddUser("acme", memhelpdesk.User{ID: "admin", Role: gdprkit.RoleAdmin})
	hd.AddUser("acme", memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser, Name: "Ana"})
	graph, _ := erasure.NewGraph(hd.Targets()...)
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	step := erasure.PhysicalFunc(func(ctx context.Context, run erasure.PhysicalRun) (string, error) {
		fmt.Println("compacting after", run.Kinds, "after receipt:", run.AfterReceipt)
		return "example: compact", nil
	})
	svc, _ := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: graph, Directory: hd, Pseudonymizer: ps,
		Clock: fakeclock.New(time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)), Physical: []erasure.PhysicalStep{step}})
	req, _ := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
	_, _ = svc.RunOnce(ctx, "worker-1")
	rc, _ := svc.Receipt(ctx, "acme", req.ID)
	fmt.Printf("receipt: %+v\n", rc.Physical)
	// Output:
	// compacting after [end_user] after receipt: false
	// compacting after [end_user] after receipt: true
	// receipt: [{Step:example: compact Failed:false Error:}]
}
