package hostfixture

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Every foreign key a fixture declares is enforced by the database with its
// declared action, checked through snapshot diffs: deleting a referenced
// row cascades to exactly the referencing rows (CASCADE), sets exactly
// their column to NULL and changes nothing else (SET NULL), or is refused
// and changes nothing (NO ACTION).
//
// To attribute the outcome to one key, each check runs in a transaction
// that is rolled back: first every other reference to the parent row P is
// pointed at another parent row P2, so the key under test is the only one
// that reaches P. For NO ACTION the test then also points the key's own
// rows at P2 and shows the delete now succeeds.
func TestEveryForeignKeyIsEnforced(t *testing.T) {
	if testing.Short() {
		t.Skip("deletes through every foreign key: slow")
	}
	for _, d := range testdb.Dialects(t) {
		for _, f := range Fixtures() {
			t.Run(string(d)+"/"+string(f), func(t *testing.T) {
				db, s := seeded(t, d, f)
				fks, err := ForeignKeys(f)
				require.NoError(t, err)
				base := snap(t, db.DB, d, s.BlobDir)
				for _, k := range fks {
					t.Run(k.Table+"."+k.Column, func(t *testing.T) { checkForeignKey(t, db, d, base, fks, k) })
				}
			})
		}
	}
}

func checkForeignKey(t *testing.T, db *testdb.DB, d sqldb.Dialect, base *Snapshot, fks []ForeignKey, k ForeignKey) {
	t.Helper()
	child, parent := base.Table(k.Table), base.Table(k.RefTable)
	require.NotNil(t, child, k.Table)
	require.NotNil(t, parent, k.RefTable)
	require.Equal(t, []string{k.RefColumn}, parent.PrimaryKey, "%s references its parent's key", k)

	// Parent rows referenced through k (not counting a row referencing
	// itself), most referenced first.
	refs := map[string]int{}
	for _, r := range child.Rows {
		v := r.Get(k.Column)
		if v.Null || (k.Table == k.RefTable && r.Get(k.RefColumn) == v) {
			continue
		}
		refs[v.Text] += r.Count
	}
	require.NotEmpty(t, refs, "%s: the seed must use every foreign key", k)
	ps := make([]string, 0, len(refs))
	for p := range refs {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool {
		if refs[ps[i]] != refs[ps[j]] {
			return refs[ps[i]] > refs[ps[j]]
		}
		return naturalLess(ps[i], ps[j])
	})
	// Replacement parents, least referenced (by any key) first.
	total := map[string]int{}
	for _, g := range fks {
		if g.RefTable != k.RefTable {
			continue
		}
		for _, r := range base.Table(g.Table).Rows {
			if v := r.Get(g.Column); !v.Null {
				total[v.Text] += r.Count
			}
		}
	}
	var keys []string
	for _, r := range parent.Sorted() {
		keys = append(keys, r.Get(k.RefColumn).Text)
	}
	sort.SliceStable(keys, func(i, j int) bool { return total[keys[i]] < total[keys[j]] })

	var tried []string
	for _, p := range ps[:min(len(ps), 4)] {
		for _, p2 := range keys {
			if p2 == p {
				continue
			}
			done, why := tryForeignKey(t, db, d, fks, k, p, p2)
			if done {
				return
			}
			tried = append(tried, "P="+p+" P2="+p2+": "+why)
			if len(tried) > 12 {
				break
			}
		}
	}
	require.Fail(t, "no parent row showed the action of "+k.String(), strings.Join(tried, "\n"))
}

// tryForeignKey checks k with parent row p, every other reference moved to
// p2. It reports false, with why, when the setup could not be made (a
// unique index refused the move, or a cascade ran into an unrelated
// restricting key); a wrong outcome fails the test.
func tryForeignKey(t *testing.T, db *testdb.DB, d sqldb.Dialect, fks []ForeignKey, k ForeignKey, p, p2 string) (bool, string) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback() //nolint:errcheck // always rolled back
	q := func(s string) string { return rebind(d, s) }
	for _, g := range fks {
		if g.RefTable != k.RefTable || g == k {
			continue
		}
		if _, err := tx.ExecContext(ctx, q("UPDATE "+g.Table+" SET "+g.Column+" = ? WHERE "+g.Column+" = ?"), p2, p); err != nil {
			return false, "moving " + g.String() + ": " + err.Error()
		}
	}
	before := snap(t, tx, d, "")
	mustExec(t, tx, d, "SAVEPOINT fk_check")
	_, delErr := tx.ExecContext(ctx, q("DELETE FROM "+k.RefTable+" WHERE "+k.RefColumn+" = ?"), p)
	if delErr != nil {
		mustExec(t, tx, d, "ROLLBACK TO SAVEPOINT fk_check")
	}
	after := snap(t, tx, d, "")
	diff := Compare(before, after)
	referencing := before.Table(k.Table).Where(k.Column, p)
	require.NotEmpty(t, referencing)

	switch k.OnDelete {
	case "NO ACTION":
		require.Error(t, delErr, "%s: deleting %s %s must be refused", k, k.RefTable, p)
		require.Contains(t, strings.ToLower(delErr.Error()), "foreign key", "%s", k)
		if d != sqlstore.SQLite { // SQLite does not name the constraint
			require.Contains(t, delErr.Error(), k.Name, "the refusal names %s", k)
		}
		require.True(t, diff.Empty(), "%s: a refused delete changes nothing:\n%s", k, diff)
		// Point k's own rows elsewhere too: now nothing holds P.
		if _, err := tx.ExecContext(ctx, q("UPDATE "+k.Table+" SET "+k.Column+" = ? WHERE "+k.Column+" = ?"), p2, p); err != nil {
			return false, "moving " + k.String() + ": " + err.Error()
		}
		_, err := tx.ExecContext(ctx, q("DELETE FROM "+k.RefTable+" WHERE "+k.RefColumn+" = ?"), p)
		require.NoError(t, err, "%s was the only key holding %s %s", k, k.RefTable, p)
		return true, ""
	case "CASCADE":
		if delErr != nil {
			return false, "delete: " + delErr.Error()
		}
		deleted := map[string]int{}
		for _, r := range diff.Table(k.Table).Deleted {
			deleted[r.Key] += r.Count
		}
		for _, r := range referencing {
			require.Equal(t, r.Count, deleted[r.Key], "%s: %s %s must be deleted with its parent\n%s", k, k.Table, r.Key, diff)
		}
		require.Contains(t, keysOf(diff.Table(k.RefTable).Deleted), k.RefColumn+"="+p, "%s", diff)
		return true, ""
	case "SET NULL":
		if delErr != nil {
			return false, "delete: " + delErr.Error()
		}
		require.Equal(t, []string{k.RefColumn + "=" + p}, keysOf(diff.Table(k.RefTable).Deleted), "%s: only the parent goes\n%s", k, diff)
		want := map[string]bool{}
		for _, r := range referencing {
			want[r.Key] = true
		}
		td := diff.Table(k.Table)
		require.Len(t, td.Changed, len(want), "%s: exactly the referencing rows change\n%s", k, diff)
		for _, rc := range td.Changed {
			require.True(t, want[rc.Key], "%s: %s changed\n%s", k, rc.Key, diff)
			require.Equal(t, []ColumnChange{{Column: k.Column, Before: Text(p), After: Null}}, rc.Columns, "%s", k)
		}
		for _, name := range diff.Tables() {
			require.Contains(t, []string{k.Table, k.RefTable}, name, "%s: nothing else changes\n%s", k, diff)
		}
		return true, ""
	}
	t.Fatalf("%s: unknown action", k)
	return false, ""
}

func keysOf(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Key
	}
	return out
}
