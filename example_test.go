package gdprkit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
)

func ExamplePseudonymizer() {
	ps, err := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	if err != nil {
		panic(err)
	}
	a := ps.Subject("acme", "ana@example.com")
	b := ps.Subject("acme", "ana@example.com")
	c := ps.Subject("globex", "ana@example.com")
	fmt.Println(a == b, a == c, len(a))
	// Output: true false 67
}

func ExampleRole_Outranks() {
	fmt.Println(gdprkit.RoleOwner.Outranks(gdprkit.RoleAdmin), gdprkit.RoleAgent.Outranks(gdprkit.RoleAgent), gdprkit.RoleAgent.Outranks(gdprkit.RoleEndUser))
	// Output: true false true
}

func ExampleMemoryAudit() {
	audit := &gdprkit.MemoryAudit{}
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	_ = audit.Record(context.Background(), gdprkit.Event{Type: "consent.granted", Account: "acme", Time: clock.Now()})
	clock.Advance(14 * 24 * time.Hour)
	fmt.Println(len(audit.OfType("consent.granted")), clock.Now().Format(time.DateOnly))
	// Output: 1 2026-01-15
}

func ExampleAccountID_Validate() {
	err := gdprkit.AccountID("").Validate()
	fmt.Println(errors.Is(err, gdprkit.ErrInvalid), err)
	// Output: true gdprkit: invalid input: empty account ID
}
