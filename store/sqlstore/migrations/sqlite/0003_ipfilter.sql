-- ipfilter: one version row per account (bumped by every change, polled by
-- every process) and the entries of each surface's allow and deny lists, in
-- the order the admin wrote them.
CREATE TABLE gdpr_ipfilter_versions (
	account_id TEXT NOT NULL PRIMARY KEY,
	version    INTEGER NOT NULL
)
-- +statement
CREATE TABLE gdpr_ipfilter_entries (
	account_id TEXT NOT NULL,
	surface    TEXT NOT NULL,
	kind       TEXT NOT NULL,
	pos        INTEGER NOT NULL,
	prefix     TEXT NOT NULL,
	note       TEXT NOT NULL,
	added_by   TEXT NOT NULL,
	added_at   TEXT NULL,
	PRIMARY KEY (account_id, surface, kind, pos)
)
