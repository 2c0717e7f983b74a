package processing_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/processing"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Example generates the record of processing of one account of a small
// helpdesk on SQLite: the tables bound to the erasure graph say what they
// hold, consent knows the purposes, retention the time limits, and the
// host declares its sub-processors.
func Example() {
	dir, _ := os.MkdirTemp("", "processing-example-")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, ddl := range []string{
		`CREATE TABLE contacts (id TEXT PRIMARY KEY, name TEXT, email TEXT)`,
		`CREATE TABLE tickets (id TEXT PRIMARY KEY, contact_id TEXT REFERENCES contacts (id), body TEXT)`,
	} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			panic(err)
		}
	}
	st, _ := sqlstore.New(db, sqldb.SQLite)
	if err := st.Migrate(ctx); err != nil {
		panic(err)
	}
	clock := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	cs, _ := consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps, Clock: clock})
	_, _ = cs.DefinePurpose(ctx, "acme", consent.Purpose{Key: "newsletter", Name: "Newsletter"})
	_, _ = cs.PublishPolicy(ctx, "acme", "newsletter", "A monthly e-mail; leave any time.", true, "owner")
	life, _ := retention.New(retention.Config{Store: st.Retention(), Clock: clock})

	b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db, Dialect: sqldb.SQLite, Specs: []sqltarget.Spec{
		{Kind: erasure.KindEndUser, Table: "contacts", Key: "id", SubjectColumn: "id", Description: "contact: name, e-mail",
			Categories: []string{erasure.CategoryIdentity, erasure.CategoryContact}},
		{Kind: erasure.KindTicket, Parent: erasure.KindEndUser, Table: "tickets", Key: "id", ParentColumn: "contact_id", Description: "their tickets",
			Categories: []string{erasure.CategoryContent}},
	}})
	if err != nil {
		panic(err)
	}
	graph, _ := erasure.NewGraph(append(b.Targets(), kitdata.ConsentTarget(cs))...)
	er, _ := erasure.New(erasure.Config{Store: st.Erasure(), Graph: graph, Directory: noDirectory{}, Pseudonymizer: ps, Clock: clock})

	rec, err := processing.Generate(ctx, "acme", processing.Config{
		Erasure: er, Consent: cs, Lifecycle: life,
		Controller: func(context.Context, gdprkit.AccountID) (processing.Party, error) {
			return processing.Party{Name: "Acme Ltd", Contact: "privacy@acme.example"}, nil
		},
		Purposes: []processing.DeclaredPurpose{{Key: "support", Name: "Customer support", LegalBasis: "Art. 6(1)(b) contract"}},
		SubProcessors: []processing.SubProcessor{{Name: "mailer", Purpose: "e-mail delivery", Region: "US", Country: "US",
			Agreement: "DPA-7", AgreementDate: "2025-07-01", TransferMechanism: "SCCs 2021/914"}},
		Clock: clock,
	})
	if err != nil {
		panic(err)
	}
	for _, p := range rec.Purposes {
		fmt.Printf("purpose %s: %s\n", p.Key, p.LegalBasis)
	}
	for _, c := range rec.DataCategories {
		var kinds []string
		for _, k := range c.Kinds {
			kinds = append(kinds, string(k.Kind)+" ("+string(k.OnErasure)+")")
		}
		fmt.Printf("%s: %s\n", c.Category, strings.Join(kinds, ", "))
	}
	for _, t := range rec.Transfers {
		fmt.Printf("transfer to %s in %s under %s\n", t.Recipient, t.Country, t.Mechanism)
	}
	fmt.Println(rec.Retention[0].What, "after", rec.Retention[0].After, "->", rec.Retention[0].Then)
	fmt.Println(len(rec.Issues), "issues;", strings.Count(rec.Markdown(), "\n## "), "Markdown sections")
	// Output:
	// purpose support: Art. 6(1)(b) contract
	// purpose newsletter: Art. 6(1)(a) consent
	// identity: end_user (delete), consent (anonymize)
	// contact: end_user (delete)
	// content: ticket (delete)
	// online identifiers: consent (anonymize)
	// consent: consent (anonymize)
	// transfer to mailer in US under SCCs 2021/914
	// trial account not upgraded after 14 days -> suspended: no login and no data access for the owner, agents or customers
	// 0 issues; 8 Markdown sections
}

// ExampleCheck is the test a host keeps beside its binding: a kind that
// declares no data category fails it by name.
func ExampleCheck() {
	hd := memhelpdesk.New() // the reference binding declares no categories but the blob target's
	graph, _ := erasure.NewGraph(hd.Targets()...)
	err := processing.Check(graph, nil)
	fmt.Println(err != nil, len(err.(*processing.UncategorisedError).Kinds))

	declared := map[erasure.Kind][]string{}
	for _, k := range graph.Order() {
		declared[k] = []string{erasure.CategoryContent}
	}
	declared[erasure.KindEndUser] = []string{erasure.CategoryIdentity, erasure.CategoryContact}
	fmt.Println(processing.Check(graph, declared))
	// Output:
	// true 12
	// <nil>
}
