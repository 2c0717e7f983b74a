package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
)

// mapErr is the one place where the adapter's errors are shaped for
// callers: sql.ErrNoRows becomes gdprkit.ErrNotFound, and driver errors go
// through sqldb.Classify, so an ended context or a lost database is
// gdprkit.ErrUnavailable, a key violation gdprkit.ErrConflict, bad data
// gdprkit.ErrInvalid — and no driver message, which can quote key values,
// reaches the caller. Errors that already wrap a gdprkit sentinel (an inner
// mapErr, a lease check) pass unchanged.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if classified(err) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, gdprkit.ErrNotFound)
	}
	return fmt.Errorf("sqlstore: %s: %w", what, sqldb.Classify(err))
}

// classified reports whether err already wraps a gdprkit sentinel.
func classified(err error) bool {
	var se *sqldb.Error
	if errors.As(err, &se) {
		return true
	}
	for _, s := range []error{gdprkit.ErrNotFound, gdprkit.ErrConflict, gdprkit.ErrInvalid, gdprkit.ErrForbidden,
		gdprkit.ErrLeaseLost, gdprkit.ErrUnavailable, gdprkit.ErrUnauthenticated, gdprkit.ErrLocked,
		gdprkit.ErrAccountSuspended, gdprkit.ErrAccountTerminated} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// isConflict reports an integrity violation (duplicate key and the like).
func isConflict(err error) bool { return errors.Is(sqldb.Classify(err), gdprkit.ErrConflict) }

var mysqlErrRe = regexp.MustCompile(`^Error (\d{4,5})`)

// mysqlAlreadyDone reports errors a re-run of a half-applied migration may
// meet: duplicate index name (1061) or duplicate column (1060).
func mysqlAlreadyDone(err error) bool {
	for cur := err; cur != nil; cur = errors.Unwrap(cur) {
		if m := mysqlErrRe.FindStringSubmatch(cur.Error()); m != nil {
			return m[1] == "1061" || m[1] == "1060"
		}
	}
	return false
}

// duplicateObject reports PostgreSQL's duplicate_table (42P07) and
// duplicate_object (42710), which a concurrent CREATE … IF NOT EXISTS can
// raise while the other session's create commits.
func duplicateObject(err error) bool {
	var ps interface{ SQLState() string }
	if !errors.As(err, &ps) {
		return false
	}
	st := ps.SQLState()
	return st == "42P07" || st == "42710"
}
