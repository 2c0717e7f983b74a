-- retention: account lifecycle records, their transitions, and per-account
-- data retention rules. Times are fixed-width UTC text (see sqlstore.ts).
CREATE TABLE IF NOT EXISTS gdpr_retention_accounts (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	state VARCHAR(32) NOT NULL,
	since TEXT NOT NULL,
	version INTEGER NOT NULL,
	next_due TEXT NULL,
	pending TEXT NOT NULL,
	steps_at TEXT NULL,
	attempts INTEGER NOT NULL,
	lease_owner VARCHAR(128) NOT NULL,
	lease_until TEXT NULL,
	nothing_remains_at TEXT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
)
-- +statement
-- The sweeper's one global query (ClaimDue) walks this index from the
-- oldest due time, so its cost grows with the due accounts only. Accounts
-- with nothing scheduled (active ones, the most) are left out of it.
CREATE INDEX IF NOT EXISTS gdpr_retention_accounts_due ON gdpr_retention_accounts (next_due, account_id) WHERE next_due IS NOT NULL
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_transitions (
	account_id VARCHAR(128) NOT NULL,
	seq INTEGER NOT NULL,
	id VARCHAR(64) NOT NULL,
	from_state VARCHAR(32) NOT NULL,
	to_state VARCHAR(32) NOT NULL,
	cause_kind VARCHAR(16) NOT NULL,
	cause VARCHAR(64) NOT NULL,
	actor VARCHAR(128) NOT NULL,
	due_at TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	policy VARCHAR(255) NOT NULL,
	steps VARCHAR(255) NOT NULL,
	PRIMARY KEY (account_id, seq)
)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_rules (
	account_id VARCHAR(128) NOT NULL,
	id VARCHAR(64) NOT NULL,
	name VARCHAR(255) NOT NULL,
	target VARCHAR(64) NOT NULL,
	status VARCHAR(64) NOT NULL,
	field VARCHAR(64) NOT NULL,
	older_days INTEGER NOT NULL,
	older_months INTEGER NOT NULL,
	disabled INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	last_run_at TEXT NULL,
	last_removed INTEGER NOT NULL,
	total_removed INTEGER NOT NULL,
	backlog INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
)
