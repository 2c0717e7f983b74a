package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

func staffAdapters(b *testing.B) map[string]func(*testing.B) staffaccess.Store {
	as := map[string]func(*testing.B) staffaccess.Store{"memstore": func(*testing.B) staffaccess.Store { return memstore.New().StaffAccess() }}
	for _, d := range testdb.Dialects(b) {
		as[string(d)] = func(b *testing.B) staffaccess.Store { s, _ := testdb.OpenStore(b, d); return s.StaffAccess() }
	}
	return as
}

// BenchmarkStaffAccess measures one Access under a live grant: the grant
// check and the trail append in one transaction.
func BenchmarkStaffAccess(b *testing.B) {
	ctx := context.Background()
	for name, open := range staffAdapters(b) {
		b.Run(name, func(b *testing.B) {
			clock := fakeclock.New(storetest.T0)
			svc, err := staffaccess.New(staffaccess.Config{Store: open(b), Clock: clock})
			if err != nil {
				b.Fatal(err)
			}
			a := storetest.NewAccount(b)
			g, err := svc.Request(ctx, a, staffaccess.Request{Staff: "vendor:eva", Purpose: "bench", Until: clock.Now().Add(time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := svc.Approve(ctx, a, g.ID, staffaccess.Actor{ID: "owner", Role: gdprkit.RoleOwner}, ""); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := svc.Access(ctx, a, "vendor:eva", "GET /tickets/"+fmt.Sprint(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStaffTrail measures Trail (read and verify the whole trail) of
// an account with 1,000 accesses.
func BenchmarkStaffTrail(b *testing.B) {
	ctx := context.Background()
	for name, open := range staffAdapters(b) {
		b.Run(name, func(b *testing.B) {
			clock := fakeclock.New(storetest.T0)
			svc, err := staffaccess.New(staffaccess.Config{Store: open(b), Clock: clock})
			if err != nil {
				b.Fatal(err)
			}
			a := storetest.NewAccount(b)
			g, _ := svc.Request(ctx, a, staffaccess.Request{Staff: "vendor:eva", Purpose: "bench", Until: clock.Now().Add(time.Hour)})
			if _, err := svc.Approve(ctx, a, g.ID, staffaccess.Actor{ID: "owner", Role: gdprkit.RoleOwner}, ""); err != nil {
				b.Fatal(err)
			}
			for i := range 1000 {
				if _, err := svc.Access(ctx, a, "vendor:eva", "GET /tickets/"+fmt.Sprint(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				tr, err := svc.Trail(ctx, a, staffaccess.TrailQuery{})
				if err != nil || !tr.Verification.OK || len(tr.Accesses) != 1000 {
					b.Fatal(err, tr.Verification.Problem)
				}
			}
		})
	}
}
