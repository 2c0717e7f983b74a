-- consent: purposes, versioned policies, the append-only hash-chained
-- records, the chain head per account, and the latest record per
-- (subject pseudonym, purpose) for one-lookup Check.
CREATE TABLE IF NOT EXISTS gdpr_consent_purposes (
	account_id       VARCHAR(128) NOT NULL,
	purpose          VARCHAR(64) NOT NULL,
	name             VARCHAR(400) NOT NULL,
	label            TEXT NOT NULL,
	description      TEXT NOT NULL,
	lifetime_seconds BIGINT NOT NULL,
	current_version  BIGINT NOT NULL,
	material_version BIGINT NOT NULL,
	created_at       DATETIME(6) NOT NULL,
	PRIMARY KEY (account_id, purpose)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_consent_policies (
	account_id   VARCHAR(128) NOT NULL,
	purpose      VARCHAR(64) NOT NULL,
	version      BIGINT NOT NULL,
	body         LONGTEXT NOT NULL,
	text_hash    CHAR(64) NOT NULL,
	material     BOOLEAN NOT NULL,
	published_at DATETIME(6) NOT NULL,
	published_by VARCHAR(128) NOT NULL,
	PRIMARY KEY (account_id, purpose, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_consent_heads (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	seq        BIGINT NOT NULL,
	hash       CHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_consent_records (
	account_id      VARCHAR(128) NOT NULL,
	seq             BIGINT NOT NULL,
	id              CHAR(36) NOT NULL,
	subject         VARCHAR(128) NULL,
	subject_ps      VARCHAR(80) NOT NULL,
	purpose         VARCHAR(64) NOT NULL,
	policy_version  BIGINT NOT NULL,
	policy_hash     CHAR(64) NOT NULL,
	action          VARCHAR(16) NOT NULL,
	source          VARCHAR(32) NOT NULL,
	ip              VARCHAR(64) NULL,
	user_agent      TEXT NULL,
	wording         TEXT NOT NULL,
	recorded_by     VARCHAR(128) NOT NULL,
	at              DATETIME(6) NOT NULL,
	salt            VARCHAR(64) NULL,
	subject_commit  CHAR(64) NOT NULL,
	evidence_commit CHAR(64) NOT NULL,
	prev_hash       VARCHAR(64) NOT NULL,
	hash            CHAR(64) NOT NULL,
	pseudonymized   BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (account_id, seq),
	KEY gdpr_consent_records_subject (account_id, subject_ps, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_consent_state (
	account_id     VARCHAR(128) NOT NULL,
	subject_ps     VARCHAR(80) NOT NULL,
	purpose        VARCHAR(64) NOT NULL,
	action         VARCHAR(16) NOT NULL,
	policy_version BIGINT NOT NULL,
	at             DATETIME(6) NOT NULL,
	seq            BIGINT NOT NULL,
	PRIMARY KEY (account_id, subject_ps, purpose)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
