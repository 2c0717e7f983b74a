-- consent: purposes, versioned policies, the append-only hash-chained
-- records, the chain head per account, and the latest record per
-- (subject pseudonym, purpose) for one-lookup Check.
CREATE TABLE gdpr_consent_purposes (
	account_id       TEXT NOT NULL,
	purpose          TEXT NOT NULL,
	name             TEXT NOT NULL,
	label            TEXT NOT NULL,
	description      TEXT NOT NULL,
	lifetime_seconds INTEGER NOT NULL,
	current_version  INTEGER NOT NULL,
	material_version INTEGER NOT NULL,
	created_at       TEXT NOT NULL,
	PRIMARY KEY (account_id, purpose)
)
-- +statement
CREATE TABLE gdpr_consent_policies (
	account_id   TEXT NOT NULL,
	purpose      TEXT NOT NULL,
	version      INTEGER NOT NULL,
	body         TEXT NOT NULL,
	text_hash    TEXT NOT NULL,
	material     INTEGER NOT NULL,
	published_at TEXT NOT NULL,
	published_by TEXT NOT NULL,
	PRIMARY KEY (account_id, purpose, version)
)
-- +statement
CREATE TABLE gdpr_consent_heads (
	account_id TEXT NOT NULL PRIMARY KEY,
	seq        INTEGER NOT NULL,
	hash       TEXT NOT NULL
)
-- +statement
CREATE TABLE gdpr_consent_records (
	account_id      TEXT NOT NULL,
	seq             INTEGER NOT NULL,
	id              TEXT NOT NULL,
	subject         TEXT,
	subject_ps      TEXT NOT NULL,
	purpose         TEXT NOT NULL,
	policy_version  INTEGER NOT NULL,
	policy_hash     TEXT NOT NULL,
	action          TEXT NOT NULL,
	source          TEXT NOT NULL,
	ip              TEXT,
	user_agent      TEXT,
	wording         TEXT NOT NULL,
	recorded_by     TEXT NOT NULL,
	at              TEXT NOT NULL,
	salt            TEXT,
	subject_commit  TEXT NOT NULL,
	evidence_commit TEXT NOT NULL,
	prev_hash       TEXT NOT NULL,
	hash            TEXT NOT NULL,
	pseudonymized   INTEGER NOT NULL DEFAULT 0,
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
	policy_version INTEGER NOT NULL,
	at             TEXT NOT NULL,
	seq            INTEGER NOT NULL,
	PRIMARY KEY (account_id, subject_ps, purpose)
)
