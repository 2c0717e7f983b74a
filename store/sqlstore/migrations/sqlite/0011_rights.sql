-- data-subject rights (issue 18): restriction marks (Art. 18). A mark
-- names a record only by its keyed pseudonym (record_ps, '' for the mark
-- on the subject as a whole); lifting a restriction fills lifted_* and
-- keeps the row as the record of it.
CREATE TABLE IF NOT EXISTS gdpr_erasure_restrictions (
	account_id VARCHAR(128) NOT NULL,
	request_id VARCHAR(64) NOT NULL,
	record_ps VARCHAR(80) NOT NULL,
	kind VARCHAR(64) NOT NULL,
	subject_ps VARCHAR(80) NOT NULL,
	restricted_at TEXT NOT NULL,
	lifted_at TEXT NULL,
	lifted_by VARCHAR(128) NOT NULL,
	lift_reason TEXT NOT NULL,
	PRIMARY KEY (account_id, request_id, record_ps)
)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_erasure_restrictions_record ON gdpr_erasure_restrictions (account_id, record_ps)
-- +statement
CREATE INDEX IF NOT EXISTS gdpr_erasure_restrictions_subject ON gdpr_erasure_restrictions (account_id, subject_ps)
-- +statement
-- The intake of every request (issue 18): the channel it came through
-- and how the requester's identity was verified, by category, with short
-- notes that never hold the evidence itself (erasure.CheckNote).
ALTER TABLE gdpr_erasure_requests ADD COLUMN channel VARCHAR(32) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_erasure_requests ADD COLUMN channel_note VARCHAR(200) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_erasure_requests ADD COLUMN identity_method VARCHAR(32) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_erasure_requests ADD COLUMN identity_note VARCHAR(200) NOT NULL DEFAULT ''
-- +statement
ALTER TABLE gdpr_erasure_requests ADD COLUMN identity_by VARCHAR(128) NOT NULL DEFAULT ''
