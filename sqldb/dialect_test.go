package sqldb_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

func TestParseDialectAcceptsTheUsualNames(t *testing.T) {
	for in, want := range map[string]sqldb.Dialect{
		"sqlite": sqldb.SQLite, "sqlite3": sqldb.SQLite, "SQLite": sqldb.SQLite,
		"postgres": sqldb.Postgres, "PostgreSQL": sqldb.Postgres, "pgx": sqldb.Postgres,
		"mysql": sqldb.MySQL, "mariadb": sqldb.MySQL, " MariaDB ": sqldb.MySQL,
	} {
		got, err := sqldb.ParseDialect(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.NoError(t, got.Validate())
	}
	for _, in := range []string{"", "oracle", "sqlserver", "postgres9"} {
		_, err := sqldb.ParseDialect(in)
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, in)
	}
	assert.ErrorIs(t, sqldb.Dialect("").Validate(), gdprkit.ErrInvalid)
	assert.ErrorIs(t, sqldb.Dialect("SQLite").Validate(), gdprkit.ErrInvalid, "Validate wants the canonical spelling")
}

func TestQuoteDoublesTheQuoteCharacter(t *testing.T) {
	assert.Equal(t, `"ticket"`, sqldb.Postgres.Quote("ticket"))
	assert.Equal(t, `"we""ird"`, sqldb.SQLite.Quote(`we"ird`))
	assert.Equal(t, "`ticket`", sqldb.MySQL.Quote("ticket"))
	assert.Equal(t, "`we``ird\"`", sqldb.MySQL.Quote("we`ird\""))
	assert.Equal(t, `"a`+"`"+`b"`, sqldb.Postgres.Quote("a`b"))
}

// TestQuoteRoundTripsOnEveryDatabase creates a table and a column whose
// names hold the quote characters and reads them back through Quote.
func TestQuoteRoundTripsOnEveryDatabase(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			ctx := context.Background()
			table, col := "odd\"name`t", "co\"l`1"
			_, err := db.ExecContext(ctx, "CREATE TABLE "+d.Quote(table)+" ("+d.Quote(col)+" INTEGER)")
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, d.Rebind("INSERT INTO "+d.Quote(table)+" ("+d.Quote(col)+") VALUES (?)"), 7)
			require.NoError(t, err)
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT "+d.Quote(col)+" FROM "+d.Quote(table)).Scan(&n))
			assert.Equal(t, 7, n)
			s, err := sqldb.ReadSchema(ctx, db.DB, d)
			require.NoError(t, err)
			require.NotNil(t, s.Table(table))
			assert.NotNil(t, s.Table(table).Column(col))
		})
	}
}

func TestPlaceholder(t *testing.T) {
	assert.Equal(t, "$3", sqldb.Postgres.Placeholder(3))
	assert.Equal(t, "?", sqldb.MySQL.Placeholder(3))
	assert.Equal(t, "?", sqldb.SQLite.Placeholder(1))
}

func TestRebind(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"SELECT '?' , ? FROM t", "SELECT '?' , $1 FROM t"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{`SELECT "col?" FROM t WHERE x = ?`, `SELECT "col?" FROM t WHERE x = $1`},
		{`SELECT "a""?" , ?`, `SELECT "a""?" , $1`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"SELECT ? /* a ? /* nested ? */ still ? */ , ?", "SELECT $1 /* a ? /* nested ? */ still ? */ , $2"},
		{"SELECT $$ what? $$, ?", "SELECT $$ what? $$, $1"},
		{"SELECT $fn$ a ? $x$ b ? $fn$, ?", "SELECT $fn$ a ? $x$ b ? $fn$, $1"},
		{`SELECT E'a\'?', ?`, `SELECT E'a\'?', $1`},
		{`SELECT 'a\', ?`, `SELECT 'a\', $1`}, // standard strings: backslash is not an escape
		{"SELECT ?, 'unterminated ?", "SELECT $1, 'unterminated ?"},
		{"SELECT a$b, ?", "SELECT a$b, $1"},
		{"no placeholders", "no placeholders"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, sqldb.Postgres.Rebind(c.in), c.in)
		assert.Equal(t, c.in, sqldb.MySQL.Rebind(c.in))
		assert.Equal(t, c.in, sqldb.SQLite.Rebind(c.in))
	}
}

// TestRebindOnPostgres runs rebound queries whose literals hold '?' on a
// real server: the argument count must match what PostgreSQL parsed.
func TestRebindOnPostgres(t *testing.T) {
	db := testdb.Open(t, sqldb.Postgres)
	var a, b, c string
	err := db.QueryRow(sqldb.Postgres.Rebind(`SELECT '?' || ?, $q$?$q$ || ? /* ? */, E'\'?' || ?`), "x", "y", "z").Scan(&a, &b, &c)
	require.NoError(t, err)
	assert.Equal(t, []string{"?x", "?y", "'?z"}, []string{a, b, c})
}

// FuzzRebind checks that Rebind never panics, leaves other dialects alone,
// numbers placeholders from 1 without gaps, and changes nothing but '?'.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{"SELECT ?", "'?'", `"?"`, "$$?$$", "-- ?\n?", "/* ? */?", `E'\'?'`, "$a$?$", "?$1?", "'", "$", "/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if got := sqldb.MySQL.Rebind(q); got != q {
			t.Fatalf("MySQL changed %q", q)
		}
		out := sqldb.Postgres.Rebind(q)
		// Walk both: out is q with some '?' replaced by $1, $2, … in order.
		n, j := 0, 0
		for i := 0; i < len(q); i++ {
			if q[i] == '?' && j < len(out) && out[j] == '$' {
				n++
				want := "$" + strconv.Itoa(n)
				if !strings.HasPrefix(out[j:], want) {
					t.Fatalf("Rebind(%q) = %q: placeholder %d misnumbered", q, out, n)
				}
				j += len(want)
				continue
			}
			if j >= len(out) || out[j] != q[i] {
				t.Fatalf("Rebind(%q) = %q: changed more than placeholders", q, out)
			}
			j++
		}
		if j != len(out) {
			t.Fatalf("Rebind(%q) = %q: trailing output", q, out)
		}
	})
}
