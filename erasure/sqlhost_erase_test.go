package erasure_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

// The declarative SQL targets erase a subject from the host's own tables
// on every dialect, leave other subjects and accounts alone, export, and
// erase whole accounts.
func TestSQLTargetsEraseHostTables(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newSQLEnv(t, d, 7)
			h := e.host
			const acct, other = gdprkit.AccountID("acme"), gdprkit.AccountID("globex")
			h.seedSubject(t, acct, "ana", 5, 4)
			h.seedSubject(t, acct, "bob", 2, 3)
			h.seedSubject(t, other, "ana", 2, 2)
			// agent writes in ana's tickets already; make ana write in bob's.
			_, err := h.db.Exec(h.rebind("UPDATE hd_messages SET author_id = ?, author_name = ? WHERE account_id = ? AND id = (SELECT MIN(id) FROM hd_messages WHERE account_id = ? AND author_id = ?)"),
				"ana", "Ana", string(acct), string(acct), "bob")
			require.NoError(t, err)

			plan, err := e.svc.Plan(ctx, acct, "ana", "", nil)
			require.NoError(t, err)
			planned := map[erasure.Kind]erasure.TargetResult{}
			for _, p := range plan.Targets {
				planned[p.Kind] = p.TargetResult
			}
			assert.EqualValues(t, 5, planned[erasure.KindTicket].Deleted)
			assert.EqualValues(t, 20, planned[erasure.KindMessage].Deleted)
			assert.EqualValues(t, 5, planned[erasure.KindBlob].Deleted)
			assert.EqualValues(t, 5*64, planned[erasure.KindBlob].Bytes)
			assert.EqualValues(t, 1, planned[erasure.KindAuthoredMessage].Anonymized)

			r, err := e.svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
			require.NoError(t, err)
			found, err := e.svc.RunOnce(ctx, "w")
			require.NoError(t, err)
			require.True(t, found)
			rc, err := e.svc.Receipt(ctx, acct, r.ID)
			require.NoError(t, err)
			for _, x := range rc.Targets {
				assert.Equal(t, planned[x.Kind], x, "plan and receipt agree on %s", x.Kind)
			}
			assert.Zero(t, h.count(t, "SELECT COUNT(*) FROM hd_users WHERE account_id = ? AND id = ?", "acme", "ana"))
			assert.Zero(t, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE account_id = ? AND requester_id = ?", "acme", "ana"))
			assert.Zero(t, h.count(t, "SELECT COUNT(*) FROM hd_messages WHERE account_id = ? AND author_id = ?", "acme", "ana"))
			assert.Equal(t, 1, h.count(t, "SELECT COUNT(*) FROM hd_messages WHERE account_id = ? AND author_name = ?", "acme", "Former user"))
			assert.Equal(t, 2, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE account_id = ?", "acme"), "bob's tickets stay")
			assert.Equal(t, 6, h.count(t, "SELECT COUNT(*) FROM hd_messages WHERE account_id = ?", "acme"))
			assert.Equal(t, 2, h.count(t, "SELECT COUNT(*) FROM hd_attachments WHERE account_id = ?", "acme"))
			assert.Equal(t, 2, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE account_id = ?", "globex"), "the other account's ana stays")
			left := 0
			rows, err := h.db.Query(h.rebind("SELECT blob_key FROM hd_attachments WHERE account_id = ?"), "globex")
			require.NoError(t, err)
			for rows.Next() {
				var k string
				require.NoError(t, rows.Scan(&k))
				if sz, _ := h.blobs.Stat(ctx, "globex", []string{k}); len(sz) > 0 {
					left++
				}
			}
			require.NoError(t, rows.Close())
			assert.Equal(t, 2, left)

			// Access export of bob, then the account cascade.
			var buf bytes.Buffer
			n, err := e.svc.ExportSubject(ctx, acct, "bob", &buf)
			require.NoError(t, err)
			assert.Equal(t, 1+2+6+2+2+3, n, "user, tickets, messages, attachments, files, and the messages bob wrote")
			var doc map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
			assert.Contains(t, buf.String(), "bob@example.com")

			_, err = e.svc.EraseAccount(ctx, acct)
			require.NoError(t, err)
			for _, tb := range []string{"hd_users", "hd_tickets", "hd_messages", "hd_attachments"} {
				assert.Zero(t, h.count(t, "SELECT COUNT(*) FROM "+tb+" WHERE account_id = ?", "acme"), tb)
			}
			assert.Equal(t, 4, h.count(t, "SELECT COUNT(*) FROM hd_messages WHERE account_id = ?", "globex"))
		})
	}
}
