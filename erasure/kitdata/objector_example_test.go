package kitdata_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// An objection (Art. 21) to a consent purpose withdraws the subject's
// consent, with the request as evidence.
func ExampleObjector() {
	ctx := context.Background()
	st := memstore.New()
	clock := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	cs, _ := consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps, Clock: clock})
	_, _ = cs.DefinePurpose(ctx, "acme", consent.Purpose{Key: "newsletter", Name: "Newsletter"})
	_, _ = cs.PublishPolicy(ctx, "acme", "newsletter", "We send a monthly newsletter.", false, "admin")
	_, _ = cs.Grant(ctx, "acme", consent.Decision{Subject: "ana", Purpose: "newsletter", Source: consent.SourcePortal})

	hd := memhelpdesk.New()
	hd.AddUser("acme", memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser, Name: "Ana"})
	graph, _ := erasure.NewGraph(append(hd.Targets(), kitdata.ConsentTarget(cs))...)
	svc, _ := erasure.New(erasure.Config{Store: st.Erasure(), Graph: graph, Directory: hd, Pseudonymizer: ps, Clock: clock,
		Objector: kitdata.Objector(cs)})

	req, _ := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeObjection, Subject: "ana", By: "ana", Verified: true,
		Purposes: []string{"newsletter"}})
	_, _ = svc.RunUntilIdle(ctx, "worker-1")

	status, _ := cs.Check(ctx, "acme", "ana", "newsletter")
	hist, _ := cs.History(ctx, "acme", "ana")
	last := hist[len(hist)-1]
	rc, _ := svc.Receipt(ctx, "acme", req.ID)
	fmt.Println("consent:", status)
	fmt.Println("recorded:", last.Action, "from", last.Source, "by", last.RecordedBy)
	fmt.Println("evidence names the request:", strings.HasSuffix(last.Evidence.Wording, req.ID))
	fmt.Println("receipt:", rc.Rights.Objections[0].Purpose, rc.Rights.Objections[0].Outcome)
	// Output:
	// consent: withdrawn
	// recorded: withdraw from objection by subject
	// evidence names the request: true
	// receipt: newsletter withdrawn
}
