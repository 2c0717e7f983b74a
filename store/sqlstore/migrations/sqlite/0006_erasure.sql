-- erasure: requests, durable jobs (the queue workers claim from), the
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
	received_at TEXT NOT NULL,
	verified INTEGER NOT NULL,
	verified_at TEXT NULL,
	due_at TEXT NOT NULL,
	extended INTEGER NOT NULL,
	extension_reason TEXT NOT NULL,
	status VARCHAR(16) NOT NULL,
	closed_at TEXT NULL,
	job_id VARCHAR(64) NOT NULL,
	PRIMARY KEY (account_id, id)
)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_erasure_requests_due ON gdpr_erasure_requests (account_id, status, due_at)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_erasure_jobs (
	account_id VARCHAR(128) NOT NULL,
	id VARCHAR(64) NOT NULL,
	request_id VARCHAR(64) NOT NULL,
	status VARCHAR(16) NOT NULL,
	attempts INT NOT NULL,
	next_run_at TEXT NOT NULL,
	lease_owner VARCHAR(128) NOT NULL,
	lease_token VARCHAR(64) NOT NULL,
	lease_until TEXT NULL,
	state TEXT NOT NULL,
	last_error TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (account_id, id)
)
-- +statement
-- The workers' one global query (ClaimJob) walks these indexes from the
-- oldest due job, so its cost grows with the due jobs only.
CREATE INDEX IF NOT EXISTS gdpr_erasure_jobs_due ON gdpr_erasure_jobs (status, next_run_at)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_erasure_jobs_lease ON gdpr_erasure_jobs (status, lease_until)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_erasure_heads (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	seq BIGINT NOT NULL,
	hash VARCHAR(64) NOT NULL
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_erasure_receipts (
	account_id VARCHAR(128) NOT NULL,
	seq BIGINT NOT NULL,
	id VARCHAR(64) NOT NULL,
	request_id VARCHAR(64) NOT NULL,
	subject_ps VARCHAR(80) NOT NULL,
	body TEXT NOT NULL,
	prev_hash VARCHAR(64) NOT NULL,
	hash VARCHAR(64) NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (account_id, seq),
	UNIQUE (account_id, request_id)
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_erasure_tombstones (
	account_id VARCHAR(128) NOT NULL,
	kind VARCHAR(32) NOT NULL,
	pseudonym VARCHAR(80) NOT NULL,
	erased_at TEXT NOT NULL,
	request_id VARCHAR(64) NOT NULL,
	PRIMARY KEY (account_id, kind, pseudonym)
)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_erasure_tombstones_time ON gdpr_erasure_tombstones (account_id, erased_at)
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
	created_at TEXT NOT NULL,
	expires_at TEXT NULL,
	released_at TEXT NULL,
	PRIMARY KEY (account_id, id)
)
