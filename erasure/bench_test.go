package erasure_test

import (
	"fmt"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// BenchmarkErase erases a subject with 1,000 tickets of 10 messages and
// one attachment (a file on disk) each, through the declarative SQL
// targets and the fs blob target, from Submit to receipt. "alone": the
// subject's data is all the account holds; "10x": ten other subjects hold
// ten times as much in the same tables and account.
//
//	go test -run '^$' -bench BenchmarkErase -benchtime 3x ./erasure/
func BenchmarkErase(b *testing.B) {
	const tickets, msgs = 1000, 10
	for _, d := range []sqldb.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			for _, others := range []int{0, 10} {
				name := "alone"
				if others > 0 {
					name = fmt.Sprintf("%dx", others)
				}
				b.Run(name, func(b *testing.B) {
					e := newSQLEnv(b, d, 500)
					const acct = gdprkit.AccountID("acme")
					for i := range others {
						e.host.seedSubject(b, acct, fmt.Sprintf("other-%02d", i), tickets, msgs)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						subject := fmt.Sprintf("target-%04d", i)
						e.host.seedSubject(b, acct, subject, tickets, msgs)
						// A live database has statistics (autovacuum keeps
						// them); freshly bulk-loaded tables do not.
						if _, err := e.host.db.Exec("ANALYZE"); err != nil {
							b.Fatal(err)
						}
						if d == sqlstore.Postgres {
							// Flush the seeding's dirty pages now rather
							// than in the timed part (needs a superuser;
							// without one the numbers are only noisier).
							_, _ = e.host.db.Exec("CHECKPOINT")
						}
						b.StartTimer()
						r, err := e.svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: gdprkit.SubjectID(subject), By: "admin", Verified: true})
						if err != nil {
							b.Fatal(err)
						}
						if found, err := e.svc.RunOnce(ctx, "bench"); err != nil || !found {
							b.Fatal(found, err)
						}
						b.StopTimer()
						rc, err := e.svc.Receipt(ctx, acct, r.ID)
						if err != nil {
							b.Fatal(err)
						}
						for _, t := range rc.Targets {
							if t.Kind == erasure.KindMessage && t.Deleted != tickets*msgs {
								b.Fatalf("deleted %d messages", t.Deleted)
							}
						}
						b.StartTimer()
					}
				})
			}
		})
	}
}
