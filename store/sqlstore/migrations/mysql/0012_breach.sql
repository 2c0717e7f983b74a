-- breach register (issue 18): per account, the breaches (the whole record as
-- JSON, with the columns queries need), their affected subjects as keyed
-- pseudonyms, the notification outbox that workers lease, and the
-- hash-chained history with its head, which every write locks first.
-- Character columns are binary, as 0008 requires.
CREATE TABLE IF NOT EXISTS gdpr_breach_heads (
	account_id VARBINARY(512) NOT NULL PRIMARY KEY,
	seq        BIGINT NOT NULL,
	hash       VARBINARY(64) NOT NULL
) ENGINE=InnoDB
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breaches (
	account_id VARBINARY(512) NOT NULL,
	id         VARBINARY(64) NOT NULL,
	incident   VARBINARY(512) NULL,
	aware_at   DATETIME(6) NOT NULL,
	body       MEDIUMBLOB NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE KEY gdpr_breaches_incident (account_id, incident)
) ENGINE=InnoDB
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breach_subjects (
	account_id VARBINARY(512) NOT NULL,
	breach_id  VARBINARY(64) NOT NULL,
	subject_ps VARBINARY(80) NOT NULL,
	PRIMARY KEY (account_id, breach_id, subject_ps)
) ENGINE=InnoDB
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breach_notices (
	account_id  VARBINARY(512) NOT NULL,
	id          VARBINARY(64) NOT NULL,
	breach_id   VARBINARY(64) NOT NULL,
	dedupe      VARBINARY(80) NOT NULL,
	state       VARBINARY(16) NOT NULL,
	next_at     DATETIME(6) NULL,
	lease_owner VARBINARY(1024) NOT NULL,
	lease_token VARBINARY(64) NOT NULL,
	lease_until DATETIME(6) NULL,
	body        BLOB NOT NULL,
	PRIMARY KEY (account_id, id),
	UNIQUE KEY gdpr_breach_notices_dedupe (account_id, breach_id, dedupe),
	INDEX gdpr_breach_notices_due (state, next_at),
	INDEX gdpr_breach_notices_lease (state, lease_until)
) ENGINE=InnoDB
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_breach_history (
	account_id VARBINARY(512) NOT NULL,
	seq        BIGINT NOT NULL,
	id         VARBINARY(64) NOT NULL,
	breach_id  VARBINARY(64) NOT NULL,
	type       VARBINARY(32) NOT NULL,
	at         DATETIME(6) NOT NULL,
	actor      VARBINARY(1024) NOT NULL,
	data       MEDIUMBLOB NOT NULL,
	prev_hash  VARBINARY(64) NOT NULL,
	hash       VARBINARY(64) NOT NULL,
	PRIMARY KEY (account_id, seq)
) ENGINE=InnoDB
