package hostfixture

import "time"

// installTime is when the restrict fixture's installer ran.
var installTime = time.Date(2023, 1, 9, 8, 0, 0, 0, time.UTC)

// restrictBootstrap is what the modelled application's installer inserts:
// its admin agent (id 1, who created every row below), validity states,
// ticket states and types, sender types, channels, history types and the
// default queues. Create inserts these rows; Seed adds the months of use.
func restrictBootstrap() []rowset {
	// z appends the audit columns of a row the installer created.
	z := func(vals ...any) []any { return append(vals, installTime, 1, installTime, 1) }
	audit := []string{"create_time", "create_by", "change_time", "change_by"}
	withAudit := func(cs ...string) []string { return append(cs, audit...) }
	lookupRows := func(table string, names ...string) rowset {
		rs := rowset{table: table, cols: withAudit("id", "name", "comments", "valid_id")}
		for i, n := range names {
			rs.rows = append(rs.rows, z(i+1, n, nil, 1))
		}
		return rs
	}
	historyTypes := []string{"NewTicket", "FollowUp", "SendAutoReject", "SendAutoReply", "SendAutoFollowUp", "Forward",
		"Bounce", "SendAnswer", "SendAgentNotification", "SendCustomerNotification", "EmailAgent", "EmailCustomer",
		"PhoneCallAgent", "PhoneCallCustomer", "AddNote", "Move", "Lock", "Unlock", "Remove", "TimeAccounting",
		"CustomerUpdate", "PriorityUpdate", "OwnerUpdate", "LoopProtection", "Misc", "SetPendingTime", "StateUpdate",
		"TicketDynamicFieldUpdate", "WebRequestCustomer", "TicketLinkAdd", "TicketLinkDelete", "SystemRequest", "Merged",
		"ResponsibleUpdate", "Subscribe", "Unsubscribe", "TypeUpdate", "ArchiveFlagUpdate"}
	return []rowset{
		{table: "valid", cols: withAudit("id", "name"), rows: [][]any{z(1, "valid"), z(2, "invalid"), z(3, "invalid-temporarily")}},
		{table: "users", cols: withAudit("id", "login", "pw", "title", "first_name", "last_name", "valid_id"),
			rows: [][]any{z(1, "root@localhost", "roK20XGbWEsSM", nil, "Admin", "OTRS", 1)}},
		lookupRows("permission_groups", "users", "admin", "stats"),
		{table: "group_user", cols: withAudit("user_id", "group_id", "permission_key"),
			rows: [][]any{z(1, 1, "rw"), z(1, 2, "rw"), z(1, 3, "rw")}},
		{table: "ticket_state_type", cols: withAudit("id", "name", "comments"), rows: [][]any{
			z(1, "new", "All new state types (default: viewable)."),
			z(2, "open", "All open state types (default: viewable)."),
			z(3, "closed", "All closed state types (default: not viewable)."),
			z(4, "pending reminder", "All 'pending reminder' state types (default: viewable)."),
			z(5, "pending auto", "All 'pending auto *' state types (default: viewable)."),
			z(6, "removed", "All 'removed' state types (default: not viewable)."),
			z(7, "merged", "State type for merged tickets (default: not viewable)."),
		}},
		{table: "ticket_state", cols: withAudit("id", "name", "type_id", "comments", "valid_id"), rows: [][]any{
			z(1, "new", 1, "New ticket created by customer.", 1),
			z(2, "closed successful", 3, "Ticket is closed successful.", 1),
			z(3, "closed unsuccessful", 3, "Ticket is closed unsuccessful.", 1),
			z(4, "open", 2, "Open tickets.", 1),
			z(5, "removed", 6, "Customer removed ticket.", 1),
			z(6, "pending reminder", 4, "Ticket is pending for agent reminder.", 1),
			z(7, "pending auto close+", 5, "Ticket is pending for automatic close.", 1),
			z(8, "pending auto close-", 5, "Ticket is pending for automatic close.", 1),
			z(9, "merged", 7, "State for merged tickets.", 1),
		}},
		lookupRows("ticket_lock_type", "unlock", "lock", "tmp_lock"),
		lookupRows("ticket_priority", "1 very low", "2 low", "3 normal", "4 high", "5 very high"),
		lookupRows("ticket_type", "Unclassified"),
		lookupRows("article_sender_type", "agent", "system", "customer"),
		{table: "communication_channel", cols: withAudit("id", "name", "module", "package_name", "channel_data", "valid_id"), rows: [][]any{
			z(1, "Email", "Kernel::System::CommunicationChannel::Email", "Framework", "---\nArticleDataArticleIDField: article_id\nArticleDataTables:\n- article_data_mime\n", 1),
			z(2, "Phone", "Kernel::System::CommunicationChannel::Phone", "Framework", "---\nArticleDataArticleIDField: article_id\nArticleDataTables:\n- article_data_mime\n", 1),
			z(3, "Internal", "Kernel::System::CommunicationChannel::Internal", "Framework", "---\nArticleDataArticleIDField: article_id\nArticleDataTables:\n- article_data_mime\n", 1),
			z(4, "Chat", "Kernel::System::CommunicationChannel::Chat", "Framework", "---\nArticleDataArticleIDField: article_id\nArticleDataTables:\n- article_data_otrs_chat\n", 1),
		}},
		lookupRows("ticket_history_type", historyTypes...),
		{table: "salutation", cols: withAudit("id", "name", "text", "content_type", "comments", "valid_id"), rows: [][]any{
			z(1, "system standard salutation (en)", "Dear <OTRS_CUSTOMER_REALNAME>,\n\nThank you for your request.\n", "text/plain; charset=utf-8", "Standard Salutation.", 1),
		}},
		{table: "signature", cols: withAudit("id", "name", "text", "content_type", "comments", "valid_id"), rows: [][]any{
			z(1, "system standard signature (en)", "\nYour Ticket-Team\n\n <OTRS_Agent_UserFirstname> <OTRS_Agent_UserLastname>\n", "text/plain; charset=utf-8", "Standard Signature.", 1),
		}},
		{table: "system_address", cols: withAudit("id", "value0", "value1", "comments", "queue_id", "valid_id"), rows: [][]any{
			z(1, "otrs@localhost", "OTRS System", "Standard Address.", 1, 1),
		}},
		{table: "queue", cols: withAudit("id", "name", "group_id", "system_address_id", "salutation_id", "signature_id", "unlock_timeout", "comments", "valid_id"), rows: [][]any{
			z(1, "Postmaster", 1, 1, 1, 1, 0, "Postmaster queue.", 1),
			z(2, "Raw", 1, 1, 1, 1, 0, "All default incoming tickets.", 1),
			z(3, "Junk", 1, 1, 1, 1, 0, "All junk tickets.", 1),
			z(4, "Misc", 1, 1, 1, 1, 0, "All misc tickets.", 1),
		}},
		{table: "standard_template", cols: withAudit("id", "name", "text", "content_type", "template_type", "comments", "valid_id"), rows: [][]any{
			z(1, "empty answer", "", "text/plain; charset=utf-8", "Answer", nil, 1),
		}},
	}
}
