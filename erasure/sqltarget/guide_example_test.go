package sqltarget_test

// The runnable examples of docs/binding-an-existing-schema.md. Each prints
// what the guide shows (TestGuide checks that the guide's output blocks are
// lines of these outputs), on SQLite in a temporary file.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/fsblob"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/hostfixture"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// exampleDB opens a fresh SQLite file that enforces foreign keys, and
// returns it with its directory and a function that removes both.
func exampleDB() (*sql.DB, string, func()) {
	dir, err := os.MkdirTemp("", "sqltarget-guide")
	if err != nil {
		log.Fatal(err)
	}
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "host.db")))
	if err != nil {
		log.Fatal(err)
	}
	return db, dir, func() { db.Close(); os.RemoveAll(dir) }
}

// naiveSmall binds the small schema (bind_test.go) the way one would
// without reading it: delete the person, pseudonymise the integer key,
// null a NOT NULL name, put a label into a 10-character column.
func naiveSmall() []sqltarget.Spec {
	return []sqltarget.Spec{
		{Kind: "person", Table: "people", Key: "id", SubjectColumn: "id",
			Columns: []sqltarget.Column{{Name: "id", Action: sqltarget.Pseudonym}, {Name: "name", Action: sqltarget.Null}, {Name: "kind", Action: sqltarget.Label}}},
		{Kind: "ticket", Parent: "person", Table: "tickets", Key: "id", ParentColumn: "requester_id"},
		{Kind: "reply", Parent: "ticket", Table: "replies", Key: "id", ParentColumn: "ticket_id",
			Columns: []sqltarget.Column{{Name: "body", Action: sqltarget.Label}}},
	}
}

// A naive binding is refused whole, before anything is written, with one
// problem per hazard: each names the kind, its path in the graph, the
// table and column, and what to do.
func ExampleBind_refused() {
	ctx := context.Background()
	db, _, done := exampleDB()
	defer done()
	for _, q := range smallSchema(sqldb.SQLite) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			log.Fatal(err)
		}
	}
	_, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db, Dialect: sqldb.SQLite, Specs: naiveSmall()})
	fmt.Println(err)
	var refused *sqltarget.ProblemsError
	fmt.Println(errors.Is(err, gdprkit.ErrInvalid), errors.As(err, &refused) && len(refused.Problems) == 15)
	// Output:
	// sqltarget: the binding is refused (15 problems):
	//   sqltarget: audit.person_id: references the subjects' table people, but no target binds it: bind it (SubjectColumn or ParentColumn person_id), or list it in Ignore if it holds nothing about the person
	//   sqltarget: replies.author_id: references the subjects' table people, but no target binds it: bind it (SubjectColumn or ParentColumn author_id), or list it in Ignore if it holds nothing about the person
	//   sqltarget: stats.person_id: references the subjects' table people, but no target binds it: bind it (SubjectColumn or ParentColumn person_id), or list it in Ignore if it holds nothing about the person
	//   sqltarget: tickets.assignee_id: references the subjects' table people, but no target binds it: bind it (SubjectColumn or ParentColumn assignee_id), or list it in Ignore if it holds nothing about the person
	//   sqltarget person: audit.person_id: deleting people rows would be refused by this foreign key (ON DELETE NO ACTION): no target handles audit first; bind it (ParentColumn person_id), or keep people rows (anonymise in place)
	//   sqltarget person: people.id: a pseudonym into an integer column: use a Marker to anonymise a row with an integer key in place
	//   sqltarget person: people.id: anonymising changes this column, which audit.person_id references (ON UPDATE NO ACTION): anonymise in place with a Marker instead
	//   sqltarget person: people.id: anonymising changes this column, which replies.author_id references (ON UPDATE NO ACTION): anonymise in place with a Marker instead
	//   sqltarget person: people.id: anonymising changes this column, which stats.person_id references (ON UPDATE NO ACTION): anonymise in place with a Marker instead
	//   sqltarget person: people.id: anonymising changes this column, which tickets.assignee_id references (ON UPDATE NO ACTION): anonymise in place with a Marker instead
	//   sqltarget person: people.id: anonymising changes this column, which tickets.requester_id references (ON UPDATE NO ACTION): anonymise in place with a Marker instead
	//   sqltarget person: people.name: Null on a NOT NULL column: use Fixed, Blank or a Marker
	//   sqltarget person: replies.author_id: deleting people rows would make the database delete these rows (ON DELETE CASCADE), which no target binds: bind replies (ParentColumn author_id), or list it in Cascade
	//   sqltarget person: stats.person_id: deleting people rows would make the database change this column (ON DELETE SET NULL) in rows no target binds: bind stats, or list it in Cascade
	//   sqltarget person: tickets.assignee_id: deleting people rows would make the database change this column (ON DELETE SET NULL) in rows no target binds: bind tickets, or list it in Cascade
	// true true
}

// The same schema bound as the guide says (correctSmall in bind_test.go):
// the person is anonymised in place, what they wrote and were assigned
// has targets of its own, statistics are left to the database's SET NULL
// (Cascade) and the audit trail is deliberately not bound (Ignore). The
// report lists the kinds in the order they will act, and why.
func ExampleBind() {
	ctx := context.Background()
	db, _, done := exampleDB()
	defer done()
	for _, q := range smallSchema(sqldb.SQLite) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			log.Fatal(err)
		}
	}
	b, err := sqltarget.Bind(ctx, sqltarget.Config{DB: db, Dialect: sqldb.SQLite, Specs: correctSmall(),
		Cascade: []string{"stats"}, Ignore: []string{"audit.person_id"}})
	if err != nil {
		log.Fatal(err)
	}
	rep := b.Report()
	fmt.Println("kinds in order:", rep.Kinds)
	for _, o := range rep.Order {
		fmt.Println(o)
	}
	for _, r := range rep.References {
		fmt.Printf("%s -> %s (ON DELETE %s): by %v, cascaded %v, ignored %v\n", r.From, r.To, r.OnDelete, r.By, r.Cascaded, r.Ignored)
	}
	// Output:
	// kinds in order: [reply ticket assigned authored person]
	// assigned before person: tickets.assignee_id references people
	// authored before person: replies.author_id references people
	// replies.author_id -> people (ON DELETE CASCADE): by [authored], cascaded false, ignored false
	// tickets.assignee_id -> people (ON DELETE SET NULL): by [assigned], cascaded false, ignored false
	// tickets.requester_id -> people (ON DELETE CASCADE): by [ticket], cascaded false, ignored false
	// replies.ticket_id -> tickets (ON DELETE CASCADE): by [reply], cascaded false, ignored false
	// audit.person_id -> people (ON DELETE NO ACTION): by [], cascaded false, ignored true
}

// restrictNaive is the restrict fixture bound naively (the binding of
// TestRestrictNaiveBindingIsRefused).
func restrictNaive(db *sql.DB) sqltarget.Config {
	return sqltarget.Config{DB: db, Dialect: sqldb.SQLite, Specs: []sqltarget.Spec{
		{Kind: erasure.KindEndUser, Table: "customer_user", Key: "login", SubjectColumn: "login"},
		{Kind: erasure.KindTicket, Parent: erasure.KindEndUser, Table: "ticket", Key: "id", ParentColumn: "customer_user_id"},
		{Kind: erasure.KindMessage, Parent: erasure.KindTicket, Table: "article", Key: "id", ParentColumn: "ticket_id"},
		{Kind: "history", Parent: erasure.KindTicket, Table: "ticket_history", Key: "id", ParentColumn: "ticket_id"},
		{Kind: erasure.KindAgentProfile, Table: "users", Key: "id", SubjectColumn: "id"},
	}}
}

// Coverage is Bind's check without the binding: the report a host's CI
// prints (cmd/gdprkit-bindcheck). On the restrict schema, where every
// foreign key is NO ACTION, the naive binding has 146 problems; the
// worked binding none, and its kinds act in the order the foreign keys
// demand.
func ExampleCoverage() {
	ctx := context.Background()
	db, dir, done := exampleDB()
	defer done()
	if err := hostfixture.Create(ctx, db, sqldb.SQLite, hostfixture.Restrict); err != nil {
		log.Fatal(err)
	}
	files, err := fsblob.New(fsblob.Config{Dir: filepath.Join(dir, "files"), Layout: fsblob.Shared})
	if err != nil {
		log.Fatal(err)
	}
	rep, err := sqltarget.Coverage(ctx, restrictNaive(db))
	if err != nil {
		log.Fatal(err)
	}
	byClass := map[string]int{}
	for _, p := range rep.Problems {
		byClass[p.Class]++
	}
	fmt.Println("naive:", len(rep.Problems), "problems", byClass)
	for _, p := range rep.Problems {
		if p.Kind == erasure.KindMessage {
			fmt.Println(" ", p.Table+"."+p.Column)
		}
	}

	rep, err = sqltarget.Coverage(ctx, restrictBinding(db, sqldb.SQLite, files))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("worked:", len(rep.Problems), "problems")
	fmt.Println(rep.Kinds[:19])
	for _, o := range rep.Order {
		fmt.Println(" ", o)
	}
	// Output:
	// naive: 146 problems map[coverage:67 refused:79]
	//   article_data_mime.article_id
	//   article_data_mime_attachment.article_id
	//   article_data_mime_plain.article_id
	//   article_flag.article_id
	//   article_search_index.article_id
	//   mail_queue.article_id
	//   ticket_history.article_id
	//   time_accounting.article_id
	// worked: 0 problems
	// [customer_prefs history ticket_draft ticket_field ticket_flag ticket_index time article_field article_files article_flag article_history article_index article_time attachment mime outbox raw_mail article watcher]
	//   history before article: ticket_history.article_id references article
	//   ticket_index before article: article_search_index.article_id references article
	//   time before article: time_accounting.article_id references article
}

// The restrict directory resolves a customer by login and an agent by
// integer ID through one subject-ID space: the prefix says which table,
// the class which root targets run, the other keys what tables that name
// the agent by login find.
func ExampleNewDirectory() {
	ctx := context.Background()
	db, dir, done := exampleDB()
	defer done()
	if err := hostfixture.Create(ctx, db, sqldb.SQLite, hostfixture.Restrict); err != nil {
		log.Fatal(err)
	}
	seeded, err := hostfixture.Seed(ctx, db, sqldb.SQLite, hostfixture.Restrict, filepath.Join(dir, "files"))
	if err != nil {
		log.Fatal(err)
	}
	people, err := restrictPeople(ctx, db, sqldb.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []gdprkit.SubjectID{
		gdprkit.SubjectID("customer:" + seeded.SubjectCustomer.Login),
		gdprkit.SubjectID(fmt.Sprint("agent:", seeded.SubjectAgent.ID)),
		"agent:1",
		gdprkit.SubjectID("customer:" + seeded.Restrict.NumericLoginCustomer.Login),
	} {
		s, err := people.Lookup(ctx, "atlas", id)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: role %s, class %s, key %s, keys %v\n", s.ID, s.Role, s.Class, s.Key, s.Keys)
	}
	_, err = people.Lookup(ctx, "atlas", "20417")
	fmt.Println(errors.Is(err, gdprkit.ErrNotFound))
	// Output:
	// customer:bkrause: role end_user, class customer, key bkrause, keys map[]
	// agent:3: role agent, class agent, key 3, keys map[login:nvogel]
	// agent:1: role admin, class agent, key 1, keys map[login:root@localhost]
	// customer:20417: role end_user, class customer, key 20417, keys map[]
	// true
}

// rowPrints reads every row of every table but gdprkit's own as a
// multiset of fingerprints (a hash of the row's values): the before or
// after of an erasure. It needs nothing of the schema but its table names,
// so it works on tables without a primary key.
func rowPrints(ctx context.Context, db *sql.DB, d sqldb.Dialect) (map[string]map[[32]byte]int, error) {
	schema, err := sqldb.ReadSchema(ctx, db, d)
	if err != nil {
		return nil, err
	}
	out := map[string]map[[32]byte]int{}
	for _, t := range schema.Tables {
		if t.View || strings.HasPrefix(t.Name, "gdpr_") {
			continue
		}
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+d.Quote(t.Name))
		if err != nil {
			return nil, err
		}
		cols, _ := rows.Columns()
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		out[t.Name] = map[[32]byte]int{}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			h := sha256.New()
			for _, v := range vals {
				if v == nil {
					h.Write([]byte{0xff}) // NULL, unlike any length prefix below
					continue
				}
				fmt.Fprintf(h, "%d:", len(v))
				h.Write(v)
			}
			out[t.Name][[32]byte(h.Sum(nil))]++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// countFiles counts the files under dir.
func countFiles(dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	return n
}

// changed counts, per table, the rows an erasure deleted and changed: a
// changed row is one that left the multiset and one that came (an erasure
// inserts nothing).
func changed(before, after map[string]map[[32]byte]int) (deleted, updated map[string]int64) {
	deleted, updated = map[string]int64{}, map[string]int64{}
	for table, was := range before {
		var gone, came int64
		for h, n := range was {
			if d := n - after[table][h]; d > 0 {
				gone += int64(d)
			}
		}
		for h, n := range after[table] {
			if d := n - was[h]; d > 0 {
				came += int64(d)
			}
		}
		if gone-came > 0 {
			deleted[table] = gone - came
		}
		if came > 0 {
			updated[table] = came
		}
	}
	return deleted, updated
}

// receiptByTable adds up a receipt per table: rows its targets deleted or
// changed, and rows the database deleted or nulled by itself.
func receiptByTable(cfg sqltarget.Config, rc erasure.Receipt) (deleted, updated map[string]int64) {
	table := map[erasure.Kind]string{}
	for _, s := range cfg.Specs {
		table[s.Kind] = s.Table
	}
	deleted, updated = map[string]int64{}, map[string]int64{}
	for _, r := range rc.Targets {
		t, ok := table[r.Kind]
		if !ok {
			continue // files
		}
		rows := r.Rows
		if rows == 0 {
			rows = r.Deleted + r.Anonymized
		}
		if r.Deleted > 0 {
			deleted[t] += rows
		} else if rows > 0 {
			updated[t] += rows
		}
		for _, e := range r.Cascaded {
			if e.Action == erasure.EffectDeleted {
				deleted[e.Table] += e.Rows
			} else {
				updated[e.Table] += e.Rows
			}
		}
	}
	return deleted, updated
}

// How a host tests its own binding: plan, erase, and compare the plan, the
// receipt and what the database shows changed, table by table. Only
// public API: the fixture stands in for the host's test database.
func Example_planReceiptActual() {
	ctx := context.Background()
	db, dir, done := exampleDB()
	defer done()
	d := sqldb.SQLite
	if err := hostfixture.Create(ctx, db, d, hostfixture.Restrict); err != nil {
		log.Fatal(err)
	}
	seeded, err := hostfixture.Seed(ctx, db, d, hostfixture.Restrict, filepath.Join(dir, "files"))
	if err != nil {
		log.Fatal(err)
	}
	st, err := sqlstore.New(db, d)
	if err != nil {
		log.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	files, err := fsblob.New(fsblob.Config{Dir: seeded.BlobDir, Layout: fsblob.Shared})
	if err != nil {
		log.Fatal(err)
	}
	cfg := restrictBinding(db, d, files)
	binding, err := sqltarget.Bind(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	graph, err := erasure.NewGraph(binding.Targets()...)
	if err != nil {
		log.Fatal(err)
	}
	people, err := restrictPeople(ctx, db, d)
	if err != nil {
		log.Fatal(err)
	}
	ps, err := gdprkit.NewPseudonymizer([]byte("an example key of 32 bytes or more"))
	if err != nil {
		log.Fatal(err)
	}
	svc, err := erasure.New(erasure.Config{Store: st.Erasure(), Graph: graph, Directory: people, Pseudonymizer: ps, Clock: fakeclock.New(t0)})
	if err != nil {
		log.Fatal(err)
	}

	subject := gdprkit.SubjectID("customer:" + seeded.SubjectCustomer.Login)
	filesBefore := countFiles(seeded.BlobDir)
	before, err := rowPrints(ctx, db, d)
	if err != nil {
		log.Fatal(err)
	}
	plan, err := svc.Plan(ctx, "atlas", subject, "", nil)
	if err != nil {
		log.Fatal(err)
	}
	req, err := svc.Submit(ctx, "atlas", erasure.Submission{Type: erasure.TypeErasure, Subject: subject, By: "agent:1", Verified: true})
	if err != nil {
		log.Fatal(err)
	}
	if _, errs := svc.RunUntilIdle(ctx, "test"); len(errs) > 0 {
		log.Fatal(errs)
	}
	rc, err := svc.Receipt(ctx, "atlas", req.ID)
	if err != nil {
		log.Fatal(err)
	}
	after, err := rowPrints(ctx, db, d)
	if err != nil {
		log.Fatal(err)
	}

	same := len(plan.Targets) == len(rc.Targets)
	for i := range rc.Targets {
		same = same && fmt.Sprint(plan.Targets[i].TargetResult) == fmt.Sprint(rc.Targets[i])
	}
	fmt.Println("plan = receipt:", same)
	gotDel, gotUpd := changed(before, after)
	rcDel, rcUpd := receiptByTable(cfg, rc)
	var tables []string
	for t := range before {
		if gotDel[t]+gotUpd[t]+rcDel[t]+rcUpd[t] > 0 {
			tables = append(tables, t)
		}
	}
	sort.Strings(tables)
	fmt.Printf("%-28s %s\n", "table", "deleted / changed: database (receipt)")
	for _, t := range tables {
		fmt.Printf("%-28s %d (%d) / %d (%d)\n", t, gotDel[t], rcDel[t], gotUpd[t], rcUpd[t])
	}
	for _, r := range rc.Targets {
		if r.Kind == "article_files" {
			fmt.Printf("%-28s %d (%d)\n", "files", filesBefore-countFiles(seeded.BlobDir), r.Deleted)
		}
	}
	// Output:
	// plan = receipt: true
	// table                        deleted / changed: database (receipt)
	// article                      6 (6) / 0 (0)
	// article_data_mime            6 (6) / 5 (5)
	// article_data_mime_attachment 1 (1) / 0 (0)
	// article_data_mime_plain      3 (3) / 3 (3)
	// article_flag                 3 (3) / 0 (0)
	// article_search_index         25 (25) / 7 (7)
	// customer_preferences         3 (3) / 0 (0)
	// customer_user                1 (1) / 0 (0)
	// dynamic_field_value          3 (3) / 0 (0)
	// form_draft                   1 (1) / 0 (0)
	// mail_queue                   1 (1) / 1 (1)
	// sessions                     11 (11) / 0 (0)
	// ticket                       3 (3) / 0 (0)
	// ticket_flag                  3 (3) / 0 (0)
	// ticket_history               23 (23) / 1 (1)
	// ticket_watcher               1 (1) / 0 (0)
	// time_accounting              2 (2) / 0 (0)
	// files                        4 (4)
}

// LoadConfig reads the JSON form of a binding (what cmd/gdprkit-bindcheck
// reads): whole numbers come out as int64, like the Go literals they
// stand for; the database, the file stores and computed file keys are the
// caller's to set.
func ExampleLoadConfig() {
	cfg, err := sqltarget.LoadConfig(strings.NewReader(`{
  "specs": [
    {"kind": "agent", "table": "users", "key": "id", "subject_column": "id", "classes": ["agent"],
     "marker": "valid_id", "marker_value": 2, "actions": ["anonymize"], "default": {"action": "anonymize"},
     "columns": [{"name": "login", "action": "pseudonym"}, {"name": "first_name", "action": "label"}]},
    {"kind": "owned", "table": "ticket", "key": "id", "subject_column": "user_id", "classes": ["agent"],
     "filter": "ticket_state_id IN (SELECT s.id FROM ticket_state s JOIN ticket_state_type t ON t.id = s.type_id WHERE t.name IN (?, ?))",
     "filter_args": ["new", "open"], "actions": ["anonymize"], "default": {"action": "anonymize"},
     "columns": [{"name": "user_id", "action": "reassign", "value": 1}]}
  ],
  "ignore": ["*.create_by", "*.change_by"]
}`))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range cfg.Specs {
		fmt.Printf("%s on %s: marker %v (%T), columns %v\n", s.Kind, s.Table, s.MarkerValue, s.MarkerValue, s.Columns)
	}
	fmt.Println(cfg.Ignore, cfg.DB == nil)
	// Output:
	// agent on users: marker 2 (int64), columns [{login pseudonym <nil> []} {first_name label <nil> []}]
	// owned on ticket: marker <nil> (<nil>), columns [{user_id reassign 1 []}]
	// [*.create_by *.change_by] true
}
