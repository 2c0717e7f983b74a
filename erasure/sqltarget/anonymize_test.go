package sqltarget_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

// A spec that sets a column in SQL (the author link, NULL) beside a
// column edited in Go (redaction of the body) changes every row of the
// batch, those whose text names nobody included, and counts each once:
// running it again changes nothing.
func TestAnonymizeMixesSQLAndGoEdits(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			_, err := db.Exec(`CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY, author VARCHAR(40) NULL, body VARCHAR(200) NOT NULL)`)
			require.NoError(t, err)
			_, err = db.Exec(`INSERT INTO notes (id, author, body) VALUES (1, 'ana', 'the printer is broken'), (2, 'ana', 'Ana Smith will call back'), (3, 'bob', 'Ana Smith called')`)
			require.NoError(t, err)
			b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: d, Specs: []sqltarget.Spec{{Kind: "note", Table: "notes", Key: "id", SubjectColumn: "author",
				Actions: []erasure.Action{erasure.Anonymize}, Default: erasure.Rule{Action: erasure.Anonymize},
				Columns: []sqltarget.Column{{Name: "author", Action: sqltarget.Null}, {Name: "body", Action: sqltarget.Redact}}}}})
			require.NoError(t, err)
			tg := b.Targets()[0]
			refs, err := tg.Find(ctx, "acme", erasure.Query{Subject: "ana", Limit: 10})
			require.NoError(t, err)
			require.Len(t, refs, 2)
			an := erasure.Anon{Subject: "ana", Identifiers: []erasure.Identifier{{Kind: "name", Value: "Ana Smith"}}}
			p, err := tg.Predict(ctx, "acme", refs, erasure.Anonymize, an)
			require.NoError(t, err)
			ch, err := tg.Anonymize(ctx, "acme", refs, an)
			require.NoError(t, err)
			assert.EqualValues(t, 2, ch.Records, "both of her notes change, the one naming nobody included")
			assert.Equal(t, p.Records, ch.Records, "the prediction counted the same")
			var authors int
			require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM notes WHERE author = 'ana'`).Scan(&authors))
			assert.Zero(t, authors, "no note is linked to her any more")
			var body string
			require.NoError(t, db.QueryRow(`SELECT body FROM notes WHERE id = 2`).Scan(&body))
			assert.NotContains(t, body, "Ana Smith")
			require.NoError(t, db.QueryRow(`SELECT body FROM notes WHERE id = 3`).Scan(&body))
			assert.Equal(t, "Ana Smith called", body, "only the rows given are touched")
			again, err := tg.Anonymize(ctx, "acme", refs, an)
			require.NoError(t, err)
			assert.Zero(t, again.Records, "idempotent: nothing left to change")
		})
	}
}
