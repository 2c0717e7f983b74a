package retention_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// A trial nobody upgrades: suspended on day 14, terminated 60 days later,
// deleted 30 days after that, and gone from backups 30 days later.
func Example() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	svc, _ := retention.New(retention.Config{Store: memstore.New().Retention(), Clock: clock})
	sweeper, _ := retention.NewSweeper(retention.SweeperConfig{
		Service: svc,
		ConfigRemover: retention.ConfigRemoverFunc(func(ctx context.Context, a gdprkit.AccountID) error {
			fmt.Println("  host: domain stopped, configuration removed")
			return nil
		}),
		Eraser: retention.DataEraserFunc(func(ctx context.Context, a gdprkit.AccountID) error {
			fmt.Println("  host: tickets, contacts and files erased")
			return nil
		}),
		BackupExpirer: retention.BackupExpirerFunc(func(ctx context.Context, a gdprkit.AccountID) error {
			fmt.Println("  host: backups expired")
			return nil
		}),
	})

	_, _ = svc.Start(ctx, "acme", retention.EventStartTrial, "owner:ada")
	clock.Advance(200 * 24 * time.Hour)
	_, _ = sweeper.Sweep(ctx)

	history, _ := svc.History(ctx, "acme")
	for _, tr := range history {
		fmt.Printf("%s  %-10s by %s\n", tr.At.Format("2006-01-02"), tr.To, tr.Cause)
	}
	err := svc.AllowLogin(ctx, "acme")
	fmt.Println(errors.Is(err, gdprkit.ErrAccountTerminated))
	// Output:
	//   host: domain stopped, configuration removed
	//   host: tickets, contacts and files erased
	//   host: backups expired
	// 2026-01-01  trial      by event:start_trial
	// 2026-01-15  suspended  by timer:trial_expired
	// 2026-03-16  terminated by timer:lift_window_expired
	// 2026-04-15  deleted    by timer:deletion_due
	// 2026-05-15  purged     by timer:backups_expired
	// true
}

// The gate tells why access is refused.
func ExampleService_Check() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	svc, _ := retention.New(retention.Config{Store: memstore.New().Retention(), Clock: clock})
	_, _ = svc.Start(ctx, "acme", retention.EventStartPaid, "owner:ada")
	_, _ = svc.Apply(ctx, "acme", retention.EventBillingFailed, "billing")

	clock.Advance(7 * 24 * time.Hour)
	fmt.Println(svc.Check(ctx, "acme", retention.AccessAgent))
	clock.Advance(time.Second)
	err := svc.Check(ctx, "acme", retention.AccessPortal)
	fmt.Println(errors.Is(err, gdprkit.ErrAccountSuspended))
	fmt.Println(err)
	// Output:
	// <nil>
	// true
	// gdprkit: account suspended: customer_portal access denied, account is suspended since 2026-01-08T00:00:00Z
}

// A retention rule: tickets in trash for 30 days are deleted for good. The
// preview is exactly what the run then does; the held ticket is passed
// over and counted apart.
func ExampleSchedules() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	tickets := newMemTarget()
	tickets.holdsVisible = true
	tickets.add("acme", "T-1", "trash", "trashed_at", clock.Now().AddDate(0, 0, -45))
	tickets.add("acme", "T-2", "trash", "trashed_at", clock.Now().AddDate(0, 0, -3))
	tickets.add("acme", "T-3", "trash", "trashed_at", clock.Now().AddDate(0, 0, -60))
	tickets.hold("acme", "T-3", true)
	sch, _ := retention.NewSchedules(retention.ScheduleConfig{
		Store:   memstore.New().Retention(),
		Targets: map[retention.TargetKind]retention.Target{retention.KindTicket: tickets},
		Clock:   clock,
	})
	rule, _ := sch.AddRule(ctx, "acme", retention.TrashedTickets(30), "admin:ada")
	preview, _ := sch.Preview(ctx, "acme")
	fmt.Println(rule.Name+":", preview.Removed, "would go:", preview.Rules[0].Sample)
	rep, _ := sch.Run(ctx, "acme")
	fmt.Println("removed", rep.Removed, "held", rep.Held, "backlog", rep.Rules[0].Backlog)
	// Output:
	// trashed tickets after 30 days: 1 would go: [T-1]
	// removed 1 held 1 backlog false
}

func ExampleDiagram() {
	d := retention.Diagram(retention.DefaultPolicy())
	fmt.Println(d[:len("stateDiagram-v2")])
	// Output: stateDiagram-v2
}
