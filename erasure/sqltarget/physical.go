package sqltarget

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// CompactOptions configures the post-erasure physical step of
// Binding.Compact and CompactDB.
type CompactOptions struct {
	// Full rewrites instead of cleaning in place: VACUUM on SQLite,
	// VACUUM FULL on PostgreSQL (see sqldb.CompactOptions.Full, and
	// docs/physical-erasure.md for why a plain PostgreSQL VACUUM leaves
	// deleted bytes in the pages). On SQLite it runs only in the run
	// before the receipt.
	Full bool
	// Incremental runs PRAGMA incremental_vacuum on SQLite (a database
	// with auto_vacuum=INCREMENTAL), in the run before the receipt.
	Incremental bool
	// Tables are compacted on every run, the one after the receipt
	// included, whatever the erasure touched: gdprkit's own tables on
	// PostgreSQL or MySQL ("gdpr_erasure_requests", "gdpr_erasure_jobs"
	// hold the subject's identifier and the job's working state until the
	// receipt's transaction clears them). Plain names, resolved in the
	// connection's current schema.
	Tables []string
}

// compactor is the erasure.PhysicalStep of Compact and CompactDB.
type compactor struct {
	b  *Binding // nil for CompactDB
	db *sql.DB
	d  sqldb.Dialect
	o  CompactOptions
}

// Compact returns a post-erasure physical step (erasure.Config.Physical)
// for the binding's database. After an erasure it compacts what the
// erasure touched, through sqldb.Compact:
//
//   - SQLite: PRAGMA wal_checkpoint(TRUNCATE) — with the secure_delete
//     that sqlstore.SQLiteDSN turns on, the deleted rows are then gone
//     from the .db and -wal files — before the receipt and again after it
//     (which clears the request's and job's copies of the subject's
//     identifiers from the files too); VACUUM or incremental_vacuum first
//     when o asks.
//   - PostgreSQL: VACUUM (FULL when o.Full) of the tables bound to the
//     kinds the erasure deleted or anonymised records of, and the tables
//     the database changed by cascade, in one statement.
//   - MySQL / MariaDB: OPTIMIZE TABLE of the same tables.
//
// Views are skipped, and a cascaded table the binding's schema does not
// know is left out rather than named in SQL. o.Tables are added on every
// run. The step describes itself by dialect, statement and table names:
// "postgres: VACUUM hd_messages, hd_tickets, hd_users".
func (b *Binding) Compact(o CompactOptions) erasure.PhysicalStep {
	return &compactor{b: b, db: b.cfg.DB, d: b.d, o: o}
}

// CompactDB returns the post-erasure physical step for a database no
// binding reads — gdprkit's own, when the host keeps it apart from its
// tables: on SQLite a checkpoint before and after the receipt, on
// PostgreSQL and MySQL a compaction of o.Tables. It returns an error
// wrapping gdprkit.ErrInvalid for a nil db, an unknown dialect or an
// empty table name.
func CompactDB(db *sql.DB, d sqldb.Dialect, o CompactOptions) (erasure.PhysicalStep, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: sqltarget: CompactDB needs a *sql.DB", gdprkit.ErrInvalid)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	for _, t := range o.Tables {
		if strings.TrimSpace(t) == "" {
			return nil, fmt.Errorf("%w: sqltarget: CompactDB: empty table name", gdprkit.ErrInvalid)
		}
	}
	return &compactor{db: db, d: d, o: o}, nil
}

// Run compacts the tables run touched; see Binding.Compact.
func (c *compactor) Run(ctx context.Context, run erasure.PhysicalRun) (string, error) {
	o := sqldb.CompactOptions{Full: c.o.Full, Incremental: c.o.Incremental}
	tables := append([]string(nil), c.o.Tables...)
	if run.AfterReceipt {
		if c.d == sqldb.SQLite {
			o = sqldb.CompactOptions{} // the checkpoint is what matters now
		}
	} else if c.b != nil {
		tables = append(tables, c.b.touched(run)...)
	}
	return sqldb.Compact(ctx, c.db, c.d, tables, o)
}

// touched returns the tables (not views) the binding's specs of run's
// kinds live in, and run's cascaded tables that the binding's schema
// knows, as the database spells them.
func (b *Binding) touched(run erasure.PhysicalRun) []string {
	st := b.state()
	kinds := map[erasure.Kind]bool{}
	for _, k := range run.Kinds {
		kinds[k] = true
	}
	var out []string
	for _, t := range b.targets {
		if !kinds[t.spec.Kind] && !run.AccountWide {
			continue
		}
		if f := st.facts[t.spec.Kind]; f != nil && f.table != nil && !f.table.View {
			out = append(out, f.table.Name)
		}
	}
	for _, name := range run.CascadedTables {
		if t := st.schema.Table(name); t != nil && !t.View {
			out = append(out, t.Name)
		}
	}
	return out
}
