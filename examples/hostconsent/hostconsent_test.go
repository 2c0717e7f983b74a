package hostconsent_test

import (
	"context"
	"testing"

	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/examples/hostconsent"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// TestConformance is the whole test a host writes for a one-domain
// adapter: its consent.Store, over its own tables, passes the consent
// domain's conformance suite — every case, TenantIsolation and Unavailable
// included. It runs on SQLite, and on PostgreSQL and MySQL/MariaDB when
// GDPRKIT_TEST_POSTGRES and GDPRKIT_TEST_MYSQL name databases.
//
// Nothing of gdprkit's own schema exists in these databases: no migration
// of store/sqlstore runs, so the adapter cannot lean on a gdpr_ table.
func TestConformance(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, d)
			ctx := context.Background()
			if err := hostconsent.CreateTables(ctx, db.DB, d); err != nil {
				t.Fatal(err)
			}
			if err := hostconsent.CreateTables(ctx, db.DB, d); err != nil {
				t.Fatalf("CreateTables again: %v", err)
			}
			st, err := hostconsent.New(db.DB, d)
			if err != nil {
				t.Fatal(err)
			}
			storetest.RunConsent(t, func(*testing.T) consent.Store { return st })
		})
	}
}
