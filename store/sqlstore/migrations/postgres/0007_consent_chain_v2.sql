-- consent chain version 2: every identifying value of a record (subject,
-- recorded_by, ip, user_agent, wording) gets its own salt and salted
-- commitment, and the chain hashes the commitments, so each value can be
-- removed without breaking the chain. Existing rows are version 1 (the
-- defaults below) and keep verifying under the old rule until
-- consent.Service.Reseal moves them; prior_hash keeps a re-sealed record's
-- earlier hash. The index serves paging a subject's records by ID.
ALTER TABLE gdpr_consent_records
	ADD COLUMN version            BIGINT NOT NULL DEFAULT 1,
	ADD COLUMN salt_subject       TEXT,
	ADD COLUMN salt_recorded_by   TEXT,
	ADD COLUMN salt_ip            TEXT,
	ADD COLUMN salt_user_agent    TEXT,
	ADD COLUMN salt_wording       TEXT,
	ADD COLUMN commit_subject     TEXT NOT NULL DEFAULT '',
	ADD COLUMN commit_recorded_by TEXT NOT NULL DEFAULT '',
	ADD COLUMN commit_ip          TEXT NOT NULL DEFAULT '',
	ADD COLUMN commit_user_agent  TEXT NOT NULL DEFAULT '',
	ADD COLUMN commit_wording     TEXT NOT NULL DEFAULT '',
	ADD COLUMN prior_hash         TEXT NOT NULL DEFAULT ''
-- +statement
CREATE INDEX gdpr_consent_records_subject_id ON gdpr_consent_records (account_id, subject_ps, id)
