package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// Driver errors are recognised by behaviour, not by importing the drivers:
// pgx's *pgconn.PgError has SQLState(), modernc's *sqlite.Error has Code(),
// and go-sql-driver's *mysql.MySQLError prints "Error NNNN (SQLSTATE): …".

type sqlStater interface{ SQLState() string }
type sqliteCoder interface{ Code() int }

var mysqlErrRe = regexp.MustCompile(`^Error (\d{4,5})`)

// errClass is what a driver error means to the adapter.
type errClass int

const (
	classOther errClass = iota
	classConflict
	classRetry // deadlock, serialization failure, busy
)

func classify(err error) errClass {
	if err == nil {
		return classOther
	}
	var ps sqlStater
	if errors.As(err, &ps) {
		switch st := ps.SQLState(); {
		case st == "23505" || st == "23P01": // unique_violation, exclusion
			return classConflict
		case st == "40001" || st == "40P01": // serialization_failure, deadlock
			return classRetry
		}
		return classOther
	}
	var sc sqliteCoder
	if errors.As(err, &sc) {
		code := sc.Code()
		switch {
		case code == 2067 || code == 1555: // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
			return classConflict
		case code&0xff == 5 || code&0xff == 6: // SQLITE_BUSY, SQLITE_LOCKED
			return classRetry
		}
		return classOther
	}
	// go-sql-driver/mysql
	var cur error = err
	for cur != nil {
		if m := mysqlErrRe.FindStringSubmatch(cur.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			switch n {
			case 1062, 1586: // ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
				return classConflict
			case 1213, 1205: // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
				return classRetry
			}
			return classOther
		}
		cur = errors.Unwrap(cur)
	}
	return classOther
}

// mapErr turns a driver error into one wrapping the gdprkit sentinels, keeping
// the driver's message for logs. sql.ErrNoRows becomes gdprkit.ErrNotFound.
// Context errors pass through unchanged.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, gdprkit.ErrNotFound) || errors.Is(err, gdprkit.ErrConflict) ||
		errors.Is(err, gdprkit.ErrInvalid) || errors.Is(err, gdprkit.ErrForbidden) ||
		errors.Is(err, gdprkit.ErrLeaseLost) || errors.Is(err, gdprkit.ErrUnavailable) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, gdprkit.ErrNotFound)
	}
	switch classify(err) {
	case classConflict:
		return fmt.Errorf("%s: %w: %v", what, gdprkit.ErrConflict, err)
	case classRetry:
		return fmt.Errorf("%s: %w: %v", what, gdprkit.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}
