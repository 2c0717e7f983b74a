package hostfixture

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

var update = flag.Bool("update", false, "rewrite the generated schema files")

// The committed schema files are exactly what the Go model renders: the
// files Create runs, the guide quotes and the model the tests check
// against cannot drift apart.
func TestSchemaFilesUpToDate(t *testing.T) {
	for _, f := range Fixtures() {
		s, err := schemaOf(f)
		require.NoError(t, err)
		for _, d := range []sqldb.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL} {
			want := s.render(d)
			path := filepath.Join("schema", string(f)+"."+string(d)+".sql")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
				continue
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, want, string(got), "%s is stale: run go test ./internal/hostfixture -run TestSchemaFilesUpToDate -update", path)
		}
	}
}
