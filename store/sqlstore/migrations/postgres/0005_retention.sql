-- retention: account lifecycle records, their transitions, and per-account
-- data retention rules. Times are TIMESTAMPTZ.
CREATE TABLE IF NOT EXISTS gdpr_retention_accounts (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	state VARCHAR(32) NOT NULL,
	since TIMESTAMPTZ NOT NULL,
	version BIGINT NOT NULL,
	next_due TIMESTAMPTZ NULL,
	pending TEXT NOT NULL,
	steps_at TIMESTAMPTZ NULL,
	attempts BIGINT NOT NULL,
	lease_owner VARCHAR(128) NOT NULL,
	lease_until TIMESTAMPTZ NULL,
	nothing_remains_at TIMESTAMPTZ NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
)
-- +statement
-- The sweeper's one global query (ClaimDue) walks this index from the
-- oldest due time, so its cost grows with the due accounts only. Accounts
-- with nothing scheduled (active ones, the most) are left out of it.
CREATE INDEX IF NOT EXISTS gdpr_retention_accounts_due ON gdpr_retention_accounts (next_due, account_id) WHERE next_due IS NOT NULL
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_transitions (
	account_id VARCHAR(128) NOT NULL,
	seq BIGINT NOT NULL,
	id VARCHAR(64) NOT NULL,
	from_state VARCHAR(32) NOT NULL,
	to_state VARCHAR(32) NOT NULL,
	cause_kind VARCHAR(16) NOT NULL,
	cause VARCHAR(64) NOT NULL,
	actor VARCHAR(128) NOT NULL,
	due_at TIMESTAMPTZ NOT NULL,
	recorded_at TIMESTAMPTZ NOT NULL,
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
	older_days BIGINT NOT NULL,
	older_months BIGINT NOT NULL,
	disabled BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	last_run_at TIMESTAMPTZ NULL,
	last_removed BIGINT NOT NULL,
	total_removed BIGINT NOT NULL,
	backlog BIGINT NOT NULL,
	PRIMARY KEY (account_id, id)
)
