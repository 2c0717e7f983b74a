package erasure_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

// files lists the blob keys the store still holds for account a.
func (h *sqlHost) files(t *testing.T, a gdprkit.AccountID) []string {
	t.Helper()
	var out []string
	require.NoError(t, h.blobs.Walk(ctx, a, "", func(key string, _ int64) error {
		out = append(out, key)
		return nil
	}))
	return out
}

// rows counts the account's rows in every host table.
func (h *sqlHost) rows(t *testing.T, a gdprkit.AccountID) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range []string{"hd_users", "hd_tickets", "hd_messages", "hd_attachments"} {
		if n := h.count(t, "SELECT COUNT(*) FROM "+tb+" WHERE account_id = ?", string(a)); n > 0 {
			out[tb] = n
		}
	}
	return out
}

// Account deletion leaves nothing behind (issue 14, items 1 and 4): the
// files of tickets an earlier erasure kept anonymised go with the
// account, although no user leads to them any more; with one ticket under
// legal hold, everything else goes — a mailed-in ticket nobody owns
// included — and EraseAccount says ErrHeld until the hold ends; after the
// release, a second call leaves no row and no file, and another account is
// untouched throughout.
func TestAccountDeletionLeavesNothingBehind(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newSQLEnv(t, d, 3)
			h := e.host
			const acct, other = gdprkit.AccountID("acme"), gdprkit.AccountID("globex")
			h.seedSubject(t, acct, "ana", 3, 2)
			h.seedSubject(t, acct, "bob", 2, 2)
			h.seedSubject(t, other, "ana", 2, 2)
			otherRows, otherFiles := h.rows(t, other), h.files(t, other)

			// An earlier erasure of ana kept her tickets, with their messages
			// and files, on a legal ground; what they hang from (her user
			// row) is kept with them.
			keep := erasure.Rule{Action: erasure.Keep, Ground: "Art. 17(3)(b)"}
			r, err := e.svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true,
				Rules: map[erasure.Kind]erasure.Rule{erasure.KindTicket: keep, erasure.KindMessage: keep, erasure.KindAttachment: keep, erasure.KindBlob: keep}})
			require.NoError(t, err)
			_, errs := e.svc.RunUntilIdle(ctx, "w")
			require.Empty(t, errs)
			rc, err := e.svc.Receipt(ctx, acct, r.ID)
			require.NoError(t, err)
			assert.True(t, rc.Partial, "kept on a legal ground")
			require.Equal(t, 3, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE account_id = ? AND requester_id = ?", string(acct), "ana"), "her tickets stay")
			require.Len(t, h.files(t, acct), 5, "with their files")

			// A ticket mailed in by someone with no user, with a message and
			// a file.
			h.nextID += 3
			id := h.nextID
			h.insert(t, "hd_tickets", 5, [][]any{{string(acct), id - 2, nil, "Walk-in Winnie", "mailed in"}})
			h.insert(t, "hd_messages", 6, [][]any{{string(acct), id - 1, id - 2, nil, "Walk-in Winnie", "winnie@example.net wrote"}})
			h.insert(t, "hd_attachments", 4, [][]any{{string(acct), id, id - 1, "att/mailed-in"}})
			require.NoError(t, h.blobs.Put(ctx, acct, "att/mailed-in", []byte("scan")))

			// One of bob's tickets is under legal hold.
			var held int64
			require.NoError(t, h.db.QueryRow(h.rebind("SELECT MIN(id) FROM hd_tickets WHERE account_id = ? AND requester_id = ?"), string(acct), "bob").Scan(&held))
			hold, err := e.svc.PlaceHold(ctx, acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: fmt.Sprint(held), Ground: "Art. 17(3)(e)", By: "admin"})
			require.NoError(t, err)

			res, err := e.svc.EraseAccount(ctx, acct)
			require.ErrorIs(t, err, erasure.ErrHeld, "held data remains: not done yet")
			assert.NotEmpty(t, res.Held)
			assert.Equal(t, map[string]int{"hd_users": 1, "hd_tickets": 1, "hd_messages": 2, "hd_attachments": 1}, h.rows(t, acct),
				"only the held ticket, its messages and attachment, and its requester remain")
			assert.Len(t, h.files(t, acct), 1, "only the held ticket's file remains")
			assert.Equal(t, 1, h.count(t, "SELECT COUNT(*) FROM hd_tickets WHERE account_id = ? AND id = ?", string(acct), held))

			require.NoError(t, e.svc.ReleaseHold(ctx, acct, hold.ID, "admin"))
			_, err = e.svc.EraseAccount(ctx, acct)
			require.NoError(t, err)
			assert.Empty(t, h.rows(t, acct), "no row of the account is left")
			assert.Empty(t, h.files(t, acct), "no file of the account is left")
			assert.Equal(t, otherRows, h.rows(t, other), "another account is untouched")
			assert.Equal(t, otherFiles, h.files(t, other))
		})
	}
}
