package hostfixture_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // SQLite driver "sqlite"

	"github.com/gdprkit/gdprkit/internal/hostfixture"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// openSQLite opens a fresh SQLite file that enforces foreign keys.
func openSQLite(dir string) *sql.DB {
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "host.db")))
	if err != nil {
		log.Fatal(err)
	}
	return db
}

// What a naive erasure does on the Convo schema: deleting the subject
// customer's users row lets the database cascade through her
// conversations, messages, identities and sessions, sets other rows'
// references to NULL, and leaves her files and the attachments rows that
// point at them by model_type + model_id (no foreign key) behind.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "hostfixture")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db := openSQLite(dir)
	defer db.Close()

	d := sqlstore.SQLite
	if err := hostfixture.Create(ctx, db, d, hostfixture.Convo); err != nil {
		log.Fatal(err)
	}
	seeded, err := hostfixture.Seed(ctx, db, d, hostfixture.Convo, filepath.Join(dir, "uploads"))
	if err != nil {
		log.Fatal(err)
	}
	before, err := hostfixture.TakeSnapshot(ctx, db, d, seeded.BlobDir)
	if err != nil {
		log.Fatal(err)
	}
	ann := seeded.SubjectCustomer
	if _, err := db.ExecContext(ctx, "DELETE FROM users WHERE id = ?", ann.ID); err != nil {
		log.Fatal(err)
	}
	after, err := hostfixture.TakeSnapshot(ctx, db, d, seeded.BlobDir)
	if err != nil {
		log.Fatal(err)
	}
	diff := hostfixture.Compare(before, after)
	for _, table := range diff.Tables() {
		c := diff.Counts()[table]
		fmt.Printf("%-26s %2d deleted %d changed\n", table, c.Deleted, c.Changed)
	}
	fmt.Println("attachments rows left:", len(after.Table("attachments").Rows) == len(before.Table("attachments").Rows))
	fmt.Println("files deleted:", len(diff.FilesWith("deleted")), "of", len(seeded.SubjectCustomerFiles()))
	// Output:
	// assistant_prompts           2 deleted 0 changed
	// contact_identities          2 deleted 0 changed
	// contact_inboxes             2 deleted 0 changed
	// conversation_labels         2 deleted 0 changed
	// conversation_participants   5 deleted 0 changed
	// conversations               3 deleted 0 changed
	// csat_survey_responses       1 deleted 0 changed
	// drafts                      1 deleted 0 changed
	// mentions                    1 deleted 0 changed
	// messages                   10 deleted 0 changed
	// notes                       2 deleted 0 changed
	// notifications               0 deleted 1 changed
	// reporting_events            0 deleted 3 changed
	// sessions                    1 deleted 0 changed
	// users                       1 deleted 0 changed
	// attachments rows left: true
	// files deleted: 0 of 4
}

// On the Restrict schema every foreign key is NO ACTION: an agent's row
// cannot be deleted while anything references it, and the refused delete
// changes nothing.
func Example_restrict() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "hostfixture")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db := openSQLite(dir)
	defer db.Close()

	d := sqlstore.SQLite
	if err := hostfixture.Create(ctx, db, d, hostfixture.Restrict); err != nil {
		log.Fatal(err)
	}
	seeded, err := hostfixture.Seed(ctx, db, d, hostfixture.Restrict, filepath.Join(dir, "var"))
	if err != nil {
		log.Fatal(err)
	}
	before, err := hostfixture.TakeSnapshot(ctx, db, d, seeded.BlobDir)
	if err != nil {
		log.Fatal(err)
	}
	nina := seeded.SubjectAgent
	_, err = db.ExecContext(ctx, "DELETE FROM users WHERE id = ?", nina.ID)
	fmt.Println("delete agent:", strings.Contains(err.Error(), "FOREIGN KEY constraint failed"))
	after, err := hostfixture.TakeSnapshot(ctx, db, d, seeded.BlobDir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hostfixture.Compare(before, after))

	keys, _ := hostfixture.ForeignKeys(hostfixture.Restrict)
	toUsers := 0
	for _, k := range keys {
		if k.RefTable == "users" {
			toUsers++
		}
	}
	fmt.Println("foreign keys:", len(keys), "to users:", toUsers)
	fmt.Println(keys[0])
	// Output:
	// delete agent: true
	// no changes
	// foreign keys: 118 to users: 67
	// valid.create_by -> users.id ON DELETE NO ACTION
}
