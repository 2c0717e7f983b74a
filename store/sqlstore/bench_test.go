package sqlstore_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/sqlstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

type consentAdapter struct {
	name string
	open func(b *testing.B) consent.Store
}

func consentAdapters(b *testing.B) []consentAdapter {
	as := []consentAdapter{{"memstore", func(*testing.B) consent.Store { return memstore.New().Consent() }}}
	for _, d := range testdb.Dialects(b) {
		if d == sqlstore.MySQL {
			continue // the issue measures memstore, SQLite and PostgreSQL
		}
		as = append(as, consentAdapter{string(d), func(b *testing.B) consent.Store {
			s, _ := testdb.OpenStore(b, d)
			return s.Consent()
		}})
	}
	return as
}

func benchService(b *testing.B, st consent.Store) (*consent.Service, gdprkit.AccountID) {
	ps, err := gdprkit.NewPseudonymizer(storetest.TestKey)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := consent.New(consent.Config{Store: st, Pseudonymizer: ps, Clock: fakeclock.New(storetest.T0)})
	if err != nil {
		b.Fatal(err)
	}
	a := storetest.NewAccount(b)
	ctx := context.Background()
	if _, err := svc.DefinePurpose(ctx, a, consent.Purpose{Key: "chat", Name: "Chat"}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.PublishPolicy(ctx, a, "chat", "Policy text.", false, "owner"); err != nil {
		b.Fatal(err)
	}
	return svc, a
}

// BenchmarkConsentCheck measures Check for a subject with 10 and with
// 10,000 records: the cost must not grow with the history.
func BenchmarkConsentCheck(b *testing.B) {
	ctx := context.Background()
	for _, ad := range consentAdapters(b) {
		for _, n := range []int{10, 10000} {
			b.Run(fmt.Sprintf("%s/%d", ad.name, n), func(b *testing.B) {
				svc, a := benchService(b, ad.open(b))
				d := consent.Decision{Subject: "heavy@example.com", Purpose: "chat", Source: consent.SourceAPI, IP: netip.MustParseAddr("192.0.2.1")}
				batch := make([]consent.Decision, 0, 100)
				for done := 0; done < n; done += len(batch) {
					batch = batch[:0]
					for i := 0; i < 100 && done+i < n; i++ {
						batch = append(batch, d)
					}
					if _, err := svc.Record(ctx, a, batch, consent.Grant); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					st, err := svc.Check(ctx, a, "heavy@example.com", "chat")
					if err != nil || st != consent.StatusGranted {
						b.Fatal(st, err)
					}
				}
			})
		}
	}
}

// BenchmarkConsentGrant measures recording one grant (one transaction).
func BenchmarkConsentGrant(b *testing.B) {
	ctx := context.Background()
	for _, ad := range consentAdapters(b) {
		b.Run(ad.name, func(b *testing.B) {
			svc, a := benchService(b, ad.open(b))
			i := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				i++
				if _, err := svc.Grant(ctx, a, consent.Decision{Subject: gdprkit.SubjectID(fmt.Sprintf("s%d", i%1000)), Purpose: "chat",
					Source: consent.SourcePreChat, IP: netip.MustParseAddr("192.0.2.1"), UserAgent: "Mozilla/5.0"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
		})
	}
}

// BenchmarkConsentPseudonymizeBatch measures PseudonymizeRecords of one page
// of 500 record IDs (one UPDATE), the step an erasure job takes per batch.
func BenchmarkConsentPseudonymizeBatch(b *testing.B) {
	ctx := context.Background()
	for _, ad := range consentAdapters(b) {
		b.Run(ad.name, func(b *testing.B) {
			svc, a := benchService(b, ad.open(b))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				subject := gdprkit.SubjectID(fmt.Sprintf("s%d@example.com", i))
				d := consent.Decision{Subject: subject, Purpose: "chat", Source: consent.SourcePreChat,
					IP: netip.MustParseAddr("192.0.2.1"), UserAgent: "Mozilla/5.0", RecordedBy: gdprkit.ActorID(subject)}
				batch := make([]consent.Decision, 100)
				for j := range batch {
					batch[j] = d
				}
				for range 5 {
					if _, err := svc.Record(ctx, a, batch, consent.Grant); err != nil {
						b.Fatal(err)
					}
				}
				ids, err := svc.LiveRecordIDs(ctx, a, subject, "", 500)
				if err != nil || len(ids) != 500 {
					b.Fatal(len(ids), err)
				}
				b.StartTimer()
				n, err := svc.PseudonymizeRecords(ctx, a, subject, ids, "system:erasure")
				if err != nil || n != 500 {
					b.Fatal(n, err)
				}
			}
			b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkConsentVerify measures Verify of a 10,000-record chain with its
// current state (1,000 subjects).
func BenchmarkConsentVerify(b *testing.B) {
	ctx := context.Background()
	for _, ad := range consentAdapters(b) {
		b.Run(ad.name, func(b *testing.B) {
			svc, a := benchService(b, ad.open(b))
			batch := make([]consent.Decision, 100)
			for k := range 100 {
				for j := range batch {
					batch[j] = consent.Decision{Subject: gdprkit.SubjectID(fmt.Sprintf("s%d", (k*100+j)%1000)), Purpose: "chat",
						Source: consent.SourcePreChat, IP: netip.MustParseAddr("192.0.2.1"), UserAgent: "Mozilla/5.0"}
				}
				if _, err := svc.Record(ctx, a, batch, consent.Grant); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res, err := svc.Verify(ctx, a)
				if err != nil || res.Records != 10000 || res.States != 1000 {
					b.Fatal(res, err)
				}
			}
		})
	}
}
