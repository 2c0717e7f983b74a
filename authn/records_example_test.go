package authn_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/fakeclock"
)

// An erasure finds a user's records one at a time, page by page, and
// deletes exactly those of each page, so it can count what it deleted.
func ExampleService_UserRecords() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	svc := newExampleService(clock)
	_ = svc.CreateUser(ctx, "acme", "u-1", "alice", "correct horse battery staple")
	// A typo leaves a failure counter (correct passwords alone leave none).
	_, _ = svc.Login(ctx, authn.LoginRequest{Account: "acme", Username: "alice", Password: "correct horse battery stapel"})
	for range 3 {
		_, _ = svc.Login(ctx, authn.LoginRequest{Account: "acme", Username: "alice", Password: "correct horse battery staple"})
	}

	var after authn.RecordRef
	deleted := 0
	for {
		page, err := svc.UserRecords(ctx, "acme", "u-1", after, 2)
		if err != nil {
			panic(err)
		}
		for _, r := range page {
			fmt.Println(r.Kind)
		}
		n, _ := svc.DeleteUserRecords(ctx, "acme", "u-1", page)
		deleted += n.Total()
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	left, _ := svc.CountUser(ctx, "acme", "u-1")
	fmt.Println("deleted:", deleted, "left:", left.Total())
	// Output:
	// user
	// session
	// session
	// session
	// throttle
	// deleted: 5 left: 0
}
