-- spam: per account, the trained message counts, the token counts (keyed
-- 64-bit hashes, never text) and the lessons (keyed hash of a message ID and
-- the class it was trained as). Days are days since 1970-01-01 UTC.
CREATE TABLE gdpr_spam_models (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	ham        BIGINT NOT NULL,
	spam       BIGINT NOT NULL
)
-- +statement
CREATE TABLE gdpr_spam_tokens (
	account_id VARCHAR(128) NOT NULL,
	hash       BIGINT NOT NULL,
	ham        BIGINT NOT NULL,
	spam       BIGINT NOT NULL,
	day        INTEGER NOT NULL,
	PRIMARY KEY (account_id, hash)
)
-- +statement
CREATE TABLE gdpr_spam_lessons (
	account_id VARCHAR(128) NOT NULL,
	msg_key    BIGINT NOT NULL,
	class      SMALLINT NOT NULL,
	day        INTEGER NOT NULL,
	PRIMARY KEY (account_id, msg_key)
)
-- +statement
CREATE INDEX gdpr_spam_lessons_day ON gdpr_spam_lessons (account_id, day)
