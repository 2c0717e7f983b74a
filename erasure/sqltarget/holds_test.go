package sqltarget_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// A person who wrote a reply in someone else's ticket under legal hold:
// the reply is kept, so the person's row, which the reply references
// (ON DELETE CASCADE would take the held reply with it), is kept too, the
// receipt says so, and nothing fails; once the hold is released the
// erasure it held back finishes and nothing of the person is left.
func TestKeptReplyKeepsTheRowItReferences(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := openSmall(t, d)
			for _, q := range []string{
				`INSERT INTO people (id, kind, name, email) VALUES (1, 'customer', 'Ana', 'ana@example.com'), (2, 'customer', 'Bea', 'bea@example.com'), (3, 'admin', 'Ada', NULL)`,
				`INSERT INTO tickets (id, requester_id, subject) VALUES (10, 2, 'Bea''s ticket'), (11, 1, 'Ana''s ticket')`,
				`INSERT INTO replies (id, ticket_id, author_id, body) VALUES (100, 10, 1, 'Ana writes in Bea''s ticket'), (101, 11, 1, 'Ana in her own'), (102, 10, 2, 'Bea')`,
			} {
				_, err := db.Exec(q)
				require.NoError(t, err, q)
			}
			b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: d, Cascade: []string{"stats"}, Specs: []sqltarget.Spec{
				{Kind: "person", Table: "people", Key: "id", SubjectColumn: "id"},
				{Kind: "ticket", Parent: "person", Table: "tickets", Key: "id", ParentColumn: "requester_id"},
				{Kind: "reply", Parent: "ticket", Table: "replies", Key: "id", ParentColumn: "ticket_id"},
				{Kind: "authored", Table: "replies", Key: "id", SubjectColumn: "author_id"},
				{Kind: "assigned", Table: "tickets", Key: "id", SubjectColumn: "assignee_id", Actions: []erasure.Action{erasure.Anonymize},
					Columns: []sqltarget.Column{{Name: "assignee_id", Action: sqltarget.Reassign}}},
				{Kind: "audit", Table: "audit", Key: "id", SubjectColumn: "person_id"},
			}})
			require.NoError(t, err)
			g, err := erasure.NewGraph(b.Targets()...)
			require.NoError(t, err)
			dir, err := sqltarget.NewDirectory(ctx, db.DB, d, sqltarget.PeopleSpec{Table: "people", Key: "id", Role: gdprkit.RoleEndUser,
				RoleColumn: "kind", Roles: map[string]gdprkit.Role{"admin": gdprkit.RoleAdmin}})
			require.NoError(t, err)
			ps, err := gdprkit.NewPseudonymizer([]byte("fixture-key-0123456789abcdef0123456789"))
			require.NoError(t, err)
			svc, err := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: g, Directory: dir, Pseudonymizer: ps, Clock: fakeclock.New(t0)})
			require.NoError(t, err)
			count := func(q string) (n int) {
				require.NoError(t, db.QueryRow(q).Scan(&n))
				return n
			}

			hold, err := svc.PlaceHold(ctx, "acme", erasure.HoldSpec{Kind: "ticket", RecordID: "10", Ground: "Art. 17(3)(e)", By: "3"})
			require.NoError(t, err)
			plan, err := svc.Plan(ctx, "acme", "1", "", nil)
			require.NoError(t, err)
			r, err := svc.Submit(ctx, "acme", erasure.Submission{Type: erasure.TypeErasure, Subject: "1", By: "3", Verified: true})
			require.NoError(t, err)
			_, errs := svc.RunUntilIdle(ctx, "w")
			require.Empty(t, errs, "the job does not fail on the row a kept reply references")
			rc, err := svc.Receipt(ctx, "acme", r.ID)
			require.NoError(t, err)
			assert.True(t, rc.Partial)
			got := map[erasure.Kind]erasure.TargetResult{}
			for _, x := range rc.Targets {
				got[x.Kind] = x
			}
			for _, p := range plan.Targets {
				assert.Equal(t, p.TargetResult, got[p.Kind], "plan and receipt agree on %s", p.Kind)
			}
			assert.EqualValues(t, 1, got["person"].Kept, "her row stays: a kept reply references it")
			assert.EqualValues(t, 1, got["authored"].Kept)
			assert.Equal(t, 1, count(`SELECT COUNT(*) FROM people WHERE id = 1`))
			assert.Equal(t, 1, count(`SELECT COUNT(*) FROM replies WHERE id = 100`), "the held reply stays")
			assert.Zero(t, count(`SELECT COUNT(*) FROM tickets WHERE id = 11`), "her own ticket goes")
			assert.Zero(t, count(`SELECT COUNT(*) FROM replies WHERE id = 101`))

			require.NoError(t, svc.ReleaseHold(ctx, "acme", hold.ID, "3"))
			_, errs = svc.RunUntilIdle(ctx, "w")
			require.Empty(t, errs)
			assert.Zero(t, count(`SELECT COUNT(*) FROM people WHERE id = 1`), "the held-back erasure finished")
			assert.Zero(t, count(`SELECT COUNT(*) FROM replies WHERE author_id = 1`))
			assert.Equal(t, 1, count(`SELECT COUNT(*) FROM tickets WHERE id = 10`), "Bea's ticket stays")
			assert.Equal(t, 1, count(`SELECT COUNT(*) FROM replies WHERE id = 102`))
		})
	}
}
