-- convo: a multi-tenant conversation inbox (Chatwoot/Zammad-style; references to users mostly CASCADE)
-- Dialect: mysql. Generated from internal/hostfixture/convo_schema.go by
-- `go test ./internal/hostfixture -run TestSchemaFilesUpToDate -update`; do not edit.

-- A tenant: one company using the inbox.
CREATE TABLE accounts (
    id bigint NOT NULL AUTO_INCREMENT,
    name varchar(255) NOT NULL,
    domain varchar(100),
    support_email varchar(255),
    locale varchar(10) NOT NULL DEFAULT 'en',
    status varchar(20) NOT NULL DEFAULT 'active',
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Everyone: contacts (customers) and staff (agent, admin, owner), told apart by role.
-- email is unique per account. deleted_at is the app's soft delete; erased_at marks a row
-- anonymised in place (it stays because other rows reference it).
CREATE TABLE users (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    role varchar(20) NOT NULL DEFAULT 'contact',
    name varchar(255) NOT NULL,
    display_name varchar(255),
    email varchar(255),
    phone_number varchar(50),
    signature mediumtext,
    avatar_key varchar(255),
    custom_attributes json,
    encrypted_password varchar(255),
    availability varchar(20),
    invited_by_id bigint,
    last_seen_at datetime(6),
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    deleted_at datetime(6),
    erased_at datetime(6),
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_users_on_account_id_and_email ON users (account_id, email);
CREATE INDEX index_users_on_account_id_and_role ON users (account_id, role);
CREATE INDEX index_users_on_phone_number ON users (phone_number);

-- A channel the account receives conversations on (an e-mail address, the website widget).
CREATE TABLE inboxes (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    name varchar(255) NOT NULL,
    channel_type varchar(30) NOT NULL,
    email_address varchar(255),
    greeting_message mediumtext,
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Which staff work which inbox.
CREATE TABLE inbox_members (
    id bigint NOT NULL AUTO_INCREMENT,
    inbox_id bigint NOT NULL,
    user_id bigint NOT NULL,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_inbox_members_on_inbox_id_and_user_id ON inbox_members (inbox_id, user_id);

-- Every address a contact is known by: e-mail addresses, phone numbers, social logins.
CREATE TABLE contact_identities (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    user_id bigint NOT NULL,
    provider varchar(30) NOT NULL,
    identifier varchar(255) NOT NULL,
    verified_at datetime(6),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX idx_on_account_id_provider_identifier_193dbb4837 ON contact_identities (account_id, provider, identifier);
CREATE INDEX index_contact_identities_on_user_id ON contact_identities (user_id);

-- A contact as seen by one inbox: source_id is their address or the widget's visitor token.
CREATE TABLE contact_inboxes (
    id bigint NOT NULL AUTO_INCREMENT,
    contact_id bigint NOT NULL,
    inbox_id bigint NOT NULL,
    source_id varchar(255) NOT NULL,
    hmac_verified tinyint(1) NOT NULL DEFAULT 0,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_contact_inboxes_on_inbox_id_and_source_id ON contact_inboxes (inbox_id, source_id);
CREATE INDEX index_contact_inboxes_on_contact_id ON contact_inboxes (contact_id);

-- A ticket. Three staff columns (assignee, creator, resolver) besides the contact; watcher_ids
-- lists contacts copied on the conversation (integer[] on PostgreSQL, a JSON array elsewhere).
CREATE TABLE conversations (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    inbox_id bigint NOT NULL,
    display_id integer NOT NULL,
    contact_id bigint NOT NULL,
    contact_inbox_id bigint,
    assignee_id bigint,
    created_by_id bigint,
    resolved_by_id bigint,
    status varchar(20) NOT NULL DEFAULT 'open',
    priority varchar(20),
    subject varchar(255),
    watcher_ids json,
    additional_attributes json,
    last_activity_at datetime(6),
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_conversations_on_account_id_and_display_id ON conversations (account_id, display_id);
CREATE INDEX index_conversations_on_contact_id ON conversations (contact_id);
CREATE INDEX index_conversations_on_assignee_id ON conversations (assignee_id);
CREATE INDEX index_conversations_on_account_id_and_status ON conversations (account_id, status);

-- Every message of a conversation: incoming (from the contact), outgoing (staff replies),
-- private notes (private = true), activity lines. content_attributes holds the mail envelope
-- (to, cc, bcc, in_reply_to); mentioned_user_ids the staff a note mentions.
CREATE TABLE messages (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    inbox_id bigint NOT NULL,
    sender_id bigint,
    message_type varchar(20) NOT NULL,
    content_type varchar(30) NOT NULL DEFAULT 'text',
    private tinyint(1) NOT NULL DEFAULT 0,
    status varchar(20) NOT NULL DEFAULT 'sent',
    content mediumtext,
    content_attributes json,
    mentioned_user_ids json,
    source_id varchar(255),
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX index_messages_on_conversation_id ON messages (conversation_id);
CREATE INDEX index_messages_on_sender_id ON messages (sender_id);
CREATE INDEX index_messages_on_account_id_and_created_at ON messages (account_id, created_at);

-- Files, for messages and for users (avatars): model_type ('message' or 'user') + model_id,
-- deliberately without a foreign key. file_key is the path under the upload directory.
CREATE TABLE attachments (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    model_type varchar(30) NOT NULL,
    model_id bigint NOT NULL,
    file_type varchar(20) NOT NULL,
    file_key varchar(255) NOT NULL,
    file_name varchar(255) NOT NULL,
    content_type varchar(100),
    byte_size bigint NOT NULL,
    checksum varchar(64),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_attachments_on_file_key ON attachments (file_key);
CREATE INDEX index_attachments_on_model_type_and_model_id ON attachments (model_type, model_id);

-- Notes staff keep about a contact.
CREATE TABLE notes (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    contact_id bigint NOT NULL,
    author_id bigint,
    content mediumtext NOT NULL,
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX index_notes_on_contact_id ON notes (contact_id);

-- A staff member @-mentioned in a private note: a row with two parents (message and user).
CREATE TABLE mentions (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    message_id bigint NOT NULL,
    user_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    mentioned_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_mentions_on_message_id_and_user_id ON mentions (message_id, user_id);
CREATE INDEX index_mentions_on_user_id ON mentions (user_id);

-- Staff following a conversation: a row with two parents (conversation and user).
CREATE TABLE conversation_participants (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    user_id bigint NOT NULL,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_conversation_participants_on_conversation_id_and_user_id ON conversation_participants (conversation_id, user_id);
CREATE INDEX index_conversation_participants_on_user_id ON conversation_participants (user_id);

-- API tokens of staff.
CREATE TABLE access_tokens (
    id bigint NOT NULL AUTO_INCREMENT,
    owner_id bigint NOT NULL,
    token varchar(64) NOT NULL,
    scopes varchar(255),
    last_used_at datetime(6),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_access_tokens_on_token ON access_tokens (token);

-- Login sessions of staff and widget sessions of contacts, with IP address and browser.
CREATE TABLE sessions (
    id bigint NOT NULL AUTO_INCREMENT,
    user_id bigint NOT NULL,
    token_digest varchar(64) NOT NULL,
    ip_address varchar(45),
    user_agent varchar(255),
    created_at datetime(6) NOT NULL,
    expires_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_sessions_on_token_digest ON sessions (token_digest);
CREATE INDEX index_sessions_on_user_id ON sessions (user_id);

-- A staff member's notification feed. primary_actor_type + primary_actor_id name a conversation
-- or message (no foreign key); actor_id is who caused it; snippet is display text.
CREATE TABLE notifications (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    user_id bigint NOT NULL,
    notification_type varchar(50) NOT NULL,
    primary_actor_type varchar(30) NOT NULL,
    primary_actor_id bigint NOT NULL,
    actor_id bigint,
    snippet mediumtext,
    read_at datetime(6),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX index_notifications_on_user_id ON notifications (user_id);

-- A reply being written and not yet sent (autosaved per conversation and staff member).
CREATE TABLE drafts (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    user_id bigint NOT NULL,
    content mediumtext NOT NULL,
    content_attributes json,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_drafts_on_conversation_id_and_user_id ON drafts (conversation_id, user_id);

-- Prompts a staff member sent to the writing assistant about a conversation: internal, never shown to the contact.
CREATE TABLE assistant_prompts (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    user_id bigint NOT NULL,
    prompt mediumtext NOT NULL,
    response mediumtext,
    model varchar(50),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Statistics (first response time, resolution): kept when the people go, so user and conversation SET NULL.
CREATE TABLE reporting_events (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    name varchar(50) NOT NULL,
    value integer NOT NULL,
    user_id bigint,
    conversation_id bigint,
    inbox_id bigint,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A contact's satisfaction rating of a conversation and the agent it was assigned to.
CREATE TABLE csat_survey_responses (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    message_id bigint NOT NULL,
    contact_id bigint NOT NULL,
    assigned_agent_id bigint,
    rating integer NOT NULL,
    feedback_message mediumtext,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Saved replies. Their author is a plain reference (NO ACTION): an author cannot be deleted while they have any.
CREATE TABLE canned_responses (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    short_code varchar(50) NOT NULL,
    content mediumtext NOT NULL,
    created_by_id bigint,
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_canned_responses_on_account_id_and_short_code ON canned_responses (account_id, short_code);

-- Tags an account puts on conversations.
CREATE TABLE labels (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint NOT NULL,
    title varchar(100) NOT NULL,
    color varchar(10),
    created_at datetime(6) NOT NULL,
    updated_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE UNIQUE INDEX index_labels_on_account_id_and_title ON labels (account_id, title);

-- Labels on conversations (composite primary key).
CREATE TABLE conversation_labels (
    conversation_id bigint NOT NULL,
    label_id bigint NOT NULL,
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (conversation_id, label_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX index_conversation_labels_on_label_id ON conversation_labels (label_id);

-- The change log of an auditing library: auditable_type + auditable_id, the acting user by id and
-- name, and the old and new values. No foreign keys at all; user_id is a plain integer.
CREATE TABLE audits (
    id bigint NOT NULL AUTO_INCREMENT,
    account_id bigint,
    auditable_type varchar(50) NOT NULL,
    auditable_id bigint NOT NULL,
    user_id bigint,
    username varchar(255),
    action varchar(20) NOT NULL,
    audited_changes json,
    remote_address varchar(45),
    created_at datetime(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX index_audits_on_auditable_type_and_auditable_id ON audits (auditable_type, auditable_id);
CREATE INDEX index_audits_on_user_id ON audits (user_id);

-- Foreign keys.
ALTER TABLE users ADD CONSTRAINT fk_rails_61ac11da2b FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE users ADD CONSTRAINT fk_rails_ae14a5013f FOREIGN KEY (invited_by_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE inboxes ADD CONSTRAINT fk_rails_9c177dbc1d FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE inbox_members ADD CONSTRAINT fk_rails_59e6499a1b FOREIGN KEY (inbox_id) REFERENCES inboxes (id) ON DELETE CASCADE;
ALTER TABLE inbox_members ADD CONSTRAINT fk_rails_3abf5d3a02 FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE contact_identities ADD CONSTRAINT fk_rails_5aef10c7fd FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE contact_identities ADD CONSTRAINT fk_rails_c60968b2d2 FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE contact_inboxes ADD CONSTRAINT fk_rails_ed53a99b1b FOREIGN KEY (contact_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE contact_inboxes ADD CONSTRAINT fk_rails_259aaf0cab FOREIGN KEY (inbox_id) REFERENCES inboxes (id) ON DELETE CASCADE;
ALTER TABLE conversations ADD CONSTRAINT fk_rails_00afd02cba FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE conversations ADD CONSTRAINT fk_rails_7420c3a324 FOREIGN KEY (inbox_id) REFERENCES inboxes (id) ON DELETE CASCADE;
ALTER TABLE conversations ADD CONSTRAINT fk_rails_0330c79025 FOREIGN KEY (contact_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE conversations ADD CONSTRAINT fk_rails_6122a36070 FOREIGN KEY (contact_inbox_id) REFERENCES contact_inboxes (id) ON DELETE CASCADE;
ALTER TABLE conversations ADD CONSTRAINT fk_rails_b0388c9502 FOREIGN KEY (assignee_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE conversations ADD CONSTRAINT fk_rails_f0647e99ab FOREIGN KEY (created_by_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE conversations ADD CONSTRAINT fk_rails_4ed183e2cc FOREIGN KEY (resolved_by_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE messages ADD CONSTRAINT fk_rails_a231e55201 FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE messages ADD CONSTRAINT fk_rails_7f927086d2 FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE;
ALTER TABLE messages ADD CONSTRAINT fk_rails_35f2c4e28e FOREIGN KEY (inbox_id) REFERENCES inboxes (id) ON DELETE CASCADE;
ALTER TABLE messages ADD CONSTRAINT fk_rails_b8f26a382d FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE attachments ADD CONSTRAINT fk_rails_6ad2a525ab FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE notes ADD CONSTRAINT fk_rails_ed57cedfc1 FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE notes ADD CONSTRAINT fk_rails_0718ac16b7 FOREIGN KEY (contact_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE notes ADD CONSTRAINT fk_rails_36c9deba43 FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE mentions ADD CONSTRAINT fk_rails_3130ff6a8f FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE mentions ADD CONSTRAINT fk_rails_df6f108928 FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE;
ALTER TABLE mentions ADD CONSTRAINT fk_rails_1b711e94aa FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE mentions ADD CONSTRAINT fk_rails_5cc4fd507c FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE;
ALTER TABLE conversation_participants ADD CONSTRAINT fk_rails_16e436cb91 FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE conversation_participants ADD CONSTRAINT fk_rails_d4fdd4cae0 FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE;
ALTER TABLE conversation_participants ADD CONSTRAINT fk_rails_39b25ba31e FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE access_tokens ADD CONSTRAINT fk_rails_2f919ff91c FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE sessions ADD CONSTRAINT fk_rails_758836b4f0 FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE notifications ADD CONSTRAINT fk_rails_1c0a19e3ee FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE notifications ADD CONSTRAINT fk_rails_b080fb4855 FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE notifications ADD CONSTRAINT fk_rails_06a39bb8cc FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE drafts ADD CONSTRAINT fk_rails_1b49dc20e4 FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE drafts ADD CONSTRAINT fk_rails_e1fd7770df FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE;
ALTER TABLE drafts ADD CONSTRAINT fk_rails_976b64226f FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE assistant_prompts ADD CONSTRAINT fk_rails_01e516e4a9 FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE assistant_prompts ADD CONSTRAINT fk_rails_8e49c55f28 FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE;
ALTER TABLE assistant_prompts ADD CONSTRAINT fk_rails_32e1ad8481 FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE reporting_events ADD CONSTRAINT fk_rails_91da05e6a1 FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE reporting_events ADD CONSTRAINT fk_rails_5611e4fc6a FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE reporting_events ADD CONSTRAINT fk_rails_04013608eb FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE SET NULL;
ALTER TABLE reporting_events ADD CONSTRAINT fk_rails_b503c551f9 FOREIGN KEY (inbox_id) REFERENCES inboxes (id) ON DELETE CASCADE;
ALTER TABLE csat_survey_responses ADD CONSTRAINT fk_rails_66432181af FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE csat_survey_responses ADD CONSTRAINT fk_rails_826fc5e94b FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE;
ALTER TABLE csat_survey_responses ADD CONSTRAINT fk_rails_1fc902dbe1 FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE;
ALTER TABLE csat_survey_responses ADD CONSTRAINT fk_rails_80b30e3459 FOREIGN KEY (contact_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE csat_survey_responses ADD CONSTRAINT fk_rails_969fa4c274 FOREIGN KEY (assigned_agent_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE canned_responses ADD CONSTRAINT fk_rails_30088f3f11 FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE canned_responses ADD CONSTRAINT fk_rails_f11ba6c860 FOREIGN KEY (created_by_id) REFERENCES users (id);
ALTER TABLE labels ADD CONSTRAINT fk_rails_c02659cdf4 FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE conversation_labels ADD CONSTRAINT fk_rails_97fe12b0fc FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE;
ALTER TABLE conversation_labels ADD CONSTRAINT fk_rails_1780e2a8dd FOREIGN KEY (label_id) REFERENCES labels (id) ON DELETE CASCADE;
