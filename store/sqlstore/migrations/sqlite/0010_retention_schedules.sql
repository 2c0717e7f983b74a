-- retention schedules (issue 21): rule lifecycle and run outcome columns,
-- the batch journal that is also the proof of disposition, per-account
-- schedule state (time zone, run lease, clock guard) and the global pause.
ALTER TABLE gdpr_retention_rules ADD COLUMN action VARCHAR(16) NOT NULL DEFAULT 'delete'
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN created_by VARCHAR(128) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN updated_at TEXT NULL
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN updated_by VARCHAR(128) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN version INTEGER NOT NULL DEFAULT 1
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN last_held INTEGER NOT NULL DEFAULT 0
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN last_kept INTEGER NOT NULL DEFAULT 0
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN last_error VARCHAR(512) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN backlog_runs INTEGER NOT NULL DEFAULT 0
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN cursor_at TEXT NULL
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN cursor_id VARCHAR(255) NOT NULL DEFAULT ''
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_batches (
	account_id VARCHAR(128) NOT NULL,
	id VARCHAR(64) NOT NULL,
	run_id VARCHAR(64) NOT NULL,
	rule_id VARCHAR(64) NOT NULL,
	rule_version INTEGER NOT NULL,
	target VARCHAR(64) NOT NULL,
	cutoff TEXT NOT NULL,
	started_at TEXT NOT NULL,
	ids TEXT NOT NULL,
	state VARCHAR(16) NOT NULL,
	removed_ids TEXT NULL,
	held INTEGER NOT NULL,
	recovered INTEGER NOT NULL,
	committed_at TEXT NULL,
	audited INTEGER NOT NULL,
	expires_at TEXT NULL,
	PRIMARY KEY (account_id, id)
)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_retention_batches_open ON gdpr_retention_batches (account_id, audited)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_retention_batches_committed ON gdpr_retention_batches (account_id, committed_at)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_retention_batches_expires ON gdpr_retention_batches (account_id, expires_at)
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_schedules (
	account_id VARCHAR(128) NOT NULL,
	time_zone VARCHAR(64) NOT NULL,
	next_run TEXT NULL,
	last_run TEXT NULL,
	last_clock TEXT NULL,
	paused INTEGER NOT NULL,
	lease_owner VARCHAR(128) NOT NULL,
	lease_until TEXT NULL,
	fence INTEGER NOT NULL,
	turn INTEGER NOT NULL,
	version INTEGER NOT NULL,
	PRIMARY KEY (account_id)
)
-- +statement
-- The driver's one global query walks this index from the earliest due run.
CREATE INDEX IF NOT EXISTS gdpr_retention_schedules_due ON gdpr_retention_schedules (next_run, account_id) WHERE next_run IS NOT NULL
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_control (
	name VARCHAR(64) NOT NULL,
	paused INTEGER NOT NULL,
	changed_at TEXT NULL,
	actor VARCHAR(128) NOT NULL,
	PRIMARY KEY (name)
)
