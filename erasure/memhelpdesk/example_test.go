package memhelpdesk_test

import (
	"context"
	"fmt"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
)

func Example() {
	hd := memhelpdesk.New()
	hd.AddUser("acme", memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser, Name: "Ana", Email: "ana@example.com"})
	hd.Update("acme", func(d *memhelpdesk.Data) {
		d.Tickets["t1"] = memhelpdesk.Ticket{ID: "t1", Requester: "ana", Subject: "Hello"}
	})
	g, _ := erasure.NewGraph(hd.Targets()...)
	for _, t := range g.Targets() {
		if t.Parent == erasure.KindEndUser {
			fmt.Println(t.Kind, "under", t.Parent, "default", t.Default.Action)
		}
	}
	tickets, _ := g.Target(erasure.KindTicket)
	refs, _ := tickets.Find(context.Background(), "acme", erasure.Query{Parents: []string{"ana"}, Limit: 10})
	fmt.Println(len(refs), "ticket")
	// Output:
	// identity under end_user default delete
	// oauth_token under end_user default delete
	// portal_profile under end_user default delete
	// saved_search under end_user default delete
	// session under end_user default delete
	// ticket under end_user default delete
	// 1 ticket
}
