package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// Execer runs a statement that returns no rows; *sql.DB, *sql.Conn and
// *sql.Tx are Execers.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// StatsQuerier reads and runs statements: *sql.DB and *sql.Conn are
// StatsQueriers.
type StatsQuerier interface {
	Querier
	Execer
}

// RefreshStatistics gathers the query planner's statistics (ANALYZE) for
// the tables of the current schema whose names start with prefix ("" for
// every table) and that have changed by more than 50 rows plus a tenth of
// their size since their statistics were last gathered, or that never had
// any. It returns the names of the tables it analyzed, sorted.
//
// Why: on PostgreSQL a table nobody has analyzed has no statistics, and
// the planner then guesses that any equality narrows a table to 0.5% of
// its rows. Every gdprkit table, and most host tables, lead their indexes
// with account_id, which in a one-account deployment matches every row;
// with guessed statistics the planner often picks such an index for a
// lookup by a unique key (a session by its hash, a user by ID) and filters
// the account's rows one by one, and a prepared statement keeps that plan.
// Each lookup then reads the whole table and gets slower as the table
// grows. The autovacuum daemon normally analyzes tables; where it is off,
// or too slow for a table filling quickly after a deployment, a host calls
// RefreshStatistics now and then (every few seconds to minutes: when
// nothing changed it costs one catalog query). The thresholds are
// autovacuum's defaults. ANALYZE reads a sample of at most 30,000 rows
// of a table, blocks no reads or writes, and makes prepared statements
// that use the table plan again. It needs to own the tables (the role
// that created them, as Migrate did); PostgreSQL skips a table it does not
// own with a warning, and such a table stays stale and is named again.
//
// On MySQL and MariaDB it does nothing and returns nil: InnoDB's
// persistent statistics are recalculated automatically after a tenth of a
// table changes. On SQLite it does nothing either: without statistics its
// planner prefers the index that matches the most equality terms, and a
// unique index that matches them all.
//
// Errors wrap gdprkit.ErrUnavailable when the database cannot be reached
// or ctx ended (see Classify); tables analyzed before the error stay
// analyzed.
func RefreshStatistics(ctx context.Context, q StatsQuerier, d Dialect, prefix string) ([]string, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if d != Postgres {
		return nil, nil
	}
	if q == nil {
		return nil, fmt.Errorf("sqldb: refresh statistics: nil StatsQuerier: %w", gdprkit.ErrInvalid)
	}
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
	rows, err := q.QueryContext(ctx, `SELECT s.schemaname, s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema() AND s.relname LIKE $1
AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)
ORDER BY s.relname`, like)
	if err != nil {
		return nil, fmt.Errorf("sqldb: refresh statistics: %w", Classify(err))
	}
	var stale [][2]string
	for rows.Next() {
		var schema, table string
		if err := rows.Scan(&schema, &table); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqldb: refresh statistics: %w", Classify(err))
		}
		stale = append(stale, [2]string{schema, table})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: refresh statistics: %w", Classify(err))
	}
	var done []string
	for _, t := range stale {
		if _, err := q.ExecContext(ctx, "ANALYZE "+d.Quote(t[0])+"."+d.Quote(t[1])); err != nil {
			return done, fmt.Errorf("sqldb: analyze %s: %w", t[1], Classify(err))
		}
		done = append(done, t[1])
	}
	return done, nil
}
