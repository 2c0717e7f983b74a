package hostdb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// On SQLite, writers take turns before they take a connection: while one
// holds the turn, a writer whose context ends gets ErrUnavailable and runs
// nothing, and concurrent transactions all commit.
func TestWritersTakeTurnsOnSQLite(t *testing.T) {
	h := seed(t, sqldb.SQLite, 0)
	ctx := context.Background()
	inside, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = h.Writing(ctx, func() error { close(inside); <-release; return nil })
	}()
	<-inside
	ended, cancel := context.WithCancel(ctx)
	cancel()
	ran := false
	err := h.Writing(ended, func() error { ran = true; return nil })
	if !errors.Is(err, gdprkit.ErrUnavailable) || ran {
		t.Fatalf("a writer whose context ended while another held the turn: err %v, ran %v", err, ran)
	}
	if err := h.InTx(ended, func(*hostdb.DB) error { return nil }); !errors.Is(err, gdprkit.ErrUnavailable) {
		t.Fatalf("InTx with an ended context while another writes: %v", err)
	}
	close(release)

	cust := hostdb.User{ID: "c-1", Role: hostdb.RoleCustomer}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			_, err := h.CreateTicket(ctx, acct, hostdb.NewTicket{Requester: cust, Subject: fmt.Sprint(i), Body: "hello"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c, err := h.CountTickets(ctx, acct, 0); err != nil || c[hostdb.StatusOpen] != 40 {
		t.Fatalf("counts %v, %v: want 40 open tickets", c, err)
	}
}

// Elsewhere Writing just runs its function: the database locks rows.
func TestWritingRunsAtOnceElsewhere(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		if d == sqldb.SQLite {
			continue
		}
		t.Run(string(d), func(t *testing.T) {
			h := seed(t, d, 0)
			ran := 0
			inner := func() error { ran++; return nil }
			if err := h.Writing(context.Background(), func() error { return h.Writing(context.Background(), inner) }); err != nil || ran != 1 {
				t.Fatalf("nested Writing on %s: %v, ran %d", d, err, ran)
			}
		})
	}
}
