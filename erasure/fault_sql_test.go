package erasure_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/erasuretest"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

// The same fault sweep with everything in SQL: the erasure store and the
// host's own tables (declarative targets), plus files on disk.
func TestFaultAtEveryCallOnSQLHostTables(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st, db := testdb.OpenStore(t, d)
			h := newSQLHost(t, db.DB, d)
			ps := mustPS(t)
			run := func(n int) (calls int, receipt string, left string) {
				acct := newAccount()
				h.seedSubject(t, acct, "ana", 3, 3)
				h.seedSubject(t, acct, "bob", 2, 2)
				bob := h.rowsOf(t, acct, "bob")
				anaFiles := h.keysOf(t, acct, "ana")
				require.Len(t, anaFiles, 3)
				f := &erasuretest.Faults{}
				g, err := erasure.NewGraph(erasuretest.WrapTargets(h.targets, f)...)
				require.NoError(t, err)
				clock := fakeclock.New(t0)
				svc, err := erasure.New(erasure.Config{Store: erasuretest.WrapStore(st.Erasure(), f), Graph: g, Directory: h, Pseudonymizer: ps, Clock: clock, BatchSize: 2})
				require.NoError(t, err)
				r, err := svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
				require.NoError(t, err)
				f.FailAt(n)
				for range 50 {
					found, err := svc.RunOnce(ctx, "w")
					if !found && err == nil {
						clock.Advance(7200e9)
						if found, err = svc.RunOnce(ctx, "w"); !found && err == nil {
							break
						}
					}
				}
				calls, fired := f.Calls(), f.Fired()
				f.FailAt(0)
				if n > 0 {
					require.True(t, fired, "call %d was reached", n)
				}
				rc, err := svc.Receipt(ctx, acct, r.ID)
				require.NoError(t, err, "fault at call %d", n)
				b, _ := json.Marshal(rc.Targets)
				assert.Equal(t, bob, h.rowsOf(t, acct, "bob"), "fault at call %d: bob untouched", n)
				left = h.rowsOf(t, acct, "ana")
				for _, k := range anaFiles {
					if sz, _ := h.blobs.Stat(ctx, acct, []string{k}); len(sz) > 0 {
						left += " file " + k + " left"
					}
				}
				return calls, string(b), left
			}
			calls, want, left := run(0)
			require.Equal(t, `{"attachments":0,"files":0,"messages":0,"tickets":0,"users":0}`, left)
			step := mysqlStep(d)
			if testing.Short() {
				step = 5
			}
			for n := 1; n <= calls; n += step {
				_, got, left := run(n)
				assert.Equal(t, want, got, "fault at call %d: same receipt", n)
				assert.Equal(t, `{"attachments":0,"files":0,"messages":0,"tickets":0,"users":0}`, left, "fault at call %d: nothing of ana left", n)
				if t.Failed() {
					return
				}
			}
			t.Logf("%d storage calls; faults injected at calls 1, 1+%d, …; each run resumed", calls, step)
		})
	}
}

// rowsOf summarises what the host holds of a user (counts for ana, full
// rows for bob).
func (h *sqlHost) rowsOf(t *testing.T, a gdprkit.AccountID, user string) string {
	t.Helper()
	out := map[string]any{
		"users":    h.count(t, "SELECT COUNT(*) FROM hd_users WHERE account_id = ? AND id = ?", string(a), user),
		"tickets":  h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE account_id = ? AND requester_id = ?", string(a), user),
		"messages": h.count(t, "SELECT COUNT(*) FROM hd_messages m JOIN hd_tickets k ON k.account_id = m.account_id AND k.id = m.ticket_id WHERE m.account_id = ? AND k.requester_id = ?", string(a), user),
		"attachments": h.count(t, `SELECT COUNT(*) FROM hd_attachments x JOIN hd_messages m ON m.account_id = x.account_id AND m.id = x.message_id
			JOIN hd_tickets k ON k.account_id = m.account_id AND k.id = m.ticket_id WHERE x.account_id = ? AND k.requester_id = ?`, string(a), user),
	}
	// Files: every attachment file of the account whose blob key is not
	// referenced any more must be gone; count the user's remaining files.
	rows, err := h.db.Query(h.rebind(`SELECT x.blob_key, m.body, m.author_name FROM hd_attachments x JOIN hd_messages m ON m.account_id = x.account_id AND m.id = x.message_id
		JOIN hd_tickets k ON k.account_id = m.account_id AND k.id = m.ticket_id WHERE x.account_id = ? AND k.requester_id = ? ORDER BY x.id`), string(a), user)
	require.NoError(t, err)
	files := 0
	var detail []string
	for rows.Next() {
		var key, body, author string
		require.NoError(t, rows.Scan(&key, &body, &author))
		if sz, _ := h.blobs.Stat(ctx, a, []string{key}); len(sz) > 0 {
			files++
		}
		detail = append(detail, fmt.Sprint(body, author))
	}
	require.NoError(t, rows.Close())
	out["files"] = files
	if user != "ana" {
		out["detail"] = detail
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func (h *sqlHost) keysOf(t *testing.T, a gdprkit.AccountID, user string) []string {
	rows, err := h.db.Query(h.rebind(`SELECT x.blob_key FROM hd_attachments x JOIN hd_messages m ON m.account_id = x.account_id AND m.id = x.message_id
		JOIN hd_tickets k ON k.account_id = m.account_id AND k.id = m.ticket_id WHERE x.account_id = ? AND k.requester_id = ?`), string(a), user)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		out = append(out, k)
	}
	return out
}
