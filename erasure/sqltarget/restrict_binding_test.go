package sqltarget_test

// The binding of the restrict fixture (a Znuny/OTRS-style ticket system
// nobody here wrote, where every foreign key is NO ACTION), written the way
// docs/binding-an-existing-schema.md says: the directory of people and
// the specs, no SQL views, no hand-written targets.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/sqldb"
)

// restrictPeople: customers in customer_user keyed by login, agents in
// users keyed by an integer; subject IDs say which ("customer:bkrause",
// "agent:3"), so a customer whose login is all digits is still a customer.
func restrictPeople(ctx context.Context, db *sql.DB, d sqldb.Dialect) (*sqltarget.Directory, error) {
	return sqltarget.NewDirectory(ctx, db, d,
		sqltarget.PeopleSpec{Table: "customer_user", Key: "login", Prefix: "customer:", Class: "customer", Role: gdprkit.RoleEndUser},
		sqltarget.PeopleSpec{Table: "users", Key: "id", Prefix: "agent:", Class: "agent", Role: gdprkit.RoleAgent,
			RoleColumn: "login", Roles: map[string]gdprkit.Role{"root@localhost": gdprkit.RoleAdmin}, // the installer's admin
			Keys: map[string]string{"login": "login"}, Where: []sqltarget.Cond{sqltarget.Ne("valid_id", 2)}})
}

// restrictBinding binds the ticket system. Customers go with their
// tickets; an agent's users row stays (67 foreign keys) and is
// anonymised in place; other people's text loses what names the person.
func restrictBinding(db *sql.DB, d sqldb.Dialect, files erasure.BlobStore) sqltarget.Config {
	group := func(kind, parent erasure.Kind, table, col string, where ...sqltarget.Cond) sqltarget.Spec {
		return sqltarget.Spec{Kind: kind, Parent: parent, Table: table, Key: col, ParentColumn: col, Where: where} // no key: the rows of one parent
	}
	under := func(kind, parent erasure.Kind, table, col string) sqltarget.Spec {
		return sqltarget.Spec{Kind: kind, Parent: parent, Table: table, Key: "id", ParentColumn: col}
	}
	redact := func(kind erasure.Kind, table, key string, cols ...string) sqltarget.Spec {
		s := sqltarget.Spec{Kind: kind, Table: table, Key: key, Mentions: cols, Actions: []erasure.Action{erasure.Anonymize}, Default: erasure.Rule{Action: erasure.Anonymize}}
		for _, c := range cols {
			s.Columns = append(s.Columns, sqltarget.Column{Name: c, Action: sqltarget.Redact})
		}
		return s
	}
	fieldOf := func(object string) string {
		return "field_id IN (SELECT id FROM dynamic_field WHERE object_type = '" + object + "')"
	}
	openTickets := "ticket_state_id IN (SELECT s.id FROM ticket_state s JOIN ticket_state_type t ON t.id = s.type_id WHERE t.name IN (?, ?, ?, ?))"
	open := []any{"new", "open", "pending reminder", "pending auto"}
	reassign := func(kind erasure.Kind, col string) sqltarget.Spec {
		return sqltarget.Spec{Kind: kind, Table: "ticket", Key: "id", SubjectColumn: col, Classes: []string{"agent"}, Filter: openTickets, FilterArgs: open,
			Actions: []erasure.Action{erasure.Anonymize}, Default: erasure.Rule{Action: erasure.Anonymize},
			Columns: []sqltarget.Column{{Name: col, Action: sqltarget.Reassign, Value: 1}}} // the queue: the admin
	}
	session := func(kind erasure.Kind, class, key string) sqltarget.Spec {
		return sqltarget.Spec{Kind: kind, Table: "sessions", Key: "session_id", SubjectColumn: "data_value", SubjectKey: key, Classes: []string{class},
			FindWhere: []sqltarget.Cond{sqltarget.Eq("data_key", "UserLogin")}} // the row naming the owner finds the whole session
	}
	customer := sqltarget.Spec{Kind: "customer", Table: "customer_user", Key: "login", SubjectColumn: "login", Classes: []string{"customer"},
		Identifiers: map[string]string{"login": "login", "email": "email", "phone": "phone", "mobile": "mobile"}, NameColumns: []string{"first_name", "last_name"}, NoExport: []string{"pw"}}
	agent := sqltarget.Spec{Kind: "agent", Table: "users", Key: "id", SubjectColumn: "id", Classes: []string{"agent"}, Marker: "valid_id", MarkerValue: 2,
		Actions: []erasure.Action{erasure.Anonymize}, Default: erasure.Rule{Action: erasure.Anonymize},
		Identifiers: map[string]string{"login": "login"}, NameColumns: []string{"first_name", "last_name"}, NoExport: []string{"pw"},
		Columns: []sqltarget.Column{{Name: "login", Action: sqltarget.Pseudonym}, {Name: "pw", Action: sqltarget.Blank}, {Name: "title", Action: sqltarget.Null},
			{Name: "first_name", Action: sqltarget.Label}, {Name: "last_name", Action: sqltarget.Blank}}}
	contact := group("agent_contact", "agent", "user_preferences", "user_id", sqltarget.In("preferences_key", "UserEmail", "UserMobile"))
	contact.Identifiers = map[string]string{"contact": "preferences_value"}
	draft := sqltarget.Spec{Kind: "ticket_draft", Parent: "ticket", Table: "form_draft", Key: "id", ParentColumn: "object_id",
		Where: []sqltarget.Cond{sqltarget.Eq("object_type", "Ticket")}, NoExportKind: true}
	internal := func(s sqltarget.Spec) sqltarget.Spec { s.NoExportKind = true; return s }
	return sqltarget.Config{DB: db, Dialect: d, Specs: []sqltarget.Spec{
		customer, agent, contact, draft,
		group("customer_prefs", "customer", "customer_preferences", "user_id"),
		session("customer_session", "customer", ""),
		session("agent_session", "agent", "login"),
		{Kind: "ticket", Parent: "customer", Table: "ticket", Key: "id", ParentColumn: "customer_user_id"},
		under("article", "ticket", "article", "ticket_id"),
		under("mime", "article", "article_data_mime", "article_id"),
		group("raw_mail", "article", "article_data_mime_plain", "article_id"),
		under("attachment", "article", "article_data_mime_attachment", "article_id"),
		group("article_flag", "article", "article_flag", "article_id"),
		group("article_index", "article", "article_search_index", "article_id"),
		under("article_history", "article", "ticket_history", "article_id"),
		under("article_time", "article", "time_accounting", "article_id"),
		under("outbox", "article", "mail_queue", "article_id"),
		{Kind: "article_field", Parent: "article", Table: "dynamic_field_value", Key: "id", ParentColumn: "object_id", Filter: fieldOf("Article")},
		group("ticket_index", "ticket", "article_search_index", "ticket_id"),
		under("history", "ticket", "ticket_history", "ticket_id"),
		under("time", "ticket", "time_accounting", "ticket_id"),
		group("ticket_flag", "ticket", "ticket_flag", "ticket_id"),
		group("watcher", "ticket", "ticket_watcher", "ticket_id"),
		{Kind: "ticket_field", Parent: "ticket", Table: "dynamic_field_value", Key: "id", ParentColumn: "object_id", Filter: fieldOf("Ticket")},
		group("agent_prefs", "agent", "user_preferences", "user_id", sqltarget.NotIn("preferences_key", "UserEmail", "UserMobile")),
		group("agent_groups", "agent", "group_user", "user_id"),
		group("agent_queues", "agent", "personal_queues", "user_id"),
		{Kind: "watching", Table: "ticket_watcher", Key: "user_id", SubjectColumn: "user_id", Classes: []string{"agent"}},
		internal(sqltarget.Spec{Kind: "agent_draft", Table: "form_draft", Key: "id", SubjectColumn: "create_by", Classes: []string{"agent"}}),
		reassign("owned", "user_id"), reassign("responsible", "responsible_user_id"),
		redact("named_in_mail", "article_data_mime", "id", "a_from", "a_reply_to", "a_to", "a_cc", "a_bcc", "a_subject", "a_body"),
		redact("named_in_raw_mail", "article_data_mime_plain", "article_id", "body"),
		redact("named_in_index", "article_search_index", "article_id", "article_value"),
		redact("named_in_history", "ticket_history", "id", "name"),
		redact("named_in_outbox", "mail_queue", "id", "recipient", "raw_message"),
		redact("named_in_field", "dynamic_field_value", "id", "value_text"),
		redact("named_in_template", "standard_template", "id", "text"),
		redact("named_in_draft", "form_draft", "id", "title", "content"),
	},
		Blobs: []sqltarget.BlobSpec{{Kind: "article_files", Parent: "article", Table: "article", ParentColumn: "id", Columns: []string{"id", "create_time"}, Prefix: true, Store: files,
			Keys: func(v []any) []string { // var/article/<yyyy>/<mm>/<dd>/<id>/, before storage moved into the database
				at, ok := v[1].(time.Time)
				if !ok {
					at, _ = time.Parse("2006-01-02 15:04:05", strings.TrimSpace(fmt.Sprintf("%s", v[1])))
				}
				return []string{fmt.Sprintf("var/article/%s/%v/", at.Format("2006/01/02"), v[0])}
			}}},
		Ignore: []string{"*.create_by", "*.change_by", "ticket_history.owner_id"}, // agents stay, anonymised: these point at nobody
	}
}
