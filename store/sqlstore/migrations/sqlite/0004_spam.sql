-- spam: per account, the trained message counts, the token counts (keyed
-- 64-bit hashes, never text) and the lessons (keyed hash of a message ID and
-- the class it was trained as). Days are days since 1970-01-01 UTC.
CREATE TABLE gdpr_spam_models (
	account_id TEXT NOT NULL PRIMARY KEY,
	ham        INTEGER NOT NULL,
	spam       INTEGER NOT NULL
)
-- +statement
CREATE TABLE gdpr_spam_tokens (
	account_id TEXT NOT NULL,
	hash       INTEGER NOT NULL,
	ham        INTEGER NOT NULL,
	spam       INTEGER NOT NULL,
	day        INTEGER NOT NULL,
	PRIMARY KEY (account_id, hash)
) WITHOUT ROWID
-- +statement
CREATE TABLE gdpr_spam_lessons (
	account_id TEXT NOT NULL,
	msg_key    INTEGER NOT NULL,
	class      INTEGER NOT NULL,
	day        INTEGER NOT NULL,
	PRIMARY KEY (account_id, msg_key)
) WITHOUT ROWID
-- +statement
CREATE INDEX gdpr_spam_lessons_day ON gdpr_spam_lessons (account_id, day)
