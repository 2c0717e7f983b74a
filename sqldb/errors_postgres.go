package sqldb

import (
	"errors"
	"regexp"

	"github.com/gdprkit/gdprkit"
)

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
