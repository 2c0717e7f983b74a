package processing_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/fsblob"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/processing"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
)

const acct gdprkit.AccountID = "acme"

// The host's tables: a small helpdesk that keeps people, tickets,
// messages and attachment files (pr_ so they live beside gdpr_).
var hostDDL = []string{
	`CREATE TABLE pr_users (account_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, name VARCHAR(200) NULL, email VARCHAR(200) NULL,
		last_ip VARCHAR(64) NULL, PRIMARY KEY (account_id, id))`,
	`CREATE TABLE pr_tickets (account_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, requester_id VARCHAR(64) NULL, subject VARCHAR(200) NOT NULL,
		status VARCHAR(16) NOT NULL, closed_at VARCHAR(32) NULL, trashed_at VARCHAR(32) NULL, PRIMARY KEY (account_id, id))`,
	`CREATE TABLE pr_messages (account_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, ticket_id VARCHAR(64) NOT NULL, body TEXT NOT NULL,
		PRIMARY KEY (account_id, id))`,
	`CREATE TABLE pr_attachments (account_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, message_id VARCHAR(64) NOT NULL, blob_key VARCHAR(200) NULL,
		PRIMARY KEY (account_id, id))`,
}

// hostSpecs binds the tables, each with the data categories it holds.
func hostSpecs() []sqltarget.Spec {
	const a = "account_id"
	return []sqltarget.Spec{
		{Kind: erasure.KindEndUser, Table: "pr_users", Key: "id", SubjectColumn: "id", AccountColumn: a, Description: "user profile: name, e-mail, last IP",
			Identifiers: map[string]string{"email": "email"},
			Categories:  []string{erasure.CategoryIdentity, erasure.CategoryContact, erasure.CategoryOnlineIdentifiers}},
		{Kind: erasure.KindTicket, Parent: erasure.KindEndUser, Table: "pr_tickets", Key: "id", ParentColumn: "requester_id", AccountColumn: a,
			Description: "tickets the user opened", Categories: []string{erasure.CategoryContent, erasure.CategoryUsage}},
		{Kind: erasure.KindMessage, Parent: erasure.KindTicket, Table: "pr_messages", Key: "id", ParentColumn: "ticket_id", AccountColumn: a,
			Description: "messages of those tickets", Categories: []string{erasure.CategoryContent}},
		{Kind: erasure.KindAttachment, Parent: erasure.KindMessage, Table: "pr_attachments", Key: "id", ParentColumn: "message_id", AccountColumn: a,
			Description: "attachment records", Categories: []string{erasure.CategoryAttachments}},
	}
}

// world is the host with every gdprkit service on one real database.
type world struct {
	t        *testing.T
	d        sqldb.Dialect
	db       *sql.DB
	st       *sqlstore.Store
	clock    *fakeclock.Clock
	consent  *consent.Service
	life     *retention.Service
	sched    *retention.Schedules
	ips      *ipfilter.Filter
	authnCfg authn.Config
	auth     *authn.Service
	erasure  *erasure.Service
}

type worldOpt struct {
	specs      []sqltarget.Spec // default hostSpecs()
	recipients []string         // erasure.Config.Recipients by name
}

func newWorld(t *testing.T, d sqldb.Dialect, o worldOpt) *world {
	t.Helper()
	st, db := testdb.OpenStore(t, d)
	w := &world{t: t, d: d, db: db.DB, st: st, clock: fakeclock.New(t0)}
	for _, ddl := range hostDDL {
		_, err := db.ExecContext(ctx, ddl)
		require.NoError(t, err)
	}
	ps, err := gdprkit.NewPseudonymizer([]byte("processing-test-key-0123456789abcdef"))
	require.NoError(t, err)
	w.consent, err = consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps, Clock: w.clock})
	require.NoError(t, err)
	w.life, err = retention.New(retention.Config{Store: st.Retention(), Clock: w.clock})
	require.NoError(t, err)
	w.sched, err = retention.NewSchedules(retention.ScheduleConfig{Store: st.Retention(), Clock: w.clock,
		Targets: map[retention.TargetKind]retention.Target{retention.KindTicket: &ticketRetention{db: db.DB, d: d}}})
	require.NoError(t, err)
	w.ips, err = ipfilter.New(ipfilter.Config{Store: st.IPFilter(), Clock: w.clock})
	require.NoError(t, err)
	keys, err := authn.NewKeyRing("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	w.authnCfg = authn.Config{Store: st.Authn(), Keys: keys, Clock: w.clock, AccountGate: w.life, IPGate: w.ips}
	auth, err := authn.New(w.authnCfg)
	require.NoError(t, err)
	w.auth = auth
	files, err := fsblob.New(fsblob.Config{Dir: t.TempDir()})
	require.NoError(t, err)

	specs := o.specs
	if specs == nil {
		specs = hostSpecs()
	}
	b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db.DB, Dialect: d, Specs: specs,
		Blobs: []sqltarget.BlobSpec{{Kind: erasure.KindBlob, Parent: erasure.KindAttachment, Table: "pr_attachments", KeyColumn: "blob_key",
			ParentColumn: "id", AccountColumn: "account_id", Store: files}}})
	require.NoError(t, err)
	g, err := erasure.NewGraph(append(b.Targets(), kitdata.ConsentTarget(w.consent), kitdata.CredentialsTarget(auth.Credentials()),
		kitdata.ActorRefsTarget("ip_rule_author", "IP list entries the user added: authorship anonymised", w.ips))...)
	require.NoError(t, err)
	var rs []erasure.Recipient
	for _, n := range o.recipients {
		rs = append(rs, erasure.Recipient{Name: n, Notifier: erasure.NotifierFunc(func(context.Context, erasure.Notification) error { return nil })})
	}
	w.erasure, err = erasure.New(erasure.Config{Store: st.Erasure(), Graph: g, Directory: noDirectory{}, Pseudonymizer: ps, Clock: w.clock,
		Recipients: rs, Rules: map[erasure.Kind]erasure.Rule{erasure.KindTicket: {Action: erasure.Keep, Ground: "Art. 17(3)(b): tax law keeps invoices' tickets"}}})
	require.NoError(t, err)
	return w
}

// config is the host's full processing configuration.
func (w *world) config() processing.Config {
	return processing.Config{
		Erasure: w.erasure, Consent: w.consent, Lifecycle: w.life, Schedules: w.sched, IPRules: w.ips,
		Security: []processing.MeasureSource{processing.AuthnMeasures(w.auth)},
		Controller: func(_ context.Context, a gdprkit.AccountID) (processing.Party, error) {
			return processing.Party{Name: "Acme Ltd", Contact: "1 Main St, Dublin; privacy@acme.example", DPO: "Dana Roe, dpo@acme.example"}, nil
		},
		Processor: processing.Party{Name: "Helpdesk Vendor GmbH", Contact: "Berlin; legal@vendor.example", DPO: "dpo@vendor.example"},
		Purposes: []processing.DeclaredPurpose{{Key: "helpdesk", Name: "Customer support", LegalBasis: "Art. 6(1)(b) contract",
			Description: "answering the customers' requests", Categories: []string{erasure.CategoryContact, erasure.CategoryContent}}},
		SubProcessors: []processing.SubProcessor{
			{Name: "hosting", Purpose: "servers and database", Region: "EU (Frankfurt)", Country: "DE", Agreement: "DPA-2025-01", AgreementDate: "2025-01-15"},
			{Name: "mailer", Purpose: "e-mail delivery", Categories: []string{erasure.CategoryContact, erasure.CategoryContent}, Region: "US (Virginia)",
				Country: "US", Agreement: "DPA-2025-07", AgreementDate: "2025-07-01", TransferMechanism: "SCCs 2021/914 module 3"},
		},
		Measures: []processing.Measure{{Name: "Audit log", Detail: "every gdprkit event is kept 2 years in an append-only store"}},
		Clock:    w.clock,
	}
}

// seedAccount gives the account what the record reads: consent purposes
// and policies, a lifecycle, retention rules and IP rules.
func (w *world) seedAccount() {
	t := w.t
	_, err := w.life.Start(ctx, acct, retention.EventStartTrial, "owner")
	require.NoError(t, err)
	_, err = w.consent.DefinePurpose(ctx, acct, consent.Purpose{Key: "newsletter", Name: "Newsletter", Lifetime: 365 * 24 * time.Hour})
	require.NoError(t, err)
	_, err = w.consent.PublishPolicy(ctx, acct, "newsletter", "We send a monthly e-mail.", true, "owner")
	require.NoError(t, err)
	w.clock.Advance(time.Hour)
	_, err = w.consent.PublishPolicy(ctx, acct, "newsletter", "We send a monthly e-mail, and you can leave any time.", false, "owner")
	require.NoError(t, err)
	_, err = w.consent.DefinePurpose(ctx, acct, consent.Purpose{Key: "chat", Name: "Live chat"})
	require.NoError(t, err)
	_, err = w.consent.PublishPolicy(ctx, acct, "chat", "Chat transcripts are kept with the ticket.", true, "owner")
	require.NoError(t, err)
	_, err = w.sched.AddRule(ctx, acct, retention.ClosedTickets(6), "owner")
	require.NoError(t, err)
	_, err = w.sched.AddRule(ctx, acct, retention.TrashedTickets(30), "owner")
	require.NoError(t, err)
	keep, err := w.sched.AddRule(ctx, acct, retention.KeepAtLeast(retention.KindTicket, "closed", "closed_at", 3), "owner")
	require.NoError(t, err)
	require.NoError(t, w.sched.SetDisabled(ctx, acct, keep.ID, true, "owner"))
	_, err = w.ips.SetRules(ctx, ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAgentPanel, Actor: "owner", Force: true,
		Allow: []ipfilter.Input{{Value: "192.0.2.0/24", Note: "office"}, {Value: "2001:db8::/32"}}, Deny: []ipfilter.Input{{Value: "192.0.2.66"}},
		ExpectedVersion: ipfilter.AnyVersion})
	require.NoError(t, err)
	_, err = w.ips.SetRules(ctx, ipfilter.Change{Account: acct, Surface: gdprkit.SurfaceAPI, Actor: "owner", Force: true,
		Deny: []ipfilter.Input{{Value: "198.51.100.0/24"}}, ExpectedVersion: ipfilter.AnyVersion})
	require.NoError(t, err)
}

// noDirectory knows nobody: the record never asks who is who.
type noDirectory struct{}

func (noDirectory) Lookup(context.Context, gdprkit.AccountID, gdprkit.SubjectID) (erasure.Subject, error) {
	return erasure.Subject{}, gdprkit.ErrNotFound
}

func (noDirectory) Subjects(context.Context, gdprkit.AccountID, string, int) ([]gdprkit.SubjectID, string, error) {
	return nil, "", nil
}

// ticketRetention is the retention target over pr_tickets: tickets by
// status, aged by closed_at or trashed_at.
type ticketRetention struct {
	db *sql.DB
	d  sqldb.Dialect
}

func (ticketRetention) Schema() retention.TargetSchema {
	return retention.TargetSchema{Statuses: []string{"open", "closed", "trash"}, Fields: []string{"closed_at", "trashed_at"}}
}

func (r *ticketRetention) q(s string) string {
	if r.d != sqldb.Postgres {
		return s
	}
	for i := 1; strings.Contains(s, "?"); i++ {
		s = strings.Replace(s, "?", fmt.Sprintf("$%d", i), 1)
	}
	return s
}

func (r *ticketRetention) Find(ctx context.Context, account gdprkit.AccountID, sel retention.Selector, limit int) ([]retention.Candidate, error) {
	f := sel.Field // one of Schema's fields: AddRule refuses any other
	query := "SELECT id, " + f + " FROM pr_tickets WHERE account_id = ? AND " + f + " IS NOT NULL AND " + f + " < ? AND (" + f + " > ? OR (" + f + " = ? AND id > ?))"
	after := sel.After.At.UTC().Format(time.RFC3339Nano)
	args := []any{string(account), sel.Before.UTC().Format(time.RFC3339Nano), after, after, sel.After.ID}
	if sel.Status != "" {
		query += " AND status = ?"
		args = append(args, sel.Status)
	}
	rows, err := r.db.QueryContext(ctx, r.q(query+" ORDER BY "+f+", id LIMIT ?"), append(args, limit)...)
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	var out []retention.Candidate
	for rows.Next() {
		var id, at string
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		ts, _ := time.Parse(time.RFC3339Nano, at)
		out = append(out, retention.Candidate{ID: id, At: ts})
	}
	return out, rows.Err()
}

func (r *ticketRetention) Delete(ctx context.Context, account gdprkit.AccountID, ids []string) (retention.DeleteResult, error) {
	var res retention.DeleteResult
	for _, id := range ids {
		x, err := r.db.ExecContext(ctx, r.q("DELETE FROM pr_tickets WHERE account_id = ? AND id = ?"), string(account), id)
		if err != nil {
			return res, sqldb.Classify(err)
		}
		if n, _ := x.RowsAffected(); n > 0 {
			res.Removed = append(res.Removed, id)
		}
	}
	return res, nil
}
