package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// TestConsentChainV1MigratesAndReseals builds the schema as it was before
// chain version 2 (migrations 1 to 6), stores the version-1 fixture chain
// in it with the old column list, exactly as the old code wrote it, and
// then runs Migrate: the old rows verify under their own rule, Check and the
// old proofs work, Reseal moves them to version 2, and after erasure no
// identifier of the erased subjects is left in any column of their records.
func TestConsentChainV1MigratesAndReseals(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			ctx := context.Background()
			q := func(query string) string {
				if d == sqlstore.Postgres {
					return replacePlaceholders(query)
				}
				return query
			}
			ts := func(t time.Time) any {
				if d == sqlstore.SQLite {
					return t.UTC().Format("2006-01-02T15:04:05.000000Z")
				}
				return t.UTC()
			}
			exec := func(query string, args ...any) {
				t.Helper()
				_, err := db.Exec(q(query), args...)
				require.NoError(t, err, query)
			}

			// The schema before this change.
			exec(`CREATE TABLE IF NOT EXISTS gdpr_schema_migrations (
	version INTEGER NOT NULL PRIMARY KEY,
	name VARCHAR(200) NOT NULL,
	applied_at VARCHAR(40) NOT NULL
)`)
			ms, err := sqlstore.LoadMigrations(d)
			require.NoError(t, err)
			for _, m := range ms {
				if m.Version > 6 {
					continue
				}
				for _, st := range m.Statements() {
					_, err := db.Exec(st)
					require.NoError(t, err, "migration %d", m.Version)
				}
				exec("INSERT INTO gdpr_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.Version, m.Name, "2026-01-01T00:00:00Z")
			}

			// The old code's rows.
			lc := storetest.LoadLegacyConsentChain(t)
			a := string(lc.Account)
			for _, p := range lc.Purposes {
				exec("INSERT INTO gdpr_consent_purposes (account_id, purpose, name, label, description, lifetime_seconds, current_version, material_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
					a, p.Key, p.Name, p.Label, p.Description, int64(p.Lifetime/time.Second), p.CurrentVersion, p.MaterialVersion, ts(p.CreatedAt))
			}
			for _, p := range lc.Policies {
				exec("INSERT INTO gdpr_consent_policies (account_id, purpose, version, body, text_hash, material, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
					a, p.Purpose, p.Version, p.Text, p.TextHash, p.Material, ts(p.PublishedAt), string(p.PublishedBy))
			}
			null := func(s string) any {
				if s == "" {
					return nil
				}
				return s
			}
			latest := map[string]consent.Record{}
			for _, r := range lc.Records {
				exec(`INSERT INTO gdpr_consent_records (account_id, seq, id, subject, subject_ps, purpose, policy_version, policy_hash, action, source, ip, user_agent, wording, recorded_by, at, salt, subject_commit, evidence_commit, prev_hash, hash, pseudonymized)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					a, r.Seq, r.ID, null(string(r.Subject)), string(r.SubjectPS), r.Purpose, r.PolicyVersion, r.PolicyHash, string(r.Action), string(r.Source),
					null(r.Evidence.IP), null(r.Evidence.UserAgent), r.Evidence.Wording, string(r.RecordedBy), ts(r.At), null(r.Salt), r.SubjectCommit, r.EvidenceCommit,
					r.PrevHash, r.Hash, r.Pseudonymized)
				latest[string(r.SubjectPS)+"\x00"+r.Purpose] = r
			}
			for _, r := range latest {
				exec("INSERT INTO gdpr_consent_state (account_id, subject_ps, purpose, action, policy_version, at, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
					a, string(r.SubjectPS), r.Purpose, string(r.Action), r.PolicyVersion, ts(r.At), r.Seq)
			}
			exec("INSERT INTO gdpr_consent_heads (account_id, seq, hash) VALUES (?, ?, ?)", a, lc.Head.Seq, lc.Head.Hash)

			// Upgrade.
			s, err := sqlstore.New(db.DB, d)
			require.NoError(t, err)
			require.NoError(t, s.Migrate(ctx))
			ps, err := gdprkit.NewPseudonymizer(storetest.TestKey)
			require.NoError(t, err)
			audit := &gdprkit.MemoryAudit{}
			svc, err := consent.New(consent.Config{Store: s.Consent(), Pseudonymizer: ps, Clock: fakeclock.New(storetest.T0), Audit: audit})
			require.NoError(t, err)
			res, err := svc.Verify(ctx, lc.Account)
			require.NoError(t, err, "migrated version-1 rows verify under their own rule")
			assert.Equal(t, consent.VerifyResult{Records: 7, Head: lc.Head, States: 5, Legacy: 7}, res)
			st, err := svc.Check(ctx, lc.Account, "c-carla", "news")
			require.NoError(t, err)
			assert.Equal(t, consent.StatusWithdrawn, st)
			old, err := s.Consent().Records(ctx, lc.Account, 0, 10)
			require.NoError(t, err)
			for i := range old {
				assert.Equal(t, lc.Records[i], old[i], "record %d reads back as the old code wrote it", i+1)
			}
			for name, p := range lc.Proofs {
				require.NoError(t, svc.ConfirmProof(ctx, lc.Account, p), name)
			}

			rr, err := svc.Reseal(ctx, lc.Account, "system:upgrade")
			require.NoError(t, err)
			assert.Equal(t, 7, rr.Resealed)
			res, err = svc.Verify(ctx, lc.Account)
			require.NoError(t, err)
			assert.Zero(t, res.Legacy)
			for name, p := range lc.Proofs {
				require.NoError(t, svc.ConfirmProof(ctx, lc.Account, p), "%s after Reseal", name)
			}
			for _, sub := range []gdprkit.SubjectID{"c-carla", "c-dora"} {
				_, err := svc.Pseudonymize(ctx, lc.Account, sub, "system:erasure")
				require.NoError(t, err)
			}
			_, err = svc.Verify(ctx, lc.Account)
			require.NoError(t, err)

			// Every column of every record, as text: nothing of the three
			// erased subjects (c-ben was erased by the old code).
			rows, err := db.Query(q("SELECT * FROM gdpr_consent_records WHERE account_id = ?"), a)
			require.NoError(t, err)
			defer rows.Close()
			cols, err := rows.Columns()
			require.NoError(t, err)
			var dump strings.Builder
			for rows.Next() {
				vals := make([]sql.RawBytes, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				require.NoError(t, rows.Scan(ptrs...))
				for i, v := range vals {
					fmt.Fprintf(&dump, "%s=%s\n", cols[i], v)
				}
			}
			require.NoError(t, rows.Err())
			require.Contains(t, dump.String(), "hash=")
			for _, s := range []string{"c-carla", "c-ben", "c-dora", "a-agent1", "203.0.113.7", "198.51.100.2", "2001:db8::7", "Mozilla", "phone"} {
				assert.NotContains(t, dump.String(), s)
			}
		})
	}
}
