package sqlstore_test

import (
	"context"
	"io/fs"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/sqlstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// TestConformance runs the shared suite on every configured dialect. Each
// dialect gets one migrated namespace; tests inside it use accounts of their
// own, which the suite's isolation tests check.
func TestConformance(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s, _ := testdb.OpenStore(t, d)
			storetest.Run(t, func(t *testing.T) store.Store { return s })
		})
	}
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			ctx := context.Background()
			// Two "processes" (connection pools) migrate the empty database at once.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					conn := db.DB
					if i == 1 {
						conn = testdb.Reopen(t, db)
					}
					s, err := sqlstore.New(conn, d)
					if err == nil {
						err = s.Migrate(ctx)
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			require.NoError(t, errs[0])
			require.NoError(t, errs[1])
			s, err := sqlstore.New(db.DB, d)
			require.NoError(t, err)
			require.NoError(t, s.Migrate(ctx), "a third run finds nothing to do")
			ms, err := sqlstore.LoadMigrations(d)
			require.NoError(t, err)
			var n int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM gdpr_schema_migrations").Scan(&n))
			assert.Equal(t, len(ms), n, "each migration recorded exactly once")
		})
	}
}

func TestMigrationsFS(t *testing.T) {
	for _, d := range []sqldb.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL} {
		fsys, err := sqlstore.Migrations(d)
		require.NoError(t, err)
		names, err := fs.Glob(fsys, "*.sql")
		require.NoError(t, err)
		require.NotEmpty(t, names, d)
		assert.Equal(t, "0001_consent.sql", names[0])
		ms, err := sqlstore.LoadMigrations(d)
		require.NoError(t, err)
		assert.Len(t, ms, len(names))
		for _, m := range ms {
			for _, st := range m.Statements() {
				assert.NotContains(t, st, "-- +statement")
			}
		}
	}
	_, err := sqlstore.Migrations("oracle")
	require.Error(t, err)
}

func TestNewRejectsBadArguments(t *testing.T) {
	_, err := sqlstore.New(nil, sqlstore.SQLite)
	require.Error(t, err)
	db := testdb.Open(t, sqlstore.SQLite)
	_, err = sqlstore.New(db.DB, "oracle")
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
}

// TestConsentTamperDetected edits the stored chain as someone with database
// access would, and checks that Verify names the break.
func TestConsentTamperDetected(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s, db := testdb.OpenStore(t, d)
			ctx := context.Background()
			ps, err := gdprkit.NewPseudonymizer(storetest.TestKey)
			require.NoError(t, err)
			svc, err := consent.New(s.Consent(), consent.Config{Pseudonymizer: ps, Clock: fakeclock.New(storetest.T0)})
			require.NoError(t, err)
			q := func(query string) string {
				if d == sqlstore.Postgres {
					return replacePlaceholders(query)
				}
				return query
			}
			setup := func() gdprkit.AccountID {
				a := storetest.NewAccount(t)
				_, err := svc.DefinePurpose(ctx, a, consent.Purpose{Key: "chat", Name: "Chat"})
				require.NoError(t, err)
				_, err = svc.PublishPolicy(ctx, a, "chat", "text", false, "admin")
				require.NoError(t, err)
				for _, sub := range []gdprkit.SubjectID{"a", "b", "c", "d"} {
					_, err := svc.Grant(ctx, a, consent.Decision{Subject: sub, Purpose: "chat", Source: consent.SourceAPI})
					require.NoError(t, err)
				}
				_, err = svc.Verify(ctx, a)
				require.NoError(t, err)
				return a
			}
			cases := map[string]string{
				"edited action":  "UPDATE gdpr_consent_records SET action = 'withdraw' WHERE account_id = ? AND seq = 2",
				"edited subject": "UPDATE gdpr_consent_records SET subject = 'mallory' WHERE account_id = ? AND seq = 3",
				"removed record": "DELETE FROM gdpr_consent_records WHERE account_id = ? AND seq = 2",
				"removed last":   "DELETE FROM gdpr_consent_records WHERE account_id = ? AND seq = 4",
				"reordered":      "UPDATE gdpr_consent_records SET seq = 5 - seq WHERE account_id = ? AND seq IN (2, 3)",
			}
			for name, stmt := range cases {
				a := setup()
				if name == "reordered" {
					// Swap records 2 and 3 through a free seq: keys are unique.
					for _, st := range []string{"UPDATE gdpr_consent_records SET seq = 100 WHERE account_id = ? AND seq = 2",
						"UPDATE gdpr_consent_records SET seq = 2 WHERE account_id = ? AND seq = 3",
						"UPDATE gdpr_consent_records SET seq = 3 WHERE account_id = ? AND seq = 100"} {
						_, err := db.Exec(q(st), string(a))
						require.NoError(t, err)
					}
				} else {
					_, err := db.Exec(q(stmt), string(a))
					require.NoError(t, err, name)
				}
				_, err := svc.Verify(ctx, a)
				assert.ErrorIs(t, err, consent.ErrChainBroken, name)
			}
		})
	}
}

func replacePlaceholders(q string) string {
	out := []byte{}
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, '$', byte('0'+n))
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

func TestErrorsMapToSentinels(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s, _ := testdb.OpenStore(t, d)
			ctx := context.Background()
			a := storetest.NewAccount(t)
			p := consent.Purpose{Key: "chat", Name: "Chat", Label: "ok", CreatedAt: storetest.T0}
			require.NoError(t, s.Consent().CreatePurpose(ctx, a, p))
			err := s.Consent().CreatePurpose(ctx, a, p)
			require.ErrorIs(t, err, gdprkit.ErrConflict, "a duplicate key is a conflict")
			_, err = s.Consent().Purpose(ctx, a, "missing")
			require.ErrorIs(t, err, gdprkit.ErrNotFound, "no rows is not found")
		})
	}
}
