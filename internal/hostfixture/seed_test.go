package hostfixture

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// seeded opens a fresh database of dialect d, creates and seeds fixture f.
func seeded(t testing.TB, d sqldb.Dialect, f Name) (*testdb.DB, *Seeded) {
	t.Helper()
	ctx := context.Background()
	db := testdb.Open(t, d)
	require.NoError(t, Create(ctx, db.DB, d, f))
	s, err := Seed(ctx, db.DB, d, f, t.TempDir())
	require.NoError(t, err)
	return db, s
}

// The same fixture seeded on every dialect snapshots identically, row for
// row and file for file: canonical values are dialect-free, and the seed is
// deterministic.
func TestSeedIsTheSameOnEveryDialect(t *testing.T) {
	ctx := context.Background()
	for _, f := range Fixtures() {
		t.Run(string(f), func(t *testing.T) {
			var first *Snapshot
			var firstSeed *Seeded
			for _, d := range testdb.Dialects(t) {
				db, s := seeded(t, d, f)
				snap, err := TakeSnapshot(ctx, db.DB, d, s.BlobDir)
				require.NoError(t, err)
				if first == nil {
					first, firstSeed = snap, s
					continue
				}
				diff := Compare(first, snap)
				assert.True(t, diff.Empty(), "%s differs from %s:\n%s", d, sqlstore.SQLite, diff)
				s.BlobDir = firstSeed.BlobDir
				assert.Equal(t, firstSeed, s)
			}
		})
	}
}

func TestSeedRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, sqlstore.SQLite)
	_, err := Seed(ctx, db.DB, sqlstore.SQLite, Convo, t.TempDir())
	require.ErrorIs(t, err, gdprkit.ErrNotFound, "tables missing")
	require.NoError(t, Create(ctx, db.DB, sqlstore.SQLite, Convo))
	_, err = Seed(ctx, db.DB, sqlstore.SQLite, Convo, "")
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = Seed(ctx, db.DB, sqlstore.SQLite, "nope", t.TempDir())
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = Seed(ctx, db.DB, "oracle", Convo, t.TempDir())
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	dir := t.TempDir()
	_, err = Seed(ctx, db.DB, sqlstore.SQLite, Convo, dir)
	require.NoError(t, err)
	before, err := TakeSnapshot(ctx, db.DB, sqlstore.SQLite, dir)
	require.NoError(t, err)
	_, err = Seed(ctx, db.DB, sqlstore.SQLite, Convo, t.TempDir())
	require.ErrorIs(t, err, gdprkit.ErrConflict, "seeding twice")
	after, err := TakeSnapshot(ctx, db.DB, sqlstore.SQLite, dir)
	require.NoError(t, err)
	require.True(t, Compare(before, after).Empty())
}
