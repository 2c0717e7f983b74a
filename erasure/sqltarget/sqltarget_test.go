package sqltarget_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

var ctx = context.Background()

func setup(t *testing.T, db *sql.DB) {
	for _, st := range []string{
		`CREATE TABLE contacts (tenant VARCHAR(32) NOT NULL, id VARCHAR(32) NOT NULL, name VARCHAR(100) NULL, phone VARCHAR(40) NULL, PRIMARY KEY (tenant, id))`,
		`CREATE TABLE notes (tenant VARCHAR(32) NOT NULL, id BIGINT NOT NULL, contact_id VARCHAR(32) NOT NULL, body VARCHAR(200) NOT NULL, PRIMARY KEY (tenant, id))`,
	} {
		_, err := db.Exec(st)
		require.NoError(t, err)
	}
}

func TestSpecIsCheckedAgainstTheLiveSchema(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			setup(t, db.DB)
			dl := sqltarget.Dialect(d)
			good := sqltarget.Spec{Kind: "contact", Table: "contacts", Key: "id", SubjectColumn: "id", AccountColumn: "tenant"}
			_, err := sqltarget.New(ctx, db.DB, dl, good)
			require.NoError(t, err)
			for name, mut := range map[string]func(s *sqltarget.Spec){
				"unknown table":         func(s *sqltarget.Spec) { s.Table = "contactz" },
				"unknown key column":    func(s *sqltarget.Spec) { s.Key = "uid" },
				"unknown tenant column": func(s *sqltarget.Spec) { s.AccountColumn = "account" },
				"unknown anonymised col": func(s *sqltarget.Spec) {
					s.Columns = []sqltarget.Column{{Name: "id", Action: sqltarget.Null}, {Name: "mail", Action: sqltarget.Blank}}
				},
				"injection in table":      func(s *sqltarget.Spec) { s.Table = "contacts; DROP TABLE notes" },
				"root without subject":    func(s *sqltarget.Spec) { s.SubjectColumn = "" },
				"child without parentcol": func(s *sqltarget.Spec) { s.Parent = "x" },
				"fixed without value":     func(s *sqltarget.Spec) { s.Columns = []sqltarget.Column{{Name: "id", Action: sqltarget.Fixed}} },
				"unknown column action":   func(s *sqltarget.Spec) { s.Columns = []sqltarget.Column{{Name: "id", Action: "shred"}} },
				"anonymise keeps the link": func(s *sqltarget.Spec) {
					s.Columns = []sqltarget.Column{{Name: "name", Action: sqltarget.Null}}
				},
			} {
				s := good
				mut(&s)
				_, err := sqltarget.New(ctx, db.DB, dl, s)
				assert.ErrorIs(t, err, gdprkit.ErrInvalid, name)
			}
			var n int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM notes").Scan(&n), "nothing was dropped")
		})
	}
}

func TestFindDeleteAnonymizeExport(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			setup(t, db.DB)
			dl := sqltarget.Dialect(d)
			ph := func(i int) string {
				if dl == sqltarget.Postgres {
					return fmt.Sprintf("$%d", i)
				}
				return "?"
			}
			ins := func(q string, args ...any) {
				_, err := db.Exec(q, args...)
				require.NoError(t, err)
			}
			for _, tenant := range []string{"a", "b"} {
				ins("INSERT INTO contacts VALUES ("+ph(1)+", "+ph(2)+", "+ph(3)+", "+ph(4)+")", tenant, "ana", "Ana", "+1 555")
				for i := 1; i <= 12; i++ {
					ins("INSERT INTO notes VALUES ("+ph(1)+", "+ph(2)+", "+ph(3)+", "+ph(4)+")", tenant, i, "ana", fmt.Sprint("note ", i))
				}
			}
			contacts, err := sqltarget.New(ctx, db.DB, dl, sqltarget.Spec{Kind: "contact", Table: "contacts", Key: "id", SubjectColumn: "id", AccountColumn: "tenant",
				Columns: []sqltarget.Column{{Name: "id", Action: sqltarget.Pseudonym}, {Name: "name", Action: sqltarget.Fixed, Value: "Former contact"}, {Name: "phone", Action: sqltarget.Null}}})
			require.NoError(t, err)
			notes, err := sqltarget.New(ctx, db.DB, dl, sqltarget.Spec{Kind: "note", Parent: "contact", Table: "notes", Key: "id", ParentColumn: "contact_id", AccountColumn: "tenant"})
			require.NoError(t, err)
			assert.Equal(t, []erasure.Action{erasure.Delete}, notes.Info().Actions)

			// Integer keys page in numeric order: 9 < 10.
			var got []string
			after := ""
			for {
				refs, err := notes.Find(ctx, "a", erasure.Query{Parents: []string{"ana"}, After: after, Limit: 5})
				require.NoError(t, err)
				for _, r := range refs {
					got = append(got, r.ID)
				}
				if len(refs) < 5 {
					break
				}
				after = refs[len(refs)-1].Next()
			}
			assert.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}, got)
			out, err := notes.Export(ctx, "a", "ana", []erasure.Ref{{ID: "10"}})
			require.NoError(t, err)
			require.Len(t, out, 1)
			var row map[string]any
			require.NoError(t, json.Unmarshal(out[0], &row))
			assert.Equal(t, "note 10", row["body"])

			// ParentsOf: the parent column of each key, in the account only.
			pm, err := notes.ParentsOf(ctx, "a", []string{"3", "12", "99"})
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"3": "ana", "12": "ana"}, pm)
			pm, err = contacts.ParentsOf(ctx, "a", []string{"ana"})
			require.NoError(t, err)
			assert.Empty(t, pm, "a root has no parents")

			// NoExport leaves secret columns out of access exports.
			private, err := sqltarget.New(ctx, db.DB, dl, sqltarget.Spec{Kind: "contact", Table: "contacts", Key: "id", SubjectColumn: "id", AccountColumn: "tenant", NoExport: []string{"phone"}})
			require.NoError(t, err)
			out, err = private.Export(ctx, "a", "ana", []erasure.Ref{{ID: "ana"}})
			require.NoError(t, err)
			require.Len(t, out, 1)
			row = nil
			require.NoError(t, json.Unmarshal(out[0], &row))
			assert.Equal(t, "Ana", row["name"])
			assert.NotContains(t, row, "phone")
			_, err = sqltarget.New(ctx, db.DB, dl, sqltarget.Spec{Kind: "contact", Table: "contacts", Key: "id", SubjectColumn: "id", NoExport: []string{"no_such_column"}})
			require.ErrorIs(t, err, gdprkit.ErrInvalid)

			require.NoError(t, second(notes.Delete(ctx, "a", "ana", []erasure.Ref{{ID: "1"}, {ID: "10"}, {ID: "99"}})))
			require.NoError(t, second(notes.Delete(ctx, "a", "ana", []erasure.Ref{{ID: "1"}})), "idempotent")
			refs, err := notes.Find(ctx, "a", erasure.Query{Parents: []string{"ana"}, Limit: 100})
			require.NoError(t, err)
			assert.Len(t, refs, 10)
			refs, err = notes.Find(ctx, "b", erasure.Query{Parents: []string{"ana"}, Limit: 100})
			require.NoError(t, err)
			assert.Len(t, refs, 12, "the other tenant is untouched")
			require.ErrorIs(t, second(notes.Delete(ctx, "a", "ana", []erasure.Ref{{ID: "x'; --"}})), gdprkit.ErrInvalid)

			refs, err = contacts.Find(ctx, "a", erasure.Query{Subject: "ana", Limit: 10})
			require.NoError(t, err)
			require.Len(t, refs, 1)
			require.NoError(t, second(contacts.Anonymize(ctx, "a", refs, erasure.Anon{Subject: "ana", Pseudonym: "ps_abc"})))
			refs, err = contacts.Find(ctx, "a", erasure.Query{Subject: "ana", Limit: 10})
			require.NoError(t, err)
			assert.Empty(t, refs, "an anonymised row no longer points at the subject")
			var name string
			var phone sql.NullString
			require.NoError(t, db.QueryRow("SELECT name, phone FROM contacts WHERE tenant = "+ph(1)+" AND id = "+ph(2), "a", "ps_abc").Scan(&name, &phone))
			assert.Equal(t, "Former contact", name)
			assert.False(t, phone.Valid)
			n, err := notes.EraseAccount(ctx, "a")
			require.NoError(t, err)
			assert.EqualValues(t, 10, n.Records)
		})
	}
}

// TestReassignAndLabel: an erased agent's tickets go to the named agent (or
// the unassigned queue) and their authorship reads as a label.
func TestReassignAndLabel(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			_, err := db.Exec(`CREATE TABLE tickets (id VARCHAR(32) NOT NULL PRIMARY KEY, assignee VARCHAR(32) NULL, assignee_name VARCHAR(100) NULL)`)
			require.NoError(t, err)
			q := "INSERT INTO tickets VALUES (?, ?, ?)"
			if d == "postgres" {
				q = "INSERT INTO tickets VALUES ($1, $2, $3)"
			}
			for _, id := range []string{"t1", "t2", "t3"} {
				_, err := db.Exec(q, id, "aldo", "Aldo Agent")
				require.NoError(t, err)
			}
			tickets, err := sqltarget.New(ctx, db.DB, sqltarget.Dialect(d), sqltarget.Spec{Kind: "assigned_ticket", Table: "tickets", Key: "id", SubjectColumn: "assignee",
				Columns: []sqltarget.Column{{Name: "assignee", Action: sqltarget.Reassign}, {Name: "assignee_name", Action: sqltarget.Label}}})
			require.NoError(t, err)
			require.NoError(t, second(tickets.Anonymize(ctx, "a", []erasure.Ref{{ID: "t1"}, {ID: "t2"}}, erasure.Anon{Subject: "aldo", ReassignTo: "bea", Label: "Former agent 3f9a"})))
			require.NoError(t, second(tickets.Anonymize(ctx, "a", []erasure.Ref{{ID: "t3"}}, erasure.Anon{Subject: "aldo", Label: "Former agent 3f9a"})))
			rows, err := db.Query("SELECT id, assignee, assignee_name FROM tickets ORDER BY id")
			require.NoError(t, err)
			defer rows.Close()
			var got []string
			for rows.Next() {
				var id, name string
				var who sql.NullString
				require.NoError(t, rows.Scan(&id, &who, &name))
				got = append(got, fmt.Sprintf("%s %v %s", id, who.String, name))
			}
			assert.Equal(t, []string{"t1 bea Former agent 3f9a", "t2 bea Former agent 3f9a", "t3  Former agent 3f9a"}, got)
			refs, err := tickets.Find(ctx, "a", erasure.Query{Subject: "aldo", Limit: 10})
			require.NoError(t, err)
			assert.Empty(t, refs, "no ticket is left with the erased agent")
		})
	}
}

func Example() {
	db, _ := sql.Open("sqlite", "file::memory:?cache=shared")
	defer db.Close()
	_, _ = db.Exec(`CREATE TABLE contacts (id TEXT PRIMARY KEY, name TEXT, email TEXT)`)
	_, _ = db.Exec(`INSERT INTO contacts VALUES ('ana', 'Ana', 'ana@example.com')`)
	_, err := sqltarget.New(context.Background(), db, sqltarget.SQLite, sqltarget.Spec{
		Kind: "contact", Table: "contacts", Key: "id", SubjectColumn: "id",
		Columns: []sqltarget.Column{{Name: "emial", Action: sqltarget.Null}},
	})
	fmt.Println(err != nil, "- a typo is caught when the target is registered")
	t, _ := sqltarget.New(context.Background(), db, sqltarget.SQLite, sqltarget.Spec{
		Kind: "contact", Table: "contacts", Key: "id", SubjectColumn: "id",
		Columns: []sqltarget.Column{{Name: "id", Action: sqltarget.Pseudonym}, {Name: "email", Action: sqltarget.Null}},
	})
	refs, _ := t.Find(context.Background(), "acme", erasure.Query{Subject: "ana", Limit: 10})
	fmt.Println(len(refs), t.Info().Actions)
	// Output:
	// true - a typo is caught when the target is registered
	// 1 [delete anonymize]
}

func second[T any](_ T, err error) error { return err }
