-- breach register (issue 18): per account, the breaches (the whole record as
-- JSON, with the columns queries need), their affected subjects as keyed
-- pseudonyms, the notification outbox that workers lease, and the
-- hash-chained history with its head, which every write locks first.
CREATE TABLE IF NOT EXISTS gdpr_breach_heads (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	seq        BIGINT NOT NULL,
	hash       VARCHAR(64) NOT NULL
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breaches (
	account_id VARCHAR(128) NOT NULL,
	id         VARCHAR(64) NOT NULL,
	incident   VARCHAR(128) NULL,
	aware_at   TIMESTAMPTZ NOT NULL,
	body       TEXT NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, incident)
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breach_subjects (
	account_id VARCHAR(128) NOT NULL,
	breach_id  VARCHAR(64) NOT NULL,
	subject_ps VARCHAR(80) NOT NULL,
	PRIMARY KEY (account_id, breach_id, subject_ps)
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breach_notices (
	account_id  VARCHAR(128) NOT NULL,
	id          VARCHAR(64) NOT NULL,
	breach_id   VARCHAR(64) NOT NULL,
	dedupe      VARCHAR(80) NOT NULL,
	state       VARCHAR(16) NOT NULL,
	next_at     TIMESTAMPTZ NULL,
	lease_owner VARCHAR(256) NOT NULL,
	lease_token VARCHAR(64) NOT NULL,
	lease_until TIMESTAMPTZ NULL,
	body        TEXT NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, breach_id, dedupe)
)
-- +statement
-- The workers' global queries walk these two indexes from the earliest due.
CREATE INDEX IF NOT EXISTS gdpr_breach_notices_due ON gdpr_breach_notices (state, next_at)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_breach_notices_lease ON gdpr_breach_notices (state, lease_until)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breach_history (
	account_id VARCHAR(128) NOT NULL,
	seq        BIGINT NOT NULL,
	id         VARCHAR(64) NOT NULL,
	breach_id  VARCHAR(64) NOT NULL,
	type       VARCHAR(32) NOT NULL,
	at         TIMESTAMPTZ NOT NULL,
	actor      VARCHAR(256) NOT NULL,
	data       TEXT NOT NULL,
	prev_hash  VARCHAR(64) NOT NULL,
	hash       VARCHAR(64) NOT NULL,
	PRIMARY KEY (account_id, seq)
)
