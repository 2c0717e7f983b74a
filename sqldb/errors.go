package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// Reason says in a few words, the same on every database, why a statement
// failed. It is part of an *Error and of its message.
type Reason string

// The reasons Classify recognises.
const (
	// Integrity violations (Class gdprkit.ErrConflict).
	ReasonUnique     Reason = "unique violation"
	ReasonForeignKey Reason = "foreign key violation"
	ReasonNotNull    Reason = "not-null violation"
	ReasonCheck      Reason = "check violation"
	ReasonIntegrity  Reason = "integrity violation" // any other
	// ReasonRefused: a trigger or rule of the database refused the write
	// on purpose (PostgreSQL RAISE EXCEPTION, MySQL SIGNAL, SQLite
	// RAISE(ABORT)); running it again changes nothing.
	ReasonRefused Reason = "refused by the database"
	// Data errors (Class gdprkit.ErrInvalid).
	ReasonTooLong    Reason = "value too long"
	ReasonOutOfRange Reason = "value out of range"
	ReasonBadValue   Reason = "invalid value"
	// Transient failures of a transaction (Class gdprkit.ErrUnavailable):
	// running the whole transaction again may succeed (see Retryable).
	ReasonDeadlock      Reason = "deadlock"
	ReasonSerialization Reason = "serialization failure"
	ReasonLockTimeout   Reason = "lock timeout"
	ReasonBusy          Reason = "database busy"
	// The database cannot serve (Class gdprkit.ErrUnavailable).
	ReasonConnection Reason = "connection failure"
	ReasonResources  Reason = "out of resources" // too many connections, disk full, I/O error
	ReasonShutdown   Reason = "server shutting down"
	ReasonCanceled   Reason = "statement cancelled"
	ReasonContext    Reason = "context ended"
)

// Error is a driver error classified by Classify. Its message names the
// reason, the schema objects involved (constraint, table, column) and the
// database's error code, never the values involved: driver messages such as
// "Duplicate entry 'alice@example.com' for key …" quote the data. The
// driver's error stays reachable through errors.As for hosts that want it,
// and must not be logged or shown if its text may hold personal data.
type Error struct {
	// Class is the gdprkit sentinel the error wraps: gdprkit.ErrConflict,
	// gdprkit.ErrInvalid or gdprkit.ErrUnavailable.
	Class error
	// Reason is why the statement failed, in dialect-neutral words.
	Reason Reason
	// Code is the database's code: the SQLSTATE on PostgreSQL, the error
	// number on MySQL/MariaDB, the extended result code on SQLite; empty for
	// errors outside the database (a cancelled context, a refused
	// connection).
	Code string
	// Constraint is the violated constraint or key, when the database names
	// it (PostgreSQL and MySQL do; SQLite names only a CHECK constraint).
	Constraint string
	// Table is the table that owns the constraint or column, when known. For
	// a foreign key violation it is the referencing (child) table.
	Table string
	// Column is the column involved, when the database names one; SQLite
	// names every column of a violated multi-column key, comma-separated.
	Column string

	err error
}

// Error returns e.g. `sqldb: foreign key violation (constraint
// "fk_article_ticket", table "article", code 23503): gdprkit: conflict`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sqldb: ")
	b.WriteString(string(e.Reason))
	sep := " ("
	for _, f := range [...]struct{ k, v string }{{"constraint", e.Constraint}, {"table", e.Table}, {"column", e.Column}} {
		if f.v != "" {
			b.WriteString(sep + f.k + " " + strconv.Quote(f.v))
			sep = ", "
		}
	}
	if e.Code != "" {
		b.WriteString(sep + "code " + e.Code)
		sep = ", "
	}
	if sep == ", " {
		b.WriteByte(')')
	}
	if e.Class != nil {
		b.WriteString(": " + e.Class.Error())
	}
	return b.String()
}

// Unwrap returns the Class sentinel and the driver's error, so errors.Is
// finds the sentinel (and context.Canceled, driver.ErrBadConn, …) and
// errors.As finds the driver's own type (*pgconn.PgError, *mysql.MySQLError,
// *sqlite.Error).
func (e *Error) Unwrap() []error { return []error{e.Class, e.err} }

// Retryable reports whether err is a transient failure of a transaction —
// deadlock, serialization failure, lock wait timeout, SQLITE_BUSY — after
// which running the whole transaction again may succeed. A lost connection
// or an ended context is not retryable in this sense. err may be a driver
// error or one Classify returned (possibly wrapped).
func Retryable(err error) bool {
	var e *Error
	if !errors.As(Classify(err), &e) {
		return false
	}
	switch e.Reason {
	case ReasonDeadlock, ReasonSerialization, ReasonLockTimeout, ReasonBusy:
		return true
	}
	return false
}

// Driver errors are recognised by behaviour, so that sqldb imports no
// driver: pgx's *pgconn.PgError (and lib/pq's *pq.Error) have SQLState();
// modernc.org/sqlite's *sqlite.Error has Code() int; go-sql-driver's
// *mysql.MySQLError prints "Error NNNN (SQLSTATE): …".
type sqlStater interface{ SQLState() string }

type sqliteCoder interface{ Code() int }

var sentinels = []error{
	gdprkit.ErrNotFound, gdprkit.ErrConflict, gdprkit.ErrInvalid, gdprkit.ErrForbidden,
	gdprkit.ErrUnauthenticated, gdprkit.ErrLocked, gdprkit.ErrAccountSuspended,
	gdprkit.ErrAccountTerminated, gdprkit.ErrLeaseLost, gdprkit.ErrUnavailable,
}

// Classify maps a driver error to gdprkit's sentinels without repeating the
// driver's message, which can hold key values. It returns:
//
//   - nil for nil;
//   - err itself when it already wraps a gdprkit sentinel (an *Error
//     included), so classifying twice changes nothing;
//   - an *Error of Class gdprkit.ErrUnavailable for an ended context
//     (context.Canceled, context.DeadlineExceeded), a lost or refused
//     connection (driver.ErrBadConn, sql.ErrConnDone, a closed *sql.DB, a
//     net.Error, an unexpected EOF, "invalid connection"), deadlocks,
//     serialization failures, lock timeouts, a busy or full database and a
//     server shutting down (PostgreSQL classes 08, 53, 57P01–57P03, 57014,
//     40001, 40P01, 55P03; MySQL 1040, 1053, 1205, 1213, 1317, 1927, 1969,
//     2002, 2003, 2006, 2013, 3024, 4031; SQLite BUSY, LOCKED, IOERR, FULL,
//     CANTOPEN, INTERRUPT);
//   - an *Error of Class gdprkit.ErrConflict for integrity violations
//     (PostgreSQL class 23; MySQL 1022, 1048, 1062, 1169, 1216, 1217, 1451,
//     1452, 1557, 1586, 3819, 4025; SQLite CONSTRAINT);
//   - an *Error of Class gdprkit.ErrInvalid for data errors (PostgreSQL
//     class 22; MySQL 1264, 1265, 1292, 1366, 1406, 1411, 3140; SQLite
//     TOOBIG, MISMATCH and CONSTRAINT_DATATYPE from STRICT tables);
//   - any other error unchanged.
//
// Constraint, table and column names are taken from the driver error where
// the database gives them; values never are. PostgreSQL's names are read
// from its message text (pgx exposes the message's fields only as struct
// fields), so they are found only when the server writes messages in
// English (lc_messages); the code is kept either way.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return err
		}
	}
	var ps sqlStater
	if errors.As(err, &ps) {
		if e := classifyPostgres(ps.SQLState(), err); e != nil {
			return e
		}
		return unavailableOrSelf(err)
	}
	var sc sqliteCoder
	if errors.As(err, &sc) {
		if e := classifySQLite(sc.Code(), sc.(error)); e != nil {
			e.err = err
			return e
		}
		return unavailableOrSelf(err)
	}
	if e := classifyMySQL(err); e != nil {
		return e
	}
	return unavailableOrSelf(err)
}

// unavailableOrSelf classifies errors from outside the database: an ended
// context or a connection that is gone.
func unavailableOrSelf(err error) error {
	u := func(r Reason) error { return &Error{Class: gdprkit.ErrUnavailable, Reason: r, err: err} }
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return u(ReasonContext)
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return u(ReasonConnection)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return u(ReasonConnection)
	}
	// Errors known only by their text: database/sql's unexported
	// "database is closed", go-sql-driver's ErrInvalidConn and its wrapped
	// client errors, pgx's closed-connection errors.
	for cur := err; cur != nil; cur = errors.Unwrap(cur) {
		msg := cur.Error()
		for _, s := range []string{"sql: database is closed", "invalid connection", "bad connection", "conn closed",
			"connection reset by peer", "broken pipe", "connection refused"} {
			if strings.HasSuffix(msg, s) || msg == s {
				return u(ReasonConnection)
			}
		}
	}
	return err
}
