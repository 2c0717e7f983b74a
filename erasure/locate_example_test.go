package erasure_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// A breach exposed the attachments stored in one week: Holders answers
// "whose files were they?" through the same graph that erases people,
// climbing from each attachment to its message, ticket and requester.
func ExampleService_Holders() {
	ctx := context.Background()
	day := func(n int) time.Time { return time.Date(2026, 3, n, 12, 0, 0, 0, time.UTC) }
	hd := memhelpdesk.New()
	for _, id := range []gdprkit.SubjectID{"ana", "bob"} {
		hd.AddUser("acme", memhelpdesk.User{ID: id, Role: gdprkit.RoleEndUser})
	}
	hd.Update("acme", func(d *memhelpdesk.Data) {
		d.Tickets["t1"] = memhelpdesk.Ticket{ID: "t1", Requester: "ana", CreatedAt: day(1)}
		d.Tickets["t2"] = memhelpdesk.Ticket{ID: "t2", Requester: "bob", CreatedAt: day(1)}
		d.Messages["m1"] = memhelpdesk.Message{ID: "m1", Ticket: "t1", Author: "ana", CreatedAt: day(2)}
		d.Messages["m2"] = memhelpdesk.Message{ID: "m2", Ticket: "t2", Author: "bob", CreatedAt: day(20)}
		d.Attachments["a1"] = memhelpdesk.Attachment{ID: "a1", Message: "m1", BlobKey: "files/a1", CreatedAt: day(2)}
		d.Attachments["a2"] = memhelpdesk.Attachment{ID: "a2", Message: "m2", BlobKey: "files/a2", CreatedAt: day(20)}
	})
	graph, _ := erasure.NewGraph(hd.Targets()...)
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: graph, Directory: hd, Pseudonymizer: ps})

	// Attachments stored from 1 to 7 March.
	who, err := svc.Holders(ctx, "acme", erasure.KindAttachment, day(1), day(8))
	fmt.Println(who, err)
	// Output:
	// [ana] <nil>
}
