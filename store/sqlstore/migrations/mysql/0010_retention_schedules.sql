-- retention schedules (issue 21): rule lifecycle and run outcome columns,
-- the batch journal that is also the proof of disposition, per-account
-- schedule state (time zone, run lease, clock guard) and the global pause.
-- Character columns are binary, as 0008 requires.
ALTER TABLE gdpr_retention_rules ADD COLUMN action VARBINARY(64) NOT NULL DEFAULT 'delete'
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN created_by VARBINARY(512) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN updated_at DATETIME(6) NULL
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN updated_by VARBINARY(512) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN version BIGINT NOT NULL DEFAULT 1
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN last_held BIGINT NOT NULL DEFAULT 0
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN last_kept BIGINT NOT NULL DEFAULT 0
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN last_error VARBINARY(2048) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN backlog_runs BIGINT NOT NULL DEFAULT 0
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN cursor_at DATETIME(6) NULL
-- +statement
ALTER TABLE gdpr_retention_rules ADD COLUMN cursor_id VARBINARY(1020) NOT NULL DEFAULT ''
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_batches (
	account_id VARBINARY(512) NOT NULL,
	id VARBINARY(256) NOT NULL,
	run_id VARBINARY(256) NOT NULL,
	rule_id VARBINARY(256) NOT NULL,
	rule_version BIGINT NOT NULL,
	target VARBINARY(256) NOT NULL,
	cutoff DATETIME(6) NOT NULL,
	started_at DATETIME(6) NOT NULL,
	ids MEDIUMBLOB NOT NULL,
	state VARBINARY(64) NOT NULL,
	removed_ids MEDIUMBLOB NULL,
	held BIGINT NOT NULL,
	recovered SMALLINT NOT NULL,
	committed_at DATETIME(6) NULL,
	audited SMALLINT NOT NULL,
	expires_at DATETIME(6) NULL,
	PRIMARY KEY (account_id, id),
	INDEX gdpr_retention_batches_open (account_id, audited),
	INDEX gdpr_retention_batches_committed (account_id, committed_at),
	INDEX gdpr_retention_batches_expires (account_id, expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_schedules (
	account_id VARBINARY(512) NOT NULL,
	time_zone VARBINARY(256) NOT NULL,
	next_run DATETIME(6) NULL,
	last_run DATETIME(6) NULL,
	last_clock DATETIME(6) NULL,
	paused SMALLINT NOT NULL,
	lease_owner VARBINARY(512) NOT NULL,
	lease_until DATETIME(6) NULL,
	fence BIGINT NOT NULL,
	turn BIGINT NOT NULL,
	version BIGINT NOT NULL,
	PRIMARY KEY (account_id),
	INDEX gdpr_retention_schedules_due (next_run, account_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_control (
	name VARBINARY(256) NOT NULL,
	paused SMALLINT NOT NULL,
	changed_at DATETIME(6) NULL,
	actor VARBINARY(512) NOT NULL,
	PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
