// Package hostconsent is a consent.Store written the way a host writes
// one: over the host's own *sql.DB, in tables the host named and laid out
// itself, beside the rest of its schema. It is an example to copy, and its
// test is the template of a one-domain adapter test: it passes the consent
// domain's conformance suite, storetest.RunConsent, and nothing else of
// gdprkit's storage is involved.
//
// The layout is deliberately not gdprkit's (store/sqlstore keeps consent in
// gdpr_consent_* tables with one column per record field):
//
//	crm_consent_topics  (tenant_id, topic_key, …)                 one row per purpose
//	crm_consent_texts   (tenant_id, topic_key, version, …)        one row per policy version
//	crm_consent_log     (tenant_id, position, record_id, person_ref, topic_key, scrubbed, payload)
//	crm_consent_tip     (tenant_id, position, hash)               the chain head, and Append's lock
//
// A record is kept as a JSON document (payload) with the few columns the
// queries need beside it; times are Unix microseconds. There is no table for
// the current state: a subject's state for a purpose is their record with
// the highest position, which an index on (tenant_id, person_ref,
// topic_key, position) finds in one probe, so Append never has a second
// table to keep in step.
//
// What a host adapter has to get right, and this one shows:
//
//   - Every statement is scoped by the account (tenant_id), and IDs are
//     compared byte for byte: on MySQL/MariaDB every key column is
//     VARBINARY, because utf8mb4_bin is a PAD SPACE collation under which
//     "acct " equals "acct" (gdprkit issue #15).
//   - Append and Rewrite hold the account's tip row locked (SELECT … FOR
//     UPDATE; on SQLite the DSN's immediate transactions serialise
//     writers), so seal always sees the true head.
//   - Errors are mapped with sqldb.Classify: no rows is gdprkit.ErrNotFound,
//     a duplicate key gdprkit.ErrConflict, an ended context or a lost
//     database gdprkit.ErrUnavailable, and no driver message (which can
//     quote values) reaches the caller.
package hostconsent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Store is a consent.Store over the host's crm_consent_* tables. It is safe
// for concurrent use.
type Store struct {
	db *sql.DB
	d  sqldb.Dialect
}

var _ consent.Store = (*Store)(nil)

// New returns a Store over db, whose SQL is dialect d. The tables must
// exist (CreateTables).
func New(db *sql.DB, d sqldb.Dialect) (*Store, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &Store{db: db, d: d}, nil
}

// CreateTables creates the host's consent tables if they do not exist. A
// host would run these statements from its own migration tool.
func CreateTables(ctx context.Context, db *sql.DB, d sqldb.Dialect) error {
	for _, q := range schema(d) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("hostconsent: create tables: %w", sqldb.Classify(err))
		}
	}
	return nil
}

// schema returns the DDL of the host's tables in dialect d.
func schema(d sqldb.Dialect) []string {
	// key is a byte-compared short string, text a long one, flag a boolean.
	key, text, flag, tail := "TEXT", "TEXT", "BOOLEAN", ""
	switch d {
	case sqldb.SQLite:
		flag = "INTEGER"
	case sqldb.MySQL:
		key, text, tail = "VARBINARY(512)", "LONGBLOB", " ENGINE=InnoDB"
	}
	// The log's two indexes: inside CREATE TABLE on MySQL, which has no
	// CREATE INDEX IF NOT EXISTS; after it elsewhere.
	const person, live = "(tenant_id, person_ref, topic_key, position)", "(tenant_id, person_ref, record_id)"
	var logIndexes string
	var indexes []string
	if d == sqldb.MySQL {
		logIndexes = ",\n\tKEY crm_consent_log_person " + person + ",\n\tKEY crm_consent_log_live " + live
	} else {
		indexes = []string{
			"CREATE INDEX IF NOT EXISTS crm_consent_log_person ON crm_consent_log " + person,
			"CREATE INDEX IF NOT EXISTS crm_consent_log_live ON crm_consent_log " + live,
		}
	}
	return append([]string{
		`CREATE TABLE IF NOT EXISTS crm_consent_topics (
	tenant_id ` + key + ` NOT NULL, topic_key ` + key + ` NOT NULL,
	title ` + text + ` NOT NULL, label ` + text + ` NOT NULL, description ` + text + ` NOT NULL,
	lifetime_us BIGINT NOT NULL, current_version BIGINT NOT NULL, material_version BIGINT NOT NULL,
	created_us BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, topic_key))` + tail,
		`CREATE TABLE IF NOT EXISTS crm_consent_texts (
	tenant_id ` + key + ` NOT NULL, topic_key ` + key + ` NOT NULL, version BIGINT NOT NULL,
	body ` + text + ` NOT NULL, body_sha256 ` + key + ` NOT NULL, material ` + flag + ` NOT NULL,
	published_us BIGINT NOT NULL, published_by ` + key + ` NOT NULL,
	PRIMARY KEY (tenant_id, topic_key, version))` + tail,
		`CREATE TABLE IF NOT EXISTS crm_consent_log (
	tenant_id ` + key + ` NOT NULL, position BIGINT NOT NULL, record_id ` + key + ` NOT NULL,
	person_ref ` + key + ` NOT NULL, topic_key ` + key + ` NOT NULL, scrubbed ` + flag + ` NOT NULL,
	payload ` + text + ` NOT NULL,
	PRIMARY KEY (tenant_id, position)` + logIndexes + `)` + tail,
		`CREATE TABLE IF NOT EXISTS crm_consent_tip (
	tenant_id ` + key + ` NOT NULL PRIMARY KEY, position BIGINT NOT NULL, hash ` + key + ` NOT NULL)` + tail,
	}, indexes...)
}

// wrap shapes an error for callers (see the package doc).
func wrap(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("hostconsent: %s: %w", what, gdprkit.ErrNotFound)
	}
	return fmt.Errorf("hostconsent: %s: %w", what, sqldb.Classify(err))
}

// q rebinds a query written with ? placeholders to the dialect.
func (s *Store) q(query string) string { return s.d.Rebind(query) }

// forUpdate is the row-lock suffix of a SELECT; SQLite has none and
// serialises writers instead.
func (s *Store) forUpdate() string {
	if s.d == sqldb.SQLite {
		return ""
	}
	return " FOR UPDATE"
}

// tx runs fn in a transaction, again (up to five times) when the database
// reports a deadlock or a serialisation failure. An error of fn that
// already wraps a gdprkit sentinel, or is seal's own, passes unchanged.
func (s *Store) tx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return wrap(ctx.Err(), what)
			case <-time.After(time.Duration(1+rand.IntN(10<<attempt)) * time.Millisecond):
			}
		}
		err = s.try(ctx, fn)
		if err == nil || !sqldb.Retryable(err) {
			break
		}
	}
	if err != nil && ctx.Err() != nil {
		// A statement cut short by the context can fail with a driver
		// error that does not say so; the cause is the context.
		return wrap(errors.Join(ctx.Err(), err), what)
	}
	return wrap(err, what)
}

func (s *Store) try(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Times and durations are stored as microseconds: every database keeps a
// BIGINT exactly, whatever its time types do with zones and precision.
func us(t time.Time) int64            { return t.UnixMicro() }
func fromUS(v int64) time.Time        { return time.UnixMicro(v).UTC() }
func usDur(d time.Duration) int64     { return d.Microseconds() }
func fromUSDur(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// CreatePurpose implements consent.Store.
func (s *Store) CreatePurpose(ctx context.Context, a gdprkit.AccountID, p consent.Purpose) error {
	if err := a.Validate(); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO crm_consent_topics
	(tenant_id, topic_key, title, label, description, lifetime_us, current_version, material_version, created_us)
	VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)`),
		string(a), p.Key, p.Name, p.Label, p.Description, usDur(p.Lifetime), us(p.CreatedAt))
	return wrap(err, "create purpose")
}

const topicCols = "topic_key, title, label, description, lifetime_us, current_version, material_version, created_us"

func scanTopic(sc interface{ Scan(...any) error }, p *consent.Purpose) error {
	var life, created int64
	if err := sc.Scan(&p.Key, &p.Name, &p.Label, &p.Description, &life, &p.CurrentVersion, &p.MaterialVersion, &created); err != nil {
		return err
	}
	p.Lifetime, p.CreatedAt = fromUSDur(life), fromUS(created)
	return nil
}

// Purpose implements consent.Store.
func (s *Store) Purpose(ctx context.Context, a gdprkit.AccountID, key string) (consent.Purpose, error) {
	var p consent.Purpose
	err := scanTopic(s.db.QueryRowContext(ctx, s.q("SELECT "+topicCols+" FROM crm_consent_topics WHERE tenant_id = ? AND topic_key = ?"), string(a), key), &p)
	return p, wrap(err, fmt.Sprintf("purpose %q", key))
}

// Purposes implements consent.Store.
func (s *Store) Purposes(ctx context.Context, a gdprkit.AccountID) ([]consent.Purpose, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+topicCols+" FROM crm_consent_topics WHERE tenant_id = ? ORDER BY topic_key"), string(a))
	if err != nil {
		return nil, wrap(err, "purposes")
	}
	defer rows.Close()
	var out []consent.Purpose
	for rows.Next() {
		var p consent.Purpose
		if err := scanTopic(rows, &p); err != nil {
			return nil, wrap(err, "purposes")
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "purposes")
}

// PublishPolicy implements consent.Store: the purpose's row is locked while
// its version counts up.
func (s *Store) PublishPolicy(ctx context.Context, a gdprkit.AccountID, p consent.Policy) (consent.Policy, error) {
	if err := a.Validate(); err != nil {
		return consent.Policy{}, err
	}
	err := s.tx(ctx, "publish policy", func(tx *sql.Tx) error {
		var cur, mat int
		err := tx.QueryRowContext(ctx, s.q("SELECT current_version, material_version FROM crm_consent_topics WHERE tenant_id = ? AND topic_key = ?"+s.forUpdate()),
			string(a), p.Purpose).Scan(&cur, &mat)
		if err != nil {
			return wrap(err, fmt.Sprintf("purpose %q", p.Purpose))
		}
		p.Version = cur + 1
		if p.Material {
			mat = p.Version
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO crm_consent_texts
	(tenant_id, topic_key, version, body, body_sha256, material, published_us, published_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			string(a), p.Purpose, p.Version, p.Text, p.TextHash, p.Material, us(p.PublishedAt), string(p.PublishedBy)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q("UPDATE crm_consent_topics SET current_version = ?, material_version = ? WHERE tenant_id = ? AND topic_key = ?"),
			p.Version, mat, string(a), p.Purpose)
		return err
	})
	if err != nil {
		return consent.Policy{}, err
	}
	return p, nil
}

// Policy implements consent.Store.
func (s *Store) Policy(ctx context.Context, a gdprkit.AccountID, purpose string, version int) (consent.Policy, error) {
	p := consent.Policy{Purpose: purpose, Version: version}
	var published int64
	var by string
	err := s.db.QueryRowContext(ctx, s.q("SELECT body, body_sha256, material, published_us, published_by FROM crm_consent_texts WHERE tenant_id = ? AND topic_key = ? AND version = ?"),
		string(a), purpose, version).Scan(&p.Text, &p.TextHash, &p.Material, &published, &by)
	p.PublishedAt, p.PublishedBy = fromUS(published), gdprkit.ActorID(by)
	return p, wrap(err, fmt.Sprintf("policy %q version %d", purpose, version))
}
