package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// refuseInserts installs a trigger that refuses inserts into table, or
// only those whose column equals value when column is not empty, the way
// a host's own rule (or a constraint gdprkit does not know about) would.
func (e *env) refuseInserts(table, column, value string) {
	e.t.Helper()
	when := map[sqldb.Dialect]string{}
	if column != "" {
		when[sqldb.SQLite] = " WHEN NEW." + column + " = '" + value + "'"
		when[sqldb.Postgres] = " WHEN (NEW." + column + " = '" + value + "')"
		when[sqldb.MySQL] = "NEW." + column + " = '" + value + "'"
	} else {
		when[sqldb.MySQL] = "TRUE"
	}
	d := e.app.host.Dialect()
	var stmts []string
	switch d {
	case sqldb.SQLite:
		stmts = []string{"CREATE TRIGGER refuse_" + table + " BEFORE INSERT ON " + table + " FOR EACH ROW" + when[d] + " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"}
	case sqldb.Postgres:
		stmts = []string{"CREATE FUNCTION refuse_" + table + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
			"CREATE TRIGGER refuse_" + table + " BEFORE INSERT ON " + table + " FOR EACH ROW" + when[d] + " EXECUTE FUNCTION refuse_" + table + "()"}
	case sqldb.MySQL:
		stmts = []string{"CREATE TRIGGER refuse_" + table + " BEFORE INSERT ON " + table + " FOR EACH ROW BEGIN IF " + when[d] +
			" THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF; END"}
	}
	for _, st := range stmts {
		_, err := e.db.Exec(st)
		require.NoError(e.t, err, st)
	}
}

// consentEvents counts the audit log's consent.granted events.
func (e *env) consentEvents() int {
	n := 0
	for _, ev := range e.events() {
		if ev.Type == "consent.granted" {
			n++
		}
	}
	return n
}

// The contact form writes the customer, the ticket and the consent in one
// transaction of the host's, consent last. A ticket the database refuses
// only when the transaction commits (a deferred constraint), after the
// consent was appended, takes the customer and the consent with it, and
// the audit log names no consent that was not stored. MySQL has no
// deferred constraints, so this runs on SQLite and PostgreSQL;
// TestContactFormLeavesNothingWhenTheTicketIsRefused refuses the ticket
// at its insert on all three.
func TestContactFormRefusedAtCommitLeavesNoConsentNorItsAuditEvent(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			ddl := map[sqldb.Dialect][]string{
				sqldb.SQLite: {"CREATE TABLE hd_test_parent (id INTEGER PRIMARY KEY)",
					"CREATE TABLE hd_test_child (parent_id INTEGER REFERENCES hd_test_parent (id) DEFERRABLE INITIALLY DEFERRED)",
					"CREATE TRIGGER hd_test_late AFTER INSERT ON hd_tickets WHEN NEW.subject = 'Help with Lea Late' BEGIN INSERT INTO hd_test_child VALUES (-1); END"},
				sqldb.Postgres: {"CREATE FUNCTION hd_test_late() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
					"CREATE CONSTRAINT TRIGGER hd_test_late AFTER INSERT ON hd_tickets DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.subject = 'Help with Lea Late') EXECUTE FUNCTION hd_test_late()"},
			}[d]
			if ddl == nil {
				t.Skip("MySQL checks every constraint at once: no write can fail at commit")
			}
			e := envOn(t, d)
			records, events := e.count("SELECT COUNT(*) FROM gdpr_consent_records"), e.consentEvents()
			for _, st := range ddl {
				_, err := e.db.Exec(st)
				require.NoError(t, err, st)
			}

			status, body := e.browser().contact("Lea Late", "lea@example.org", "Please call me back.", true)
			assert.Equal(t, http.StatusInternalServerError, status, "%.300s", body)
			assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE email = 'lea@example.org'"), "the customer went with the ticket")
			assert.Equal(t, records, e.count("SELECT COUNT(*) FROM gdpr_consent_records"), "the consent went with the ticket")
			assert.Equal(t, events, e.consentEvents(), "no audit event names a consent that was not stored")

			status, body = e.browser().contact("Otto Other", "otto@example.org", "Where is my parcel?", true)
			require.Equal(t, http.StatusOK, status, "%.300s", body)
			assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM gdpr_consent_records c JOIN hd_users u ON u.id = c.subject WHERE u.email = 'otto@example.org'"))
			assert.Equal(t, events+1, e.consentEvents(), "a stored consent is audited")
		})
	}
}

// The other way round: when the consent cannot be stored, neither can the
// customer and the ticket it was for. (Recorded after the host's commit,
// as the form once did, the customer and ticket stayed without consent.)
func TestContactFormWhoseConsentIsRefusedLeavesNoCustomerAndNoTicket(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := envOn(t, d)
			records, events, files := e.count("SELECT COUNT(*) FROM gdpr_consent_records"), e.consentEvents(), len(e.files())
			e.refuseInserts("gdpr_consent_records", "", "")

			status, body := e.browser().contact("Carl Consent", "carl@example.org", "Can you call me?", true)
			assert.Equal(t, http.StatusInternalServerError, status, "%.300s", body)
			assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE email = 'carl@example.org'"))
			assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets WHERE subject = 'Help with Carl Consent'"))
			assert.Equal(t, records, e.count("SELECT COUNT(*) FROM gdpr_consent_records"))
			assert.Equal(t, 0, e.count("SELECT COUNT(*) FROM gdpr_consent_heads h WHERE h.seq <> (SELECT COUNT(*) FROM gdpr_consent_records r WHERE r.account_id = h.account_id)"),
				"every chain head still points at its last record")
			assert.Equal(t, events, e.consentEvents())
			assert.Len(t, e.files(), files, "the attachment's file was removed with the ticket")
			assert.False(t, strings.Contains(body, `id="thanks"`))
		})
	}
}
