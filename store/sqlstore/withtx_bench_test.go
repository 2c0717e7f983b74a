package sqlstore_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

// BenchmarkHostRowAndConsent stores a row of the host's and a consent
// grant for it, as a contact form does: "two-transactions" commits the
// row, then grants in the store's own transaction (the helpdesk's way
// before WithTx, not atomic); "one-transaction" grants through a store
// bound to the host's transaction (WithTx: a savepoint, no retry loop)
// and commits once.
func BenchmarkHostRowAndConsent(b *testing.B) {
	ctx := context.Background()
	for _, d := range testdb.Dialects(b) {
		for _, mode := range []string{"two-transactions", "one-transaction"} {
			b.Run(string(d)+"/"+mode, func(b *testing.B) {
				s, db := testdb.OpenStore(b, d)
				if _, err := db.Exec("CREATE TABLE host_people (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL)"); err != nil {
					b.Fatal(err)
				}
				svc, a := benchService(b, s.Consent())
				insert := d.Rebind("INSERT INTO host_people (id, name) VALUES (?, ?)")
				n := 0
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					n++
					id := "p-" + strconv.Itoa(n)
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tx.ExecContext(ctx, insert, id, "Dana"); err != nil {
						b.Fatal(err)
					}
					grant := consent.Decision{Subject: gdprkit.SubjectID(id), Purpose: "chat", Source: consent.SourcePreChat}
					if mode == "one-transaction" {
						if _, err := svc.WithStore(s.WithTx(tx).Consent()).Grant(ctx, a, grant); err != nil {
							b.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
					if mode == "two-transactions" {
						if _, err := svc.Grant(ctx, a, grant); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
