-- authn: credentials (canonical username and password hash only), throttle
-- counters, TOTP enrolments (secrets sealed with the key ring), recovery code
-- hashes, API token hashes and session hashes. No secret is stored in the
-- clear.
CREATE TABLE gdpr_authn_users (
	account_id          VARCHAR(128) NOT NULL,
	user_id             VARCHAR(128) NOT NULL,
	username            VARCHAR(256) NOT NULL,
	password_hash       TEXT NOT NULL,
	disabled            BOOLEAN NOT NULL DEFAULT FALSE,
	created_at          TIMESTAMPTZ NOT NULL,
	password_changed_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, user_id),
	UNIQUE (account_id, username)
)
-- +statement
CREATE TABLE gdpr_authn_throttle (
	account_id VARCHAR(128) NOT NULL,
	user_id    VARCHAR(128) NOT NULL,
	factor     VARCHAR(16) NOT NULL,
	failures   INTEGER NOT NULL,
	last_at    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, user_id, factor)
)
-- +statement
CREATE TABLE gdpr_authn_totp (
	account_id VARCHAR(128) NOT NULL,
	user_id    VARCHAR(128) NOT NULL,
	slot       SMALLINT NOT NULL, -- 0 active, 1 pending
	id         VARCHAR(64) NOT NULL,
	key_id     VARCHAR(32) NOT NULL,
	sealed     BYTEA NOT NULL,
	algorithm  SMALLINT NOT NULL,
	digits     SMALLINT NOT NULL,
	period     SMALLINT NOT NULL,
	last_step  BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, user_id, slot)
)
-- +statement
CREATE INDEX gdpr_authn_totp_key ON gdpr_authn_totp (account_id, key_id)
-- +statement
CREATE TABLE gdpr_authn_recovery (
	account_id VARCHAR(128) NOT NULL,
	user_id    VARCHAR(128) NOT NULL,
	code_hash  BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, user_id, code_hash)
)
-- +statement
CREATE TABLE gdpr_authn_tokens (
	account_id   VARCHAR(128) NOT NULL,
	id           VARCHAR(64) NOT NULL,
	user_id      VARCHAR(128) NOT NULL,
	token_hash   BYTEA NOT NULL,
	name         TEXT NOT NULL,
	scopes       TEXT NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NULL,
	revoked_at   TIMESTAMPTZ NULL,
	last_used_at TIMESTAMPTZ NULL,
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
	session_hash  BYTEA NOT NULL,
	second_factor BOOLEAN NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL,
	last_seen_at  TIMESTAMPTZ NOT NULL,
	expires_at    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, session_hash)
)
-- +statement
CREATE INDEX gdpr_authn_sessions_user ON gdpr_authn_sessions (account_id, user_id)
