package sqldb

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
)

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
