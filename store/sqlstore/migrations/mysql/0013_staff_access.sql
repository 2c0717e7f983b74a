-- vendor support access (issue 18): per account, the grants (the whole
-- grant as JSON, with the columns queries need) and the hash-chained trail
-- of every request, decision, revocation and access, with its head, which
-- every write locks first. Character columns are binary, as 0008 requires.
CREATE TABLE IF NOT EXISTS gdpr_staff_heads (
	account_id VARBINARY(512) NOT NULL PRIMARY KEY,
	seq        BIGINT NOT NULL,
	hash       VARBINARY(64) NOT NULL
) ENGINE=InnoDB
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_staff_grants (
	account_id   VARBINARY(512) NOT NULL,
	id           VARBINARY(64) NOT NULL,
	staff        VARBINARY(512) NOT NULL,
	requested_at DATETIME(6) NOT NULL,
	body         BLOB NOT NULL,
	PRIMARY KEY (account_id, id),
	INDEX gdpr_staff_grants_staff (account_id, staff)
) ENGINE=InnoDB
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_staff_trail (
	account_id VARBINARY(512) NOT NULL,
	seq        BIGINT NOT NULL,
	id         VARBINARY(64) NOT NULL,
	grant_id   VARBINARY(64) NOT NULL,
	type       VARBINARY(32) NOT NULL,
	at         DATETIME(6) NOT NULL,
	actor      VARBINARY(512) NOT NULL,
	what       VARBINARY(2000) NOT NULL,
	data       BLOB NOT NULL,
	prev_hash  VARBINARY(64) NOT NULL,
	hash       VARBINARY(64) NOT NULL,
	PRIMARY KEY (account_id, seq)
) ENGINE=InnoDB
