-- spam: per account, the trained message counts, the token counts (keyed
-- 64-bit hashes, never text) and the lessons (keyed hash of a message ID and
-- the class it was trained as). Days are days since 1970-01-01 UTC.
CREATE TABLE IF NOT EXISTS gdpr_spam_models (
	account_id VARCHAR(128) NOT NULL PRIMARY KEY,
	ham        BIGINT NOT NULL,
	spam       BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_spam_tokens (
	account_id VARCHAR(128) NOT NULL,
	hash       BIGINT NOT NULL,
	ham        BIGINT NOT NULL,
	spam       BIGINT NOT NULL,
	day        INTEGER NOT NULL,
	PRIMARY KEY (account_id, hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
-- +statement
CREATE TABLE IF NOT EXISTS gdpr_spam_lessons (
	account_id VARCHAR(128) NOT NULL,
	msg_key    BIGINT NOT NULL,
	class      SMALLINT NOT NULL,
	day        INTEGER NOT NULL,
	PRIMARY KEY (account_id, msg_key),
	INDEX gdpr_spam_lessons_day (account_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
