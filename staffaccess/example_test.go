package staffaccess_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// The vendor asks, the account's admin approves, every access is recorded,
// and after revocation access is refused; the trail answers "who at the
// vendor saw this customer's data and who approved it".
func Example() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	svc, _ := staffaccess.New(staffaccess.Config{Store: memstore.New().StaffAccess(), Clock: clock})

	g, _ := svc.Request(ctx, "acme", staffaccess.Request{Staff: "vendor:eva", Purpose: "Ticket #4411", Until: clock.Now().Add(24 * time.Hour)})
	_, err := svc.Access(ctx, "acme", "vendor:eva", "GET /tickets/7")
	fmt.Println("before approval:", errors.Is(err, gdprkit.ErrForbidden))

	_, _ = svc.Approve(ctx, "acme", g.ID, staffaccess.Actor{ID: "dana", Role: gdprkit.RoleAdmin}, "")
	_, err = svc.Access(ctx, "acme", "vendor:eva", "GET /tickets/7")
	fmt.Println("after approval:", err)

	_, _ = svc.Revoke(ctx, "acme", g.ID, staffaccess.Actor{ID: "dana", Role: gdprkit.RoleAdmin})
	_, err = svc.Access(ctx, "acme", "vendor:eva", "GET /tickets/8")
	fmt.Println("after revocation:", errors.Is(err, staffaccess.ErrNoGrant))

	tr, _ := svc.Trail(ctx, "acme", staffaccess.TrailQuery{})
	for _, a := range tr.Accesses {
		fmt.Println(a.Staff, a.What, "approved by", a.ApprovedBy, "("+a.ApprovedRole+")")
	}
	fmt.Println("trail verified:", tr.Verification.OK)
	// Output:
	// before approval: true
	// after approval: <nil>
	// after revocation: true
	// vendor:eva GET /tickets/7 approved by dana (admin)
	// trail verified: true
}
