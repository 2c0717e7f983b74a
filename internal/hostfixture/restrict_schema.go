package hostfixture

// restrictSchema is modelled on a Znuny/OTRS-style helpdesk: single
// tenant, agents in users (integer keys) referenced from nearly every table
// by create_by/change_by, customers in customer_user and referenced by
// their login string in plain columns, every foreign key NO ACTION, and
// many tables without a primary key.
func restrictSchema() *schemaDef {
	// znuny adds the audit columns every Znuny table has: who created and
	// who last changed the row, both NOT NULL references to users.
	znuny := func(t table) table {
		t.cols = append(t.cols, timestamp("create_time").nn(), integer("create_by").nn(),
			timestamp("change_time").nn(), integer("change_by").nn())
		t.fks = append(t.fks, fk("create_by", "users"), fk("change_by", "users"))
		return t
	}
	// created adds only the creation half (flag tables).
	created := func(t table) table {
		t.cols = append(t.cols, timestamp("create_time").nn(), integer("create_by").nn())
		t.fks = append(t.fks, fk("create_by", "users"))
		return t
	}
	lookup := func(name, comment string, id column, extra ...column) table {
		cs := append([]column{id, varchar("name", 200).nn()}, extra...)
		cs = append(cs, varchar("comments", 250), smallint("valid_id").nn())
		return znuny(table{name: name, comment: comment, cols: cs, pk: cols("id"), uniques: idx(cols("name")),
			fks: []fkey{fk("valid_id", "valid")}})
	}
	return &schemaDef{
		name:      Restrict,
		title:     "a single-tenant ticket system (Znuny/OTRS-style; every foreign key NO ACTION)",
		indexName: znunyIndexName,
		fkName:    znunyFKName,
		tables: []table{
			znuny(table{
				name: "valid",
				comment: "Validity states every configuration row points at (valid, invalid, invalid-temporarily).\n" +
					"valid.create_by -> users and users.valid_id -> valid form a cycle; the installer inserts\n" +
					"both rows before the foreign keys exist.",
				cols: []column{smallserial("id"), varchar("name", 200).nn()}, pk: cols("id"), uniques: idx(cols("name")),
			}),
			znuny(table{
				name: "users",
				comment: "Agents only. An agent who leaves is never deleted (every table references them): the\n" +
					"installer's own admin is id 1. E-mail and phone live in user_preferences.",
				cols: []column{serial("id"), varchar("login", 200).nn(), varchar("pw", 128).nn(), varchar("title", 50),
					varchar("first_name", 100).nn(), varchar("last_name", 100).nn(), smallint("valid_id").nn()},
				pk: cols("id"), uniques: idx(cols("login")), fks: []fkey{fk("valid_id", "valid")},
			}),
			lookup("permission_groups", "Agent permission groups.", serial("id")),
			znuny(table{
				name:    "group_user",
				comment: "Agent <-> group permissions. No primary key; duplicate rows happen.",
				cols:    []column{integer("user_id").nn(), integer("group_id").nn(), varchar("permission_key", 20).nn()},
				indexes: idx(cols("user_id"), cols("group_id")),
				fks:     []fkey{fk("user_id", "users"), fk("group_id", "permission_groups")},
			}),
			{
				name:    "user_preferences",
				comment: "Agent settings as key/value rows, including UserEmail and UserMobile. No primary key.",
				cols:    []column{integer("user_id").nn(), varchar("preferences_key", 150).nn(), text("preferences_value")},
				indexes: idx(cols("user_id")),
				fks:     []fkey{fk("user_id", "users")},
			},
			znuny(table{
				name:    "customer_company",
				comment: "Customer companies, keyed by a string.",
				cols: []column{varchar("customer_id", 150).nn(), varchar("name", 200).nn(), varchar("street", 200), varchar("zip", 200),
					varchar("city", 200), varchar("country", 200), varchar("url", 200), varchar("comments", 250), smallint("valid_id").nn()},
				pk: cols("customer_id"), uniques: idx(cols("name")), fks: []fkey{fk("valid_id", "valid")},
			}),
			znuny(table{
				name: "customer_user",
				comment: "Customers, in their own table. Other tables name a customer by login (a string) in plain\n" +
					"columns without a foreign key; customer_id names the company, also without one.",
				cols: []column{serial("id"), varchar("login", 200).nn(), varchar("email", 150).nn(), varchar("customer_id", 150).nn(),
					varchar("pw", 128), varchar("title", 50), varchar("first_name", 100).nn(), varchar("last_name", 100).nn(),
					varchar("phone", 150), varchar("mobile", 150), varchar("street", 150), varchar("zip", 200), varchar("city", 200),
					varchar("country", 200), varchar("comments", 250), smallint("valid_id").nn()},
				pk: cols("id"), uniques: idx(cols("login")), indexes: idx(cols("email")), fks: []fkey{fk("valid_id", "valid")},
			}),
			{
				name:    "customer_preferences",
				comment: "Customer settings as key/value rows; user_id is the customer's login. No key, no foreign key.",
				cols:    []column{varchar("user_id", 250).nn(), varchar("preferences_key", 150).nn(), text("preferences_value")},
				indexes: idx(cols("user_id")),
			},
			lookup("salutation", "Salutations opening an agent's answer.", serial("id"), text("text").nn(), varchar("content_type", 250)),
			lookup("signature", "Signatures closing an agent's answer.", serial("id"), text("text").nn(), varchar("content_type", 250)),
			znuny(table{
				name:    "system_address",
				comment: "The helpdesk's own sender addresses (value0 = address, value1 = display name).",
				cols: []column{serial("id"), varchar("value0", 200).nn(), varchar("value1", 200).nn(), varchar("comments", 250),
					integer("queue_id").nn(), smallint("valid_id").nn()},
				pk: cols("id"), fks: []fkey{fk("valid_id", "valid")},
			}),
			znuny(table{
				name:    "queue",
				comment: "Ticket queues.",
				cols: []column{serial("id"), varchar("name", 200).nn(), integer("group_id").nn(), integer("system_address_id").nn(),
					integer("salutation_id").nn(), integer("signature_id").nn(), integer("unlock_timeout"), varchar("comments", 200),
					smallint("valid_id").nn()},
				pk: cols("id"), uniques: idx(cols("name")),
				fks: []fkey{fk("group_id", "permission_groups"), fk("system_address_id", "system_address"), fk("salutation_id", "salutation"),
					fk("signature_id", "signature"), fk("valid_id", "valid")},
			}),
			znuny(table{
				name:    "ticket_state_type",
				comment: "State types: new, open, closed, pending reminder, pending auto, removed, merged.",
				cols:    []column{smallserial("id"), varchar("name", 200).nn(), varchar("comments", 250)},
				pk:      cols("id"), uniques: idx(cols("name")),
			}),
			withFK(lookup("ticket_state", "Ticket states; type_id says which are open and which closed.", smallserial("id"), smallint("type_id").nn()),
				fk("type_id", "ticket_state_type")),
			lookup("ticket_lock_type", "Ticket locks (unlock, lock, tmp_lock).", smallserial("id")),
			lookup("ticket_priority", "Ticket priorities.", smallserial("id")),
			lookup("ticket_type", "Ticket types.", smallserial("id")),
			znuny(table{
				name: "ticket",
				comment: "A ticket. customer_user_id is the customer's login (no foreign key); user_id is the owning\n" +
					"agent and responsible_user_id the responsible one.",
				cols: []column{bigserial("id"), varchar("tn", 50).nn(), varchar("title", 255), integer("queue_id").nn(),
					smallint("ticket_lock_id").nn(), smallint("type_id"), integer("user_id").nn(), integer("responsible_user_id").nn(),
					smallint("ticket_priority_id").nn(), smallint("ticket_state_id").nn(), varchar("customer_id", 150),
					varchar("customer_user_id", 250), integer("timeout").nn(), integer("until_time").nn(),
					integer("escalation_time").nn(), smallint("archive_flag").nn().dflt(0)},
				pk: cols("id"), uniques: idx(cols("tn")), indexes: idx(cols("customer_user_id"), cols("user_id"), cols("ticket_state_id")),
				fks: []fkey{fk("queue_id", "queue"), fk("ticket_lock_id", "ticket_lock_type"), fk("type_id", "ticket_type"),
					fk("user_id", "users"), fk("responsible_user_id", "users"), fk("ticket_priority_id", "ticket_priority"),
					fk("ticket_state_id", "ticket_state")},
			}),
			lookup("article_sender_type", "Who wrote an article: agent, system, customer.", smallserial("id")),
			znuny(table{
				name:    "communication_channel",
				comment: "How an article arrived or left: Email, Phone, Internal, Chat.",
				cols: []column{bigserial("id"), varchar("name", 200).nn(), varchar("module", 200).nn(), varchar("package_name", 200).nn(),
					text("channel_data"), smallint("valid_id").nn()},
				pk: cols("id"), uniques: idx(cols("name")), fks: []fkey{fk("valid_id", "valid")},
			}),
			znuny(table{
				name: "article",
				comment: "One entry of a ticket's thread. is_visible_for_customer = 0 marks internal notes;\n" +
					"the sender type says whether an agent, the system or the customer wrote it.",
				cols: []column{bigserial("id"), bigint("ticket_id").nn(), smallint("article_sender_type_id").nn(),
					bigint("communication_channel_id").nn(), smallint("is_visible_for_customer").nn(),
					smallint("search_index_needs_rebuild").nn().dflt(1), varchar("insert_fingerprint", 64)},
				pk: cols("id"), indexes: idx(cols("ticket_id")),
				fks: []fkey{fk("ticket_id", "ticket"), fk("article_sender_type_id", "article_sender_type"),
					fk("communication_channel_id", "communication_channel")},
			}),
			znuny(table{
				name:    "article_data_mime",
				comment: "The mail headers and body of an article: names and addresses in a_from, a_to, a_cc.",
				cols: []column{bigserial("id"), bigint("article_id").nn(), text("a_from"), text("a_reply_to"), text("a_to"), text("a_cc"),
					text("a_bcc"), text("a_subject"), text("a_message_id"), varchar("a_message_id_md5", 32), text("a_in_reply_to"),
					text("a_references"), varchar("a_content_type", 250), text("a_body"), integer("incoming_time").nn()},
				pk: cols("id"), indexes: idx(cols("article_id"), cols("a_message_id_md5")), fks: []fkey{fk("article_id", "article")},
			}),
			znuny(table{
				name:    "article_data_mime_plain",
				comment: "The raw mail as received or sent, headers included. No primary key.",
				cols:    []column{bigint("article_id").nn(), text("body").nn()},
				indexes: idx(cols("article_id")), fks: []fkey{fk("article_id", "article")},
			}),
			znuny(table{
				name:    "article_data_mime_attachment",
				comment: "Attachments stored in the database, content base64-encoded in a text column.",
				cols: []column{bigserial("id"), bigint("article_id").nn(), varchar("filename", 250), varchar("content_size", 30),
					text("content_type"), varchar("content_id", 250), varchar("content_alternative", 50), varchar("disposition", 15),
					text("content").nn()},
				pk: cols("id"), indexes: idx(cols("article_id")), fks: []fkey{fk("article_id", "article")},
			}),
			created(table{
				name:    "article_flag",
				comment: "Per-agent article flags ('Seen'). No primary key.",
				cols:    []column{bigint("article_id").nn(), varchar("article_key", 50).nn(), varchar("article_value", 50)},
				indexes: idx(cols("article_id", "create_by")), fks: []fkey{fk("article_id", "article")},
			}),
			{
				name:    "article_search_index",
				comment: "The full-text index: one row per article and field (From, To, Cc, Subject, Body), lower-cased. No primary key.",
				cols:    []column{bigint("ticket_id").nn(), bigint("article_id").nn(), varchar("article_key", 200).nn(), text("article_value")},
				indexes: idx(cols("ticket_id"), cols("article_id", "article_key")),
				fks:     []fkey{fk("ticket_id", "ticket"), fk("article_id", "article")},
			},
			created(table{
				name:    "ticket_flag",
				comment: "Per-agent ticket flags ('Seen'). No primary key; duplicate rows happen.",
				cols:    []column{bigint("ticket_id").nn(), varchar("ticket_key", 50).nn(), varchar("ticket_value", 50)},
				indexes: idx(cols("ticket_id", "create_by")), fks: []fkey{fk("ticket_id", "ticket")},
			}),
			lookup("ticket_history_type", "Kinds of history line (NewTicket, SendAnswer, OwnerUpdate, ...).", smallserial("id")),
			znuny(table{
				name:    "ticket_history",
				comment: "A ticket's history. name is the line shown, with logins, names and addresses in it.",
				cols: []column{bigserial("id"), varchar("name", 200).nn(), smallint("history_type_id").nn(), bigint("ticket_id").nn(),
					bigint("article_id"), smallint("type_id").nn(), integer("queue_id").nn(), integer("owner_id").nn(),
					smallint("priority_id").nn(), smallint("state_id").nn()},
				pk: cols("id"), indexes: idx(cols("ticket_id"), cols("owner_id")),
				fks: []fkey{fk("history_type_id", "ticket_history_type"), fk("ticket_id", "ticket"), fk("article_id", "article"),
					fk("type_id", "ticket_type"), fk("queue_id", "queue"), fk("owner_id", "users"), fk("priority_id", "ticket_priority"),
					fk("state_id", "ticket_state")},
			}),
			znuny(table{
				name:    "ticket_watcher",
				comment: "Agents watching a ticket. No primary key.",
				cols:    []column{bigint("ticket_id").nn(), integer("user_id").nn()},
				indexes: idx(cols("ticket_id")), fks: []fkey{fk("ticket_id", "ticket"), fk("user_id", "users")},
			}),
			znuny(table{
				name:    "time_accounting",
				comment: "Time an agent booked on a ticket (minutes, decimal).",
				cols:    []column{bigserial("id"), bigint("ticket_id").nn(), bigint("article_id"), decimal("time_unit", 10).nn()},
				pk:      cols("id"), indexes: idx(cols("ticket_id")),
				fks: []fkey{fk("ticket_id", "ticket"), fk("article_id", "article")},
			}),
			lookup("standard_template", "Canned answers and notes.", serial("id"), text("text"), varchar("content_type", 250), varchar("template_type", 100).nn()),
			znuny(table{
				name: "form_draft",
				comment: "An agent's unsent form (a note or answer being written): object_type + object_id name the\n" +
					"ticket (no foreign key); content is the serialised form.",
				cols: []column{serial("id"), varchar("object_type", 200).nn(), integer("object_id").nn(), varchar("action", 200).nn(),
					varchar("title", 255), text("content").nn()},
				pk: cols("id"), indexes: idx(cols("object_type", "object_id", "action")),
			}),
			{
				name:    "mail_queue",
				comment: "Outgoing mail waiting to be sent: recipients and the whole raw message.",
				cols: []column{bigserial("id"), varchar("insert_fingerprint", 64), bigint("article_id"), integer("attempts").nn(),
					varchar("sender", 200), text("recipient").nn(), text("raw_message").nn(), timestamp("due_time"),
					integer("last_smtp_code"), text("last_smtp_message"), timestamp("create_time").nn()},
				pk: cols("id"), fks: []fkey{fk("article_id", "article")},
			},
			lookup("dynamic_field", "Custom fields of tickets and articles.", serial("id"), varchar("label", 200).nn(),
				varchar("field_type", 200).nn(), varchar("object_type", 200).nn(), text("config")),
			{
				name:    "dynamic_field_value",
				comment: "Custom field values: object_id is a ticket or an article id, depending on the field's object_type.",
				cols: []column{serial("id"), integer("field_id").nn(), bigint("object_id").nn(), text("value_text"),
					timestamp("value_date"), bigint("value_int")},
				pk: cols("id"), indexes: idx(cols("field_id", "object_id")), fks: []fkey{fk("field_id", "dynamic_field")},
			},
			{
				name: "sessions",
				comment: "Web sessions as key/value rows: the owner is the row whose data_key is 'UserLogin', and\n" +
					"'UserType' says 'User' (agent) or 'Customer'. No primary key, no foreign key.",
				cols:    []column{varchar("session_id", 100).nn(), varchar("data_key", 100).nn(), text("data_value"), smallint("serialized").nn()},
				indexes: idx(cols("session_id"), cols("data_key")),
			},
			{
				name:    "personal_queues",
				comment: "The queues an agent follows. No primary key.",
				cols:    []column{integer("user_id").nn(), integer("queue_id").nn()},
				indexes: idx(cols("user_id")),
				fks:     []fkey{fk("user_id", "users"), fk("queue_id", "queue")},
			},
		},
		bootstrap: restrictBootstrap(),
	}
}
