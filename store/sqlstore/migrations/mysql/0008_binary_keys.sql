-- Every key is compared byte for byte (issue #15). utf8mb4_bin, which
-- 0001-0006 used, is a PAD SPACE collation: "acme " equals "acme", so a
-- padded account or user ID read and changed another tenant's rows.
-- MySQL 8 and MariaDB share no NO PAD collation name, so every character
-- column of every gdpr_ table becomes binary: VARCHAR(n)/CHAR(n) becomes
-- VARBINARY(4n) (the same byte capacity utf8mb4 reserved, so index and row
-- sizes do not change) and TEXT/LONGTEXT becomes BLOB/LONGBLOB. Bytes are
-- kept as they are; equality, uniqueness and order are those of the bytes
-- (for UTF-8 text the same order as utf8mb4_bin). Each ALTER rebuilds its
-- table once and can be re-run.
--
-- Rule for every later migration: a new character column of a gdpr_ table
-- is VARBINARY or BLOB, never VARCHAR/TEXT; TestMySQLColumnsAreBinary
-- checks it.
ALTER TABLE gdpr_consent_purposes
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY purpose VARBINARY(256) NOT NULL,
	MODIFY name VARBINARY(1600) NOT NULL,
	MODIFY label BLOB NOT NULL,
	MODIFY description BLOB NOT NULL
-- +statement
ALTER TABLE gdpr_consent_policies
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY purpose VARBINARY(256) NOT NULL,
	MODIFY body LONGBLOB NOT NULL,
	MODIFY text_hash VARBINARY(256) NOT NULL,
	MODIFY published_by VARBINARY(512) NOT NULL
-- +statement
ALTER TABLE gdpr_consent_heads
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY hash VARBINARY(256) NOT NULL
-- +statement
ALTER TABLE gdpr_consent_records
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(144) NOT NULL,
	MODIFY subject VARBINARY(512) NULL,
	MODIFY subject_ps VARBINARY(320) NOT NULL,
	MODIFY purpose VARBINARY(256) NOT NULL,
	MODIFY policy_hash VARBINARY(256) NOT NULL,
	MODIFY action VARBINARY(64) NOT NULL,
	MODIFY source VARBINARY(128) NOT NULL,
	MODIFY ip VARBINARY(256) NULL,
	MODIFY user_agent BLOB NULL,
	MODIFY wording BLOB NOT NULL,
	MODIFY recorded_by VARBINARY(512) NOT NULL,
	MODIFY salt_subject VARBINARY(32) NULL,
	MODIFY salt_recorded_by VARBINARY(32) NULL,
	MODIFY salt_ip VARBINARY(32) NULL,
	MODIFY salt_user_agent VARBINARY(32) NULL,
	MODIFY salt_wording VARBINARY(32) NULL,
	MODIFY commit_subject VARBINARY(64) NOT NULL DEFAULT '',
	MODIFY commit_recorded_by VARBINARY(64) NOT NULL DEFAULT '',
	MODIFY commit_ip VARBINARY(64) NOT NULL DEFAULT '',
	MODIFY commit_user_agent VARBINARY(64) NOT NULL DEFAULT '',
	MODIFY commit_wording VARBINARY(64) NOT NULL DEFAULT '',
	MODIFY prior_hash VARBINARY(64) NOT NULL DEFAULT '',
	MODIFY salt VARBINARY(256) NULL,
	MODIFY subject_commit VARBINARY(256) NOT NULL,
	MODIFY evidence_commit VARBINARY(256) NOT NULL,
	MODIFY prev_hash VARBINARY(256) NOT NULL,
	MODIFY hash VARBINARY(256) NOT NULL
-- +statement
ALTER TABLE gdpr_consent_state
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY subject_ps VARBINARY(320) NOT NULL,
	MODIFY purpose VARBINARY(256) NOT NULL,
	MODIFY action VARBINARY(64) NOT NULL
-- +statement
ALTER TABLE gdpr_authn_users
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY user_id VARBINARY(512) NOT NULL,
	MODIFY username VARBINARY(1024) NOT NULL,
	MODIFY password_hash BLOB NOT NULL
-- +statement
ALTER TABLE gdpr_authn_throttle
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY user_id VARBINARY(512) NOT NULL,
	MODIFY factor VARBINARY(64) NOT NULL
-- +statement
ALTER TABLE gdpr_authn_totp
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY user_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(256) NOT NULL,
	MODIFY key_id VARBINARY(128) NOT NULL
-- +statement
ALTER TABLE gdpr_authn_recovery
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY user_id VARBINARY(512) NOT NULL
-- +statement
ALTER TABLE gdpr_authn_tokens
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(256) NOT NULL,
	MODIFY user_id VARBINARY(512) NOT NULL,
	MODIFY name VARBINARY(1600) NOT NULL,
	MODIFY scopes BLOB NOT NULL
-- +statement
ALTER TABLE gdpr_authn_sessions
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(256) NOT NULL,
	MODIFY user_id VARBINARY(512) NOT NULL
-- +statement
ALTER TABLE gdpr_ipfilter_versions
	MODIFY account_id VARBINARY(512) NOT NULL
-- +statement
ALTER TABLE gdpr_ipfilter_entries
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY surface VARBINARY(256) NOT NULL,
	MODIFY kind VARBINARY(32) NOT NULL,
	MODIFY prefix VARBINARY(256) NOT NULL,
	MODIFY note BLOB NOT NULL,
	MODIFY added_by VARBINARY(512) NOT NULL
-- +statement
ALTER TABLE gdpr_spam_models
	MODIFY account_id VARBINARY(512) NOT NULL
-- +statement
ALTER TABLE gdpr_spam_tokens
	MODIFY account_id VARBINARY(512) NOT NULL
-- +statement
ALTER TABLE gdpr_spam_lessons
	MODIFY account_id VARBINARY(512) NOT NULL
-- +statement
ALTER TABLE gdpr_retention_accounts
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY state VARBINARY(128) NOT NULL,
	MODIFY pending BLOB NOT NULL,
	MODIFY lease_owner VARBINARY(512) NOT NULL
-- +statement
ALTER TABLE gdpr_retention_transitions
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(256) NOT NULL,
	MODIFY from_state VARBINARY(128) NOT NULL,
	MODIFY to_state VARBINARY(128) NOT NULL,
	MODIFY cause_kind VARBINARY(64) NOT NULL,
	MODIFY cause VARBINARY(256) NOT NULL,
	MODIFY actor VARBINARY(512) NOT NULL,
	MODIFY policy VARBINARY(1020) NOT NULL,
	MODIFY steps VARBINARY(1020) NOT NULL
-- +statement
ALTER TABLE gdpr_retention_rules
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(256) NOT NULL,
	MODIFY name VARBINARY(1020) NOT NULL,
	MODIFY target VARBINARY(256) NOT NULL,
	MODIFY status VARBINARY(256) NOT NULL,
	MODIFY field VARBINARY(256) NOT NULL
-- +statement
ALTER TABLE gdpr_erasure_requests
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(256) NOT NULL,
	MODIFY type VARBINARY(64) NOT NULL,
	MODIFY subject VARBINARY(512) NULL,
	MODIFY subject_ps VARBINARY(320) NOT NULL,
	MODIFY scope VARBINARY(64) NOT NULL,
	MODIFY requested_by VARBINARY(512) NOT NULL,
	MODIFY extension_reason BLOB NOT NULL,
	MODIFY status VARBINARY(64) NOT NULL,
	MODIFY job_id VARBINARY(256) NOT NULL
-- +statement
ALTER TABLE gdpr_erasure_jobs
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(256) NOT NULL,
	MODIFY request_id VARBINARY(256) NOT NULL,
	MODIFY status VARBINARY(64) NOT NULL,
	MODIFY lease_owner VARBINARY(512) NOT NULL,
	MODIFY lease_token VARBINARY(256) NOT NULL,
	MODIFY state LONGBLOB NOT NULL,
	MODIFY last_error BLOB NOT NULL
-- +statement
ALTER TABLE gdpr_erasure_heads
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY hash VARBINARY(256) NOT NULL
-- +statement
ALTER TABLE gdpr_erasure_receipts
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(256) NOT NULL,
	MODIFY request_id VARBINARY(256) NOT NULL,
	MODIFY subject_ps VARBINARY(320) NOT NULL,
	MODIFY body LONGBLOB NOT NULL,
	MODIFY prev_hash VARBINARY(256) NOT NULL,
	MODIFY hash VARBINARY(256) NOT NULL
-- +statement
ALTER TABLE gdpr_erasure_tombstones
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY kind VARBINARY(128) NOT NULL,
	MODIFY pseudonym VARBINARY(320) NOT NULL,
	MODIFY request_id VARBINARY(256) NOT NULL
-- +statement
ALTER TABLE gdpr_erasure_holds
	MODIFY account_id VARBINARY(512) NOT NULL,
	MODIFY id VARBINARY(256) NOT NULL,
	MODIFY subject_ps VARBINARY(320) NOT NULL,
	MODIFY kind VARBINARY(256) NOT NULL,
	MODIFY record_id VARBINARY(1024) NOT NULL,
	MODIFY ground VARBINARY(2000) NOT NULL,
	MODIFY reason BLOB NOT NULL,
	MODIFY created_by VARBINARY(512) NOT NULL
