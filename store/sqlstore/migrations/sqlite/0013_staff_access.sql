-- vendor support access (issue 18): per account, the grants (the whole
-- grant as JSON, with the columns queries need) and the hash-chained trail
-- of every request, decision, revocation and access, with its head, which
-- every write locks first.
CREATE TABLE IF NOT EXISTS gdpr_staff_heads (
	account_id TEXT NOT NULL PRIMARY KEY,
	seq        INTEGER NOT NULL,
	hash       TEXT NOT NULL
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_staff_grants (
	account_id   TEXT NOT NULL,
	id           TEXT NOT NULL,
	staff        TEXT NOT NULL,
	requested_at TEXT NOT NULL,
	body         TEXT NOT NULL,
	PRIMARY KEY (account_id, id)
)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_staff_grants_staff ON gdpr_staff_grants (account_id, staff)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_staff_trail (
	account_id TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	id         TEXT NOT NULL,
	grant_id   TEXT NOT NULL,
	type       TEXT NOT NULL,
	at         TEXT NOT NULL,
	actor      TEXT NOT NULL,
	what       TEXT NOT NULL,
	data       TEXT NOT NULL,
	prev_hash  TEXT NOT NULL,
	hash       TEXT NOT NULL,
	PRIMARY KEY (account_id, seq)
)
