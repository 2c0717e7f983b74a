-- authn (issue #15): failure counters keyed by user, factor and client
-- (empty for clients without a trusted-device token, else the device's ID;
-- for a username that names no user the user is empty and the client a
-- keyed hash of the username), with attempts in flight reserved (pending)
-- and a version for compare-and-set. The old counters, counted before each
-- attempt was checked, are dropped: every counter starts again at zero.
-- Sessions remember when their holder last proved a password or second
-- factor (verified_at; NULL means at creation), and API tokens the surfaces
-- they may be used on (space-separated; existing tokens keep the API).
CREATE TABLE IF NOT EXISTS gdpr_authn_throttles (
	account_id VARBINARY(512) NOT NULL,
	user_id    VARBINARY(512) NOT NULL,
	factor     VARBINARY(64) NOT NULL,
	client     VARBINARY(256) NOT NULL,
	failures   INTEGER NOT NULL,
	last_at    DATETIME(6) NOT NULL,
	pending    INTEGER NOT NULL,
	pending_at DATETIME(6) NOT NULL,
	version    BIGINT NOT NULL,
	PRIMARY KEY (account_id, user_id, factor, client),
	INDEX gdpr_authn_throttles_last (account_id, last_at)
) ENGINE=InnoDB
-- +statement
DROP TABLE IF EXISTS gdpr_authn_throttle
-- +statement
ALTER TABLE gdpr_authn_sessions ADD COLUMN verified_at DATETIME(6) NULL
-- +statement
ALTER TABLE gdpr_authn_tokens ADD COLUMN surfaces VARBINARY(1024) NOT NULL DEFAULT 'api'
