package hostdb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

const acct = gdprkit.AccountID("bench")

// seed migrates a fresh database and stores n tickets with a first
// message each, one in ten closed and one in fifty spam, as the inbox of a
// busy helpdesk holds them.
func seed(tb testing.TB, d sqldb.Dialect, n int) *hostdb.DB {
	tb.Helper()
	db := testdb.Open(tb, d)
	h, err := hostdb.New(db.DB, d, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	cust := hostdb.User{ID: "c-1", Role: hostdb.RoleCustomer, Name: "Carla", Email: "carla@example.org"}
	if err := h.AddUser(ctx, acct, cust); err != nil {
		tb.Fatal(err)
	}
	var ids []int64
	err = h.InTx(ctx, func(tx *hostdb.DB) error {
		for i := range n {
			c, err := tx.CreateTicket(ctx, acct, hostdb.NewTicket{Requester: cust, RequesterName: cust.Name,
				Subject: fmt.Sprintf("Question %d", i), Body: "Hello,\nwhere is my order?\nThanks", Origin: hostdb.OriginForm})
			if err != nil {
				return err
			}
			ids = append(ids, c.Ticket)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for i, id := range ids {
		switch {
		case i%50 == 7:
			err = h.SetStatus(ctx, acct, id, hostdb.StatusSpam, "spam")
		case i%10 == 3:
			err = h.SetStatus(ctx, acct, id, hostdb.StatusClosed, "")
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	return h
}

// The queries of the ticket list before the page was chosen first and the
// counts were capped, kept to show the difference in one run (run on the
// schema of then, without the hd_tickets (account_id, id) index): the
// per-row subqueries sat beside the filter, so a folder no index ordered
// (every ticket but spam: the API's default) read and sorted every ticket
// of the account; the counts read every ticket too.
const (
	oldTickets = `SELECT t.id, t.requester_id, t.requester_name, t.assignee_id, t.subject, t.status, t.spam_label, t.created_at, t.closed_at, t.origin,
	(SELECT m.body FROM hd_messages m WHERE m.ticket_id = t.id ORDER BY m.id LIMIT 1),
	(SELECT COUNT(*) FROM hd_messages m JOIN hd_attachments x ON x.message_id = m.id WHERE m.ticket_id = t.id)
	FROM hd_tickets t WHERE t.account_id = ? AND t.status <> ? ORDER BY t.id DESC LIMIT ?`
	oldCounts = "SELECT status, COUNT(*) FROM hd_tickets WHERE account_id = ? GROUP BY status"
)

// scanAll reads every row and column of a query, as Tickets does.
func scanAll(b *testing.B, h *hostdb.DB, q string, args ...any) int {
	rows, err := h.SQL().QueryContext(context.Background(), h.Dialect().Rebind(q), args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	for i := range vals {
		vals[i] = new(any)
	}
	k := 0
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			b.Fatal(err)
		}
		k++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkTickets measures a page of the ticket list (the inbox: open
// tickets, 25; the API: every ticket but spam, 50) and the inbox's folder
// counts as the table grows, now ("after") and as they were ("before",
// on the same data without the new index).
func BenchmarkTickets(b *testing.B) {
	ctx := context.Background()
	for _, d := range testdb.Dialects(b) {
		if d == sqldb.MySQL {
			continue // the load test runs SQLite and PostgreSQL
		}
		for _, n := range []int{1_000, 10_000} {
			h := seed(b, d, n)
			prefix := fmt.Sprintf("%s/%d", d, n)
			b.Run(prefix+"/inbox", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if ts, _, err := h.Tickets(ctx, acct, hostdb.TicketFilter{}); err != nil || len(ts) != 25 {
						b.Fatal(err, len(ts))
					}
				}
			})
			b.Run(prefix+"/all-after", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if ts, _, err := h.Tickets(ctx, acct, hostdb.TicketFilter{Folder: hostdb.FolderAll, Limit: 50}); err != nil || len(ts) != 50 {
						b.Fatal(err, len(ts))
					}
				}
			})
			b.Run(prefix+"/counts-after", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if c, err := h.CountTickets(ctx, acct, 1000); err != nil || c[hostdb.StatusOpen] == 0 {
						b.Fatal(err, c)
					}
				}
			})
			if _, err := h.SQL().ExecContext(ctx, "DROP INDEX hd_tickets_i4"+map[sqldb.Dialect]string{sqldb.MySQL: " ON hd_tickets"}[d]); err != nil {
				b.Fatal(err)
			}
			b.Run(prefix+"/all-before", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if k := scanAll(b, h, oldTickets, string(acct), hostdb.StatusSpam, 51); k != 51 {
						b.Fatal(k)
					}
				}
			})
			b.Run(prefix+"/counts-before", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if k := scanAll(b, h, oldCounts, string(acct)); k != 3 {
						b.Fatal(k)
					}
				}
			})
		}
	}
}

// The page is chosen before its first messages are read: every folder
// still pages through each of its tickets once, newest first, with each
// ticket's first message, on a table large enough that the old query's
// plan and the new one differ.
func TestTicketsPagesChosenFirst(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			h := seed(t, d, 260)
			counts, err := h.CountTickets(ctx, acct, 0)
			if err != nil {
				t.Fatal(err)
			}
			if counts[hostdb.StatusOpen]+counts[hostdb.StatusClosed]+counts[hostdb.StatusSpam] != 260 || counts[hostdb.StatusSpam] != 6 {
				t.Fatalf("counts %v: want 260 tickets, 6 of them spam", counts)
			}
			capped, err := h.CountTickets(ctx, acct, 20)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int{hostdb.StatusOpen: 21, hostdb.StatusClosed: 21, hostdb.StatusSpam: 6}; fmt.Sprint(capped) != fmt.Sprint(want) {
				t.Fatalf("counts up to 20: %v, want %v (21: more than 20)", capped, want)
			}
			for folder, want := range map[string]int{hostdb.FolderInbox: counts[hostdb.StatusOpen], hostdb.FolderClosed: counts[hostdb.StatusClosed],
				hostdb.FolderSpam: counts[hostdb.StatusSpam], hostdb.FolderAll: counts[hostdb.StatusOpen] + counts[hostdb.StatusClosed]} {
				var before, last int64
				seen := 0
				for {
					page, next, err := h.Tickets(ctx, acct, hostdb.TicketFilter{Folder: folder, Before: before, Limit: 25})
					if err != nil {
						t.Fatal(err)
					}
					for _, tk := range page {
						if last != 0 && tk.ID >= last {
							t.Fatalf("%s: ticket %d after %d: not newest first", folder, tk.ID, last)
						}
						if tk.FirstBody != "Hello,\nwhere is my order?\nThanks" {
							t.Fatalf("%s: ticket %d: first message %q", folder, tk.ID, tk.FirstBody)
						}
						if folder != hostdb.FolderAll && tk.Status != folder && !(folder == hostdb.FolderInbox && tk.Status == hostdb.StatusOpen) {
							t.Fatalf("%s: ticket %d is %s", folder, tk.ID, tk.Status)
						}
						if folder == hostdb.FolderAll && tk.Status == hostdb.StatusSpam {
							t.Fatalf("all: spam ticket %d listed", tk.ID)
						}
						last = tk.ID
						seen++
					}
					if next == 0 {
						break
					}
					before = next
				}
				if seen != want || want == 0 {
					t.Errorf("%s: saw %d tickets, want %d", folder, seen, want)
				}
			}
		})
	}
}
