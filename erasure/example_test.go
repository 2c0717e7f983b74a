package erasure_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/memstore"
)

func ExampleDueDate() {
	jan31 := time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
	fmt.Println(erasure.DueDate(jan31, 0).Format(time.DateOnly))
	fmt.Println(erasure.DueDate(jan31, 2).Format(time.DateOnly), "(extended by two months)")
	// Output:
	// 2026-02-28
	// 2026-04-30 (extended by two months)
}

func Example() {
	ctx := context.Background()
	hd := memhelpdesk.New()
	hd.AddUser("acme", memhelpdesk.User{ID: "admin", Role: gdprkit.RoleAdmin, Name: "Adam"})
	hd.AddUser("acme", memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser, Name: "Ana", Email: "ana@example.com"})
	hd.Update("acme", func(d *memhelpdesk.Data) {
		d.Tickets["t1"] = memhelpdesk.Ticket{ID: "t1", Requester: "ana", Subject: "Refund"}
		d.Messages["m1"] = memhelpdesk.Message{ID: "m1", Ticket: "t1", Author: "ana", Body: "Hi"}
		d.Attachments["a1"] = memhelpdesk.Attachment{ID: "a1", Message: "m1", BlobKey: "files/a1.png"}
	})
	hd.Blobs.Put("acme", "files/a1.png", make([]byte, 2048))

	graph, _ := erasure.NewGraph(hd.Targets()...)
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: graph, Directory: hd, Pseudonymizer: ps,
		Clock: fakeclock.New(time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC))})

	plan, _ := svc.Plan(ctx, "acme", "ana", erasure.ScopeFull, nil)
	for _, t := range plan.Targets {
		if t.Deleted > 0 {
			fmt.Printf("would delete %d %s (%d bytes)\n", t.Deleted, t.Kind, t.Bytes)
		}
	}
	req, _ := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
	fmt.Println("due", req.DueAt.Format(time.DateOnly))
	_, _ = svc.RunOnce(ctx, "worker-1")
	rc, _ := svc.Receipt(ctx, "acme", req.ID)
	_, err := svc.VerifyReceipts(ctx, "acme")
	fmt.Println("receipt", rc.Seq, "partial:", rc.Partial, "chain ok:", err == nil, "files left:", hd.Blobs.Len("acme"))
	// Output:
	// would delete 1 identity (0 bytes)
	// would delete 1 blob (2048 bytes)
	// would delete 1 attachment (0 bytes)
	// would delete 1 message (0 bytes)
	// would delete 1 ticket (0 bytes)
	// would delete 1 end_user (0 bytes)
	// due 2026-02-28
	// receipt 1 partial: false chain ok: true files left: 0
}

func ExampleService_Authorize() {
	hd := memhelpdesk.New()
	for _, u := range []memhelpdesk.User{{ID: "owner", Role: gdprkit.RoleOwner}, {ID: "agent", Role: gdprkit.RoleAgent},
		{ID: "ana", Role: gdprkit.RoleEndUser}} {
		hd.AddUser("acme", u)
	}
	graph, _ := erasure.NewGraph(hd.Targets()...)
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: graph, Directory: hd, Pseudonymizer: ps})
	ctx := context.Background()
	for _, c := range []struct {
		by      gdprkit.ActorID
		subject gdprkit.SubjectID
		scope   erasure.Scope
	}{{"agent", "ana", erasure.ScopeFull}, {"ana", "ana", erasure.ScopePortal}, {"ana", "ana", erasure.ScopeFull}, {"agent", "owner", erasure.ScopeFull}} {
		_, err := svc.Authorize(ctx, "acme", c.by, c.subject, c.scope)
		fmt.Println(c.by, "erases", c.subject, c.scope+":", err == nil)
	}
	// Output:
	// agent erases ana full: true
	// ana erases ana portal: true
	// ana erases ana full: false
	// agent erases owner full: false
}

// The spam filter learned from Ana's message; erasing her untrains it.
func ExampleSpamLessonTarget() {
	ctx := context.Background()
	hd := memhelpdesk.New()
	hd.AddUser("acme", memhelpdesk.User{ID: "admin", Role: gdprkit.RoleAdmin})
	hd.AddUser("acme", memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser, Name: "Ana"})
	hd.Update("acme", func(d *memhelpdesk.Data) {
		d.Tickets["t1"] = memhelpdesk.Ticket{ID: "t1", Requester: "ana", Subject: "Refund"}
		d.Messages["m1"] = memhelpdesk.Message{ID: "m1", Ticket: "t1", Author: "ana", Body: "Hi, Ana Lima here"}
	})
	filter, _ := spam.New(spam.Config{Store: memstore.New().Spam(), Key: []byte("a 32-byte secret from your vault")})
	// The host trains on a message's body under the message's ID…
	_, _ = filter.Train(ctx, "acme", "m1", spam.Chat("Hi, Ana Lima here"), spam.Ham)
	// …and tells the target so.
	trained := func(_ context.Context, a gdprkit.AccountID, ids []string) ([]kitdata.SpamTrained, error) {
		var out []kitdata.SpamTrained
		hd.Update(a, func(d *memhelpdesk.Data) {
			for _, id := range ids {
				if m, ok := d.Messages[id]; ok {
					out = append(out, kitdata.SpamTrained{Record: id, Example: spam.Example{ID: id, Message: spam.Chat(m.Body)}})
				}
			}
		})
		return out, nil
	}
	graph, _ := erasure.NewGraph(append(hd.Targets(), kitdata.SpamLessonTarget(filter, erasure.KindMessage, trained))...)
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: graph, Directory: hd, Pseudonymizer: ps})

	_, _ = svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
	_, _ = svc.RunOnce(ctx, "worker-1")
	lessons, _ := filter.Lessons(ctx, "acme", []string{"m1"})
	stats, _ := filter.Stats(ctx, "acme")
	fmt.Println("lessons left:", len(lessons), "messages in the model:", stats.Ham+stats.Spam, "tokens:", stats.Tokens)
	// Output:
	// lessons left: 0 messages in the model: 0 tokens: 0
}
