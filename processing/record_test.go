package processing_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/processing"
	"github.com/gdprkit/gdprkit/sqldb"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The record of a seeded account, generated from the live services on
// every database: each paragraph of Art. 30 filled from the source that
// knows it.
func TestGenerateFromTheServices(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, d, worldOpt{recipients: []string{"mailer", "crm"}})
			w.seedAccount()
			rec, err := processing.Generate(ctx, acct, w.config())
			require.NoError(t, err)

			assert.Equal(t, acct, rec.Account)
			assert.Equal(t, t0.Add(3600e9), rec.GeneratedAt, "stamped by the clock")
			assert.Equal(t, "Acme Ltd", rec.Controller.Name)
			require.NotNil(t, rec.Processor)
			assert.Equal(t, "Helpdesk Vendor GmbH", rec.Processor.Name)

			// Purposes: the declared one, then consent's by key with their
			// current and material versions.
			require.Len(t, rec.Purposes, 3)
			assert.Equal(t, []string{"helpdesk", "chat", "newsletter"}, []string{rec.Purposes[0].Key, rec.Purposes[1].Key, rec.Purposes[2].Key})
			assert.Equal(t, processing.SourceDeclared, rec.Purposes[0].Source)
			nl := rec.Purposes[2]
			assert.Equal(t, "Art. 6(1)(a) consent", nl.LegalBasis)
			require.NotNil(t, nl.Consent)
			assert.Equal(t, 2, nl.Consent.PolicyVersion)
			assert.Equal(t, 1, nl.Consent.MaterialVersion)
			assert.Equal(t, t0.Add(3600e9), nl.Consent.PublishedAt)
			assert.Len(t, nl.Consent.TextHash, 64)
			assert.Equal(t, "365 days", nl.Consent.Lifetime)

			// Categories: every kind under each category it declares, the
			// blob kind through Config.Categories, with the erasure rule
			// in force (Config.Rules keeps tickets).
			cats := map[string][]erasure.Kind{}
			var ticket processing.Kind
			for _, c := range rec.DataCategories {
				for _, k := range c.Kinds {
					cats[c.Category] = append(cats[c.Category], k.Kind)
					if k.Kind == erasure.KindTicket {
						ticket = k
					}
				}
			}
			assert.Equal(t, []erasure.Kind{erasure.KindEndUser, erasure.KindConsent, "ip_rule_author"}, cats[erasure.CategoryIdentity])
			assert.Equal(t, []erasure.Kind{erasure.KindEndUser}, cats[erasure.CategoryContact])
			assert.Equal(t, []erasure.Kind{erasure.KindMessage, erasure.KindTicket}, cats[erasure.CategoryContent])
			assert.Equal(t, []erasure.Kind{erasure.KindBlob, erasure.KindAttachment}, cats[erasure.CategoryAttachments])
			assert.Equal(t, []erasure.Kind{erasure.KindCredentials}, cats[erasure.CategoryCredentials])
			assert.ElementsMatch(t, []erasure.Kind{erasure.KindEndUser, erasure.KindConsent, erasure.KindCredentials}, cats[erasure.CategoryOnlineIdentifiers])
			assert.Equal(t, erasure.Keep, ticket.OnErasure)
			assert.Contains(t, ticket.Ground, "Art. 17(3)(b)")
			assert.Equal(t, erasure.KindEndUser, ticket.Parent)

			// Recipients: the declared sub-processors, matched with
			// erasure's Art. 19 recipients; an undeclared recipient is an
			// issue. The US mailer is a transfer with its safeguard.
			require.Len(t, rec.Recipients, 3)
			assert.Equal(t, "hosting", rec.Recipients[0].Name)
			assert.False(t, rec.Recipients[0].NotifiedOfErasure)
			assert.True(t, rec.Recipients[1].NotifiedOfErasure && rec.Recipients[1].SubProcessor)
			assert.Equal(t, processing.Recipient{Name: "crm", NotifiedOfErasure: true}, rec.Recipients[2])
			assert.Equal(t, []processing.Transfer{{Recipient: "mailer", Country: "US", Region: "US (Virginia)", Mechanism: "SCCs 2021/914 module 3"}}, rec.Transfers)

			// Time limits: the lifecycle's five timers, the account's
			// rules (the disabled keep rule marked), the backups.
			var lines []string
			for _, p := range rec.Retention {
				lines = append(lines, p.Source+": "+p.What+" / "+p.After)
			}
			assert.Equal(t, []string{
				"lifecycle: trial account not upgraded / 14 days",
				"lifecycle: account whose billing keeps failing / more than 7 days",
				"lifecycle: suspended account whose owner does not ask to lift the suspension / 60 days",
				"lifecycle: terminated account (configuration removed, data kept) / 30 days",
				"lifecycle: deleted account in cold backups / 30 days",
				"schedule: ticket records in status closed, aged by closed_at / 6 months",
				"schedule: ticket records in status trash, aged by trashed_at / 30 days",
				"schedule: ticket records in status closed, aged by closed_at / 3 months",
				"erasure: a data subject's erased data, in backups / 30 days after the erasure",
			}, lines)
			assert.True(t, rec.Retention[7].Disabled)
			assert.Contains(t, rec.Retention[7].Then, "kept at least this long")

			// Security: authn's, the IP lists (counts, no addresses),
			// gdprkit's own, the declared.
			byName := map[string]processing.Measure{}
			for _, m := range rec.Security {
				byName[m.Name] = m
			}
			assert.True(t, byName["Two-factor authentication (TOTP)"].InForce)
			assert.False(t, byName["Second factor required"].InForce)
			assert.True(t, byName["TOTP secrets encrypted at rest"].InForce)
			assert.Contains(t, byName["Password hashing"].Detail, "argon2id (m=19456 KiB, t=2, p=1)")
			assert.Equal(t, "only 2 address ranges may reach it; 1 range denied (IPv4 and IPv6, client address behind trusted proxies only)",
				byName["IP allow list: agent_panel"].Detail)
			assert.Equal(t, "1 address range may not reach it", byName["IP deny list: api"].Detail)
			assert.True(t, byName["Tamper-evident consent records"].InForce)
			assert.Equal(t, processing.SourceDeclared, byName["Audit log"].Source)
			assert.Contains(t, byName["Login gates"].Detail, "suspended and terminated accounts cannot log in")

			assert.Equal(t, []string{`recipient "crm" is told of erasures but not declared in Config.SubProcessors: its purpose, region and agreement are unknown`}, rec.Issues)

			// JSON: the record round-trips, and holds no address, note or
			// policy text.
			b, err := json.Marshal(rec)
			require.NoError(t, err)
			var back processing.Record
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, rec, back)
			for _, secret := range []string{"192.0.2", "2001:db8", "office", "monthly e-mail"} {
				assert.NotContains(t, string(b), secret)
			}
		})
	}
}

// The Markdown rendering of the seeded account, kept as a golden file:
// run `go test ./processing -run Golden -update` after an intended change
// and review the diff.
func TestMarkdownGolden(t *testing.T) {
	w := newWorld(t, sqldb.SQLite, worldOpt{recipients: []string{"mailer", "crm"}})
	w.seedAccount()
	rec, err := processing.Generate(ctx, acct, w.config())
	require.NoError(t, err)
	got := rec.Markdown()
	path := filepath.Join("testdata", "record.md")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}
