package erasure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// rightsExample is a small helpdesk: ana asked for one ticket with one
// message and wrote a reply in another; an agent keeps a private session.
func rightsExample() (*erasure.Service, *memhelpdesk.Helpdesk) {
	hd := memhelpdesk.New()
	hd.AddUser("acme", memhelpdesk.User{ID: "admin", Role: gdprkit.RoleAdmin, Name: "Adam"})
	hd.AddUser("acme", memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser, Name: "Ana", Email: "ana@example.com"})
	hd.Update("acme", func(d *memhelpdesk.Data) {
		d.Tickets["t1"] = memhelpdesk.Ticket{ID: "t1", Requester: "ana", Subject: "Refund"}
		d.Messages["m1"] = memhelpdesk.Message{ID: "m1", Ticket: "t1", Author: "ana", Body: "Hi"}
		d.Sessions["s1"] = memhelpdesk.Session{ID: "s1", User: "ana", IP: "203.0.113.9"}
	})
	graph, _ := erasure.NewGraph(hd.Targets()...)
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: graph, Directory: hd, Pseudonymizer: ps,
		Rectifier: hd, Clock: fakeclock.New(time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC))})
	return svc, hd
}

// A restriction (Art. 18) marks the subject's records, in the order the
// kinds act; the host asks before it uses one, and lifting the
// restriction is recorded.
func ExampleService_Restricted() {
	ctx := context.Background()
	svc, _ := rightsExample()
	req, _ := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeRestriction, Subject: "ana", By: "ana"})
	fmt.Println(req.Type, req.Status, "due", req.DueAt.Format(time.DateOnly))
	_ = svc.VerifyIdentity(ctx, "acme", req.ID, "admin")
	_, _ = svc.RunUntilIdle(ctx, "worker-1")

	restricted, _ := svc.Restricted(ctx, "acme", erasure.KindMessage, "m1")
	fmt.Println("m1 restricted:", restricted)
	rc, _ := svc.Receipt(ctx, "acme", req.ID)
	for _, c := range rc.Rights.Restricted {
		fmt.Println("marked", c.Records, c.Kind)
	}
	n, _ := svc.LiftRestriction(ctx, "acme", req.ID, "admin", "accuracy confirmed; ana was told")
	restricted, _ = svc.Restricted(ctx, "acme", erasure.KindMessage, "m1")
	fmt.Println("lifted", n, "marks; m1 restricted:", restricted)
	// Output:
	// restriction open due 2026-02-28
	// m1 restricted: true
	// marked 1 identity
	// marked 1 session
	// marked 1 message
	// marked 1 ticket
	// marked 1 end_user
	// marked 1 authored_message
	// lifted 6 marks; m1 restricted: false
}

// A rectification (Art. 16) goes through the host's Rectifier; the
// receipt says what was corrected, never the new value.
func ExampleCorrection() {
	ctx := context.Background()
	svc, hd := rightsExample()
	req, _ := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeRectification, Subject: "ana", By: "ana", Verified: true,
		Corrections: []erasure.Correction{{Kind: erasure.KindEndUser, Field: "name", Value: "Ana Lima"}, {Kind: erasure.KindSession, Field: "ip", Value: "x"}}})
	_, _ = svc.RunUntilIdle(ctx, "worker-1")
	hd.Update("acme", func(d *memhelpdesk.Data) { fmt.Println("name:", d.Users["ana"].Name) })
	rc, _ := svc.Receipt(ctx, "acme", req.ID)
	for _, c := range rc.Rights.Corrections {
		fmt.Println(c.Kind, c.Field, c.Outcome)
		if c.Ground != "" {
			fmt.Println("  because", c.Ground)
		}
	}
	// Output:
	// name: Ana Lima
	// end_user name corrected
	// session ip declined
	//   because the field cannot be corrected
}

// Portability (Art. 20) exports only the kinds the subject provided.
func ExampleService_Export_portability() {
	ctx := context.Background()
	svc, _ := rightsExample()
	req, _ := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypePortability, Subject: "ana", By: "ana", Verified: true})
	var buf bytes.Buffer
	_ = svc.Export(ctx, "acme", req.ID, &buf)
	var doc struct {
		Format string                       `json:"format"`
		Data   map[string][]json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(buf.Bytes(), &doc)
	fmt.Println(doc.Format, "sessions:", len(doc.Data["session"]), "messages:", len(doc.Data["message"]))
	rc, _ := svc.Receipt(ctx, "acme", req.ID)
	fmt.Println(rc.Type, "receipt", rc.Seq)
	// Output:
	// gdprkit-portability-v1 sessions: 0 messages: 1
	// portability receipt 1
}
