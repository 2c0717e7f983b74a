package sqltarget_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Binding.Compact compacts the tables of the kinds an erasure changed and
// the tables the database cascaded into (when the schema knows them),
// plus CompactOptions.Tables on every run; after the receipt only those,
// or on SQLite the checkpoint alone.
func TestCompactStepCompactsWhatTheErasureTouched(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := testdb.Open(t, d)
			for _, q := range []string{
				`CREATE TABLE c_users (id VARCHAR(64) NOT NULL PRIMARY KEY, name VARCHAR(100) NULL)`,
				`CREATE TABLE c_tickets (id BIGINT NOT NULL PRIMARY KEY, user_id VARCHAR(64) NULL)`,
				`CREATE TABLE c_notes (id BIGINT NOT NULL PRIMARY KEY, ticket_id BIGINT NOT NULL, body TEXT NULL, FOREIGN KEY (ticket_id) REFERENCES c_tickets (id) ON DELETE CASCADE)`,
				`CREATE TABLE c_other (id VARCHAR(64) NOT NULL PRIMARY KEY, owner VARCHAR(64) NULL)`,
				`CREATE TABLE c_audit (id BIGINT NOT NULL PRIMARY KEY)`,
			} {
				_, err := db.Exec(q)
				require.NoError(t, err, q)
			}
			b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: d, Cascade: []string{"c_notes"},
				Specs: []sqltarget.Spec{
					{Kind: erasure.KindEndUser, Table: "c_users", Key: "id", SubjectColumn: "id"},
					{Kind: erasure.KindTicket, Parent: erasure.KindEndUser, Table: "c_tickets", Key: "id", ParentColumn: "user_id"},
					{Kind: "other", Table: "c_other", Key: "id", SubjectColumn: "owner"},
				}})
			require.NoError(t, err)

			touched := erasure.PhysicalRun{Account: "acme", Kinds: []erasure.Kind{erasure.KindTicket, erasure.KindEndUser},
				CascadedTables: []string{"c_notes", "no_such_table"}}
			after := touched
			after.AfterReceipt = true
			wide := erasure.PhysicalRun{Account: "acme", AccountWide: true}
			want := func(verb string, tables string) string {
				switch d {
				case sqldb.Postgres:
					return "postgres: " + verb + " " + tables
				case sqldb.MySQL:
					return "mysql: OPTIMIZE TABLE " + tables
				}
				return "sqlite: wal_checkpoint(TRUNCATE)"
			}
			for _, tc := range []struct {
				name string
				o    sqltarget.CompactOptions
				run  erasure.PhysicalRun
				want string
			}{
				{"the touched kinds' tables and the cascaded one", sqltarget.CompactOptions{Tables: []string{"c_audit"}}, touched,
					want("VACUUM", "c_audit, c_notes, c_tickets, c_users")},
				{"after the receipt only the fixed tables", sqltarget.CompactOptions{Tables: []string{"c_audit"}}, after, want("VACUUM", "c_audit")},
				{"account-wide every bound table", sqltarget.CompactOptions{}, wide, want("VACUUM", "c_other, c_tickets, c_users")},
				{"full", sqltarget.CompactOptions{Full: true}, touched, map[sqldb.Dialect]string{sqldb.SQLite: "sqlite: VACUUM; wal_checkpoint(TRUNCATE)",
					sqldb.Postgres: "postgres: VACUUM FULL c_notes, c_tickets, c_users", sqldb.MySQL: "mysql: OPTIMIZE TABLE c_notes, c_tickets, c_users"}[d]},
				{"full, after the receipt", sqltarget.CompactOptions{Full: true}, after, map[sqldb.Dialect]string{sqldb.SQLite: "sqlite: wal_checkpoint(TRUNCATE)"}[d]},
			} {
				t.Run(tc.name, func(t *testing.T) {
					desc, err := b.Compact(tc.o).Run(ctx, tc.run)
					require.NoError(t, err)
					assert.Equal(t, tc.want, desc)
				})
			}

			step, err := sqltarget.CompactDB(db.DB, d, sqltarget.CompactOptions{Tables: []string{"c_audit"}})
			require.NoError(t, err)
			desc, err := step.Run(ctx, after)
			require.NoError(t, err)
			assert.Equal(t, want("VACUUM", "c_audit"), desc)
			desc, err = step.Run(ctx, touched)
			require.NoError(t, err)
			assert.Equal(t, want("VACUUM", "c_audit"), desc, "CompactDB knows no bound tables")
		})
	}
}

// CompactDB refuses what cannot work before any erasure runs it.
func TestCompactDBRefusesBadInput(t *testing.T) {
	db := testdb.Open(t, sqldb.SQLite)
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"no database", func() error { _, err := sqltarget.CompactDB(nil, sqldb.SQLite, sqltarget.CompactOptions{}); return err }},
		{"unknown dialect", func() error { _, err := sqltarget.CompactDB(db.DB, "oracle", sqltarget.CompactOptions{}); return err }},
		{"empty table name", func() error {
			_, err := sqltarget.CompactDB(db.DB, sqldb.Postgres, sqltarget.CompactOptions{Tables: []string{""}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			assert.ErrorIs(t, err, gdprkit.ErrInvalid, fmt.Sprint(err))
		})
	}
}
