package sqltarget_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// locateDDL is a helpdesk whose rows carry their creation time three
// ways: files a timestamp without zone (SQLite: datetime), messages a
// zoned timestamp (MySQL: DATETIME), tickets Unix seconds.
func locateDDL(d sqldb.Dialect) []string {
	ts, tz := "timestamp", "timestamptz"
	switch d {
	case sqldb.MySQL:
		ts, tz = "DATETIME(6)", "DATETIME(6)"
	case sqldb.SQLite:
		ts, tz = "datetime", "timestamp"
	}
	return []string{
		`CREATE TABLE lt_users (account_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, note VARCHAR(64) NULL, PRIMARY KEY (account_id, id))`,
		`CREATE TABLE lt_tickets (account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, requester_id VARCHAR(64) NULL, created_unix BIGINT NOT NULL, PRIMARY KEY (account_id, id))`,
		`CREATE TABLE lt_messages (account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, ticket_id BIGINT NOT NULL, created_at ` + tz + ` NOT NULL, PRIMARY KEY (account_id, id))`,
		`CREATE TABLE lt_files (account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, message_id BIGINT NOT NULL, created_at ` + ts + ` NULL, blob_key VARCHAR(200) NULL, PRIMARY KEY (account_id, id))`,
		`CREATE INDEX lt_files_created ON lt_files (account_id, created_at)`,
	}
}

func locateSpecs() []sqltarget.Spec {
	return []sqltarget.Spec{
		{Kind: erasure.KindEndUser, Table: "lt_users", Key: "id", SubjectColumn: "id", AccountColumn: "account_id", Categories: []string{erasure.CategoryIdentity}},
		{Kind: erasure.KindTicket, Parent: erasure.KindEndUser, Table: "lt_tickets", Key: "id", ParentColumn: "requester_id", AccountColumn: "account_id", TimeColumn: "created_unix"},
		{Kind: erasure.KindMessage, Parent: erasure.KindTicket, Table: "lt_messages", Key: "id", ParentColumn: "ticket_id", AccountColumn: "account_id", TimeColumn: "created_at"},
		{Kind: erasure.KindAttachment, Parent: erasure.KindMessage, Table: "lt_files", Key: "id", ParentColumn: "message_id", AccountColumn: "account_id", TimeColumn: "created_at"},
	}
}

// everyone is a Directory that knows every user as an end user keyed by
// their ID.
type everyone []gdprkit.SubjectID

func (e everyone) Lookup(_ context.Context, _ gdprkit.AccountID, id gdprkit.SubjectID) (erasure.Subject, error) {
	for _, x := range e {
		if x == id {
			return erasure.Subject{ID: id, Role: gdprkit.RoleEndUser}, nil
		}
	}
	return erasure.Subject{}, fmt.Errorf("%w", gdprkit.ErrNotFound)
}

func (e everyone) Subjects(context.Context, gdprkit.AccountID, string, int) ([]gdprkit.SubjectID, string, error) {
	return e, "", nil
}

// On every dialect, a spec's TimeColumn lets the target Locate the
// account's rows of a period (bounds inclusive, paged, tenant-scoped,
// anonymised-in-place rows left out), and Service.Holders climbs from
// them to the people they belong to.
func TestLocateByTimeColumn(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testdb.Open(t, d)
			for _, st := range locateDDL(d) {
				_, err := db.Exec(st)
				require.NoError(t, err, st)
			}
			day := func(n int) time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
			exec := func(q string, args ...any) {
				t.Helper()
				_, err := db.Exec(d.Rebind(q), args...)
				require.NoError(t, err, q)
			}
			for _, a := range []string{"acme", "other"} {
				for _, u := range []string{"ana", "bob", "cy"} {
					exec("INSERT INTO lt_users (account_id, id) VALUES (?, ?)", a, u)
				}
			}
			// acme: ana's ticket 1, bob's ticket 2, a mailed-in ticket 3
			// without requester; one message per file.
			exec("INSERT INTO lt_tickets VALUES (?, ?, ?, ?)", "acme", 1, "ana", day(0).Unix())
			exec("INSERT INTO lt_tickets VALUES (?, ?, ?, ?)", "acme", 2, "bob", day(5).Unix())
			exec("INSERT INTO lt_tickets VALUES (?, ?, ?, ?)", "acme", 3, nil, day(2).Unix())
			exec("INSERT INTO lt_tickets VALUES (?, ?, ?, ?)", "other", 1, "cy", day(2).Unix())
			files := []struct {
				id, ticket int
				at         any
			}{{1, 1, day(1)}, {2, 1, day(2)}, {3, 2, day(2).Add(time.Microsecond)}, {4, 2, day(6)}, {5, 3, day(2)}, {6, 1, nil}, {7, 2, day(3)}}
			for _, f := range files {
				at := f.at
				if d == sqldb.SQLite && f.id == 7 {
					at = "2026-03-04 12:00:00" // SQLite's CURRENT_TIMESTAMP layout, written by hand
				}
				if d == sqldb.SQLite && f.id == 4 {
					at = "2026-03-07T12:00:00Z"
				}
				msgAt := day(10)
				if f.at != nil {
					msgAt = f.at.(time.Time)
				}
				exec("INSERT INTO lt_messages VALUES (?, ?, ?, ?)", "acme", f.id, f.ticket, msgAt)
				exec("INSERT INTO lt_files (account_id, id, message_id, created_at) VALUES (?, ?, ?, ?)", "acme", f.id, f.id, at)
			}
			exec("INSERT INTO lt_messages VALUES (?, ?, ?, ?)", "other", 1, 1, day(2))
			exec("INSERT INTO lt_files (account_id, id, message_id, created_at) VALUES (?, ?, ?, ?)", "other", 1, 1, day(2))

			b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: d, Specs: locateSpecs()})
			require.NoError(t, err)
			targets := map[erasure.Kind]erasure.Target{}
			for _, x := range b.Targets() {
				targets[x.Info().Kind] = x
			}
			assert.False(t, targets[erasure.KindEndUser].Info().Caps.Locate)
			files7 := targets[erasure.KindAttachment]
			require.True(t, files7.Info().Caps.Locate)
			locate := func(k erasure.Kind, from, until time.Time, limit int) []string {
				t.Helper()
				var ids []string
				q := erasure.LocateQuery{From: from, Until: until, Limit: limit}
				for {
					refs, err := targets[k].Locate(ctx, "acme", q)
					require.NoError(t, err)
					for _, r := range refs {
						ids = append(ids, r.ID)
					}
					if len(refs) < limit {
						return ids
					}
					q.After = refs[len(refs)-1].Next()
				}
			}
			assert.Equal(t, []string{"2", "3", "5", "7"}, locate(erasure.KindAttachment, day(2), day(3), 2), "inclusive bounds, paged")
			assert.Equal(t, []string{"2", "5"}, locate(erasure.KindAttachment, day(2), day(2), 10), "a microsecond later is outside")
			assert.Equal(t, []string{"4"}, locate(erasure.KindAttachment, day(4), time.Time{}, 10))
			assert.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7"}, locate(erasure.KindAttachment, time.Time{}, time.Time{}, 3),
				"an unbounded query finds rows without a time too")
			assert.Equal(t, []string{"1", "2", "5"}, locate(erasure.KindMessage, day(0), day(2), 10), "a zoned timestamp column")
			assert.Equal(t, []string{"2"}, locate(erasure.KindTicket, day(4), day(6), 10), "Unix seconds")
			_, err = files7.Locate(ctx, "acme", erasure.LocateQuery{From: day(3), Until: day(2), Limit: 1})
			assert.ErrorIs(t, err, gdprkit.ErrInvalid)

			g, err := erasure.NewGraph(b.Targets()...)
			require.NoError(t, err)
			ps, _ := gdprkit.NewPseudonymizer([]byte("locate-test-key-0123456789abcdef"))
			svc, err := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: g, Directory: everyone{"ana", "bob", "cy"},
				Pseudonymizer: ps, Clock: fakeclock.New(day(30)), BatchSize: 2})
			require.NoError(t, err)
			got, err := svc.Holders(ctx, "acme", erasure.KindAttachment, day(2), day(3))
			require.NoError(t, err)
			assert.Equal(t, []gdprkit.SubjectID{"ana", "bob"}, got, "file 5 is under the mailed-in ticket: nobody's")
			got, err = svc.Holders(ctx, "acme", erasure.KindAttachment, day(6), time.Time{})
			require.NoError(t, err)
			assert.Equal(t, []gdprkit.SubjectID{"bob"}, got)
			got, err = svc.Holders(ctx, "other", erasure.KindAttachment, time.Time{}, time.Time{})
			require.NoError(t, err)
			assert.Equal(t, []gdprkit.SubjectID{"cy"}, got, "the other account's files only")
		})
	}
}

// Bind refuses a TimeColumn that is missing, or, where times have a type
// of their own, not a time or an integer.
func TestLocateTimeColumnIsChecked(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testdb.Open(t, d)
			for _, st := range locateDDL(d) {
				_, err := db.Exec(st)
				require.NoError(t, err, st)
			}
			for col, want := range map[string]string{"nope": "no such column", "note": "TimeColumn needs"} {
				specs := locateSpecs()
				specs[0].TimeColumn = col
				_, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: d, Specs: specs})
				if d == sqldb.SQLite && col == "note" {
					require.NoError(t, err, "SQLite keeps times as text")
					continue
				}
				require.ErrorIs(t, err, gdprkit.ErrInvalid)
				assert.True(t, strings.Contains(err.Error(), want), err.Error())
			}
		})
	}
}

// On SQLite a time column holds text in the layout the host wrote: a
// value gdprkit cannot read fails the call rather than being skipped.
func TestLocateRefusesAnUnreadableTime(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, sqldb.SQLite)
	for _, st := range locateDDL(sqldb.SQLite) {
		_, err := db.Exec(st)
		require.NoError(t, err)
	}
	_, err := db.Exec("INSERT INTO lt_files (account_id, id, message_id, created_at) VALUES ('acme', 1, 1, 'next tuesday')")
	require.NoError(t, err)
	b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: sqldb.SQLite, Specs: locateSpecs()})
	require.NoError(t, err)
	for _, x := range b.Targets() {
		if x.Info().Kind == erasure.KindAttachment {
			_, err = x.Locate(ctx, "acme", erasure.LocateQuery{From: time.Unix(0, 0), Limit: 10})
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			assert.NotContains(t, err.Error(), "tuesday", "the value is not quoted")
		}
	}
}

// A blob target declares the attachments category by default, and a
// BlobSpec's Categories replace it (package processing reads them).
func TestBlobSpecCategories(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, sqldb.SQLite)
	for _, st := range locateDDL(sqldb.SQLite) {
		_, err := db.Exec(st)
		require.NoError(t, err)
	}
	for _, c := range []struct {
		set, want []string
	}{{nil, []string{erasure.CategoryAttachments}}, {[]string{erasure.CategoryAttachments, "scans"}, []string{erasure.CategoryAttachments, "scans"}}} {
		b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: sqldb.SQLite, Specs: locateSpecs(),
			Blobs: []sqltarget.BlobSpec{{Kind: erasure.KindBlob, Parent: erasure.KindAttachment, Table: "lt_files", KeyColumn: "blob_key", ParentColumn: "id",
				AccountColumn: "account_id", Store: memhelpdesk.NewBlobs(), Categories: c.set}}})
		require.NoError(t, err)
		for _, x := range b.Targets() {
			if x.Info().Kind == erasure.KindBlob {
				assert.Equal(t, c.want, x.Info().Categories)
			}
		}
	}
}
