package breach_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// A breach is recorded, its subjects found, the authority, the DPO and the
// subjects notified through the host's notifier, and the register answers
// "when did you notify" with its history verified.
func Example() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := breach.New(breach.Config{
		Store: memstore.New().Breach(), Pseudonymizer: ps, Clock: clock, Authority: "Example DPA",
		// The host answers "who had attachments in this bucket then".
		Finder: breach.FinderFunc(func(ctx context.Context, a gdprkit.AccountID, c breach.Criteria) ([]gdprkit.SubjectID, error) {
			return []gdprkit.SubjectID{"ana", "bob"}, nil
		}),
		// The host delivers; the notice ID is the idempotency key.
		Notifier: breach.NotifierFunc(func(ctx context.Context, m breach.Message) (string, error) {
			fmt.Println("send to", m.Notice.To)
			return "case-1", nil
		}),
	})

	b, _ := svc.Record(ctx, "acme", breach.Report{
		Title: "Attachment bucket public", Nature: "Attachments were readable without authentication.",
		OccurredAt: clock.Now().Add(-6 * time.Hour), AwareAt: clock.Now().Add(-time.Hour),
		Kinds: []string{"attachment"}, HighRisk: true, By: "admin-1",
	})
	n, _ := svc.FindSubjects(ctx, "acme", b.ID, breach.Criteria{Where: "bucket-a"}, "admin-1")
	fmt.Println("subjects found:", n)
	_, _ = svc.Notify(ctx, "acme", b.ID, breach.NotifyRequest{Authority: true, Subjects: true, By: "admin-1"})
	clock.Advance(time.Minute)
	svc.RunUntilIdle(ctx, "worker-1")

	reg, _ := svc.Register(ctx, "acme")
	e := reg.Breaches[0]
	fmt.Println(e.Breach.State, "at", e.Breach.AuthorityNotifiedAt.Format(time.RFC3339), "late:", e.Late)
	fmt.Println("subjects told:", e.Subjects.Sent, "history verified:", reg.Verification.OK)
	// Output:
	// subjects found: 2
	// send to authority
	// send to subject
	// send to subject
	// notified at 2026-03-02T09:01:00Z late: false
	// subjects told: 2 history verified: true
}
