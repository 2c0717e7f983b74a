-- breach register (issue 18): per account, the breaches (the whole record as
-- JSON, with the columns queries need), their affected subjects as keyed
-- pseudonyms, the notification outbox that workers lease, and the
-- hash-chained history with its head, which every write locks first.
CREATE TABLE IF NOT EXISTS gdpr_breach_heads (
	account_id TEXT NOT NULL PRIMARY KEY,
	seq        INTEGER NOT NULL,
	hash       TEXT NOT NULL
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breaches (
	account_id TEXT NOT NULL,
	id         TEXT NOT NULL,
	incident   TEXT NULL,
	aware_at   TEXT NOT NULL,
	body       TEXT NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, incident)
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breach_subjects (
	account_id TEXT NOT NULL,
	breach_id  TEXT NOT NULL,
	subject_ps TEXT NOT NULL,
	PRIMARY KEY (account_id, breach_id, subject_ps)
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breach_notices (
	account_id  TEXT NOT NULL,
	id          TEXT NOT NULL,
	breach_id   TEXT NOT NULL,
	dedupe      TEXT NOT NULL,
	state       TEXT NOT NULL,
	next_at     TEXT NULL,
	lease_owner TEXT NOT NULL,
	lease_token TEXT NOT NULL,
	lease_until TEXT NULL,
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
	account_id TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	id         TEXT NOT NULL,
	breach_id  TEXT NOT NULL,
	type       TEXT NOT NULL,
	at         TEXT NOT NULL,
	actor      TEXT NOT NULL,
	data       TEXT NOT NULL,
	prev_hash  TEXT NOT NULL,
	hash       TEXT NOT NULL,
	PRIMARY KEY (account_id, seq)
)
