package sqldb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// A one-account sessions table: every row has the same account_id, and a
// session is looked up by its unique hash.
func TestRefreshStatisticsMakesLookupsUseTheUniqueIndex(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			ctx := context.Background()
			exec(t, db.DB,
				"CREATE TABLE gdpr_t_sessions (account_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, user_id VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL, PRIMARY KEY (account_id, id), UNIQUE (account_id, hash))",
				"CREATE INDEX gdpr_t_sessions_user ON gdpr_t_sessions (account_id, user_id)",
				"CREATE TABLE other_small (id INTEGER NOT NULL PRIMARY KEY)")
			var values []string
			for i := range 400 {
				values = append(values, fmt.Sprintf("('acct', 's%d', 'u1', 'h%d')", i, i))
			}
			exec(t, db.DB, "INSERT INTO gdpr_t_sessions (account_id, id, user_id, hash) VALUES "+strings.Join(values, ", "))

			got, err := sqldb.RefreshStatistics(ctx, db.DB, d, "gdpr_")
			require.NoError(t, err)
			if d != sqldb.Postgres {
				assert.Empty(t, got, "only PostgreSQL needs it")
				return
			}
			// The server's row counters arrive within about a second of
			// the insert's commit.
			for i := 0; len(got) == 0 && i < 50; i++ {
				time.Sleep(100 * time.Millisecond)
				got, err = sqldb.RefreshStatistics(ctx, db.DB, d, "gdpr_")
				require.NoError(t, err)
			}
			assert.Equal(t, []string{"gdpr_t_sessions"}, got, "the changed table of the prefix, not the small one of another")
			plan := explain(t, db, "SELECT id FROM gdpr_t_sessions WHERE account_id = 'acct' AND hash = 'h7'")
			assert.Contains(t, plan, "gdpr_t_sessions_account_id_hash_key", "looked up through the unique index, not the account's")

			got, err = sqldb.RefreshStatistics(ctx, db.DB, d, "gdpr_")
			require.NoError(t, err)
			assert.Empty(t, got, "nothing changed since")
		})
	}
}

func explain(t *testing.T, db *testdb.DB, q string) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN " + q)
	require.NoError(t, err)
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		b.WriteString(line + "\n")
	}
	require.NoError(t, rows.Err())
	return b.String()
}

func TestRefreshStatisticsRejectsBadArguments(t *testing.T) {
	_, err := sqldb.RefreshStatistics(context.Background(), nil, sqldb.Postgres, "")
	assert.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = sqldb.RefreshStatistics(context.Background(), nil, "oracle", "")
	assert.ErrorIs(t, err, gdprkit.ErrInvalid)
}
