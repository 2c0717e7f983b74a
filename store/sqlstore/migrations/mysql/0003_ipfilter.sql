-- ipfilter: one version row per account (bumped by every change, polled by
-- every process) and the entries of each surface's allow and deny lists, in
-- the order the admin wrote them.
CREATE TABLE IF NOT EXISTS gdpr_ipfilter_versions (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	version    BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_ipfilter_entries (
	account_id VARCHAR(128) NOT NULL,
	surface    VARCHAR(64) NOT NULL,
	kind       VARCHAR(8) NOT NULL,
	pos        INTEGER NOT NULL,
	prefix     VARCHAR(64) NOT NULL,
	note       TEXT NOT NULL,
	added_by   VARCHAR(128) NOT NULL,
	added_at   DATETIME(6) NULL,
	PRIMARY KEY (account_id, surface, kind, pos)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
