-- data-subject rights (issue 18): restriction marks (Art. 18). A mark
-- names a record only by its keyed pseudonym (record_ps, '' for the mark
-- on the subject as a whole); lifting a restriction fills lifted_* and
-- keeps the row as the record of it. Character columns are binary, as
-- 0008 requires; indexes inside CREATE TABLE, as DDL is not transactional.
CREATE TABLE IF NOT EXISTS gdpr_erasure_restrictions (
	account_id VARBINARY(512) NOT NULL,
	request_id VARBINARY(256) NOT NULL,
	record_ps VARBINARY(320) NOT NULL,
	kind VARBINARY(256) NOT NULL,
	subject_ps VARBINARY(320) NOT NULL,
	restricted_at DATETIME(6) NOT NULL,
	lifted_at DATETIME(6) NULL,
	lifted_by VARBINARY(512) NOT NULL,
	lift_reason BLOB NOT NULL,
	PRIMARY KEY (account_id, request_id, record_ps),
	KEY gdpr_erasure_restrictions_record (account_id, record_ps),
	KEY gdpr_erasure_restrictions_subject (account_id, subject_ps)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
-- The intake of every request (issue 18): the channel it came through
-- and how the requester's identity was verified, by category, with short
-- notes that never hold the evidence itself (erasure.CheckNote). Binary
-- columns, as 0008 requires; one ALTER, so a re-run after a crash finds
-- either none or all of them (error 1060 is then passed over).
ALTER TABLE gdpr_erasure_requests
	ADD COLUMN channel VARBINARY(64) NOT NULL DEFAULT '',
	ADD COLUMN channel_note VARBINARY(800) NOT NULL DEFAULT '',
	ADD COLUMN identity_method VARBINARY(64) NOT NULL DEFAULT '',
	ADD COLUMN identity_note VARBINARY(800) NOT NULL DEFAULT '',
	ADD COLUMN identity_by VARBINARY(512) NOT NULL DEFAULT ''
