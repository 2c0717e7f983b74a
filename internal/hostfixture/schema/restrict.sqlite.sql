-- restrict: a single-tenant ticket system (Znuny/OTRS-style; every foreign key NO ACTION)
-- Dialect: sqlite. Generated from internal/hostfixture/restrict_schema.go by
-- `go test ./internal/hostfixture -run TestSchemaFilesUpToDate -update`; do not edit.
-- Foreign keys are enforced only on connections with PRAGMA foreign_keys=ON
-- (modernc.org/sqlite DSN: _pragma=foreign_keys(1)); Create refuses to run without it.

-- Validity states every configuration row points at (valid, invalid, invalid-temporarily).
-- valid.create_by -> users and users.valid_id -> valid form a cycle; the installer inserts
-- both rows before the foreign keys exist.
CREATE TABLE valid (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_valid_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_valid_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX valid_name ON valid (name);

-- Agents only. An agent who leaves is never deleted (every table references them): the
-- installer's own admin is id 1. E-mail and phone live in user_preferences.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    login varchar(200) NOT NULL,
    pw varchar(128) NOT NULL,
    title varchar(50),
    first_name varchar(100) NOT NULL,
    last_name varchar(100) NOT NULL,
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_users_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_users_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_users_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX users_login ON users (login);

-- Agent permission groups.
CREATE TABLE permission_groups (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_permission_groups_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_permission_groups_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_permission_groups_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX permission_groups_name ON permission_groups (name);

-- Agent <-> group permissions. No primary key; duplicate rows happen.
CREATE TABLE group_user (
    user_id integer NOT NULL,
    group_id integer NOT NULL,
    permission_key varchar(20) NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_group_user_user_id_id FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_group_user_group_id_id FOREIGN KEY (group_id) REFERENCES permission_groups (id),
    CONSTRAINT fk_group_user_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_group_user_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE INDEX group_user_user_id ON group_user (user_id);
CREATE INDEX group_user_group_id ON group_user (group_id);

-- Agent settings as key/value rows, including UserEmail and UserMobile. No primary key.
CREATE TABLE user_preferences (
    user_id integer NOT NULL,
    preferences_key varchar(150) NOT NULL,
    preferences_value text,
    CONSTRAINT fk_user_preferences_user_id_id FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX user_preferences_user_id ON user_preferences (user_id);

-- Customer companies, keyed by a string.
CREATE TABLE customer_company (
    customer_id varchar(150) NOT NULL,
    name varchar(200) NOT NULL,
    street varchar(200),
    zip varchar(200),
    city varchar(200),
    country varchar(200),
    url varchar(200),
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    PRIMARY KEY (customer_id),
    CONSTRAINT fk_customer_company_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_customer_company_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_customer_company_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX customer_company_name ON customer_company (name);

-- Customers, in their own table. Other tables name a customer by login (a string) in plain
-- columns without a foreign key; customer_id names the company, also without one.
CREATE TABLE customer_user (
    id INTEGER PRIMARY KEY,
    login varchar(200) NOT NULL,
    email varchar(150) NOT NULL,
    customer_id varchar(150) NOT NULL,
    pw varchar(128),
    title varchar(50),
    first_name varchar(100) NOT NULL,
    last_name varchar(100) NOT NULL,
    phone varchar(150),
    mobile varchar(150),
    street varchar(150),
    zip varchar(200),
    city varchar(200),
    country varchar(200),
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_customer_user_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_customer_user_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_customer_user_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX customer_user_login ON customer_user (login);
CREATE INDEX customer_user_email ON customer_user (email);

-- Customer settings as key/value rows; user_id is the customer's login. No key, no foreign key.
CREATE TABLE customer_preferences (
    user_id varchar(250) NOT NULL,
    preferences_key varchar(150) NOT NULL,
    preferences_value text
);
CREATE INDEX customer_preferences_user_id ON customer_preferences (user_id);

-- Salutations opening an agent's answer.
CREATE TABLE salutation (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    text text NOT NULL,
    content_type varchar(250),
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_salutation_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_salutation_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_salutation_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX salutation_name ON salutation (name);

-- Signatures closing an agent's answer.
CREATE TABLE signature (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    text text NOT NULL,
    content_type varchar(250),
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_signature_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_signature_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_signature_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX signature_name ON signature (name);

-- The helpdesk's own sender addresses (value0 = address, value1 = display name).
CREATE TABLE system_address (
    id INTEGER PRIMARY KEY,
    value0 varchar(200) NOT NULL,
    value1 varchar(200) NOT NULL,
    comments varchar(250),
    queue_id integer NOT NULL,
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_system_address_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_system_address_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_system_address_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);

-- Ticket queues.
CREATE TABLE queue (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    group_id integer NOT NULL,
    system_address_id integer NOT NULL,
    salutation_id integer NOT NULL,
    signature_id integer NOT NULL,
    unlock_timeout integer,
    comments varchar(200),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_queue_group_id_id FOREIGN KEY (group_id) REFERENCES permission_groups (id),
    CONSTRAINT fk_queue_system_address_id_id FOREIGN KEY (system_address_id) REFERENCES system_address (id),
    CONSTRAINT fk_queue_salutation_id_id FOREIGN KEY (salutation_id) REFERENCES salutation (id),
    CONSTRAINT fk_queue_signature_id_id FOREIGN KEY (signature_id) REFERENCES signature (id),
    CONSTRAINT fk_queue_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_queue_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_queue_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX queue_name ON queue (name);

-- State types: new, open, closed, pending reminder, pending auto, removed, merged.
CREATE TABLE ticket_state_type (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    comments varchar(250),
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_ticket_state_type_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_state_type_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX ticket_state_type_name ON ticket_state_type (name);

-- Ticket states; type_id says which are open and which closed.
CREATE TABLE ticket_state (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    type_id smallint NOT NULL,
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_ticket_state_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_ticket_state_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_state_change_by_id FOREIGN KEY (change_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_state_type_id_id FOREIGN KEY (type_id) REFERENCES ticket_state_type (id)
);
CREATE UNIQUE INDEX ticket_state_name ON ticket_state (name);

-- Ticket locks (unlock, lock, tmp_lock).
CREATE TABLE ticket_lock_type (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_ticket_lock_type_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_ticket_lock_type_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_lock_type_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX ticket_lock_type_name ON ticket_lock_type (name);

-- Ticket priorities.
CREATE TABLE ticket_priority (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_ticket_priority_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_ticket_priority_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_priority_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX ticket_priority_name ON ticket_priority (name);

-- Ticket types.
CREATE TABLE ticket_type (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_ticket_type_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_ticket_type_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_type_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX ticket_type_name ON ticket_type (name);

-- A ticket. customer_user_id is the customer's login (no foreign key); user_id is the owning
-- agent and responsible_user_id the responsible one.
CREATE TABLE ticket (
    id INTEGER PRIMARY KEY,
    tn varchar(50) NOT NULL,
    title varchar(255),
    queue_id integer NOT NULL,
    ticket_lock_id smallint NOT NULL,
    type_id smallint,
    user_id integer NOT NULL,
    responsible_user_id integer NOT NULL,
    ticket_priority_id smallint NOT NULL,
    ticket_state_id smallint NOT NULL,
    customer_id varchar(150),
    customer_user_id varchar(250),
    timeout integer NOT NULL,
    until_time integer NOT NULL,
    escalation_time integer NOT NULL,
    archive_flag smallint NOT NULL DEFAULT 0,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_ticket_queue_id_id FOREIGN KEY (queue_id) REFERENCES queue (id),
    CONSTRAINT fk_ticket_ticket_lock_id_id FOREIGN KEY (ticket_lock_id) REFERENCES ticket_lock_type (id),
    CONSTRAINT fk_ticket_type_id_id FOREIGN KEY (type_id) REFERENCES ticket_type (id),
    CONSTRAINT fk_ticket_user_id_id FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_ticket_responsible_user_id_id FOREIGN KEY (responsible_user_id) REFERENCES users (id),
    CONSTRAINT fk_ticket_ticket_priority_id_id FOREIGN KEY (ticket_priority_id) REFERENCES ticket_priority (id),
    CONSTRAINT fk_ticket_ticket_state_id_id FOREIGN KEY (ticket_state_id) REFERENCES ticket_state (id),
    CONSTRAINT fk_ticket_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX ticket_tn ON ticket (tn);
CREATE INDEX ticket_customer_user_id ON ticket (customer_user_id);
CREATE INDEX ticket_user_id ON ticket (user_id);
CREATE INDEX ticket_ticket_state_id ON ticket (ticket_state_id);

-- Who wrote an article: agent, system, customer.
CREATE TABLE article_sender_type (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_article_sender_type_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_article_sender_type_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_article_sender_type_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX article_sender_type_name ON article_sender_type (name);

-- How an article arrived or left: Email, Phone, Internal, Chat.
CREATE TABLE communication_channel (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    module varchar(200) NOT NULL,
    package_name varchar(200) NOT NULL,
    channel_data text,
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_communication_channel_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_communication_channel_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_communication_channel_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX communication_channel_name ON communication_channel (name);

-- One entry of a ticket's thread. is_visible_for_customer = 0 marks internal notes;
-- the sender type says whether an agent, the system or the customer wrote it.
CREATE TABLE article (
    id INTEGER PRIMARY KEY,
    ticket_id bigint NOT NULL,
    article_sender_type_id smallint NOT NULL,
    communication_channel_id bigint NOT NULL,
    is_visible_for_customer smallint NOT NULL,
    search_index_needs_rebuild smallint NOT NULL DEFAULT 1,
    insert_fingerprint varchar(64),
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_article_ticket_id_id FOREIGN KEY (ticket_id) REFERENCES ticket (id),
    CONSTRAINT fk_article_article_sender_type_id_id FOREIGN KEY (article_sender_type_id) REFERENCES article_sender_type (id),
    CONSTRAINT fk_article_communication_channel_id_id FOREIGN KEY (communication_channel_id) REFERENCES communication_channel (id),
    CONSTRAINT fk_article_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_article_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE INDEX article_ticket_id ON article (ticket_id);

-- The mail headers and body of an article: names and addresses in a_from, a_to, a_cc.
CREATE TABLE article_data_mime (
    id INTEGER PRIMARY KEY,
    article_id bigint NOT NULL,
    a_from text,
    a_reply_to text,
    a_to text,
    a_cc text,
    a_bcc text,
    a_subject text,
    a_message_id text,
    a_message_id_md5 varchar(32),
    a_in_reply_to text,
    a_references text,
    a_content_type varchar(250),
    a_body text,
    incoming_time integer NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_article_data_mime_article_id_id FOREIGN KEY (article_id) REFERENCES article (id),
    CONSTRAINT fk_article_data_mime_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_article_data_mime_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE INDEX article_data_mime_article_id ON article_data_mime (article_id);
CREATE INDEX article_data_mime_a_message_id_md5 ON article_data_mime (a_message_id_md5);

-- The raw mail as received or sent, headers included. No primary key.
CREATE TABLE article_data_mime_plain (
    article_id bigint NOT NULL,
    body text NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_article_data_mime_plain_article_id_id FOREIGN KEY (article_id) REFERENCES article (id),
    CONSTRAINT fk_article_data_mime_plain_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_article_data_mime_plain_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE INDEX article_data_mime_plain_article_id ON article_data_mime_plain (article_id);

-- Attachments stored in the database, content base64-encoded in a text column.
CREATE TABLE article_data_mime_attachment (
    id INTEGER PRIMARY KEY,
    article_id bigint NOT NULL,
    filename varchar(250),
    content_size varchar(30),
    content_type text,
    content_id varchar(250),
    content_alternative varchar(50),
    disposition varchar(15),
    content text NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_article_data_mime_attachment_article_id_id FOREIGN KEY (article_id) REFERENCES article (id),
    CONSTRAINT fk_article_data_mime_attachment_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_article_data_mime_attachment_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE INDEX article_data_mime_attachment_article_id ON article_data_mime_attachment (article_id);

-- Per-agent article flags ('Seen'). No primary key.
CREATE TABLE article_flag (
    article_id bigint NOT NULL,
    article_key varchar(50) NOT NULL,
    article_value varchar(50),
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    CONSTRAINT fk_article_flag_article_id_id FOREIGN KEY (article_id) REFERENCES article (id),
    CONSTRAINT fk_article_flag_create_by_id FOREIGN KEY (create_by) REFERENCES users (id)
);
CREATE INDEX article_flag_article_id_create_by ON article_flag (article_id, create_by);

-- The full-text index: one row per article and field (From, To, Cc, Subject, Body), lower-cased. No primary key.
CREATE TABLE article_search_index (
    ticket_id bigint NOT NULL,
    article_id bigint NOT NULL,
    article_key varchar(200) NOT NULL,
    article_value text,
    CONSTRAINT fk_article_search_index_ticket_id_id FOREIGN KEY (ticket_id) REFERENCES ticket (id),
    CONSTRAINT fk_article_search_index_article_id_id FOREIGN KEY (article_id) REFERENCES article (id)
);
CREATE INDEX article_search_index_ticket_id ON article_search_index (ticket_id);
CREATE INDEX article_search_index_article_id_article_key ON article_search_index (article_id, article_key);

-- Per-agent ticket flags ('Seen'). No primary key; duplicate rows happen.
CREATE TABLE ticket_flag (
    ticket_id bigint NOT NULL,
    ticket_key varchar(50) NOT NULL,
    ticket_value varchar(50),
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    CONSTRAINT fk_ticket_flag_ticket_id_id FOREIGN KEY (ticket_id) REFERENCES ticket (id),
    CONSTRAINT fk_ticket_flag_create_by_id FOREIGN KEY (create_by) REFERENCES users (id)
);
CREATE INDEX ticket_flag_ticket_id_create_by ON ticket_flag (ticket_id, create_by);

-- Kinds of history line (NewTicket, SendAnswer, OwnerUpdate, ...).
CREATE TABLE ticket_history_type (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_ticket_history_type_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_ticket_history_type_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_history_type_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX ticket_history_type_name ON ticket_history_type (name);

-- A ticket's history. name is the line shown, with logins, names and addresses in it.
CREATE TABLE ticket_history (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    history_type_id smallint NOT NULL,
    ticket_id bigint NOT NULL,
    article_id bigint,
    type_id smallint NOT NULL,
    queue_id integer NOT NULL,
    owner_id integer NOT NULL,
    priority_id smallint NOT NULL,
    state_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_ticket_history_history_type_id_id FOREIGN KEY (history_type_id) REFERENCES ticket_history_type (id),
    CONSTRAINT fk_ticket_history_ticket_id_id FOREIGN KEY (ticket_id) REFERENCES ticket (id),
    CONSTRAINT fk_ticket_history_article_id_id FOREIGN KEY (article_id) REFERENCES article (id),
    CONSTRAINT fk_ticket_history_type_id_id FOREIGN KEY (type_id) REFERENCES ticket_type (id),
    CONSTRAINT fk_ticket_history_queue_id_id FOREIGN KEY (queue_id) REFERENCES queue (id),
    CONSTRAINT fk_ticket_history_owner_id_id FOREIGN KEY (owner_id) REFERENCES users (id),
    CONSTRAINT fk_ticket_history_priority_id_id FOREIGN KEY (priority_id) REFERENCES ticket_priority (id),
    CONSTRAINT fk_ticket_history_state_id_id FOREIGN KEY (state_id) REFERENCES ticket_state (id),
    CONSTRAINT fk_ticket_history_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_history_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE INDEX ticket_history_ticket_id ON ticket_history (ticket_id);
CREATE INDEX ticket_history_owner_id ON ticket_history (owner_id);

-- Agents watching a ticket. No primary key.
CREATE TABLE ticket_watcher (
    ticket_id bigint NOT NULL,
    user_id integer NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_ticket_watcher_ticket_id_id FOREIGN KEY (ticket_id) REFERENCES ticket (id),
    CONSTRAINT fk_ticket_watcher_user_id_id FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_ticket_watcher_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_ticket_watcher_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE INDEX ticket_watcher_ticket_id ON ticket_watcher (ticket_id);

-- Time an agent booked on a ticket (minutes, decimal).
CREATE TABLE time_accounting (
    id INTEGER PRIMARY KEY,
    ticket_id bigint NOT NULL,
    article_id bigint,
    time_unit decimal(10,2) NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_time_accounting_ticket_id_id FOREIGN KEY (ticket_id) REFERENCES ticket (id),
    CONSTRAINT fk_time_accounting_article_id_id FOREIGN KEY (article_id) REFERENCES article (id),
    CONSTRAINT fk_time_accounting_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_time_accounting_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE INDEX time_accounting_ticket_id ON time_accounting (ticket_id);

-- Canned answers and notes.
CREATE TABLE standard_template (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    text text,
    content_type varchar(250),
    template_type varchar(100) NOT NULL,
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_standard_template_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_standard_template_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_standard_template_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX standard_template_name ON standard_template (name);

-- An agent's unsent form (a note or answer being written): object_type + object_id name the
-- ticket (no foreign key); content is the serialised form.
CREATE TABLE form_draft (
    id INTEGER PRIMARY KEY,
    object_type varchar(200) NOT NULL,
    object_id integer NOT NULL,
    action varchar(200) NOT NULL,
    title varchar(255),
    content text NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_form_draft_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_form_draft_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE INDEX form_draft_object_type_object_id_action ON form_draft (object_type, object_id, action);

-- Outgoing mail waiting to be sent: recipients and the whole raw message.
CREATE TABLE mail_queue (
    id INTEGER PRIMARY KEY,
    insert_fingerprint varchar(64),
    article_id bigint,
    attempts integer NOT NULL,
    sender varchar(200),
    recipient text NOT NULL,
    raw_message text NOT NULL,
    due_time datetime,
    last_smtp_code integer,
    last_smtp_message text,
    create_time datetime NOT NULL,
    CONSTRAINT fk_mail_queue_article_id_id FOREIGN KEY (article_id) REFERENCES article (id)
);

-- Custom fields of tickets and articles.
CREATE TABLE dynamic_field (
    id INTEGER PRIMARY KEY,
    name varchar(200) NOT NULL,
    label varchar(200) NOT NULL,
    field_type varchar(200) NOT NULL,
    object_type varchar(200) NOT NULL,
    config text,
    comments varchar(250),
    valid_id smallint NOT NULL,
    create_time datetime NOT NULL,
    create_by integer NOT NULL,
    change_time datetime NOT NULL,
    change_by integer NOT NULL,
    CONSTRAINT fk_dynamic_field_valid_id_id FOREIGN KEY (valid_id) REFERENCES valid (id),
    CONSTRAINT fk_dynamic_field_create_by_id FOREIGN KEY (create_by) REFERENCES users (id),
    CONSTRAINT fk_dynamic_field_change_by_id FOREIGN KEY (change_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX dynamic_field_name ON dynamic_field (name);

-- Custom field values: object_id is a ticket or an article id, depending on the field's object_type.
CREATE TABLE dynamic_field_value (
    id INTEGER PRIMARY KEY,
    field_id integer NOT NULL,
    object_id bigint NOT NULL,
    value_text text,
    value_date datetime,
    value_int bigint,
    CONSTRAINT fk_dynamic_field_value_field_id_id FOREIGN KEY (field_id) REFERENCES dynamic_field (id)
);
CREATE INDEX dynamic_field_value_field_id_object_id ON dynamic_field_value (field_id, object_id);

-- Web sessions as key/value rows: the owner is the row whose data_key is 'UserLogin', and
-- 'UserType' says 'User' (agent) or 'Customer'. No primary key, no foreign key.
CREATE TABLE sessions (
    session_id varchar(100) NOT NULL,
    data_key varchar(100) NOT NULL,
    data_value text,
    serialized smallint NOT NULL
);
CREATE INDEX sessions_session_id ON sessions (session_id);
CREATE INDEX sessions_data_key ON sessions (data_key);

-- The queues an agent follows. No primary key.
CREATE TABLE personal_queues (
    user_id integer NOT NULL,
    queue_id integer NOT NULL,
    CONSTRAINT fk_personal_queues_user_id_id FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_personal_queues_queue_id_id FOREIGN KEY (queue_id) REFERENCES queue (id)
);
CREATE INDEX personal_queues_user_id ON personal_queues (user_id);

-- The installer's initial rows.
INSERT INTO valid (id, name, create_time, create_by, change_time, change_by) VALUES (1, 'valid', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO valid (id, name, create_time, create_by, change_time, change_by) VALUES (2, 'invalid', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO valid (id, name, create_time, create_by, change_time, change_by) VALUES (3, 'invalid-temporarily', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO users (id, login, pw, title, first_name, last_name, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'root@localhost', 'roK20XGbWEsSM', NULL, 'Admin', 'OTRS', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO permission_groups (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'users', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO permission_groups (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (2, 'admin', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO permission_groups (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (3, 'stats', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO group_user (user_id, group_id, permission_key, create_time, create_by, change_time, change_by) VALUES (1, 1, 'rw', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO group_user (user_id, group_id, permission_key, create_time, create_by, change_time, change_by) VALUES (1, 2, 'rw', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO group_user (user_id, group_id, permission_key, create_time, create_by, change_time, change_by) VALUES (1, 3, 'rw', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state_type (id, name, comments, create_time, create_by, change_time, change_by) VALUES (1, 'new', 'All new state types (default: viewable).', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state_type (id, name, comments, create_time, create_by, change_time, change_by) VALUES (2, 'open', 'All open state types (default: viewable).', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state_type (id, name, comments, create_time, create_by, change_time, change_by) VALUES (3, 'closed', 'All closed state types (default: not viewable).', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state_type (id, name, comments, create_time, create_by, change_time, change_by) VALUES (4, 'pending reminder', 'All ''pending reminder'' state types (default: viewable).', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state_type (id, name, comments, create_time, create_by, change_time, change_by) VALUES (5, 'pending auto', 'All ''pending auto *'' state types (default: viewable).', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state_type (id, name, comments, create_time, create_by, change_time, change_by) VALUES (6, 'removed', 'All ''removed'' state types (default: not viewable).', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state_type (id, name, comments, create_time, create_by, change_time, change_by) VALUES (7, 'merged', 'State type for merged tickets (default: not viewable).', '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state (id, name, type_id, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'new', 1, 'New ticket created by customer.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state (id, name, type_id, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (2, 'closed successful', 3, 'Ticket is closed successful.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state (id, name, type_id, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (3, 'closed unsuccessful', 3, 'Ticket is closed unsuccessful.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state (id, name, type_id, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (4, 'open', 2, 'Open tickets.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state (id, name, type_id, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (5, 'removed', 6, 'Customer removed ticket.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state (id, name, type_id, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (6, 'pending reminder', 4, 'Ticket is pending for agent reminder.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state (id, name, type_id, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (7, 'pending auto close+', 5, 'Ticket is pending for automatic close.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state (id, name, type_id, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (8, 'pending auto close-', 5, 'Ticket is pending for automatic close.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_state (id, name, type_id, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (9, 'merged', 7, 'State for merged tickets.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_lock_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'unlock', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_lock_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (2, 'lock', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_lock_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (3, 'tmp_lock', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_priority (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, '1 very low', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_priority (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (2, '2 low', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_priority (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (3, '3 normal', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_priority (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (4, '4 high', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_priority (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (5, '5 very high', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'Unclassified', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO article_sender_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'agent', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO article_sender_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (2, 'system', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO article_sender_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (3, 'customer', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO communication_channel (id, name, module, package_name, channel_data, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'Email', 'Kernel::System::CommunicationChannel::Email', 'Framework', '---
ArticleDataArticleIDField: article_id
ArticleDataTables:
- article_data_mime
', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO communication_channel (id, name, module, package_name, channel_data, valid_id, create_time, create_by, change_time, change_by) VALUES (2, 'Phone', 'Kernel::System::CommunicationChannel::Phone', 'Framework', '---
ArticleDataArticleIDField: article_id
ArticleDataTables:
- article_data_mime
', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO communication_channel (id, name, module, package_name, channel_data, valid_id, create_time, create_by, change_time, change_by) VALUES (3, 'Internal', 'Kernel::System::CommunicationChannel::Internal', 'Framework', '---
ArticleDataArticleIDField: article_id
ArticleDataTables:
- article_data_mime
', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO communication_channel (id, name, module, package_name, channel_data, valid_id, create_time, create_by, change_time, change_by) VALUES (4, 'Chat', 'Kernel::System::CommunicationChannel::Chat', 'Framework', '---
ArticleDataArticleIDField: article_id
ArticleDataTables:
- article_data_otrs_chat
', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'NewTicket', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (2, 'FollowUp', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (3, 'SendAutoReject', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (4, 'SendAutoReply', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (5, 'SendAutoFollowUp', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (6, 'Forward', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (7, 'Bounce', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (8, 'SendAnswer', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (9, 'SendAgentNotification', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (10, 'SendCustomerNotification', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (11, 'EmailAgent', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (12, 'EmailCustomer', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (13, 'PhoneCallAgent', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (14, 'PhoneCallCustomer', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (15, 'AddNote', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (16, 'Move', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (17, 'Lock', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (18, 'Unlock', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (19, 'Remove', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (20, 'TimeAccounting', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (21, 'CustomerUpdate', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (22, 'PriorityUpdate', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (23, 'OwnerUpdate', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (24, 'LoopProtection', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (25, 'Misc', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (26, 'SetPendingTime', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (27, 'StateUpdate', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (28, 'TicketDynamicFieldUpdate', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (29, 'WebRequestCustomer', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (30, 'TicketLinkAdd', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (31, 'TicketLinkDelete', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (32, 'SystemRequest', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (33, 'Merged', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (34, 'ResponsibleUpdate', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (35, 'Subscribe', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (36, 'Unsubscribe', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (37, 'TypeUpdate', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO ticket_history_type (id, name, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (38, 'ArchiveFlagUpdate', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO salutation (id, name, text, content_type, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'system standard salutation (en)', 'Dear <OTRS_CUSTOMER_REALNAME>,

Thank you for your request.
', 'text/plain; charset=utf-8', 'Standard Salutation.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO signature (id, name, text, content_type, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'system standard signature (en)', '
Your Ticket-Team

 <OTRS_Agent_UserFirstname> <OTRS_Agent_UserLastname>
', 'text/plain; charset=utf-8', 'Standard Signature.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO system_address (id, value0, value1, comments, queue_id, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'otrs@localhost', 'OTRS System', 'Standard Address.', 1, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO queue (id, name, group_id, system_address_id, salutation_id, signature_id, unlock_timeout, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'Postmaster', 1, 1, 1, 1, 0, 'Postmaster queue.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO queue (id, name, group_id, system_address_id, salutation_id, signature_id, unlock_timeout, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (2, 'Raw', 1, 1, 1, 1, 0, 'All default incoming tickets.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO queue (id, name, group_id, system_address_id, salutation_id, signature_id, unlock_timeout, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (3, 'Junk', 1, 1, 1, 1, 0, 'All junk tickets.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO queue (id, name, group_id, system_address_id, salutation_id, signature_id, unlock_timeout, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (4, 'Misc', 1, 1, 1, 1, 0, 'All misc tickets.', 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
INSERT INTO standard_template (id, name, text, content_type, template_type, comments, valid_id, create_time, create_by, change_time, change_by) VALUES (1, 'empty answer', '', 'text/plain; charset=utf-8', 'Answer', NULL, 1, '2023-01-09 08:00:00', 1, '2023-01-09 08:00:00', 1);
