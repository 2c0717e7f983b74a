package ipfilter_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

// An erasure of the admin who added IP rules anonymises their authorship
// batch by batch: ActorRecords lists the entries they added, and
// AnonymizeActorRecords changes exactly the ones named, counting them.
func ExampleFilter_AnonymizeActorRecords() {
	ctx := context.Background()
	f, _ := ipfilter.New(ipfilter.Config{Store: newFakeStore()})
	_, _ = f.SetRules(ctx, ipfilter.Change{Account: "acme", Surface: gdprkit.SurfaceAPI,
		Allow: []ipfilter.Input{{Value: "198.51.100.0/24"}, {Value: "203.0.113.0/24"}}, Deny: []ipfilter.Input{{Value: "198.51.100.66"}},
		Actor: "ada", ActorIP: netip.MustParseAddr("192.0.2.10"), ActorSurface: gdprkit.SurfaceAgentPanel})

	ids, _, _ := f.ActorRecords(ctx, "acme", "ada")
	fmt.Println(ids)
	n, _ := f.AnonymizeActorRecords(ctx, "acme", "ada", ids[:2], "Former user 3f9a1c2e")
	fmt.Println("anonymised:", n)
	left, _, _ := f.ActorRecords(ctx, "acme", "ada")
	fmt.Println("still Ada's:", left)
	// Output:
	// [api/allow/198.51.100.0/24 api/allow/203.0.113.0/24 api/deny/198.51.100.66/32]
	// anonymised: 2
	// still Ada's: [api/deny/198.51.100.66/32]
}
