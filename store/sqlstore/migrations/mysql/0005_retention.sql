-- retention: account lifecycle records, their transitions, and per-account
-- data retention rules. Indexes are declared inside CREATE TABLE so a re-run
-- after a half-applied migration is harmless.
CREATE TABLE IF NOT EXISTS gdpr_retention_accounts (
	account_id         VARCHAR(128) NOT NULL,
	state              VARCHAR(32) NOT NULL,
	since              DATETIME(6) NOT NULL,
	version            BIGINT NOT NULL,
	next_due           DATETIME(6) NULL,
	pending            TEXT NOT NULL,
	steps_at           DATETIME(6) NULL,
	attempts           BIGINT NOT NULL,
	lease_owner        VARCHAR(128) NOT NULL,
	lease_until        DATETIME(6) NULL,
	nothing_remains_at DATETIME(6) NULL,
	created_at         DATETIME(6) NOT NULL,
	updated_at         DATETIME(6) NOT NULL,
	PRIMARY KEY (account_id),
	-- The sweeper's one global query (ClaimDue) walks this index from the
	-- oldest due time, so its cost grows with the due accounts only.
	INDEX gdpr_retention_accounts_due (next_due, account_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_transitions (
	account_id  VARCHAR(128) NOT NULL,
	seq         BIGINT NOT NULL,
	id          VARCHAR(64) NOT NULL,
	from_state  VARCHAR(32) NOT NULL,
	to_state    VARCHAR(32) NOT NULL,
	cause_kind  VARCHAR(16) NOT NULL,
	cause       VARCHAR(64) NOT NULL,
	actor       VARCHAR(128) NOT NULL,
	due_at      DATETIME(6) NOT NULL,
	recorded_at DATETIME(6) NOT NULL,
	policy      VARCHAR(255) NOT NULL,
	steps       VARCHAR(255) NOT NULL,
	PRIMARY KEY (account_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_retention_rules (
	account_id    VARCHAR(128) NOT NULL,
	id            VARCHAR(64) NOT NULL,
	name          VARCHAR(255) NOT NULL,
	target        VARCHAR(64) NOT NULL,
	status        VARCHAR(64) NOT NULL,
	field         VARCHAR(64) NOT NULL,
	older_days    BIGINT NOT NULL,
	older_months  BIGINT NOT NULL,
	disabled      SMALLINT NOT NULL,
	created_at    DATETIME(6) NOT NULL,
	last_run_at   DATETIME(6) NULL,
	last_removed  BIGINT NOT NULL,
	total_removed BIGINT NOT NULL,
	backlog       SMALLINT NOT NULL,
	PRIMARY KEY (account_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
