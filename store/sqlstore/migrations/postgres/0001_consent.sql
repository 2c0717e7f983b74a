-- consent: purposes, versioned policies, the append-only hash-chained
-- records, the chain head per account, and the latest record per
-- (subject pseudonym, purpose) for one-lookup Check.
CREATE TABLE gdpr_consent_purposes (
	account_id       TEXT NOT NULL,
	purpose          TEXT NOT NULL,
	name             TEXT NOT NULL,
	label            TEXT NOT NULL,
	description      TEXT NOT NULL,
	lifetime_seconds BIGINT NOT NULL,
	current_version  BIGINT NOT NULL,
	material_version BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, purpose)
)
-- +statement
CREATE TABLE gdpr_consent_policies (
	account_id   TEXT NOT NULL,
	purpose      TEXT NOT NULL,
	version      BIGINT NOT NULL,
	body         TEXT NOT NULL,
	text_hash    TEXT NOT NULL,
	material     BOOLEAN NOT NULL,
	published_at TIMESTAMPTZ NOT NULL,
	published_by TEXT NOT NULL,
	PRIMARY KEY (account_id, purpose, version)
)
-- +statement
CREATE TABLE gdpr_consent_heads (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	seq        BIGINT NOT NULL,
	hash       TEXT NOT NULL
)
-- +statement
CREATE TABLE gdpr_consent_records (
	account_id      TEXT NOT NULL,
	seq             BIGINT NOT NULL,
	id              TEXT NOT NULL,
	subject         TEXT,
	subject_ps      TEXT NOT NULL,
	purpose         TEXT NOT NULL,
	policy_version  BIGINT NOT NULL,
	policy_hash     TEXT NOT NULL,
	action          TEXT NOT NULL,
	source          TEXT NOT NULL,
	ip              TEXT,
	user_agent      TEXT,
	wording         TEXT NOT NULL,
	recorded_by     TEXT NOT NULL,
	at TIMESTAMPTZ NOT NULL,
	salt            TEXT,
	subject_commit  TEXT NOT NULL,
	evidence_commit TEXT NOT NULL,
	prev_hash       TEXT NOT NULL,
	hash            TEXT NOT NULL,
	pseudonymized   BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (account_id, seq)
)
-- +statement
CREATE INDEX gdpr_consent_records_subject ON gdpr_consent_records (account_id, subject_ps, seq)
-- +statement
CREATE TABLE gdpr_consent_state (
	account_id     TEXT NOT NULL,
	subject_ps     TEXT NOT NULL,
	purpose        TEXT NOT NULL,
	action         TEXT NOT NULL,
	policy_version BIGINT NOT NULL,
	at TIMESTAMPTZ NOT NULL,
	seq            BIGINT NOT NULL,
	PRIMARY KEY (account_id, subject_ps, purpose)
)
