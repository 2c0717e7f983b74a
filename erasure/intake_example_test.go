package erasure_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit/erasure"
)

// A request phoned in is verified by an agent who checked an identity
// document; the request keeps how, and the receipt shows the channel and
// the method, never the note.
func ExampleService_VerifyIdentityWith() {
	ctx := context.Background()
	svc, _ := rightsExample()
	req, _ := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeRestriction, Subject: "ana", By: "admin", Channel: erasure.ChannelPhone})
	err := svc.VerifyIdentityWith(ctx, "acme", req.ID, "admin", erasure.Evidence{Method: erasure.IdentityDocument, Note: "passport number 12345678"})
	fmt.Println("a document number is refused:", err != nil)
	_ = svc.VerifyIdentityWith(ctx, "acme", req.ID, "admin", erasure.Evidence{Method: erasure.IdentityDocument, Note: "passport seen on a video call"})
	req, _ = svc.Request(ctx, "acme", req.ID)
	fmt.Println(req.Channel, req.Identity.Method, "by", req.Identity.By, "-", req.Identity.Note)
	_, _ = svc.RunUntilIdle(ctx, "worker-1")
	rc, _ := svc.Receipt(ctx, "acme", req.ID)
	fmt.Println("receipt:", rc.Intake.Channel, rc.Intake.IdentityMethod, "due", rc.Intake.DueAt.Format(time.DateOnly))
	// Output:
	// a document number is refused: true
	// phone id_document_checked by admin - passport seen on a video call
	// receipt: phone id_document_checked due 2026-02-28
}
