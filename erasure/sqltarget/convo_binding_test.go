package sqltarget_test

// The binding of the convo fixture (a Chatwoot-style inbox nobody here
// wrote), written the way docs/binding-an-existing-schema.md says. It is
// all the host code such a binding needs: the directory of people and the
// specs, no SQL views, no hand-written targets.

import (
	"context"
	"database/sql"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/hostfixture"
	"github.com/gdprkit/gdprkit/sqldb"
)

// convoPeople is the directory of people: one users table for contacts
// and staff, the role column telling them apart; a person anonymised in
// place is nobody any more.
func convoPeople(ctx context.Context, db *sql.DB, d sqldb.Dialect) (*sqltarget.Directory, error) {
	return sqltarget.NewDirectory(ctx, db, d, sqltarget.PeopleSpec{Table: "users", Key: "id", AccountColumn: "account_id", RoleColumn: "role",
		Roles: map[string]gdprkit.Role{"contact": gdprkit.RoleEndUser, "agent": gdprkit.RoleAgent, "admin": gdprkit.RoleAdmin, "owner": gdprkit.RoleOwner},
		Where: []sqltarget.Cond{sqltarget.IsNull("erased_at")}})
}

// convoBinding binds the inbox. People stay in users (23 foreign keys
// point at them) and are anonymised in place; what hangs under a person
// is deleted; other people's rows lose only what names the person.
func convoBinding(db *sql.DB, d sqldb.Dialect, files erasure.BlobStore) sqltarget.Config {
	const acct = "account_id"
	anon := erasure.Rule{Action: erasure.Anonymize}
	keep := []erasure.Action{erasure.Anonymize} // anonymise, never delete
	null := func(cols ...string) []sqltarget.Column {
		var out []sqltarget.Column
		for _, c := range cols {
			out = append(out, sqltarget.Column{Name: c, Action: sqltarget.Null})
		}
		return out
	}
	tenant := func(table string) string { // the few tables without account_id
		switch table {
		case "contact_inboxes", "sessions", "access_tokens", "inbox_members":
			return ""
		}
		return acct
	}
	under := func(kind, parent erasure.Kind, table, col string) sqltarget.Spec {
		return sqltarget.Spec{Kind: kind, Parent: parent, Table: table, Key: "id", ParentColumn: col, AccountColumn: tenant(table)}
	}
	by := func(kind erasure.Kind, table, col string, cols ...sqltarget.Column) sqltarget.Spec {
		return sqltarget.Spec{Kind: kind, Table: table, Key: "id", SubjectColumn: col, AccountColumn: acct, Actions: keep, Default: anon, Columns: cols}
	}
	naming := func(kind erasure.Kind, table string, cols ...sqltarget.Column) sqltarget.Spec {
		s := sqltarget.Spec{Kind: kind, Table: table, Key: "id", AccountColumn: acct, Actions: keep, Default: anon, Columns: cols}
		for _, c := range cols {
			s.Mentions = append(s.Mentions, c.Name)
		}
		return s
	}
	isMessage, isUser := []sqltarget.Cond{sqltarget.Eq("model_type", "message")}, []sqltarget.Cond{sqltarget.Eq("model_type", "user")}
	private := []sqltarget.Cond{sqltarget.Eq("private", false)}
	person := sqltarget.Spec{Kind: "person", Table: "users", Key: "id", SubjectColumn: "id", AccountColumn: acct, Actions: keep, Default: anon,
		Marker: "erased_at", Identifiers: map[string]string{"email": "email", "name": "name", "phone": "phone_number"}, NoExport: []string{"encrypted_password"},
		Columns: append([]sqltarget.Column{{Name: "name", Action: sqltarget.Label}},
			null("display_name", "email", "phone_number", "signature", "avatar_key", "custom_attributes", "encrypted_password", "last_seen_at")...)}
	identity := under("identity", "person", "contact_identities", "user_id")
	identity.Identifiers = map[string]string{"identity": "identifier"}
	token := under("token", "person", "access_tokens", "owner_id")
	token.NoExport = []string{"token"}
	avatar := under("avatar", "person", "attachments", "model_id")
	avatar.Where = isUser
	conversation := under("conversation", "person", "conversations", "contact_id")
	message := under("message", "conversation", "messages", "conversation_id")
	message.ExportWhere = private
	file := under("attachment", "message", "attachments", "model_id")
	file.Where = isMessage
	internal := func(s sqltarget.Spec) sqltarget.Spec { s.NoExportKind = true; return s }
	open := []sqltarget.Cond{sqltarget.In("status", "open", "pending")}
	assigned := by("assigned", "conversations", "assignee_id", sqltarget.Column{Name: "assignee_id", Action: sqltarget.Reassign})
	assigned.Where = open
	return sqltarget.Config{DB: db, Dialect: d, Specs: []sqltarget.Spec{
		person, identity, token, avatar, conversation, message, file,
		under("contact_inbox", "person", "contact_inboxes", "contact_id"),
		under("session", "person", "sessions", "user_id"),
		under("inbox_member", "person", "inbox_members", "user_id"),
		under("notification", "person", "notifications", "user_id"),
		under("following", "person", "conversation_participants", "user_id"),
		under("mention", "person", "mentions", "user_id"),
		under("note", "person", "notes", "contact_id"),
		under("rating", "person", "csat_survey_responses", "contact_id"),
		internal(under("draft", "person", "drafts", "user_id")),
		internal(under("prompt", "person", "assistant_prompts", "user_id")),
		internal(under("staff_draft", "conversation", "drafts", "conversation_id")),
		internal(under("staff_prompt", "conversation", "assistant_prompts", "conversation_id")),
		under("follower", "conversation", "conversation_participants", "conversation_id"),
		under("rating_of", "conversation", "csat_survey_responses", "conversation_id"),
		under("mention_in", "message", "mentions", "message_id"),
		assigned,
		by("created", "conversations", "created_by_id", null("created_by_id")...),
		by("resolved", "conversations", "resolved_by_id", null("resolved_by_id")...),
		by("authored", "messages", "sender_id", null("sender_id")...), // the text is named_in_mail's
		by("authored_note", "notes", "author_id", null("author_id")...),
		by("caused", "notifications", "actor_id", null("actor_id")...),
		by("reported", "reporting_events", "user_id", null("user_id")...),
		by("rated_agent", "csat_survey_responses", "assigned_agent_id", null("assigned_agent_id")...),
		by("canned", "canned_responses", "created_by_id", append(null("created_by_id"), sqltarget.Column{Name: "content", Action: sqltarget.Redact})...),
		by("invited", "users", "invited_by_id", null("invited_by_id")...),
		by("audited", "audits", "user_id", append(null("user_id", "username"), sqltarget.Column{Name: "remote_address", Action: sqltarget.Null})...),
		naming("named_in_mail", "messages", sqltarget.Column{Name: "content_attributes", Action: sqltarget.RemoveJSON, Paths: []string{"to", "cc", "bcc"}},
			sqltarget.Column{Name: "mentioned_user_ids", Action: sqltarget.RemoveElement}, sqltarget.Column{Name: "content", Action: sqltarget.Redact}),
		naming("watching", "conversations", sqltarget.Column{Name: "watcher_ids", Action: sqltarget.RemoveElement}),
		naming("named_in_profile", "users", sqltarget.Column{Name: "custom_attributes", Action: sqltarget.RemoveJSON}),
		naming("named_in_note", "notes", sqltarget.Column{Name: "content", Action: sqltarget.Redact}),
		naming("named_in_rating", "csat_survey_responses", sqltarget.Column{Name: "feedback_message", Action: sqltarget.Redact}),
		naming("named_in_feed", "notifications", sqltarget.Column{Name: "snippet", Action: sqltarget.Redact}),
		naming("named_in_prompt", "assistant_prompts", sqltarget.Column{Name: "prompt", Action: sqltarget.Redact}, sqltarget.Column{Name: "response", Action: sqltarget.Redact}),
		naming("named_in_audit", "audits", sqltarget.Column{Name: "audited_changes", Action: sqltarget.ReplaceJSON}),
	},
		Blobs: []sqltarget.BlobSpec{
			{Kind: "file", Parent: "attachment", Table: "attachments", KeyColumn: "file_key", ParentColumn: "id", AccountColumn: acct, Where: isMessage, Store: files},
			{Kind: "avatar_file", Parent: "avatar", Table: "attachments", KeyColumn: "file_key", ParentColumn: "id", AccountColumn: acct, Where: isUser, Store: files,
				Variants: func(key string) []string { return []string{hostfixture.ConvoVariantKey(key)} }},
		},
		Cascade: []string{"conversation_labels", "reporting_events.conversation_id", "mentions.conversation_id", "csat_survey_responses.message_id",
			"conversations.contact_inbox_id"},
	}
}
