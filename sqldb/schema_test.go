package sqldb_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// fixtureDDL is a small helpdesk schema with every shape ReadSchema must
// report: integer and string keys, a composite primary key, a table without
// one, a view, every ON DELETE action, ON UPDATE CASCADE, a multi-column
// foreign key, a self-reference, JSON, a PostgreSQL array, varchar(n),
// NOT NULL and nullable columns, unique constraints and a unique index.
func fixtureDDL(d sqldb.Dialect) []string {
	// Per-dialect spellings of the same schema.
	var id, ts, js, ids, boolean string
	switch d {
	case sqldb.Postgres:
		id, ts, js, ids, boolean = "BIGINT", "TIMESTAMPTZ", "JSONB", "INTEGER[]", "BOOLEAN"
	case sqldb.MySQL:
		id, ts, js, ids, boolean = "BIGINT", "DATETIME(6)", "JSON", "JSON", "BOOLEAN"
	case sqldb.SQLite:
		id, ts, js, ids, boolean = "INTEGER", "TIMESTAMP", "JSON", "TEXT CHECK (json_valid(cc_ids))", "BOOLEAN"
	}
	return []string{
		`CREATE TABLE users (
	id ` + id + ` NOT NULL PRIMARY KEY,
	email VARCHAR(120) NOT NULL UNIQUE,
	name TEXT,
	manager_id ` + id + ` NULL,
	is_agent ` + boolean + ` NOT NULL DEFAULT FALSE,
	created_at ` + ts + ` NOT NULL,
	CONSTRAINT fk_users_manager FOREIGN KEY (manager_id) REFERENCES users (id) ON DELETE SET NULL
)`,
		`CREATE TABLE orgs (
	code VARCHAR(32) NOT NULL PRIMARY KEY,
	name VARCHAR(200) NOT NULL
)`,
		`CREATE TABLE memberships (
	org_code VARCHAR(32) NOT NULL,
	user_id ` + id + ` NOT NULL,
	role VARCHAR(16) NOT NULL DEFAULT 'member',
	PRIMARY KEY (org_code, user_id),
	CONSTRAINT fk_memberships_org FOREIGN KEY (org_code) REFERENCES orgs (code) ON DELETE CASCADE ON UPDATE CASCADE,
	CONSTRAINT fk_memberships_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)`,
		`CREATE TABLE tickets (
	id ` + id + ` NOT NULL PRIMARY KEY,
	org_code VARCHAR(32) NULL,
	requester_id ` + id + ` NOT NULL,
	assignee_id ` + id + ` NULL,
	subject VARCHAR(200) NOT NULL,
	amount DECIMAL(10, 2),
	meta ` + js + `,
	cc_ids ` + ids + `,
	CONSTRAINT fk_tickets_org FOREIGN KEY (org_code) REFERENCES orgs (code) ON DELETE SET NULL,
	CONSTRAINT fk_tickets_requester FOREIGN KEY (requester_id) REFERENCES users (id) ON DELETE RESTRICT,
	CONSTRAINT fk_tickets_assignee FOREIGN KEY (assignee_id) REFERENCES users (id) ON DELETE NO ACTION
)`,
		`CREATE UNIQUE INDEX tickets_org_subject ON tickets (subject, org_code)`,
		`CREATE INDEX tickets_requester ON tickets (requester_id)`,
		`CREATE TABLE grants (
	org_code VARCHAR(32) NOT NULL,
	user_id ` + id + ` NOT NULL,
	scope VARCHAR(20) NOT NULL,
	CONSTRAINT fk_grants_membership FOREIGN KEY (org_code, user_id) REFERENCES memberships (org_code, user_id) ON DELETE CASCADE
)`,
		`CREATE TABLE audit_log (
	at ` + ts + ` NOT NULL,
	actor_id ` + id + `,
	note TEXT
)`,
		`CREATE VIEW open_tickets AS SELECT id, subject, requester_id FROM tickets WHERE assignee_id IS NULL`,
	}
}

func exec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, st := range stmts {
		_, err := db.Exec(st)
		require.NoError(t, err, st)
	}
}

func cols(t *sqldb.Table) []string {
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name)
	}
	return out
}

func TestReadSchemaReportsEveryShape(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			exec(t, db.DB, fixtureDDL(d)...)
			s, err := sqldb.ReadSchema(context.Background(), db.DB, d)
			require.NoError(t, err)
			assert.Equal(t, d, s.Dialect)

			var names []string
			for _, tb := range s.Tables {
				names = append(names, tb.Name)
			}
			assert.Equal(t, []string{"audit_log", "grants", "memberships", "open_tickets", "orgs", "tickets", "users"}, names, "sorted, views included")

			// users: integer key, unique email, self-reference.
			users := s.Table("USERS")
			require.NotNil(t, users, "lookup ignores case")
			assert.False(t, users.View)
			assert.Equal(t, []string{"id", "email", "name", "manager_id", "is_agent", "created_at"}, cols(users))
			assert.Equal(t, []string{"id"}, users.PrimaryKey)
			assert.Equal(t, [][]string{{"email"}}, users.Unique)
			assert.True(t, users.IsUnique("EMAIL"))
			assert.True(t, users.IsUnique("id"))
			assert.False(t, users.IsUnique("name"))
			assert.False(t, users.IsUnique())
			id := users.Column("id")
			assert.Equal(t, sqldb.KindInteger, id.Kind)
			assert.False(t, id.Nullable)
			email := users.Column("email")
			assert.Equal(t, sqldb.KindText, email.Kind)
			assert.False(t, email.Nullable)
			assert.False(t, email.HasDefault)
			name := users.Column("name")
			assert.Equal(t, sqldb.KindText, name.Kind)
			assert.True(t, name.Nullable)
			assert.Equal(t, 0, name.MaxLength, "TEXT is unbounded")
			assert.Equal(t, sqldb.KindBool, users.Column("is_agent").Kind)
			assert.True(t, users.Column("is_agent").HasDefault)
			assert.Equal(t, sqldb.KindTime, users.Column("created_at").Kind)
			assert.Nil(t, users.Column("nope"))
			require.Len(t, users.ForeignKeys, 1)
			self := users.ForeignKeys[0]
			assert.Equal(t, "users", self.Table)
			assert.Equal(t, "users", self.RefTable)
			assert.Equal(t, []string{"manager_id"}, self.Columns)
			assert.Equal(t, []string{"id"}, self.RefColumns)
			assert.Equal(t, sqldb.SetNull, self.OnDelete)

			// orgs: string key.
			orgs := s.Table("orgs")
			assert.Equal(t, []string{"code"}, orgs.PrimaryKey)
			assert.Equal(t, sqldb.KindText, orgs.Column("code").Kind)

			// memberships: composite key, CASCADE and ON UPDATE CASCADE.
			m := s.Table("memberships")
			assert.Equal(t, []string{"org_code", "user_id"}, m.PrimaryKey)
			assert.True(t, m.IsUnique("user_id", "org_code"), "any order")
			assert.False(t, m.IsUnique("user_id"))
			assert.Empty(t, m.Unique, "the primary key is not repeated in Unique")
			assert.True(t, m.Column("role").HasDefault)
			require.Len(t, m.ForeignKeys, 2)
			byCol := map[string]sqldb.ForeignKey{}
			for _, fk := range m.ForeignKeys {
				byCol[fk.Columns[0]] = fk
			}
			assert.Equal(t, sqldb.Cascade, byCol["org_code"].OnDelete)
			assert.Equal(t, sqldb.Cascade, byCol["org_code"].OnUpdate)
			assert.Equal(t, "orgs", byCol["org_code"].RefTable)
			assert.Equal(t, []string{"code"}, byCol["org_code"].RefColumns)
			assert.Equal(t, sqldb.Cascade, byCol["user_id"].OnDelete)
			if d == sqldb.MySQL {
				assert.Equal(t, sqldb.Restrict, byCol["user_id"].OnUpdate, "MariaDB reports a missing clause as RESTRICT")
			} else {
				assert.Equal(t, sqldb.NoAction, byCol["user_id"].OnUpdate, "no ON UPDATE clause")
			}

			// tickets: RESTRICT, NO ACTION, SET NULL, JSON, arrays, lengths.
			tk := s.Table("tickets")
			assert.Equal(t, []string{"id", "org_code", "requester_id", "assignee_id", "subject", "amount", "meta", "cc_ids"}, cols(tk))
			assert.Equal(t, [][]string{{"subject", "org_code"}}, tk.Unique, "unique index in index order; the plain index is not listed")
			assert.True(t, tk.IsUnique("org_code", "subject"))
			subj := tk.Column("subject")
			assert.Equal(t, sqldb.KindText, subj.Kind)
			assert.False(t, subj.Nullable)
			assert.True(t, tk.Column("org_code").Nullable)
			assert.Equal(t, sqldb.KindDecimal, tk.Column("amount").Kind)
			assert.Equal(t, sqldb.KindJSON, tk.Column("meta").Kind, tk.Column("meta").Type)
			fks := map[string]sqldb.ForeignKey{}
			for _, fk := range tk.ForeignKeys {
				fks[fk.Columns[0]] = fk
			}
			require.Len(t, fks, 3)
			assert.Equal(t, sqldb.SetNull, fks["org_code"].OnDelete)
			assert.Equal(t, sqldb.Restrict, fks["requester_id"].OnDelete)
			assert.Equal(t, sqldb.NoAction, fks["assignee_id"].OnDelete)

			// grants: no primary key, a two-column foreign key in key order.
			g := s.Table("grants")
			assert.Empty(t, g.PrimaryKey)
			assert.False(t, g.IsUnique("org_code", "user_id"))
			require.Len(t, g.ForeignKeys, 1)
			assert.Equal(t, []string{"org_code", "user_id"}, g.ForeignKeys[0].Columns)
			assert.Equal(t, []string{"org_code", "user_id"}, g.ForeignKeys[0].RefColumns)
			assert.Equal(t, "memberships", g.ForeignKeys[0].RefTable)
			assert.Equal(t, sqldb.Cascade, g.ForeignKeys[0].OnDelete)

			al := s.Table("audit_log")
			assert.Empty(t, al.PrimaryKey)
			assert.Empty(t, al.ForeignKeys)
			assert.Equal(t, []string{"at", "actor_id", "note"}, cols(al))

			// The view.
			v := s.Table("open_tickets")
			assert.True(t, v.View)
			assert.Equal(t, []string{"id", "subject", "requester_id"}, cols(v))
			assert.Empty(t, v.PrimaryKey)
			assert.Equal(t, sqldb.KindText, v.Column("subject").Kind)

			// Everything that points at users, sorted by table then columns.
			var refs []string
			for _, fk := range s.ReferencesTo("Users") {
				refs = append(refs, fk.Table+"."+strings.Join(fk.Columns, ","))
			}
			assert.Equal(t, []string{"memberships.user_id", "tickets.assignee_id", "tickets.requester_id", "users.manager_id"}, refs)
			assert.Empty(t, s.ReferencesTo("audit_log"))
			assert.Nil(t, s.Table("nope"))

			// What differs by dialect.
			switch d {
			case sqldb.Postgres:
				assert.Equal(t, "bigint", id.Type)
				assert.Equal(t, "character varying", email.Type)
				assert.Equal(t, 120, email.MaxLength)
				assert.Equal(t, 200, subj.MaxLength)
				assert.Equal(t, "jsonb", tk.Column("meta").Type)
				cc := tk.Column("cc_ids")
				assert.Equal(t, "integer[]", cc.Type)
				assert.Equal(t, sqldb.KindArray, cc.Kind)
				assert.Equal(t, sqldb.KindInteger, cc.Elem)
				for _, fk := range tk.ForeignKeys {
					assert.NotEmpty(t, fk.Name)
				}
				assert.Equal(t, "fk_users_manager", self.Name)
			case sqldb.MySQL:
				assert.True(t, strings.HasPrefix(id.Type, "bigint"), id.Type)
				assert.Equal(t, "varchar(120)", email.Type)
				assert.Equal(t, 120, email.MaxLength)
				assert.Equal(t, 200, subj.MaxLength)
				assert.Equal(t, sqldb.KindJSON, tk.Column("cc_ids").Kind, "MariaDB's JSON is LONGTEXT with a json_valid check")
				assert.Equal(t, "tinyint(1)", users.Column("is_agent").Type)
				assert.Equal(t, "fk_users_manager", self.Name)
				assert.Equal(t, "fk_grants_membership", g.ForeignKeys[0].Name)
			case sqldb.SQLite:
				assert.Equal(t, "integer", id.Type)
				assert.True(t, id.HasDefault, "INTEGER PRIMARY KEY is the rowid")
				assert.Equal(t, "varchar(120)", email.Type)
				assert.Equal(t, 0, email.MaxLength, "SQLite does not enforce lengths")
				assert.Equal(t, sqldb.KindJSON, tk.Column("cc_ids").Kind, "TEXT with a json_valid check")
				assert.Empty(t, self.Name, "SQLite does not report constraint names")
			}
			if d != sqldb.SQLite {
				assert.False(t, id.HasDefault)
			}
		})
	}
}

// TestReadSchemaReadsOnlyTheCurrentSchema puts a same-named table with
// other columns in another PostgreSQL schema / MySQL database (and an
// attached SQLite database): ReadSchema must not see it.
func TestReadSchemaReadsOnlyTheCurrentSchema(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			ctx := context.Background()
			exec(t, db.DB, "CREATE TABLE tickets (id INTEGER NOT NULL PRIMARY KEY, subject VARCHAR(10))")
			var rnd [6]byte
			_, _ = rand.Read(rnd[:])
			other := "gdpr_other_" + hex.EncodeToString(rnd[:])
			switch d {
			case sqldb.Postgres, sqldb.MySQL:
				kw := map[sqldb.Dialect]string{sqldb.Postgres: "SCHEMA", sqldb.MySQL: "DATABASE"}[d]
				exec(t, db.DB, "CREATE "+kw+" "+other)
				t.Cleanup(func() { _, _ = db.Exec("DROP " + kw + " " + other + cascade(d)) })
				exec(t, db.DB,
					"CREATE TABLE "+other+".tickets (id INTEGER NOT NULL PRIMARY KEY, leaked_secret TEXT)",
					"CREATE TABLE "+other+".elsewhere (id INTEGER NOT NULL PRIMARY KEY, ticket_id INTEGER REFERENCES "+other+".tickets (id))")
			case sqldb.SQLite:
				conn, err := db.Conn(ctx)
				require.NoError(t, err)
				defer conn.Close()
				_, err = conn.ExecContext(ctx, "ATTACH DATABASE ':memory:' AS other")
				require.NoError(t, err)
				for _, st := range []string{"CREATE TABLE other.tickets (id INTEGER NOT NULL PRIMARY KEY, leaked_secret TEXT)",
					"CREATE TABLE other.elsewhere (id INTEGER PRIMARY KEY, ticket_id INTEGER REFERENCES tickets (id))"} {
					_, err = conn.ExecContext(ctx, st)
					require.NoError(t, err)
				}
				s, err := sqldb.ReadSchema(ctx, conn, d)
				require.NoError(t, err)
				assertOnlyOurs(t, s)
				return
			}
			s, err := sqldb.ReadSchema(ctx, db.DB, d)
			require.NoError(t, err)
			assertOnlyOurs(t, s)
		})
	}
}

func cascade(d sqldb.Dialect) string {
	if d == sqldb.Postgres {
		return " CASCADE"
	}
	return ""
}

func assertOnlyOurs(t *testing.T, s *sqldb.Schema) {
	t.Helper()
	require.Len(t, s.Tables, 1)
	assert.Equal(t, []string{"id", "subject"}, cols(s.Tables[0]))
	assert.Nil(t, s.Table("elsewhere"))
	assert.Empty(t, s.ReferencesTo("tickets"))
}

// countingQuerier counts the queries ReadSchema runs.
type countingQuerier struct {
	q sqldb.Querier
	n int
}

func (c *countingQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	c.n++
	return c.q.QueryContext(ctx, query, args...)
}

// TestReadSchemaQueryCountDoesNotGrowWithTables reads a small and a
// large schema and finds the same, small number of catalog queries.
func TestReadSchemaQueryCountDoesNotGrowWithTables(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			ctx := context.Background()
			exec(t, db.DB, fixtureDDL(d)...)
			small := &countingQuerier{q: db.DB}
			_, err := sqldb.ReadSchema(ctx, small, d)
			require.NoError(t, err)
			exec(t, db.DB, chainDDL(d, 30)...)
			large := &countingQuerier{q: db.DB}
			s, err := sqldb.ReadSchema(ctx, large, d)
			require.NoError(t, err)
			assert.Len(t, s.Tables, 7+30)
			assert.Equal(t, small.n, large.n)
			assert.LessOrEqual(t, large.n, 6)
		})
	}
}

// chainDDL returns n tables b000… each with a key, a unique name, and two
// or three foreign keys to earlier tables with varying ON DELETE actions:
// about 2.3 foreign keys per table.
func chainDDL(d sqldb.Dialect, n int) []string {
	ts := map[sqldb.Dialect]string{sqldb.Postgres: "TIMESTAMPTZ", sqldb.MySQL: "DATETIME(6)", sqldb.SQLite: "TIMESTAMP"}[d]
	actions := []string{"CASCADE", "SET NULL", "NO ACTION", "RESTRICT"}
	var out []string
	for i := 0; i < n; i++ {
		var refs []int
		for _, j := range []int{i - 1, i / 2, i / 3, i / 5, i - 2, i - 3} {
			if j >= 0 && j < i && !contains(refs, j) {
				refs = append(refs, j)
			}
		}
		k := 2
		if i%3 == 0 {
			k = 3
		}
		refs = refs[:min(k, len(refs))]
		var b strings.Builder
		fmt.Fprintf(&b, "CREATE TABLE b%03d (\n\tid BIGINT NOT NULL PRIMARY KEY,\n\tname VARCHAR(100) NOT NULL UNIQUE,\n\tnote TEXT,\n\tcreated_at %s NOT NULL", i, ts)
		for x := range refs {
			fmt.Fprintf(&b, ",\n\tp%d BIGINT", x)
		}
		for x, j := range refs {
			fmt.Fprintf(&b, ",\n\tCONSTRAINT fk_b%03d_p%d FOREIGN KEY (p%d) REFERENCES b%03d (id) ON DELETE %s", i, x, x, j, actions[(i+x)%len(actions)])
		}
		b.WriteString("\n)")
		out = append(out, b.String())
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestReadSchemaRejectsBadArguments(t *testing.T) {
	db := testdb.Open(t, sqldb.SQLite)
	_, err := sqldb.ReadSchema(context.Background(), db.DB, "oracle")
	assert.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = sqldb.ReadSchema(context.Background(), nil, sqldb.SQLite)
	assert.ErrorIs(t, err, gdprkit.ErrInvalid)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = sqldb.ReadSchema(ctx, db.DB, sqldb.SQLite)
	assert.ErrorIs(t, err, gdprkit.ErrUnavailable)
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "json", sqldb.KindJSON.String())
	assert.Equal(t, "other", sqldb.KindOther.String())
	assert.Equal(t, "uuid", sqldb.KindUUID.String())
	assert.Equal(t, "Kind(99)", sqldb.Kind(99).String())
}

// BenchmarkReadSchema reads a 120-table schema with 276 foreign keys (plus
// a unique key per table) on every configured database.
//
//	go test -run '^$' -bench ReadSchema -benchtime 20x ./sqldb/
func BenchmarkReadSchema(b *testing.B) {
	for _, d := range testdb.Dialects(b) {
		b.Run(string(d), func(b *testing.B) {
			db := testdb.Open(b, d)
			exec(b, db.DB, chainDDL(d, 120)...)
			ctx := context.Background()
			cq := &countingQuerier{q: db.DB}
			s, err := sqldb.ReadSchema(ctx, cq, d)
			require.NoError(b, err)
			fks := 0
			for _, t := range s.Tables {
				fks += len(t.ForeignKeys)
			}
			require.Equal(b, 120, len(s.Tables))
			require.Equal(b, 276, fks)
			cq.n = 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := sqldb.ReadSchema(ctx, cq, d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cq.n)/float64(b.N), "queries/op")
			b.ReportMetric(float64(fks), "fks")
		})
	}
}
