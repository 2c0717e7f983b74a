-- erasure (MySQL: indexes inside CREATE TABLE, as DDL is not transactional):
-- requests, durable jobs (the queue workers claim from), the
-- hash-chained receipts and their head per account, tombstones (keyed
-- pseudonyms of erased identifiers) and legal holds.
CREATE TABLE IF NOT EXISTS gdpr_erasure_requests (
	account_id VARCHAR(128) NOT NULL,
	id VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	subject VARCHAR(128) NULL,
	subject_ps VARCHAR(80) NOT NULL,
	subject_role INT NOT NULL,
	scope VARCHAR(16) NOT NULL,
	requested_by VARCHAR(128) NOT NULL,
	received_at DATETIME(6) NOT NULL,
	verified BOOLEAN NOT NULL,
	verified_at DATETIME(6) NULL,
	due_at DATETIME(6) NOT NULL,
	extended BOOLEAN NOT NULL,
	extension_reason TEXT NOT NULL,
	status VARCHAR(16) NOT NULL,
	closed_at DATETIME(6) NULL,
	job_id VARCHAR(64) NOT NULL,
	PRIMARY KEY (account_id, id),
	KEY gdpr_erasure_requests_due (account_id, status, due_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_erasure_jobs (
	account_id VARCHAR(128) NOT NULL,
	id VARCHAR(64) NOT NULL,
	request_id VARCHAR(64) NOT NULL,
	status VARCHAR(16) NOT NULL,
	attempts INT NOT NULL,
	next_run_at DATETIME(6) NOT NULL,
	lease_owner VARCHAR(128) NOT NULL,
	lease_token VARCHAR(64) NOT NULL,
	lease_until DATETIME(6) NULL,
	state LONGTEXT NOT NULL,
	last_error TEXT NOT NULL,
	created_at DATETIME(6) NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	PRIMARY KEY (account_id, id),
	KEY gdpr_erasure_jobs_due (status, next_run_at),
	KEY gdpr_erasure_jobs_lease (status, lease_until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_erasure_heads (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	seq BIGINT NOT NULL,
	hash VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_erasure_receipts (
	account_id VARCHAR(128) NOT NULL,
	seq BIGINT NOT NULL,
	id VARCHAR(64) NOT NULL,
	request_id VARCHAR(64) NOT NULL,
	subject_ps VARCHAR(80) NOT NULL,
	body LONGTEXT NOT NULL,
	prev_hash VARCHAR(64) NOT NULL,
	hash VARCHAR(64) NOT NULL,
	created_at DATETIME(6) NOT NULL,
	PRIMARY KEY (account_id, seq),
	UNIQUE (account_id, request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_erasure_tombstones (
	account_id VARCHAR(128) NOT NULL,
	kind VARCHAR(32) NOT NULL,
	pseudonym VARCHAR(80) NOT NULL,
	erased_at DATETIME(6) NOT NULL,
	request_id VARCHAR(64) NOT NULL,
	PRIMARY KEY (account_id, kind, pseudonym),
	KEY gdpr_erasure_tombstones_time (account_id, erased_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_erasure_holds (
	account_id VARCHAR(128) NOT NULL,
	id VARCHAR(64) NOT NULL,
	subject_ps VARCHAR(80) NOT NULL,
	kind VARCHAR(64) NOT NULL,
	record_id VARCHAR(256) NOT NULL,
	ground VARCHAR(500) NOT NULL,
	reason TEXT NOT NULL,
	created_by VARCHAR(128) NOT NULL,
	created_at DATETIME(6) NOT NULL,
	expires_at DATETIME(6) NULL,
	released_at DATETIME(6) NULL,
	PRIMARY KEY (account_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
