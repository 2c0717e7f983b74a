package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"regexp"
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

func classifyPostgres(state string, err error) *Error {
	if len(state) != 5 {
		return nil
	}
	e := &Error{Code: state, err: err}
	switch class := state[:2]; {
	case class == "23":
		e.Class = gdprkit.ErrConflict
		switch state {
		case "23505":
			e.Reason = ReasonUnique
		case "23503":
			e.Reason = ReasonForeignKey
		case "23502":
			e.Reason = ReasonNotNull
		case "23514":
			e.Reason = ReasonCheck
		default:
			e.Reason = ReasonIntegrity
		}
		pgNames(e, err)
	case class == "22":
		e.Class = gdprkit.ErrInvalid
		switch state {
		case "22001":
			e.Reason = ReasonTooLong
		case "22003", "22008", "22015":
			e.Reason = ReasonOutOfRange
		default:
			e.Reason = ReasonBadValue
		}
		// Messages of class 22 quote the offending value: no names read.
	case class == "08":
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonConnection
	case class == "53":
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonResources
	case state == "57P01" || state == "57P02" || state == "57P03":
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonShutdown
	case state == "57014":
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonCanceled
	case state == "58030":
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonResources
	case state == "40001":
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonSerialization
	case state == "40P01":
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonDeadlock
	case state == "55P03":
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonLockTimeout
	case state == "P0001":
		// RAISE EXCEPTION in a trigger or function: the message is the
		// host's own text and may quote values, so it is not kept.
		e.Class, e.Reason = gdprkit.ErrConflict, ReasonRefused
	default:
		return nil
	}
	return e
}

var (
	pgConstraintRe = regexp.MustCompile(`constraint "([^"]*)"`)
	pgTableRe      = regexp.MustCompile(`(?:relation|on table) "([^"]*)"`)
	pgColumnRe     = regexp.MustCompile(`column "([^"]*)"`)
)

// pgNames reads the names out of an integrity violation's message. These
// PostgreSQL messages quote only identifiers; the values are in the
// DETAIL field, which pgx's Error() does not print and sqldb never reads.
// For a foreign key violation raised by deleting a parent row the message
// names both tables; the last one owns the constraint.
func pgNames(e *Error, err error) {
	var ps sqlStater
	if !errors.As(err, &ps) {
		return
	}
	msg := ps.(error).Error()
	if m := pgConstraintRe.FindStringSubmatch(msg); m != nil {
		e.Constraint = m[1]
	}
	if ms := pgTableRe.FindAllStringSubmatch(msg, -1); ms != nil {
		e.Table = ms[len(ms)-1][1]
	}
	if m := pgColumnRe.FindStringSubmatch(msg); m != nil {
		e.Column = m[1]
	}
}

// SQLite result codes (https://sqlite.org/rescode.html).
const (
	sqliteIOErr              = 10
	sqliteBusy               = 5
	sqliteLocked             = 6
	sqliteInterrupt          = 9
	sqliteFull               = 13
	sqliteCantOpen           = 14
	sqliteTooBig             = 18
	sqliteConstraint         = 19
	sqliteMismatch           = 20
	sqliteConstraintCheck    = 275
	sqliteConstraintFK       = 787
	sqliteConstraintNotNull  = 1299
	sqliteConstraintPK       = 1555
	sqliteConstraintUnique   = 2067
	sqliteConstraintRowID    = 2579
	sqliteConstraintDataType = 3091
)

var (
	sqliteNamesRe    = regexp.MustCompile(`(UNIQUE|NOT NULL|CHECK) constraint failed: (.+?)(?: \(\d+\))?$`)
	sqliteDataTypeRe = regexp.MustCompile(`cannot store [A-Z]+ value in [A-Z]+ column ([^ .]+)\.([^ ]+?)(?: \(\d+\))?$`)
)

func classifySQLite(code int, err error) *Error {
	e := &Error{Code: strconv.Itoa(code)}
	switch code & 0xff {
	case sqliteBusy:
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonBusy
	case sqliteLocked:
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonBusy
	case sqliteInterrupt:
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonCanceled
	case sqliteIOErr, sqliteFull, sqliteCantOpen:
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonResources
	case sqliteTooBig:
		e.Class, e.Reason = gdprkit.ErrInvalid, ReasonTooLong
	case sqliteMismatch:
		e.Class, e.Reason = gdprkit.ErrInvalid, ReasonBadValue
	case sqliteConstraint:
		e.Class = gdprkit.ErrConflict
		switch code {
		case sqliteConstraintUnique, sqliteConstraintPK, sqliteConstraintRowID:
			e.Reason = ReasonUnique
		case sqliteConstraintFK:
			e.Reason = ReasonForeignKey
		case sqliteConstraintNotNull:
			e.Reason = ReasonNotNull
		case sqliteConstraintCheck:
			e.Reason = ReasonCheck
		case sqliteConstraintDataType:
			// "cannot store TEXT value in INTEGER column t.c" (STRICT tables)
			e.Class, e.Reason = gdprkit.ErrInvalid, ReasonBadValue
			if m := sqliteDataTypeRe.FindStringSubmatch(err.Error()); m != nil {
				e.Table, e.Column = m[1], m[2]
			}
			return e
		default:
			e.Reason = ReasonIntegrity
			// A RESTRICT action fails as SQLITE_CONSTRAINT_TRIGGER.
			if strings.Contains(err.Error(), "FOREIGN KEY constraint failed") {
				e.Reason = ReasonForeignKey
			}
		}
		sqliteNames(e, err.Error())
	default:
		return nil
	}
	return e
}

// sqliteNames reads "t.a, t.b" (UNIQUE, NOT NULL) or the constraint's name
// (CHECK) out of SQLite's message, which quotes no values for these.
func sqliteNames(e *Error, msg string) {
	m := sqliteNamesRe.FindStringSubmatch(msg)
	if m == nil {
		return
	}
	if m[1] == "CHECK" {
		e.Constraint = m[2]
		return
	}
	var cols []string
	for _, tc := range strings.Split(m[2], ", ") {
		t, c, ok := strings.Cut(tc, ".")
		if !ok {
			return
		}
		e.Table = t
		cols = append(cols, c)
	}
	e.Column = strings.Join(cols, ", ")
}

var mysqlErrRe = regexp.MustCompile(`^Error (\d{1,5})(?: \(([0-9A-Z]{5})\))?: `)

// classifyMySQL finds a go-sql-driver/mysql error in err's chain by its text.
func classifyMySQL(err error) *Error {
	var found *Error
	walk(err, func(cur error) bool {
		msg := cur.Error()
		m := mysqlErrRe.FindStringSubmatch(msg)
		if m == nil {
			return true
		}
		n, _ := strconv.Atoi(m[1])
		found = mysqlError(n, msg[len(m[0]):])
		if found != nil {
			found.Code, found.err = m[1], err
		}
		return false
	})
	return found
}

// walk calls f on err and everything it wraps, depth first, until f
// returns false.
func walk(err error, f func(error) bool) bool {
	if err == nil {
		return true
	}
	if !f(err) {
		return false
	}
	switch x := err.(type) {
	case interface{ Unwrap() error }:
		return walk(x.Unwrap(), f)
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			if !walk(e, f) {
				return false
			}
		}
	}
	return true
}

func mysqlError(n int, msg string) *Error {
	e := &Error{}
	switch n {
	case 1062, 1586, 1022, 1169, 1557: // duplicate entry / key
		e.Class, e.Reason = gdprkit.ErrConflict, ReasonUnique
		mysqlDupKey(e, msg)
	case 1451, 1452, 1216, 1217: // parent / child row: foreign key constraint fails
		e.Class, e.Reason = gdprkit.ErrConflict, ReasonForeignKey
		mysqlFK(e, msg)
	case 1048: // Column 'x' cannot be null
		e.Class, e.Reason = gdprkit.ErrConflict, ReasonNotNull
		e.Column = quoted(msg, "Column '", "'")
	case 3819: // MySQL 8: Check constraint 'c' is violated.
		e.Class, e.Reason = gdprkit.ErrConflict, ReasonCheck
		e.Constraint = quoted(msg, "Check constraint '", "'")
	case 4025: // MariaDB: CONSTRAINT `c` failed for `db`.`t`
		e.Class, e.Reason = gdprkit.ErrConflict, ReasonCheck
		e.Constraint = quoted(msg, "CONSTRAINT `", "`")
		if i := strings.LastIndex(msg, " failed for "); i >= 0 {
			e.Table = lastBackquoted(msg[i:])
		}
	case 1406: // Data too long for column 'x' at row 1
		e.Class, e.Reason = gdprkit.ErrInvalid, ReasonTooLong
		e.Column = quoted(msg, "for column '", "'")
	case 1264: // Out of range value for column 'x' at row 1
		e.Class, e.Reason = gdprkit.ErrInvalid, ReasonOutOfRange
		e.Column = quoted(msg, "for column '", "'")
	case 1265, 1292, 1366, 1411, 3140: // the value is quoted before the column
		e.Class, e.Reason = gdprkit.ErrInvalid, ReasonBadValue
		mysqlValueColumn(e, msg)
	case 1644: // SIGNAL in a trigger or procedure (unhandled user-defined exception)
		e.Class, e.Reason = gdprkit.ErrConflict, ReasonRefused
	case 1040:
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonResources
	case 1053:
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonShutdown
	case 1205:
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonLockTimeout
	case 1213:
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonDeadlock
	case 1317, 1969, 3024: // query interrupted, statement time exceeded
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonCanceled
	case 1927, 2002, 2003, 2006, 2013, 4031: // connection killed, lost, refused
		e.Class, e.Reason = gdprkit.ErrUnavailable, ReasonConnection
	default:
		return nil
	}
	return e
}

// mysqlDupKey reads the key of "Duplicate entry '<value>' for key '<key>'"
// (MySQL 8 writes '<table>.<key>'). The value may hold anything, the quote
// and " for key '" included, so the key is taken from the end.
func mysqlDupKey(e *Error, msg string) {
	i := strings.LastIndex(msg, " for key '")
	if i < 0 || !strings.HasSuffix(msg, "'") || i+len(" for key '") > len(msg)-1 {
		return
	}
	key := msg[i+len(" for key '") : len(msg)-1]
	if t, k, ok := strings.Cut(key, "."); ok && !strings.Contains(k, ".") {
		e.Table, key = t, k
	}
	e.Constraint = key
}

// mysqlFK reads "… a foreign key constraint fails (`db`.`child`, CONSTRAINT
// `fk` FOREIGN KEY (`c`) REFERENCES `parent` (`id`) …)". Only identifiers
// appear in it.
func mysqlFK(e *Error, msg string) {
	i := strings.Index(msg, "constraint fails (")
	if i < 0 {
		return
	}
	rest := msg[i+len("constraint fails ("):]
	if j := strings.Index(rest, ", CONSTRAINT "); j >= 0 {
		e.Table = lastBackquoted(rest[:j])
		e.Constraint = quoted(rest[j:], "CONSTRAINT `", "`")
	}
}

// mysqlValueColumn reads the column of "Incorrect integer value: '<value>'
// for column `db`.`t`.`c` at row 1" (MariaDB) or "… for column 'c' at row
// 1" (MySQL), taking it from after the value.
func mysqlValueColumn(e *Error, msg string) {
	i := strings.LastIndex(msg, " for column ")
	if i < 0 {
		return
	}
	rest := strings.TrimSuffix(msg[i+len(" for column "):], " at row 1")
	if j := strings.LastIndex(rest, " at row "); j >= 0 {
		rest = rest[:j]
	}
	switch {
	case strings.HasPrefix(rest, "'") && strings.HasSuffix(rest, "'") && len(rest) >= 2:
		e.Column = rest[1 : len(rest)-1]
	case strings.HasSuffix(rest, "`"):
		parts := backquoted(rest)
		if len(parts) > 0 {
			e.Column = parts[len(parts)-1]
		}
		if len(parts) > 1 {
			e.Table = parts[len(parts)-2]
		}
	}
}

// quoted returns the text between the first open and the next close after
// it, or "".
func quoted(msg, open, close string) string {
	i := strings.Index(msg, open)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(open):]
	j := strings.Index(rest, close)
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// backquoted returns the backquoted identifiers of s in order (a doubled
// backquote inside one stands for itself).
func backquoted(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '`' {
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(s); j++ {
			if s[j] == '`' {
				if j+1 < len(s) && s[j+1] == '`' {
					b.WriteByte('`')
					j++
					continue
				}
				break
			}
			b.WriteByte(s[j])
		}
		if j >= len(s) {
			break
		}
		out = append(out, b.String())
		i = j
	}
	return out
}

func lastBackquoted(s string) string {
	ids := backquoted(s)
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1]
}
