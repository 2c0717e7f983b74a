package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// ExampleStore_WithTx records a customer of the host's and their consent
// in one transaction of the host's: both commit together, or, as for the
// second customer here, neither is stored.
func ExampleStore_WithTx() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "gdprkit-example-")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "app.db")))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		panic(err)
	}
	if err := st.Migrate(ctx); err != nil {
		panic(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE customers (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE)"); err != nil {
		panic(err)
	}
	ps, err := gdprkit.NewPseudonymizer([]byte("a stable 32-byte key from a vault"))
	if err != nil {
		panic(err)
	}
	consents, err := consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps})
	if err != nil {
		panic(err)
	}
	const acct gdprkit.AccountID = "acme"
	if _, err := consents.DefinePurpose(ctx, acct, consent.Purpose{Key: "support", Name: "Answering your message"}); err != nil {
		panic(err)
	}
	if _, err := consents.PublishPolicy(ctx, acct, "support", "We keep your message to answer it.", false, "admin"); err != nil {
		panic(err)
	}

	// signUp stores a customer and their consent in one transaction.
	signUp := func(id, email string) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() // after Commit, a no-op
		if _, err := tx.ExecContext(ctx, "INSERT INTO customers (id, email) VALUES (?, ?)", id, email); err != nil {
			return err
		}
		inTx := consents.WithStore(st.WithTx(tx).Consent()) // never commits or rolls back tx
		if _, err := inTx.Grant(ctx, acct, consent.Decision{Subject: gdprkit.SubjectID(id), Purpose: "support", Source: consent.SourcePreChat}); err != nil {
			return err
		}
		if email == "" {
			return fmt.Errorf("no e-mail address") // the host gives up: the consent goes too
		}
		return tx.Commit()
	}
	fmt.Println(signUp("c-1", "dana@example.org"))
	fmt.Println(signUp("c-2", ""))
	for _, id := range []gdprkit.SubjectID{"c-1", "c-2"} {
		s, err := consents.Check(ctx, acct, id, "support")
		if err != nil {
			panic(err)
		}
		fmt.Println(id, s.Granted())
	}
	// Output:
	// <nil>
	// no e-mail address
	// c-1 true
	// c-2 false
}
