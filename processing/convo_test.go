package processing_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/fsblob"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/hostfixture"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/processing"
)

// On the convo fixture (a Chatwoot-style inbox gdprkit did not write),
// the categories a binding's specs declare are what the record lists,
// kind by kind, on every database; a spec without categories is named by
// Check.
func TestConvoCategoriesFlowFromSpecs(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st, db := testdb.OpenStore(t, d)
			require.NoError(t, hostfixture.Create(ctx, db.DB, d, hostfixture.Convo))
			seed, err := hostfixture.Seed(ctx, db.DB, d, hostfixture.Convo, t.TempDir())
			require.NoError(t, err)
			files, err := fsblob.New(fsblob.Config{Dir: seed.BlobDir, Layout: fsblob.Shared})
			require.NoError(t, err)

			const a = "account_id"
			under := func(kind, parent erasure.Kind, table, col string, cats ...string) sqltarget.Spec {
				return sqltarget.Spec{Kind: kind, Parent: parent, Table: table, Key: "id", ParentColumn: col, AccountColumn: a, Categories: cats}
			}
			person := sqltarget.Spec{Kind: "person", Table: "users", Key: "id", SubjectColumn: "id", AccountColumn: a,
				Actions: []erasure.Action{erasure.Anonymize}, Default: erasure.Rule{Action: erasure.Anonymize}, Marker: "erased_at",
				Columns:    []sqltarget.Column{{Name: "name", Action: sqltarget.Label}, {Name: "email", Action: sqltarget.Null}, {Name: "phone_number", Action: sqltarget.Null}},
				Categories: []string{erasure.CategoryIdentity, erasure.CategoryContact, "billing"}}
			identity := under("identity", "person", "contact_identities", "user_id", erasure.CategoryIdentity, erasure.CategoryOnlineIdentifiers)
			identity.AccountColumn = "account_id"
			conversation := under("conversation", "person", "conversations", "contact_id", erasure.CategoryContent, erasure.CategoryUsage)
			message := under("message", "conversation", "messages", "conversation_id", erasure.CategoryContent)
			file := under("attachment", "message", "attachments", "model_id", erasure.CategoryAttachments)
			file.Where = []sqltarget.Cond{sqltarget.Eq("model_type", "message")}
			rating := under("rating", "person", "csat_survey_responses", "contact_id") // declares nothing
			b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: d, Specs: []sqltarget.Spec{person, identity, conversation, message, file, rating},
				Blobs: []sqltarget.BlobSpec{{Kind: "file", Parent: "attachment", Table: "attachments", KeyColumn: "file_key", ParentColumn: "id",
					AccountColumn: a, Where: file.Where, Store: files}},
				// What the database cascades by itself is counted, not
				// bound: this binding is about categories, not coverage.
				Cascade: []string{"assistant_prompts", "conversation_labels", "conversation_participants", "drafts", "reporting_events.conversation_id",
					"csat_survey_responses.conversation_id", "csat_survey_responses.message_id", "mentions.conversation_id", "mentions.message_id"},
				Ignore: []string{"*.*"}})
			require.NoError(t, err)
			g, err := erasure.NewGraph(b.Targets()...)
			require.NoError(t, err)
			for _, info := range g.Targets() {
				if info.Kind == "identity" {
					assert.Equal(t, []string{erasure.CategoryIdentity, erasure.CategoryOnlineIdentifiers}, info.Categories, "Spec.Categories reach TargetInfo")
				}
			}

			files2 := map[erasure.Kind][]string{"file": {erasure.CategoryAttachments}}
			err = processing.Check(g, files2)
			var un *processing.UncategorisedError
			require.ErrorAs(t, err, &un)
			assert.Equal(t, []erasure.Kind{"rating"}, un.Kinds)

			files2["rating"] = []string{erasure.CategoryUsage, erasure.CategoryContent}
			ps, err := gdprkit.NewPseudonymizer([]byte("processing-test-key-0123456789abcdef"))
			require.NoError(t, err)
			svc, err := erasure.New(erasure.Config{Store: st.Erasure(), Graph: g, Directory: noDirectory{}, Pseudonymizer: ps})
			require.NoError(t, err)
			rec, err := processing.Generate(ctx, gdprkit.AccountID("1"), processing.Config{Erasure: svc, Categories: files2})
			require.NoError(t, err)
			got := map[string][]erasure.Kind{}
			var order []string
			for _, c := range rec.DataCategories {
				order = append(order, c.Category)
				for _, k := range c.Kinds {
					got[c.Category] = append(got[c.Category], k.Kind)
				}
			}
			assert.Equal(t, []string{erasure.CategoryIdentity, erasure.CategoryContact, erasure.CategoryContent, erasure.CategoryAttachments,
				erasure.CategoryOnlineIdentifiers, erasure.CategoryUsage, "billing"}, order, "standard categories first, the host's own after")
			assert.Equal(t, []erasure.Kind{"identity", "person"}, got[erasure.CategoryIdentity])
			assert.Equal(t, []erasure.Kind{"person"}, got["billing"])
			assert.Empty(t, rec.DataCategories[len(rec.DataCategories)-1].Description, "a host's own category has no built-in text")
			assert.ElementsMatch(t, []erasure.Kind{"message", "conversation", "rating"}, got[erasure.CategoryContent])
			assert.Equal(t, []erasure.Kind{"file", "attachment"}, got[erasure.CategoryAttachments])
			assert.ElementsMatch(t, []erasure.Kind{"conversation", "rating"}, got[erasure.CategoryUsage])
			for _, c := range rec.DataCategories {
				for _, k := range c.Kinds {
					if k.Kind == "person" {
						assert.Equal(t, erasure.Anonymize, k.OnErasure, "the spec's default rule")
					}
				}
			}
		})
	}
}
