package erasure_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

// TestHoldsReachRecordsFoundAnotherWayOnSQL: on every dialect, a held
// ticket keeps the message ana wrote in it when ana is erased (the message
// is found through authored_message, not under the ticket), and
// DeleteRecord refuses records under a held ticket or of a held subject.
func TestHoldsReachRecordsFoundAnotherWayOnSQL(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newSQLEnv(t, d, 7)
			h := e.host
			const acct = gdprkit.AccountID("acme")
			h.seedSubject(t, acct, "ana", 1, 2)
			h.seedSubject(t, acct, "bob", 2, 2)
			h.seedSubject(t, acct, "cid", 1, 2)
			var bobTicket, bobMsg, cidTicket int64
			require.NoError(t, h.db.QueryRow(h.rebind("SELECT MIN(id) FROM hd_tickets WHERE account_id = ? AND requester_id = ?"), string(acct), "bob").Scan(&bobTicket))
			require.NoError(t, h.db.QueryRow(h.rebind("SELECT MIN(id) FROM hd_messages WHERE account_id = ? AND ticket_id = ?"), string(acct), bobTicket).Scan(&bobMsg))
			require.NoError(t, h.db.QueryRow(h.rebind("SELECT MIN(id) FROM hd_tickets WHERE account_id = ? AND requester_id = ?"), string(acct), "cid").Scan(&cidTicket))
			_, err := h.db.Exec(h.rebind("UPDATE hd_messages SET author_id = ?, author_name = ? WHERE account_id = ? AND id = ?"), "ana", "Ana", string(acct), bobMsg)
			require.NoError(t, err)

			_, err = e.svc.PlaceHold(ctx, acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: strconv.FormatInt(bobTicket, 10), Ground: "Art. 17(3)(e)", By: "admin"})
			require.NoError(t, err)
			_, err = e.svc.PlaceHold(ctx, acct, erasure.HoldSpec{Subject: "cid", Ground: "Art. 17(3)(e)", By: "admin"})
			require.NoError(t, err)

			_, err = e.svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
			require.NoError(t, err)
			found, err := e.svc.RunOnce(ctx, "w")
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, 1, h.count(t, "SELECT COUNT(*) FROM hd_messages WHERE account_id = ? AND id = ? AND author_id = ?", "acme", bobMsg, "ana"),
				"ana's message in the held ticket is kept as it is")
			assert.Zero(t, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE account_id = ? AND requester_id = ?", "acme", "ana"), "the rest of ana goes")

			for _, c := range []struct {
				kind erasure.Kind
				id   int64
			}{{erasure.KindMessage, bobMsg}, {erasure.KindTicket, bobTicket}, {erasure.KindTicket, cidTicket}} {
				_, err = e.svc.DeleteRecord(ctx, acct, c.kind, strconv.FormatInt(c.id, 10), "admin")
				assert.ErrorIs(t, err, erasure.ErrHeld, "%s %d", c.kind, c.id)
			}
			_, err = e.svc.DeleteRecord(ctx, acct, erasure.KindBlob, fmt.Sprintf("att/%d", bobMsg), "admin")
			assert.ErrorIs(t, err, erasure.ErrHeld, "the file of the held ticket's attachment")
			sz, err := h.blobs.Stat(ctx, acct, []string{fmt.Sprintf("att/%d", bobMsg)})
			require.NoError(t, err)
			require.Len(t, sz, 1, "the file is still there")
			assert.Equal(t, 2, h.count(t, "SELECT COUNT(*) FROM hd_messages WHERE account_id = ? AND ticket_id = ?", "acme", bobTicket))
			assert.Equal(t, 1, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE account_id = ? AND requester_id = ?", "acme", "cid"))
			// bob's other ticket is not held.
			_, err = e.svc.DeleteRecord(ctx, acct, erasure.KindTicket, strconv.FormatInt(bobTicket+3, 10), "admin")
			require.NoError(t, err)
			assert.Equal(t, 1, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE account_id = ? AND requester_id = ?", "acme", "bob"))
		})
	}
}
