package main

import (
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
)

// binding binds the hd_ tables: a person and what hangs under them are
// deleted (the database's cascades agree, and Bind checks that they do);
// other people's rows that name the person lose only that.
func binding(h *hostdb.DB, files erasure.BlobStore) sqltarget.Config {
	anon, keep := erasure.Rule{Action: erasure.Anonymize}, []erasure.Action{erasure.Anonymize} // anonymise, never delete
	col := func(name string, a sqltarget.ColumnAction) sqltarget.Column {
		return sqltarget.Column{Name: name, Action: a}
	}
	under := func(k, parent erasure.Kind, table, key, parentCol, why string) sqltarget.Spec {
		return sqltarget.Spec{Kind: k, Parent: parent, Table: table, Key: key, ParentColumn: parentCol, AccountColumn: "account_id", Description: why}
	}
	by := func(k erasure.Kind, table, subject, why string, cols ...sqltarget.Column) sqltarget.Spec {
		return sqltarget.Spec{Kind: k, Table: table, Key: "id", SubjectColumn: subject, AccountColumn: "account_id", Actions: keep, Default: anon, Columns: cols, Description: why}
	}
	naming := func(k erasure.Kind, table, key, why string, cols ...string) sqltarget.Spec {
		s := sqltarget.Spec{Kind: k, Table: table, Key: key, AccountColumn: "account_id", Actions: keep, Default: anon, Mentions: cols, Description: why}
		for _, c := range cols {
			s.Columns = append(s.Columns, col(c, sqltarget.Redact))
		}
		return s
	}
	person := sqltarget.Spec{Kind: erasure.KindEndUser, Table: "hd_users", Key: "id", SubjectColumn: "id", AccountColumn: "account_id",
		Description: "the person's profile: name, e-mail address", Identifiers: map[string]string{"email": "email", "name": "name"}}
	ticket := under(erasure.KindTicket, erasure.KindEndUser, "hd_tickets", "id", "requester_id", "tickets the person opened")
	ticket.Columns = []sqltarget.Column{col("requester_id", sqltarget.Null), {Name: "requester_name", Action: sqltarget.Fixed, Value: "Former customer"}}
	return sqltarget.Config{DB: h.SQL(), Dialect: h.Dialect(), Cascade: []string{"hd_hold_matters.ticket_id"}, // a hold note outlives its ticket
		Blobs: []sqltarget.BlobSpec{{Kind: erasure.KindBlob, Parent: erasure.KindAttachment, Table: "hd_attachments", KeyColumn: "blob_key",
			ParentColumn: "id", AccountColumn: "account_id", Store: files}},
		Specs: []sqltarget.Spec{person, ticket,
			under(erasure.KindPortalProfile, erasure.KindEndUser, "hd_portal_profiles", "user_id", "user_id", "customer-portal profile: language, portal access"),
			under(erasure.KindMessage, erasure.KindTicket, "hd_messages", "id", "ticket_id", "messages in those tickets"),
			under(erasure.KindAttachment, erasure.KindMessage, "hd_attachments", "id", "message_id", "attached files' records"),
			{Kind: erasure.KindAgentProfile, Table: "hd_agent_profiles", Key: "user_id", SubjectColumn: "user_id", AccountColumn: "account_id", Description: "agent profile: signature"},
			by(erasure.KindAssignedTicket, "hd_tickets", "assignee_id", "tickets assigned to the agent: back to the queue", col("assignee_id", sqltarget.Reassign)),
			by(erasure.KindAuthoredMessage, "hd_messages", "author_id", "messages the person wrote in other people's tickets: author removed",
				col("author_id", sqltarget.Null), col("author_name", sqltarget.Label)),
			by("request_log", "hd_requests", "subject_id", "the person's privacy requests: the log keeps the request, not the person",
				col("subject_id", sqltarget.Null), col("subject_name", sqltarget.Label), col("contact", sqltarget.Null), col("evidence", sqltarget.Null)),
			by("request_logger", "hd_requests", "logged_by", "privacy requests the agent logged: who logged them removed", col("logged_by", sqltarget.Null)),
			by("audit_actor", "hd_audit_log", "actor", "audit entries of the person's actions: actor pseudonymised", col("actor", sqltarget.Pseudonym)),
			naming("named_in_message", "hd_messages", "id", "other people's messages that name the person: name and address redacted", "body"),
			naming("named_in_ticket", "hd_tickets", "id", "other people's ticket subjects that name the person: redacted", "subject"),
			// Free text is redacted by its own spec: a spec that mixes SQL
			// actions (Null) with Redact changes a row only when the text
			// names the person (sqltarget computes "changed" from the text).
			naming("named_in_request", "hd_requests", "id", "notes on requests that name the person: redacted", "details", "outcome"),
			naming("named_in_hold", "hd_hold_matters", "hold_id", "legal-hold matters that name the person: redacted", "matter"),
		}}
}

// providedKinds are the kinds whose records the person provided
// (TargetInfo.Provided): what a portability export holds.
var providedKinds = map[erasure.Kind]bool{erasure.KindEndUser: true, erasure.KindPortalProfile: true, erasure.KindTicket: true,
	erasure.KindMessage: true, erasure.KindAttachment: true, erasure.KindBlob: true, erasure.KindAuthoredMessage: true}

// markProvided wraps the provided kinds' targets with erasure.MarkProvided.
func markProvided(ts []erasure.Target) []erasure.Target {
	out := make([]erasure.Target, len(ts))
	for i, t := range ts {
		out[i] = t
		if providedKinds[t.Info().Kind] {
			out[i] = erasure.MarkProvided(t)
		}
	}
	return out
}
