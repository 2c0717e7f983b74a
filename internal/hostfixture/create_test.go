package hostfixture

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Create builds exactly the tables, primary keys and foreign keys (with
// their ON DELETE actions) the fixture declares, on every dialect, and
// refuses to run twice.
func TestCreateMatchesTheDeclaredSchema(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		for _, f := range Fixtures() {
			t.Run(string(d)+"/"+string(f), func(t *testing.T) {
				db := testdb.Open(t, d)
				require.NoError(t, Create(ctx, db.DB, d, f))

				defs, err := Tables(f)
				require.NoError(t, err)
				infos, err := describeTables(ctx, db.DB, d)
				require.NoError(t, err)
				require.Len(t, infos, len(defs))
				got := map[string]tableInfo{}
				for _, ti := range infos {
					got[ti.name] = ti
				}
				for _, td := range defs {
					ti, ok := got[td.Name]
					require.True(t, ok, "table %s missing", td.Name)
					var names []string
					for _, c := range ti.cols {
						names = append(names, c.name)
					}
					assert.Equal(t, td.Columns, names, td.Name)
					if len(td.PrimaryKey) == 0 {
						assert.Empty(t, ti.pk, td.Name)
					} else {
						assert.Equal(t, td.PrimaryKey, ti.pk, td.Name)
					}
				}

				want, err := ForeignKeys(f)
				require.NoError(t, err)
				sortFKs(want)
				cat := catalogForeignKeys(t, db.DB, d)
				require.Len(t, cat, len(want))
				for i, k := range cat {
					w := want[i]
					if d == "sqlite" {
						w.Name = "" // SQLite's catalog does not report names
					}
					assert.Equal(t, w, k.ForeignKey, "catalog says %s (%s)", k.ForeignKey, k.Raw)
				}

				err = Create(ctx, db.DB, d, f)
				require.ErrorIs(t, err, gdprkit.ErrConflict)
			})
		}
	}
}

// On SQLite, Create refuses a connection pool that does not enforce
// foreign keys (the fixture would silently lose its CASCADE and NO
// ACTION), and writes nothing.
func TestCreateRefusesSQLiteWithoutForeignKeys(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "nofk.db"))
	require.NoError(t, err)
	defer db.Close()
	err = Create(ctx, db, sqlstore.SQLite, Restrict)
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	require.Contains(t, err.Error(), "foreign_keys(1)")
	tables, err := listTables(ctx, db, sqlstore.SQLite)
	require.NoError(t, err)
	require.Empty(t, tables)

	err = Create(ctx, db, sqlstore.SQLite, "nope")
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = DDL(Convo, "oracle")
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
}
