-- vendor support access (issue 18): per account, the grants (the whole
-- grant as JSON, with the columns queries need) and the hash-chained trail
-- of every request, decision, revocation and access, with its head, which
-- every write locks first.
CREATE TABLE IF NOT EXISTS gdpr_staff_heads (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	seq        BIGINT NOT NULL,
	hash       VARCHAR(64) NOT NULL
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_staff_grants (
	account_id   VARCHAR(128) NOT NULL,
	id           VARCHAR(64) NOT NULL,
	staff        VARCHAR(128) NOT NULL,
	requested_at TIMESTAMPTZ NOT NULL,
	body         TEXT NOT NULL,
	PRIMARY KEY (account_id, id)
)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_staff_grants_staff ON gdpr_staff_grants (account_id, staff)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_staff_trail (
	account_id VARCHAR(128) NOT NULL,
	seq        BIGINT NOT NULL,
	id         VARCHAR(64) NOT NULL,
	grant_id   VARCHAR(64) NOT NULL,
	type       VARCHAR(32) NOT NULL,
	at         TIMESTAMPTZ NOT NULL,
	actor      VARCHAR(128) NOT NULL,
	what       VARCHAR(500) NOT NULL,
	data       TEXT NOT NULL,
	prev_hash  VARCHAR(64) NOT NULL,
	hash       VARCHAR(64) NOT NULL,
	PRIMARY KEY (account_id, seq)
)
