package authn_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// A user's records are listed one per stored record, paged in a stable
// order, and deleted exactly: the erasure of a subject's credentials
// counts what it deleted (issue #25).
func TestUserRecordsAreListedAndDeletedOneByOne(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	h.user("u2", "bob")
	h.enrol("u1") // an active TOTP, ten recovery codes, counters
	for range 4 {
		h.mustLogin("bob")
	}
	for range 3 {
		if _, _, err := h.svc.CreateToken(h.ctx, h.me("u1"), authn.TokenSpec{Name: "ci"}); err != nil {
			t.Fatal(err)
		}
	}
	counted, err := h.svc.CountUser(h.ctx, acct, "u1")
	if err != nil {
		t.Fatal(err)
	}
	var all []authn.RecordRef
	var after authn.RecordRef
	for {
		page, err := h.svc.UserRecords(h.ctx, acct, "u1", after, 4)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1]
	}
	if len(all) != counted.Total() {
		t.Fatalf("listed %d records, CountUser counts %d (%+v)", len(all), counted.Total(), counted)
	}
	if all[0] != (authn.RecordRef{Kind: authn.RecordUser, ID: "u1"}) {
		t.Errorf("first record %v, want the user", all[0])
	}
	for _, r := range all {
		back, err := authn.ParseRecordRef(r.String())
		if err != nil || back != r {
			t.Errorf("ParseRecordRef(%q) = %v, %v", r, back, err)
		}
		if r.Kind == authn.RecordRecovery && len(r.ID) != 64 {
			t.Errorf("recovery ref %q is not a hash in hex", r.ID)
		}
	}

	// Delete the first half: exactly those go, and the event says so.
	half := all[:len(all)/2]
	n, err := h.svc.DeleteUserRecords(h.ctx, acct, "u1", half)
	if err != nil || n.Total() != len(half) {
		t.Fatalf("deleted %+v (%v), want %d records", n, err, len(half))
	}
	left, err := h.svc.CountUser(h.ctx, acct, "u1")
	if err != nil || left.Total() != len(all)-len(half) {
		t.Fatalf("left %+v (%v), want %d", left, err, len(all)-len(half))
	}
	var erased int
	for _, e := range h.audit.Events() {
		if e.Type == authn.EventRecordsErased {
			erased++
			for _, v := range e.Attrs {
				if strings.Contains(v, "u1") || strings.Contains(v, "alice") {
					t.Errorf("the event names the user: %v", e.Attrs)
				}
			}
		}
	}
	if erased != 1 {
		t.Errorf("%d records-erased events, want 1", erased)
	}
	if _, err := h.login("alice", password); !errors.Is(err, gdprkit.ErrUnauthenticated) {
		t.Errorf("the user record is gone, yet alice logs in: %v", err)
	}
	n, err = h.svc.DeleteUserRecords(h.ctx, acct, "u1", half)
	if err != nil || n.Total() != 0 {
		t.Errorf("deleting again: %+v, %v; want nothing", n, err)
	}
	bob, _ := h.svc.CountUser(h.ctx, acct, "u2")
	if bob.Users != 1 || bob.Sessions != 4 {
		t.Errorf("bob's records changed: %+v", bob)
	}
}

// Bad input is refused with ErrInvalid and deletes nothing.
func TestUserRecordsRefuseBadInput(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	for name, call := range map[string]func() error{
		"empty account": func() error { _, err := h.svc.UserRecords(h.ctx, "", "u1", authn.RecordRef{}, 10); return err },
		"empty user":    func() error { _, err := h.svc.UserRecords(h.ctx, acct, "", authn.RecordRef{}, 10); return err },
		"limit 0":       func() error { _, err := h.svc.UserRecords(h.ctx, acct, "u1", authn.RecordRef{}, 0); return err },
		"limit too big": func() error {
			_, err := h.svc.UserRecords(h.ctx, acct, "u1", authn.RecordRef{}, authn.MaxRecordPage+1)
			return err
		},
		"unknown kind after": func() error {
			_, err := h.svc.UserRecords(h.ctx, acct, "u1", authn.RecordRef{Kind: "password", ID: "x"}, 10)
			return err
		},
		"unknown kind": func() error {
			_, err := h.svc.DeleteUserRecords(h.ctx, acct, "u1", []authn.RecordRef{{Kind: authn.RecordUser, ID: "u1"}, {Kind: "password", ID: "u1"}})
			return err
		},
		"bad recovery hash": func() error {
			_, err := h.svc.DeleteUserRecords(h.ctx, acct, "u1", []authn.RecordRef{{Kind: authn.RecordUser, ID: "u1"}, {Kind: authn.RecordRecovery, ID: "ABC"}})
			return err
		},
		"too many": func() error {
			_, err := h.svc.DeleteUserRecords(h.ctx, acct, "u1", make([]authn.RecordRef, authn.MaxRecordPage+1))
			return err
		},
	} {
		if err := call(); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := h.svc.UserRecords(h.ctx, acct, "u1", authn.RecordRef{}, 1); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.svc.CountUser(h.ctx, acct, "u1"); c.Users != 1 {
		t.Error("a refused delete deleted the user")
	}
}

// The adapter package erasure uses pages through and deletes by the
// records' string form, and treats IDs that are not record refs (the
// synthetic refs of an earlier credentials target, in a checkpoint) as
// naming nothing.
func TestCredentialsAdapterPagesByRecord(t *testing.T) {
	h := newHarness(t)
	h.user("u1", "alice")
	_, _ = h.login("alice", "a typo leaves a counter")
	for range 5 {
		h.mustLogin("alice")
	}
	c := h.svc.Credentials()
	var all []string
	for after := ""; ; {
		page, err := c.CredentialRecords(h.ctx, acct, "u1", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	total, err := c.CountUser(h.ctx, acct, "u1")
	if err != nil || len(all) != total || all[0] != "user:u1" || total < 7 {
		t.Fatalf("records %v (CountUser %d, %v), want the user, five sessions and a counter", all, total, err)
	}
	first, err := c.CredentialRecords(h.ctx, acct, "u1", "3", 2)
	if err != nil || len(first) != 2 || first[0] != "user:u1" {
		t.Errorf("after a synthetic ref: %v, %v; want the first page", first, err)
	}
	n, err := c.DeleteCredentialRecords(h.ctx, acct, "u1", []string{"1", "2", all[1], all[2]})
	if err != nil || n != 2 {
		t.Errorf("DeleteCredentialRecords = %d, %v; want 2", n, err)
	}
	if left, _ := c.CountUser(h.ctx, acct, "u1"); left != total-2 {
		t.Errorf("%d records left, want %d", left, total-2)
	}
}

// FuzzParseRecordRef: ParseRecordRef never panics, refuses with
// ErrInvalid what it does not accept, and what it accepts is valid and
// prints back as it was read.
func FuzzParseRecordRef(f *testing.F) {
	for _, s := range []string{"user:u1", "session:0190", "recovery:" + strings.Repeat("ab", 32), "recovery:AB", "throttle:password/",
		"throttle:totp/0123", "throttle:x", "token:", ":", "", "nope", "password:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := authn.ParseRecordRef(s)
		if err != nil {
			if !errors.Is(err, gdprkit.ErrInvalid) {
				t.Fatalf("%q: %v is not ErrInvalid", s, err)
			}
			return
		}
		if r.Validate() != nil || r.String() != s {
			t.Fatalf("%q parsed as %#v, which prints %q", s, r, r.String())
		}
		if _, ok := r.RecoveryHash(); ok != (r.Kind == authn.RecordRecovery) {
			t.Fatalf("%q: RecoveryHash ok=%v for kind %s", s, ok, r.Kind)
		}
	})
}
