package hostfixture

import (
	"context"
	"testing"

	"github.com/gdprkit/gdprkit/internal/testdb"
)

// A snapshot of a whole fixture (every table, every file) is what erasure
// tests take twice per case; the FK test takes two per foreign key.
func BenchmarkTakeSnapshot(b *testing.B) {
	ctx := context.Background()
	for _, d := range testdb.Dialects(b) {
		for _, f := range Fixtures() {
			b.Run(string(d)+"/"+string(f), func(b *testing.B) {
				db, s := seeded(b, d, f)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := TakeSnapshot(ctx, db.DB, d, s.BlobDir); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	db, s := seeded(b, "sqlite", Restrict)
	x := snap(b, db.DB, "sqlite", s.BlobDir)
	y := snap(b, db.DB, "sqlite", s.BlobDir)
	b.ReportAllocs()
	for b.Loop() {
		if !Compare(x, y).Empty() {
			b.Fatal("not empty")
		}
	}
}
