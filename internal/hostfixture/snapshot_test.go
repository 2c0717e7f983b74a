package hostfixture

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// A snapshot of an unchanged database compares empty, and each kind of
// change shows up exactly: one changed column, one deleted row, one
// inserted row, one removed file, and nothing else.
func TestDiffShowsExactlyWhatChanged(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db, s := seeded(t, d, Convo)
			base := snap(t, db.DB, d, s.BlobDir)
			again := snap(t, db.DB, d, s.BlobDir)
			require.True(t, Compare(base, again).Empty(), "%s", Compare(base, again))
			require.Equal(t, "no changes", Compare(base, again).String())

			ann := s.SubjectCustomer
			t.Run("one column updated", func(t *testing.T) {
				mustExec(t, db.DB, d, "UPDATE users SET phone_number = ? WHERE id = ?", "+44 7700 900999", ann.ID)
				diff := Compare(base, snap(t, db.DB, d, s.BlobDir))
				require.Equal(t, []string{"users"}, diff.Tables(), "%s", diff)
				td := diff.Table("users")
				require.Len(t, td.Changed, 1)
				rc := td.Changed[0]
				assert.Equal(t, "id="+itoa(ann.ID), rc.Key)
				assert.Equal(t, []ColumnChange{{Column: "phone_number", Before: Text(ann.Phone), After: Text("+44 7700 900999")}}, rc.Columns)
				assert.Equal(t, Counts{Changed: 1}, diff.Counts()["users"])
				assert.Empty(t, diff.Files)
				assert.Contains(t, diff.String(), `~ id=`+itoa(ann.ID)+`: phone_number "+44 7700 900123" -> "+44 7700 900999"`)
				mustExec(t, db.DB, d, "UPDATE users SET phone_number = ? WHERE id = ?", ann.Phone, ann.ID)
				require.True(t, Compare(base, snap(t, db.DB, d, s.BlobDir)).Empty())
			})
			t.Run("set to NULL", func(t *testing.T) {
				mustExec(t, db.DB, d, "UPDATE users SET erased_at = ?, email = NULL WHERE id = ?", convoStart, ann.ID)
				diff := Compare(base, snap(t, db.DB, d, s.BlobDir))
				td := diff.Table("users")
				require.Len(t, td.Changed, 1, "%s", diff)
				assert.Equal(t, []ColumnChange{
					{Column: "email", Before: Text(ann.Email), After: Null},
					{Column: "erased_at", Before: Null, After: Text("2024-03-04 09:00:00")},
				}, td.Changed[0].Columns)
				mustExec(t, db.DB, d, "UPDATE users SET erased_at = NULL, email = ? WHERE id = ?", ann.Email, ann.ID)
			})
			t.Run("one row deleted", func(t *testing.T) {
				before := base.Table("audits").Where("auditable_id", itoa(ann.ID))
				require.Len(t, before, 1)
				mustExec(t, db.DB, d, "DELETE FROM audits WHERE auditable_type = 'User' AND auditable_id = ?", ann.ID)
				diff := Compare(base, snap(t, db.DB, d, s.BlobDir))
				require.Equal(t, []string{"audits"}, diff.Tables(), "%s", diff)
				assert.Equal(t, before, diff.Table("audits").Deleted)
				assert.Equal(t, Counts{Deleted: 1}, diff.Table("audits").Counts())
				assert.Contains(t, diff.String(), "- "+before[0].Key+" {")
			})
			t.Run("one row inserted", func(t *testing.T) {
				cur := snap(t, db.DB, d, s.BlobDir)
				mustExec(t, db.DB, d, "INSERT INTO labels (account_id, title, color, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
					1, "returns", "#000000", param(d, convoStart), param(d, convoStart))
				diff := Compare(cur, snap(t, db.DB, d, s.BlobDir))
				require.Equal(t, []string{"labels"}, diff.Tables(), "%s", diff)
				ins := diff.Table("labels").Inserted
				require.Len(t, ins, 1)
				assert.Equal(t, "id=5", ins[0].Key, "the sequence continues after the seeded keys")
				assert.Equal(t, Text("returns"), ins[0].Get("title"))
			})
			t.Run("file removed, changed, added", func(t *testing.T) {
				cur := snap(t, db.DB, d, s.BlobDir)
				files := s.SubjectCustomerFiles()
				require.NotEmpty(t, files)
				require.NoError(t, os.Remove(filepath.Join(s.BlobDir, filepath.FromSlash(files[0]))))
				diff := Compare(cur, snap(t, db.DB, d, s.BlobDir))
				require.Empty(t, diff.Tables())
				require.Equal(t, []FileChange{{Path: files[0], Change: "deleted", Before: cur.Files[files[0]]}}, diff.Files)
				assert.Equal(t, []string{files[0]}, diff.FilesWith("deleted"))

				other := s.BystanderFiles()[0]
				require.NoError(t, os.WriteFile(filepath.Join(s.BlobDir, filepath.FromSlash(other)), []byte("redacted"), 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(s.BlobDir, "new.txt"), []byte("x"), 0o644))
				diff = Compare(cur, snap(t, db.DB, d, s.BlobDir))
				assert.Equal(t, []string{files[0]}, diff.FilesWith("deleted"))
				assert.Equal(t, []string{other}, diff.FilesWith("changed"))
				assert.Equal(t, []string{"new.txt"}, diff.FilesWith("added"))
				assert.Contains(t, diff.String(), "files: 1 deleted, 1 added, 1 changed")
			})
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func parseCanonicalTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(canonicalTime, s)
	require.NoError(t, err)
	return tm
}

// Rows of a table without a primary key are identified by content and
// counted with multiplicity: a duplicate is two copies of one row, and
// adding or removing copies shows as that many rows inserted or deleted.
func TestRowsWithoutKeyCountCopies(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db, s := seeded(t, d, Restrict)
			base := snap(t, db.DB, d, s.BlobDir)
			require.True(t, Compare(base, snap(t, db.DB, d, s.BlobDir)).Empty(), "unchanged")
			flags := base.Table("ticket_flag")
			require.Empty(t, flags.PrimaryKey)
			nina := s.SubjectAgent
			var dup Row
			for _, r := range flags.Sorted() {
				if r.Count == 2 {
					dup = r
				}
			}
			require.Equal(t, 2, dup.Count, "the seed holds a duplicated flag row")
			require.Equal(t, Text(itoa(nina.ID)), dup.Get("create_by"))
			require.True(t, strings.HasPrefix(dup.Key, "#"))
			n := 0
			for _, r := range flags.Rows {
				n += r.Count
			}
			require.Equal(t, n, flags.Len())
			require.Greater(t, flags.Len(), len(flags.Rows))

			// One more copy.
			mustExec(t, db.DB, d, "INSERT INTO ticket_flag (ticket_id, ticket_key, ticket_value, create_time, create_by) VALUES (?, ?, ?, ?, ?)",
				dup.Get("ticket_id").Text, "Seen", "1", param(d, parseCanonicalTime(t, dup.Get("create_time").Text)), nina.ID)
			diff := Compare(base, snap(t, db.DB, d, s.BlobDir))
			require.Equal(t, []string{"ticket_flag"}, diff.Tables(), "%s", diff)
			ins := diff.Table("ticket_flag").Inserted
			require.Len(t, ins, 1)
			assert.Equal(t, dup.Key, ins[0].Key)
			assert.Equal(t, 1, ins[0].Count)

			// Every copy gone: against the seed, its two copies went.
			mustExec(t, db.DB, d, "DELETE FROM ticket_flag WHERE ticket_id = ? AND create_by = ?", dup.Get("ticket_id").Text, nina.ID)
			diff = Compare(base, snap(t, db.DB, d, s.BlobDir))
			del := diff.Table("ticket_flag").Deleted
			require.Len(t, del, 1, "%s", diff)
			assert.Equal(t, 2, del[0].Count)
			assert.Equal(t, Counts{Deleted: 2}, diff.Table("ticket_flag").Counts())
			assert.Contains(t, diff.String(), "x2")
		})
	}
}

// JSON is compared by meaning (key order and spacing do not matter); a
// real change to it does.
func TestJSONIsNormalised(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db, s := seeded(t, d, Convo)
			base := snap(t, db.DB, d, s.BlobDir)
			m := base.Table("messages").Where("id", "1")[0]
			require.Equal(t, `{"bcc":[],"cc":["joann.weber@mailbox.example"],"in_reply_to":null,"subject":"Gears slipping on my Roadster 2","to":["support@brightwater.example"]}`,
				m.Get("content_attributes").Text)
			cast := ""
			if d == sqlstore.Postgres {
				cast = "::jsonb"
			}
			mustExec(t, db.DB, d, "UPDATE messages SET content_attributes = ?"+cast+" WHERE id = 1",
				`{ "to": ["support@brightwater.example"], "subject": "Gears slipping on my Roadster 2", "in_reply_to": null, "cc": [ "joann.weber@mailbox.example" ], "bcc": [] }`)
			require.True(t, Compare(base, snap(t, db.DB, d, s.BlobDir)).Empty())
			mustExec(t, db.DB, d, "UPDATE messages SET content_attributes = ?"+cast+" WHERE id = 1",
				`{"to":["support@brightwater.example"],"cc":[],"bcc":[],"in_reply_to":null,"subject":"Gears slipping on my Roadster 2"}`)
			diff := Compare(base, snap(t, db.DB, d, s.BlobDir))
			require.Equal(t, []string{"content_attributes"}, diff.Table("messages").ChangedColumns(), "%s", diff)

			// Integer lists: integer[] on PostgreSQL, JSON elsewhere, one form.
			c := base.Table("conversations").Where("id", "4")[0]
			assert.Equal(t, Text("[6,8]"), c.Get("watcher_ids"))
			assert.Equal(t, Text("true"), base.Table("messages").Where("id", "3")[0].Get("private"))
		})
	}
}

// Tables with a skipped prefix are left out; a snapshot can be taken
// inside the caller's transaction and sees its uncommitted writes; a
// missing blob directory is an error.
func TestSnapshotScope(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db, s := seeded(t, d, Convo)
			mustExec(t, db.DB, d, "CREATE TABLE gdpr_jobs (id integer PRIMARY KEY, note varchar(20))")
			mustExec(t, db.DB, d, "INSERT INTO gdpr_jobs (id, note) VALUES (1, 'x')")
			all := snap(t, db.DB, d, s.BlobDir)
			require.NotNil(t, all.Table("gdpr_jobs"))
			host := snap(t, db.DB, d, s.BlobDir, "gdpr_")
			require.Nil(t, host.Table("gdpr_jobs"))
			require.Equal(t, []string{"gdpr_jobs"}, Compare(host, all).Tables())
			require.True(t, Compare(host, all).Table("gdpr_jobs").Created)

			tx, err := db.BeginTx(ctx, nil)
			require.NoError(t, err)
			defer tx.Rollback() //nolint:errcheck
			mustExec(t, tx, d, "DELETE FROM sessions WHERE user_id = ?", s.SubjectCustomer.ID)
			inTx := snap(t, tx, d, "", "gdpr_")
			require.NoError(t, tx.Rollback())
			diff := Compare(host, inTx)
			assert.Equal(t, Counts{Deleted: 1}, diff.Table("sessions").Counts())
			assert.Len(t, diff.FilesWith("deleted"), len(s.Files), "no blob directory: no files")

			_, err = TakeSnapshot(ctx, db.DB, d, filepath.Join(s.BlobDir, "missing"))
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			_, err = TakeSnapshot(ctx, db.DB, "oracle", "")
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
		})
	}
}
