package erasure

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A receipt without physical steps has the form and hash it had before
// Receipt.Physical existed (the golden hash was computed on that code), so
// chains written earlier still verify; with steps, they are inside the
// hash.
func TestReceiptWithoutPhysicalStepsKeepsItsHash(t *testing.T) {
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	r := Receipt{Seq: 1, ID: "r1", RequestID: "q1", SubjectPS: "ps-1", Scope: ScopeFull, ReceivedAt: at, CompletedAt: at.Add(time.Hour),
		Targets: []TargetResult{{Kind: KindTicket, Action: Delete, Deleted: 2}}, BackupsExpireBy: at.Add(30 * 24 * time.Hour)}
	h, err := receiptHash("acme", r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "f0c70d0bc8277f9fd37da303d33b0d82e6aa171d132dbadee52fb3d9c90198da"; h != want {
		t.Fatalf("hash of a receipt without physical steps changed: %s, want %s", h, want)
	}
	r.Physical = []PhysicalResult{}
	if h2, _ := receiptHash("acme", r); h2 != h {
		t.Fatal("an empty Physical list changes the hash")
	}
	r.Physical = []PhysicalResult{{Step: "sqlite: wal_checkpoint(TRUNCATE)"}}
	h3, _ := receiptHash("acme", r)
	if h3 == h {
		t.Fatal("the physical steps are not covered by the hash")
	}
	body, _ := json.Marshal(r)
	if !strings.Contains(string(body), `"physical":[{"step":"sqlite: wal_checkpoint(TRUNCATE)"}]`) {
		t.Fatalf("physical steps not in the receipt's JSON: %s", body)
	}
}
