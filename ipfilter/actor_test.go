package ipfilter_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/ipfilter"
)

// AnonymizeActorRecords changes exactly the named entries the actor added,
// counts them, changes nothing more when called again, and leaves the
// actor's other entries, other authors' entries and the rules themselves
// as they were.
func TestAnonymizeActorRecordsChangesOnlyTheNamed(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	// admin-1 adds three allow and one deny entry on the API; admin-2
	// adds one more to the same list, keeping admin-1's.
	_, err := h.f.SetRules(ctx, ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAPI, Actor: admin, ActorIP: adminIP,
		ActorSurface: gdprkit.SurfaceAgentPanel, Allow: inputs("198.51.100.0/24", "198.51.101.0/24", "198.51.102.0/24"),
		Deny: inputs("198.51.100.66"), ExpectedVersion: ipfilter.AnyVersion})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.f.SetRules(ctx, ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAPI, Actor: "admin-2", ActorIP: adminIP,
		ActorSurface: gdprkit.SurfaceAgentPanel, Allow: inputs("198.51.100.0/24", "198.51.101.0/24", "198.51.102.0/24", "203.0.113.0/24"),
		Deny: inputs("198.51.100.66"), ExpectedVersion: ipfilter.AnyVersion})
	if err != nil {
		t.Fatal(err)
	}
	ids, _, err := h.f.ActorRecords(ctx, acct, gdprkit.SubjectID(admin))
	if err != nil || len(ids) != 4 {
		t.Fatalf("ActorRecords = %v, %v; want admin-1's 4 entries", ids, err)
	}
	named := []string{ids[0], ids[3], "api/allow/203.0.113.0/24", "api/allow/192.0.2.0/24"} // admin-2's, and no entry
	before, _ := h.f.Rules(ctx, acct)
	n, err := h.f.AnonymizeActorRecords(ctx, acct, gdprkit.SubjectID(admin), named, "Former user 1")
	if err != nil || n != 2 {
		t.Fatalf("AnonymizeActorRecords = %d, %v; want 2, nil", n, err)
	}
	left, _, _ := h.f.ActorRecords(ctx, acct, gdprkit.SubjectID(admin))
	if want := []string{ids[1], ids[2]}; !slices.Equal(left, want) {
		t.Errorf("admin-1 still authors %v, want %v", left, want)
	}
	former, _, _ := h.f.ActorRecords(ctx, acct, "Former user 1")
	if want := []string{ids[0], ids[3]}; !slices.Equal(former, want) {
		t.Errorf("the label authors %v, want %v", former, want)
	}
	other, _, _ := h.f.ActorRecords(ctx, acct, "admin-2")
	if len(other) != 1 {
		t.Errorf("admin-2 authors %v, want their one entry", other)
	}
	after, _ := h.f.Rules(ctx, acct)
	if fmt.Sprint(prefixes(before)) != fmt.Sprint(prefixes(after)) {
		t.Errorf("the rules changed: %v, then %v", prefixes(before), prefixes(after))
	}
	if n, err := h.f.AnonymizeActorRecords(ctx, acct, gdprkit.SubjectID(admin), named, "Former user 1"); n != 0 || err != nil {
		t.Errorf("again: %d, %v; want 0, nil", n, err)
	}
	if n, err := h.f.AnonymizeActorRecords(ctx, acct, gdprkit.SubjectID(admin), nil, "Former user 1"); n != 0 || err != nil {
		t.Errorf("no IDs: %d, %v; want 0, nil", n, err)
	}
	if _, err := h.f.AnonymizeActorRecords(ctx, acct, gdprkit.SubjectID(admin), left, ""); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Errorf("empty replacement: %v, want ErrInvalid", err)
	}
	if left2, _, _ := h.f.ActorRecords(ctx, acct, gdprkit.SubjectID(admin)); len(left2) != 2 {
		t.Errorf("a refused call changed entries: %v", left2)
	}
	// The filter decides with the rules as before.
	if d := decide(t, h.f, gdprkit.SurfaceAPI, "198.51.100.66"); d.Allowed() {
		t.Errorf("a denied address is allowed after anonymisation: %v", d)
	}
	if d := decide(t, h.f, gdprkit.SurfaceAPI, "198.51.101.7"); !d.Allowed() {
		t.Errorf("an allowed address is refused after anonymisation: %v", d)
	}
}

func prefixes(rs ipfilter.RuleSet) []string {
	var out []string
	for _, sr := range rs.Surfaces {
		for _, e := range append(append([]ipfilter.Entry(nil), sr.Allow...), sr.Deny...) {
			out = append(out, string(sr.Surface)+" "+e.Prefix.String())
		}
	}
	return out
}

// Replacing an actor by itself changes nothing and returns at once.
func TestAnonymizeActorBySelfReturns(t *testing.T) {
	h := newHarness(t)
	h.set(t, gdprkit.SurfaceAPI, []string{"192.0.2.0/24"}, []string{"192.0.2.66"})
	v0 := h.set(t, gdprkit.SurfaceAgentPanel, []string{"192.0.2.0/24"}, nil).Version
	type res struct {
		n   int
		err error
	}
	done := make(chan res, 1)
	go func() {
		n, err := h.f.AnonymizeActor(context.Background(), acct, gdprkit.SubjectID(admin), admin)
		done <- res{n, err}
	}()
	select {
	case r := <-done:
		if r.n != 0 || r.err != nil {
			t.Fatalf("AnonymizeActor(admin, admin) = %d, %v; want 0, nil", r.n, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("AnonymizeActor(admin, admin) does not return")
	}
	rs, err := h.f.Rules(context.Background(), acct)
	if err != nil || rs.Version != v0 {
		t.Fatalf("rules changed: version %d (want %d), %v", rs.Version, v0, err)
	}
}
