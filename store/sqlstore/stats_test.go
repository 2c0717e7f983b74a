package sqlstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Sessions signed in after the migration have statistics once the store
// refreshes them; a store bound to the host's transaction refuses.
func TestRefreshStatisticsAnalyzesTheGdprTablesThatFilled(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s, db := testdb.OpenStore(t, d)
			ctx := context.Background()
			got, err := s.RefreshStatistics(ctx)
			require.NoError(t, err)
			assert.Empty(t, got, "empty tables: nothing to analyze")

			now := time.Now().UTC().Truncate(time.Second)
			for i := range 200 {
				id := "s" + strconv.Itoa(i)
				require.NoError(t, s.Authn().CreateSession(ctx, "acct", authn.Session{ID: id, UserID: "u1", Hash: []byte("hash-" + id),
					CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}))
			}
			for i := 0; len(got) == 0 && i < 50 && d == sqldb.Postgres; i++ {
				time.Sleep(100 * time.Millisecond) // the server's row counters come within about a second
				got, err = s.RefreshStatistics(ctx)
				require.NoError(t, err)
			}
			if d == sqldb.Postgres {
				assert.Contains(t, got, "gdpr_authn_sessions")
			} else {
				assert.Empty(t, got, "only PostgreSQL needs it")
			}

			tx, err := db.Begin()
			require.NoError(t, err)
			defer tx.Rollback() //nolint:errcheck
			_, err = s.WithTx(tx).RefreshStatistics(ctx)
			assert.ErrorIs(t, err, gdprkit.ErrInvalid)
		})
	}
}
