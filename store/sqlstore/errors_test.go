package sqlstore_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// secretValue stands for key values that must never reach an error text.
const secretValue = "secret-key-value-42"

// TestErrorsCarryNoKeyValues: a duplicate user (#15: "Duplicate entry
// 'acme-u1 ' for key 'PRIMARY'" reached CreateUser's caller) and an
// over-long ID fail with sentinels and without the values in the text.
func TestErrorsCarryNoKeyValues(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s, _ := testdb.OpenStore(t, d)
			ctx := context.Background()
			a := storetest.NewAccount(t)
			u := authn.User{ID: secretValue, Username: secretValue + "@example.com", PasswordHash: "h", CreatedAt: storetest.T0, PasswordChangedAt: storetest.T0}
			require.NoError(t, s.Authn().CreateUser(ctx, a, u))

			err := s.Authn().CreateUser(ctx, a, u)
			require.ErrorIs(t, err, gdprkit.ErrConflict)
			assert.NotContains(t, err.Error(), secretValue)
			assert.NotContains(t, err.Error(), string(a))
			var e *sqldb.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, sqldb.ReasonUnique, e.Reason)

			u2 := u
			u2.ID = "other"
			err = s.Authn().CreateUser(ctx, a, u2)
			require.ErrorIs(t, err, gdprkit.ErrConflict, "same username")
			assert.NotContains(t, err.Error(), secretValue)

			u3 := u
			u3.ID, u3.Username = strings.Repeat(secretValue, 40), "long" // user_id is VARCHAR(128), VARBINARY(512) on MySQL
			err = s.Authn().CreateUser(ctx, a, u3)
			if d == sqldb.SQLite {
				assert.NoError(t, err, "SQLite does not enforce VARCHAR lengths")
			} else {
				require.ErrorIs(t, err, gdprkit.ErrInvalid)
				assert.NotContains(t, err.Error(), secretValue)
			}
		})
	}
}

// TestUnreachableDatabaseIsUnavailable points stores at a closed pool and
// at servers that are not there: every domain answers ErrUnavailable, not
// "not found" or "invalid".
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	type target struct {
		name string
		d    sqldb.Dialect
		open func(t *testing.T) *sql.DB
	}
	targets := []target{
		{"closed pool", sqlstore.SQLite, func(t *testing.T) *sql.DB {
			db := testdb.Open(t, sqlstore.SQLite)
			other := testdb.Reopen(t, db)
			require.NoError(t, other.Close())
			return other
		}},
		{"postgres down", sqlstore.Postgres, func(t *testing.T) *sql.DB {
			db, err := sql.Open("pgx", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db
		}},
		{"mysql down", sqlstore.MySQL, func(t *testing.T) *sql.DB {
			db, err := sql.Open("mysql", "root@tcp(127.0.0.1:1)/test?timeout=2s&parseTime=true")
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db
		}},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			s, err := sqlstore.New(tg.open(t), tg.d)
			require.NoError(t, err)
			ctx := context.Background()
			a := storetest.NewAccount(t)
			for name, err := range map[string]error{
				"migrate":  s.Migrate(ctx),
				"consent":  func() error { _, err := s.Consent().Purpose(ctx, a, "chat"); return err }(),
				"authn":    func() error { _, err := s.Authn().User(ctx, a, "u1"); return err }(),
				"authn tx": s.Authn().SetUserDisabled(ctx, a, "u1", true),
				"ipfilter": func() error { _, err := s.IPFilter().Rules(ctx, a); return err }(),
				"spam":     func() error { _, err := s.Spam().LoadModel(ctx, a); return err }(),
				"retention": func() error {
					_, err := s.Retention().Record(ctx, a)
					return err
				}(),
				"erasure": func() error { _, err := s.Erasure().Holds(ctx, a); return err }(),
			} {
				assert.ErrorIs(t, err, gdprkit.ErrUnavailable, "%s: %v", name, err)
				assert.NotErrorIs(t, err, gdprkit.ErrNotFound, name)
			}
		})
	}
}
