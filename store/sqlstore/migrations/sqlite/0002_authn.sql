-- authn: credentials (canonical username and password hash only), throttle
-- counters, TOTP enrolments (secrets sealed with the key ring), recovery code
-- hashes, API token hashes and session hashes. No secret is stored in the
-- clear.
CREATE TABLE gdpr_authn_users (
	account_id          VARCHAR(128) NOT NULL,
	user_id             VARCHAR(128) NOT NULL,
	username            VARCHAR(256) NOT NULL,
	password_hash       TEXT NOT NULL,
	disabled            INTEGER NOT NULL DEFAULT 0,
	created_at          TEXT NOT NULL,
	password_changed_at TEXT NOT NULL,
	PRIMARY KEY (account_id, user_id),
	UNIQUE (account_id, username)
)
-- +statement
CREATE TABLE gdpr_authn_throttle (
	account_id VARCHAR(128) NOT NULL,
	user_id    VARCHAR(128) NOT NULL,
	factor     VARCHAR(16) NOT NULL,
	failures   INTEGER NOT NULL,
	last_at    TEXT NOT NULL,
	PRIMARY KEY (account_id, user_id, factor)
)
-- +statement
CREATE TABLE gdpr_authn_totp (
	account_id VARCHAR(128) NOT NULL,
	user_id    VARCHAR(128) NOT NULL,
	slot       INTEGER NOT NULL, -- 0 active, 1 pending
	id         VARCHAR(64) NOT NULL,
	key_id     VARCHAR(32) NOT NULL,
	sealed     BLOB NOT NULL,
	algorithm  INTEGER NOT NULL,
	digits     INTEGER NOT NULL,
	period     INTEGER NOT NULL,
	last_step  INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (account_id, user_id, slot)
)
-- +statement
CREATE INDEX gdpr_authn_totp_key ON gdpr_authn_totp (account_id, key_id)
-- +statement
CREATE TABLE gdpr_authn_recovery (
	account_id VARCHAR(128) NOT NULL,
	user_id    VARCHAR(128) NOT NULL,
	code_hash  BLOB NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (account_id, user_id, code_hash)
)
-- +statement
CREATE TABLE gdpr_authn_tokens (
	account_id   VARCHAR(128) NOT NULL,
	id           VARCHAR(64) NOT NULL,
	user_id      VARCHAR(128) NOT NULL,
	token_hash   BLOB NOT NULL,
	name         TEXT NOT NULL,
	scopes       TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	expires_at   TEXT NULL,
	revoked_at   TEXT NULL,
	last_used_at TEXT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, token_hash)
)
-- +statement
CREATE INDEX gdpr_authn_tokens_user ON gdpr_authn_tokens (account_id, user_id)
-- +statement
CREATE TABLE gdpr_authn_sessions (
	account_id    VARCHAR(128) NOT NULL,
	id            VARCHAR(64) NOT NULL,
	user_id       VARCHAR(128) NOT NULL,
	session_hash  BLOB NOT NULL,
	second_factor INTEGER NOT NULL,
	created_at    TEXT NOT NULL,
	last_seen_at  TEXT NOT NULL,
	expires_at    TEXT NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, session_hash)
)
-- +statement
CREATE INDEX gdpr_authn_sessions_user ON gdpr_authn_sessions (account_id, user_id)
