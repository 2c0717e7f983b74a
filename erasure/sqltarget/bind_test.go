package sqltarget_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

// A small helpdesk of the kind nobody here wrote: integer keys, one
// people table, cascades, a SET NULL, a NO ACTION.
func smallSchema(d sqldb.Dialect) []string {
	ts := "TIMESTAMP NULL"
	if d == sqldb.MySQL {
		ts = "DATETIME(6) NULL"
	}
	return []string{
		`CREATE TABLE people (id INTEGER NOT NULL PRIMARY KEY, kind VARCHAR(10) NOT NULL, name VARCHAR(20) NOT NULL, email VARCHAR(100) NULL, erased_at ` + ts + `)`,
		`CREATE TABLE tickets (id INTEGER NOT NULL PRIMARY KEY, requester_id INTEGER NOT NULL, assignee_id INTEGER NULL, subject VARCHAR(200) NOT NULL,
			FOREIGN KEY (requester_id) REFERENCES people (id) ON DELETE CASCADE, FOREIGN KEY (assignee_id) REFERENCES people (id) ON DELETE SET NULL)`,
		`CREATE TABLE replies (id INTEGER NOT NULL PRIMARY KEY, ticket_id INTEGER NOT NULL, author_id INTEGER NOT NULL, body TEXT NOT NULL,
			FOREIGN KEY (ticket_id) REFERENCES tickets (id) ON DELETE CASCADE, FOREIGN KEY (author_id) REFERENCES people (id) ON DELETE CASCADE)`,
		`CREATE TABLE audit (id INTEGER NOT NULL PRIMARY KEY, person_id INTEGER NOT NULL, FOREIGN KEY (person_id) REFERENCES people (id))`,
		`CREATE TABLE stats (id INTEGER NOT NULL PRIMARY KEY, person_id INTEGER NULL, FOREIGN KEY (person_id) REFERENCES people (id) ON DELETE SET NULL)`,
	}
}

func openSmall(t *testing.T, d sqldb.Dialect) *testdb.DB {
	db := testdb.Open(t, d)
	for _, q := range smallSchema(d) {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	return db
}

func classes(err error) []string {
	var pe *sqltarget.ProblemsError
	if !errors.As(err, &pe) {
		return nil
	}
	var out []string
	for _, p := range pe.Problems {
		where := p.Table
		if p.Column != "" {
			where += "." + p.Column
		}
		out = append(out, p.Class+" "+where)
	}
	sort.Strings(out)
	return out
}

// A binding written the naive way is refused whole, before any write, with
// one problem per hazard, each naming the table and column.
func TestNaiveBindingIsRefusedWithOneProblemPerHazard(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := openSmall(t, d)
			_, err := db.Exec("INSERT INTO people (id, kind, name) VALUES (1, 'contact', 'Ann')")
			require.NoError(t, err)
			_, err = sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: d, Specs: []sqltarget.Spec{
				{Kind: "person", Table: "people", Key: "id", SubjectColumn: "id",
					Columns: []sqltarget.Column{{Name: "id", Action: sqltarget.Pseudonym}, {Name: "name", Action: sqltarget.Null}, {Name: "kind", Action: sqltarget.Label}}},
				{Kind: "ticket", Parent: "person", Table: "tickets", Key: "id", ParentColumn: "requester_id"},
				{Kind: "reply", Parent: "ticket", Table: "replies", Key: "id", ParentColumn: "ticket_id",
					Columns: []sqltarget.Column{{Name: "body", Action: sqltarget.Label}}},
			}})
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			got := classes(err)
			if d != sqldb.SQLite { // SQLite does not enforce VARCHAR lengths
				assert.Contains(t, got, "length people.kind", "a 20-character label into VARCHAR(10)")
				got = slices.DeleteFunc(got, func(s string) bool { return s == "length people.kind" })
			}
			assert.Equal(t, []string{
				"cascade replies.author_id",    // deleting people cascades into replies no target finds by author_id
				"coverage audit.person_id",     // nothing binds it
				"coverage replies.author_id",   // nothing binds it
				"coverage stats.person_id",     // nothing binds it
				"coverage tickets.assignee_id", // nothing binds it
				"not-null people.name",         // Null into NOT NULL
				"refused audit.person_id",      // NO ACTION would refuse the delete
				"refused people.id",            // changing a key that audit.person_id references (ON UPDATE NO ACTION) …
				"refused people.id",            // … replies.author_id …
				"refused people.id",            // … stats.person_id …
				"refused people.id",            // … tickets.assignee_id …
				"refused people.id",            // … and tickets.requester_id
				"set-null stats.person_id",     // the database would null a column no target binds
				"set-null tickets.assignee_id", // the same
				"type people.id",               // a pseudonym into an integer
			}, got, err.Error())
			for _, line := range strings.Split(err.Error(), "\n")[1:] {
				assert.Regexp(t, `^  sqltarget( \w+)?: \w+\.\w+: `, line, "every problem names its table and column")
			}
			var n int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM people").Scan(&n))
			assert.Equal(t, 1, n, "nothing was written")
		})
	}
}

// The same schema bound the way the guide says: the people row is
// anonymised in place (a marker), the authored replies and assignments
// are handled by their own roots, the statistics are left to the
// database's SET NULL and counted, the audit trail is deliberately left.
func TestCorrectBindingDerivesItsOrderFromTheForeignKeys(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := openSmall(t, d)
			b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: d, Specs: correctSmall(), Cascade: []string{"stats"}, Ignore: []string{"audit.person_id"}})
			require.NoError(t, err)
			rep := b.Report()
			assert.Empty(t, rep.Problems)
			assert.Equal(t, []erasure.Kind{"reply", "ticket", "assigned", "authored", "person"}, rep.Kinds)
			assert.Contains(t, rep.Order, "authored before person: replies.author_id references people")
			assert.Contains(t, rep.Order, "assigned before person: tickets.assignee_id references people")

			// Anonymising people in place is safe; a request that deletes
			// them is refused before any write: the audit trail would refuse
			// the delete.
			person := b.Targets()[0]
			require.NoError(t, person.Check(ctx, erasure.CheckRequest{Run: "r1", Rules: map[erasure.Kind]erasure.Rule{"person": {Action: erasure.Anonymize}}}))
			err = person.Check(ctx, erasure.CheckRequest{Run: "r2", Rules: map[erasure.Kind]erasure.Rule{"person": {Action: erasure.Delete}}})
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			assert.Equal(t, []string{"refused audit.person_id"}, classes(err))
			// So is keeping the replies the person wrote while deleting the
			// person (the database would cascade them away).
			err = person.Check(ctx, erasure.CheckRequest{Run: "r3", Rules: map[erasure.Kind]erasure.Rule{
				"person": {Action: erasure.Delete}, "authored": {Action: erasure.Keep, Ground: "x"}}})
			assert.Contains(t, classes(err), "rule replies.author_id")

			// A table added since, whose foreign key would cascade a ticket's
			// delete into rows nobody bound: a submission's check (Cached)
			// judges the rules on the schema read last and lets it pass; the
			// job's check before its first write reads the schema again and
			// refuses.
			_, err = db.Exec(`CREATE TABLE ticket_notes (id INTEGER NOT NULL PRIMARY KEY, ticket_id INTEGER NOT NULL, FOREIGN KEY (ticket_id) REFERENCES tickets (id) ON DELETE CASCADE)`)
			require.NoError(t, err)
			anon := map[erasure.Kind]erasure.Rule{"person": {Action: erasure.Anonymize}}
			require.NoError(t, person.Check(ctx, erasure.CheckRequest{Run: "r4", Rules: anon, Cached: true}))
			err = person.Check(ctx, erasure.CheckRequest{Run: "r5", Rules: anon})
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			assert.Contains(t, classes(err), "cascade ticket_notes.ticket_id")
			// A cached check of rules the schema read last refuses is refused.
			err = person.Check(ctx, erasure.CheckRequest{Run: "r6", Rules: map[erasure.Kind]erasure.Rule{"person": {Action: erasure.Delete}}, Cached: true})
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
		})
	}
}

func correctSmall() []sqltarget.Spec {
	return []sqltarget.Spec{
		{Kind: "person", Table: "people", Key: "id", SubjectColumn: "id", Marker: "erased_at", Default: erasure.Rule{Action: erasure.Anonymize},
			Identifiers: map[string]string{"email": "email", "name": "name"},
			Columns:     []sqltarget.Column{{Name: "name", Action: sqltarget.Label}, {Name: "email", Action: sqltarget.Null}}},
		{Kind: "ticket", Parent: "person", Table: "tickets", Key: "id", ParentColumn: "requester_id"},
		{Kind: "reply", Parent: "ticket", Table: "replies", Key: "id", ParentColumn: "ticket_id"},
		{Kind: "authored", Table: "replies", Key: "id", SubjectColumn: "author_id"},
		{Kind: "assigned", Table: "tickets", Key: "id", SubjectColumn: "assignee_id", Actions: []erasure.Action{erasure.Anonymize},
			Columns: []sqltarget.Column{{Name: "assignee_id", Action: sqltarget.Reassign}}},
	}
}
