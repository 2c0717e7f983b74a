-- authn: credentials (canonical username and password hash only), throttle
-- counters, TOTP enrolments (secrets sealed with the key ring), recovery code
-- hashes, API token hashes and session hashes. No secret is stored in the
-- clear.
CREATE TABLE IF NOT EXISTS gdpr_authn_users (
	account_id          VARCHAR(128) NOT NULL,
	user_id             VARCHAR(128) NOT NULL,
	username            VARCHAR(256) NOT NULL,
	password_hash       TEXT NOT NULL,
	disabled            BOOLEAN NOT NULL DEFAULT FALSE,
	created_at          DATETIME(6) NOT NULL,
	password_changed_at DATETIME(6) NOT NULL,
	PRIMARY KEY (account_id, user_id),
	UNIQUE (account_id, username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_authn_throttle (
	account_id VARCHAR(128) NOT NULL,
	user_id    VARCHAR(128) NOT NULL,
	factor     VARCHAR(16) NOT NULL,
	failures   INTEGER NOT NULL,
	last_at    DATETIME(6) NOT NULL,
	PRIMARY KEY (account_id, user_id, factor)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_authn_totp (
	account_id VARCHAR(128) NOT NULL,
	user_id    VARCHAR(128) NOT NULL,
	slot       SMALLINT NOT NULL, -- 0 active, 1 pending
	id         VARCHAR(64) NOT NULL,
	key_id     VARCHAR(32) NOT NULL,
	sealed     VARBINARY(512) NOT NULL,
	algorithm  SMALLINT NOT NULL,
	digits     SMALLINT NOT NULL,
	period     SMALLINT NOT NULL,
	last_step  BIGINT NOT NULL,
	created_at DATETIME(6) NOT NULL,
	PRIMARY KEY (account_id, user_id, slot),
	INDEX gdpr_authn_totp_key (account_id, key_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_authn_recovery (
	account_id VARCHAR(128) NOT NULL,
	user_id    VARCHAR(128) NOT NULL,
	code_hash  VARBINARY(32) NOT NULL,
	created_at DATETIME(6) NOT NULL,
	PRIMARY KEY (account_id, user_id, code_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_authn_tokens (
	account_id   VARCHAR(128) NOT NULL,
	id           VARCHAR(64) NOT NULL,
	user_id      VARCHAR(128) NOT NULL,
	token_hash   VARBINARY(32) NOT NULL,
	name         VARCHAR(400) NOT NULL,
	scopes       TEXT NOT NULL,
	created_at   DATETIME(6) NOT NULL,
	expires_at   DATETIME(6) NULL,
	revoked_at   DATETIME(6) NULL,
	last_used_at DATETIME(6) NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, token_hash),
	INDEX gdpr_authn_tokens_user (account_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_authn_sessions (
	account_id    VARCHAR(128) NOT NULL,
	id            VARCHAR(64) NOT NULL,
	user_id       VARCHAR(128) NOT NULL,
	session_hash  VARBINARY(32) NOT NULL,
	second_factor BOOLEAN NOT NULL,
	created_at    DATETIME(6) NOT NULL,
	last_seen_at  DATETIME(6) NOT NULL,
	expires_at    DATETIME(6) NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, session_hash),
	INDEX gdpr_authn_sessions_user (account_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
