package sqldb

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
)

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
