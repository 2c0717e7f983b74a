package sqlstore_test

import (
	"context"
	"io/fs"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store"
	"github.com/gdprkit/gdprkit/store/sqlstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// TestConformance runs every domain's entry point of the shared suite on
// every configured dialect. Each dialect gets one migrated namespace that
// all domains share, as in production; tests inside it use accounts of
// their own, which the suite's TenantIsolation groups check.
func TestConformance(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s, _ := testdb.OpenStore(t, d)
			t.Run("Consent", func(t *testing.T) {
				t.Parallel()
				storetest.RunConsent(t, func(*testing.T) consent.Store { return s.Consent() })
			})
			t.Run("Authn", func(t *testing.T) {
				t.Parallel()
				storetest.RunAuthn(t, func(*testing.T) authn.Store { return s.Authn() })
			})
			t.Run("Erasure", func(t *testing.T) {
				t.Parallel()
				storetest.RunErasure(t, func(*testing.T) erasure.Store { return s.Erasure() })
			})
			t.Run("Retention", func(t *testing.T) {
				t.Parallel()
				storetest.RunRetention(t, func(*testing.T) retention.Store { return s.Retention() })
			})
			t.Run("Spam", func(t *testing.T) {
				t.Parallel()
				storetest.RunSpam(t, func(*testing.T) spam.Store { return s.Spam() })
			})
			t.Run("IPFilter", func(t *testing.T) {
				t.Parallel()
				storetest.RunIPFilter(t, func(*testing.T) ipfilter.Store { return s.IPFilter() })
			})
			t.Run("Breach", func(t *testing.T) {
				t.Parallel()
				storetest.RunBreach(t, func(*testing.T) breach.Store { return s.Breach() })
			})
			t.Run("StaffAccess", func(t *testing.T) {
				t.Parallel()
				storetest.RunStaffAccess(t, func(*testing.T) staffaccess.Store { return s.StaffAccess() })
			})
		})
	}
}

// The aggregate adapter is still one store.Store.
var _ store.Store = (*sqlstore.Store)(nil)

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

// TestConsentTamperDetected edits the stored chain and the current state as
// someone with database access would, and checks that Verify names the
// break and Check never answers from an edited record; and that removing a
// record's identifying values directly, as an erasure would, breaks nothing.
func TestConsentTamperDetected(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s, db := testdb.OpenStore(t, d)
			ctx := context.Background()
			ps, err := gdprkit.NewPseudonymizer(storetest.TestKey)
			require.NoError(t, err)
			svc, err := consent.New(consent.Config{Store: s.Consent(), Pseudonymizer: ps, Clock: fakeclock.New(storetest.T0)})
			require.NoError(t, err)
			q := func(query string) string {
				if d == sqlstore.Postgres {
					return replacePlaceholders(query)
				}
				return query
			}
			// Records 1-4 grant chat to a, b, c, d; record 5 withdraws a's.
			setup := func() gdprkit.AccountID {
				a := storetest.NewAccount(t)
				_, err := svc.DefinePurpose(ctx, a, consent.Purpose{Key: "chat", Name: "Chat"})
				require.NoError(t, err)
				_, err = svc.PublishPolicy(ctx, a, "chat", "text", false, "admin")
				require.NoError(t, err)
				for _, sub := range []gdprkit.SubjectID{"a", "b", "c", "d"} {
					_, err := svc.Grant(ctx, a, consent.Decision{Subject: sub, Purpose: "chat", Source: consent.SourceAPI,
						IP: netip.MustParseAddr("192.0.2.1"), UserAgent: "UA", RecordedBy: gdprkit.ActorID("c-" + sub)})
					require.NoError(t, err)
				}
				_, err = svc.Withdraw(ctx, a, consent.Decision{Subject: "a", Purpose: "chat", Source: consent.SourcePortal, RecordedBy: "c-a"})
				require.NoError(t, err)
				_, err = svc.Verify(ctx, a)
				require.NoError(t, err)
				return a
			}
			check := func(a gdprkit.AccountID) (consent.Status, error) { return svc.Check(ctx, a, "a", "chat") }
			cases := []struct {
				name  string
				stmts []string
				// status is what Check must answer afterwards; "" when it must refuse.
				status string
			}{
				{"edited action", []string{"UPDATE gdpr_consent_records SET action = 'withdraw' WHERE account_id = ? AND seq = 2"}, "withdrawn"},
				{"edited subject", []string{"UPDATE gdpr_consent_records SET subject = 'mallory' WHERE account_id = ? AND seq = 3"}, "withdrawn"},
				{"edited recorder", []string{"UPDATE gdpr_consent_records SET recorded_by = 'c-mallory' WHERE account_id = ? AND seq = 3"}, "withdrawn"},
				{"recorder blanked alone", []string{"UPDATE gdpr_consent_records SET recorded_by = '' WHERE account_id = ? AND seq = 3"}, "withdrawn"},
				{"edited wording", []string{"UPDATE gdpr_consent_records SET wording = 'I agree to everything' WHERE account_id = ? AND seq = 5"}, "withdrawn"},
				{"edited policy version of the latest record", []string{"UPDATE gdpr_consent_records SET policy_version = 2 WHERE account_id = ? AND seq = 5"}, ""},
				{"edited user agent", []string{"UPDATE gdpr_consent_records SET user_agent = 'other' WHERE account_id = ? AND seq = 2"}, "withdrawn"},
				{"edited latest record's action", []string{"UPDATE gdpr_consent_records SET action = 'grant' WHERE account_id = ? AND seq = 5"}, ""},
				{"removed record", []string{"DELETE FROM gdpr_consent_records WHERE account_id = ? AND seq = 2"}, "withdrawn"},
				{"removed last", []string{"DELETE FROM gdpr_consent_records WHERE account_id = ? AND seq = 5"}, ""},
				{"reordered", []string{"UPDATE gdpr_consent_records SET seq = 100 WHERE account_id = ? AND seq = 2",
					"UPDATE gdpr_consent_records SET seq = 2 WHERE account_id = ? AND seq = 3",
					"UPDATE gdpr_consent_records SET seq = 3 WHERE account_id = ? AND seq = 100"}, "withdrawn"},
				{"state withdraw edited to grant", []string{"UPDATE gdpr_consent_state SET action = 'grant' WHERE account_id = ? AND seq = 5"}, "withdrawn"},
				{"state pointed back at the older grant", []string{"UPDATE gdpr_consent_state SET seq = 1, action = 'grant' WHERE account_id = ? AND seq = 5"}, "granted"},
				{"state pointed at another subject's grant", []string{"UPDATE gdpr_consent_state SET seq = 2, action = 'grant' WHERE account_id = ? AND seq = 5"}, ""},
				{"state removed", []string{"DELETE FROM gdpr_consent_state WHERE account_id = ? AND seq = 5"}, "never_given"},
				{"head moved back before the last record", []string{"UPDATE gdpr_consent_heads SET seq = 4, hash = (SELECT hash FROM gdpr_consent_records WHERE account_id = ? AND seq = 4) WHERE account_id = ?"}, "withdrawn"},
				{"state of another purpose added", []string{"INSERT INTO gdpr_consent_state (account_id, subject_ps, purpose, action, policy_version, at, seq) " +
					"SELECT account_id, subject_ps, 'news', action, policy_version, at, seq FROM gdpr_consent_state WHERE account_id = ? AND seq = 5"}, "withdrawn"},
			}
			for _, c := range cases {
				a := setup()
				for _, st := range c.stmts {
					args := make([]any, strings.Count(st, "?"))
					for i := range args {
						args[i] = string(a)
					}
					_, err := db.Exec(q(st), args...)
					require.NoError(t, err, c.name)
				}
				_, err := svc.Verify(ctx, a)
				assert.ErrorIs(t, err, consent.ErrChainBroken, c.name)
				st, err := check(a)
				if c.status == "" {
					assert.ErrorIs(t, err, consent.ErrChainBroken, "%s: Check refuses to answer from an edited record", c.name)
				} else if assert.NoError(t, err, c.name) {
					assert.Equal(t, c.status, st.String(), "%s: Check", c.name)
				}
			}

			// Removing every identifying value and its salt by hand — what
			// PseudonymizeRecords does — leaves the chain and proofs valid.
			a := setup()
			proof, err := svc.ExportProof(ctx, a, "b")
			require.NoError(t, err)
			_, err = db.Exec(q(`UPDATE gdpr_consent_records SET subject = NULL, recorded_by = '', ip = NULL, user_agent = NULL, wording = '',
	salt_subject = NULL, salt_recorded_by = NULL, salt_ip = NULL, salt_user_agent = NULL, salt_wording = NULL WHERE account_id = ? AND seq = 2`), string(a))
			require.NoError(t, err)
			_, err = svc.Verify(ctx, a)
			require.NoError(t, err, "identifiers removed with their salts break nothing")
			require.NoError(t, svc.ConfirmProof(ctx, a, proof), "a proof exported before still matches")
			_, err = db.Exec(q("UPDATE gdpr_consent_records SET salt_ip = 'aa' WHERE account_id = ? AND seq = 2"), string(a))
			require.NoError(t, err)
			_, err = svc.Verify(ctx, a)
			require.ErrorIs(t, err, consent.ErrChainBroken, "a salt without its value does not open the commitment")
		})
	}
}

func replacePlaceholders(q string) string {
	out := []byte{}
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, '$')
			out = strconv.AppendInt(out, int64(n), 10)
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
