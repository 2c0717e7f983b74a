package sqltarget

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// ColumnAction is what anonymisation does to a column.
type ColumnAction string

// The column actions.
const (
	// Null sets the column to NULL: the value is deleted. The column must
	// be nullable.
	Null ColumnAction = "null"
	// Blank sets a text column to the empty string.
	Blank ColumnAction = "blank"
	// Fixed sets the column to Column.Value.
	Fixed ColumnAction = "fixed"
	// Pseudonym sets a text column to the subject's keyed pseudonym.
	Pseudonym ColumnAction = "pseudonym"
	// Reassign sets the column to the key of the agent who takes over the
	// subject's work (erasure.Config.ReassignTo or the request's), or,
	// for the unassigned queue, to Column.Value (NULL when Value is nil).
	// For an assignee column.
	Reassign ColumnAction = "reassign"
	// Label sets a text column to a short display name ("Former user
	// 3f9a1c2e") so threads and reports still read. For an author-name
	// column.
	Label ColumnAction = "label"
	// RemoveJSON removes the subject's identifiers from a JSON (or JSON
	// text) column at Column.Paths: an array element equal to one (or an
	// object holding one as a value) is removed, a string value equal to
	// one is removed from its object. Empty Paths: anywhere.
	RemoveJSON ColumnAction = "remove-json"
	// ReplaceJSON is RemoveJSON that replaces each identifier with the
	// erasure's label instead of removing it.
	ReplaceJSON ColumnAction = "replace-json"
	// RemoveElement removes the subject's key from a list column: a
	// PostgreSQL array, or a JSON array (MySQL, SQLite).
	RemoveElement ColumnAction = "remove-element"
	// Redact replaces the subject's identifiers (e-mail addresses, phone
	// numbers, names) in a text column with "[redacted]": names in
	// signatures, cc lines and quoted replies written by other people.
	// Opt-in per column; the plan counts the rows it would change.
	Redact ColumnAction = "redact"
)

// Column is the anonymisation of one column.
type Column struct {
	// Name is the column.
	Name string `json:"name"`
	// Action is what anonymising does to it.
	Action ColumnAction `json:"action"`
	// Value is the replacement for Fixed, and the unassigned queue's
	// value for Reassign.
	Value any `json:"value,omitempty"`
	// Paths are the JSON paths RemoveJSON and ReplaceJSON look at: keys
	// separated by dots, "[]" for every element of an array ("to",
	// "cc", "participants[].email"). Empty: the whole document.
	Paths []string `json:"paths,omitempty"`
}

// Op is a comparison in a Cond.
type Op string

// The comparisons.
const (
	OpEq      Op = "="
	OpNe      Op = "<>"
	OpIn      Op = "in"
	OpNotIn   Op = "not in"
	OpNull    Op = "is null"
	OpNotNull Op = "is not null"
)

// Cond is a constant predicate on one column: a row filter.
type Cond struct {
	// Column is the column compared.
	Column string `json:"column"`
	// Op is the comparison.
	Op Op `json:"op"`
	// Values are the constants (one for = and <>, any number for in and
	// not in, none for the null tests).
	Values []any `json:"values,omitempty"`
}

// Eq is the predicate column = v.
func Eq(column string, v any) Cond { return Cond{Column: column, Op: OpEq, Values: []any{v}} }

// Ne is the predicate column <> v.
func Ne(column string, v any) Cond { return Cond{Column: column, Op: OpNe, Values: []any{v}} }

// In is the predicate column IN (vs…).
func In(column string, vs ...any) Cond { return Cond{Column: column, Op: OpIn, Values: vs} }

// NotIn is the predicate column NOT IN (vs…).
func NotIn(column string, vs ...any) Cond { return Cond{Column: column, Op: OpNotIn, Values: vs} }

// IsNull is the predicate column IS NULL.
func IsNull(column string) Cond { return Cond{Column: column, Op: OpNull} }

// NotNull is the predicate column IS NOT NULL.
func NotNull(column string) Cond { return Cond{Column: column, Op: OpNotNull} }

// Spec declares one table (or view) as a target.
type Spec struct {
	// Kind and Parent place the target in the graph.
	Kind   erasure.Kind `json:"kind"`
	Parent erasure.Kind `json:"parent,omitempty"`
	// Table is the host table or view.
	Table string `json:"table"`
	// Key is the column that identifies a record. It need not be unique:
	// a record is every row sharing the key (the rows of one session; the
	// rows of a table without a primary key, bound by their parent
	// column).
	Key string `json:"key"`
	// SubjectColumn holds the subject's key (roots found by subject).
	SubjectColumn string `json:"subject_column,omitempty"`
	// SubjectKey, when set, names which of the subject's other keys
	// (erasure.Subject.Keys) SubjectColumn holds: "login" for a sessions
	// table that names an agent by login while the agent's key is an
	// integer. Default: the subject's key.
	SubjectKey string `json:"subject_key,omitempty"`
	// Mentions, instead of SubjectColumn, makes a root that finds the rows
	// whose columns mention the subject: a text or JSON column holding
	// one of the subject's identifiers, or a list column holding the
	// subject's key. Its Columns take the mentions out (RemoveJSON,
	// RemoveElement, Redact).
	Mentions []string `json:"mentions,omitempty"`
	// ParentColumn holds the parent record's key (children only).
	ParentColumn string `json:"parent_column,omitempty"`
	// AccountColumn, when set, holds the tenant: every statement filters
	// by it, and the target can erase a whole account.
	AccountColumn string `json:"account_column,omitempty"`
	// Where filters the rows every statement sees: find, delete,
	// anonymise, export, parents (model_type = 'message').
	Where []Cond `json:"where,omitempty"`
	// FindWhere filters the rows a root finds its records by, and only
	// that: the row of a key/value group that names the owner
	// (data_key = 'UserLogin').
	FindWhere []Cond `json:"find_where,omitempty"`
	// Filter is a parameterised SQL predicate over the table's columns
	// (unqualified), for rules a constant cannot say: "ticket_state_id IN
	// (SELECT s.id FROM ticket_state s JOIN ticket_state_type t ON t.id =
	// s.type_id WHERE t.name IN (?, ?))". It applies like Where. Bind runs
	// it once to check it. Placeholders are '?' on every dialect.
	Filter string `json:"filter,omitempty"`
	// FilterArgs are Filter's parameters.
	FilterArgs []any `json:"filter_args,omitempty"`
	// Columns is what Anonymize does. Without columns (and Marker) the
	// target can only delete.
	Columns []Column `json:"columns,omitempty"`
	// Marker, when set, anonymises in place: anonymising sets this column
	// (a time to the current time, a boolean to true, a number to 1, text
	// to "erased") and Find skips rows where it is set, so a row that must
	// stay for others' foreign keys keeps its key.
	Marker string `json:"marker,omitempty"`
	// MarkerValue, when set, is the value anonymising writes into Marker
	// (2 for a validity column whose 2 means "invalid"), and Find skips
	// rows holding it. Unset: the column's "set" value as above, and Find
	// skips rows where the marker is set.
	MarkerValue any `json:"marker_value,omitempty"`
	// Actions limits what the target may do. Default: Delete, and
	// Anonymize when Columns or Marker are set. A row other tables
	// reference everywhere (an agent's users row) lists only Anonymize.
	Actions []erasure.Action `json:"actions,omitempty"`
	// Default is the rule when the policy names none. Default: Delete, or
	// Anonymize when the target cannot delete.
	Default erasure.Rule `json:"default"`
	// Description is for people reading plans.
	Description string `json:"description,omitempty"`
	// Records names the records' space (erasure.TargetInfo.Records): kinds
	// in one space hold the same records, so a record one deletes is gone
	// for the others. Default the table (and key, when the key is not the
	// primary key; and the kind, when a group's rows are cut by Where or
	// Filter).
	Records string `json:"records,omitempty"`
	// After lists kinds that must act before this one, beyond those the
	// foreign keys demand.
	After []erasure.Kind `json:"after,omitempty"`
	// Classes limits a root to subjects of these classes
	// (erasure.Subject.Class).
	Classes []string `json:"classes,omitempty"`
	// Identifiers maps identifier kinds to the columns that hold them
	// ({"email": "email", "name": "full_name"}): the engine collects them
	// before anything changes, keeps their keyed pseudonyms as tombstones,
	// and hands them to RemoveJSON, Redact and the residue check.
	Identifiers map[string]string `json:"identifiers,omitempty"`
	// NameColumns, when set, are columns whose values, joined with
	// spaces, are the person's name (["first_name", "last_name"]): an
	// identifier of kind "name" like those in Identifiers.
	NameColumns []string `json:"name_columns,omitempty"`
	// NoExport names columns that access exports leave out: secrets such
	// as password hashes or tokens.
	NoExport []string `json:"no_export,omitempty"`
	// ExportWhere limits exported rows (status <> 'draft', private =
	// false): internal rows are still erased but never handed out.
	ExportWhere []Cond `json:"export_where,omitempty"`
	// NoExportKind keeps the whole kind out of exports.
	NoExportKind bool `json:"no_export_kind,omitempty"`
	// Provided marks rows the subject provided themself (their profile,
	// the messages they sent): erasure.TargetInfo.Provided, what a
	// portability export (Art. 20) holds.
	Provided bool `json:"provided,omitempty"`
	// NoResidue names text columns the residue check does not search
	// (they may keep an identifier on purpose). AccountColumn is never
	// searched.
	NoResidue []string `json:"no_residue,omitempty"`
	// Categories are the categories of personal data the rows hold
	// (erasure.CategoryContact, …), passed to erasure.TargetInfo for the
	// record of processing activities (package processing).
	Categories []string `json:"categories,omitempty"`
	// TimeColumn, when set, holds when a row was created (created_at): the
	// target can then Locate the account's rows of a period
	// (erasure.Caps.Locate), so erasure.Service.Holders answers "whose
	// rows of this table were written between these dates". A date/time
	// column, or an integer of Unix seconds; on SQLite also text in the
	// usual layouts (see Locate).
	TimeColumn string `json:"time_column,omitempty"`
}

// BlobSpec binds the files a table lists to a blob store.
type BlobSpec struct {
	// Kind and Parent place the target in the graph.
	Kind   erasure.Kind `json:"kind"`
	Parent erasure.Kind `json:"parent"`
	// Provided marks files the subject provided (their attachments), as
	// Spec.Provided.
	Provided bool `json:"provided,omitempty"`
	// Table lists the files (usually the attachments table itself).
	Table string `json:"table"`
	// KeyColumn holds the file's key in Store.
	KeyColumn string `json:"key_column,omitempty"`
	// Keys, instead of KeyColumn, computes a row's file keys from the
	// values of Columns (in that order): for files no column names, such
	// as an old article's files at var/article/<date>/<id>/.
	Keys func(values []any) []string `json:"-"`
	// Columns are the columns Keys reads.
	Columns []string `json:"columns,omitempty"`
	// Prefix: the keys name folders; every file under a folder belongs to
	// the row.
	Prefix bool `json:"prefix,omitempty"`
	// Variants, when set, returns the other files derived from a file
	// (resized images, previews) that no row names.
	Variants func(key string) []string `json:"-"`
	// ParentColumn holds the key of the parent record a file belongs to:
	// the table's own key when Parent is the kind bound to this table
	// (an attachment row and its file).
	ParentColumn string `json:"parent_column"`
	// AccountColumn, when set, holds the tenant.
	AccountColumn string `json:"account_column,omitempty"`
	// Where filters the rows, as Spec.Where.
	Where []Cond `json:"where,omitempty"`
	// Store holds the files.
	Store erasure.BlobStore `json:"-"`
	// Categories are the categories of personal data the files hold, for
	// the record of processing activities (package processing). Default:
	// erasure.CategoryAttachments.
	Categories []string `json:"categories,omitempty"`
}

// Config is what Bind needs.
type Config struct {
	// DB is the host's database. Required.
	DB *sql.DB `json:"-"`
	// Dialect is what DB speaks. Required.
	Dialect sqldb.Dialect `json:"dialect"`
	// Specs are the tables.
	Specs []Spec `json:"specs"`
	// Blobs are the files.
	Blobs []BlobSpec `json:"blobs,omitempty"`
	// Cascade lists the foreign keys whose ON DELETE CASCADE or SET NULL
	// the database may apply by itself when a bound row is deleted, as
	// "table" (every foreign key from it) or "table.column". The plan
	// predicts those rows and the receipt counts them.
	Cascade []string `json:"cascade,omitempty"`
	// Ignore lists the foreign keys into a subject's table that are
	// deliberately not bound ("queue.create_by", "*.change_by",
	// "audit_log.*"): the coverage check passes them over. It cannot make
	// a delete that such a key would refuse or cascade safe.
	Ignore []string `json:"ignore,omitempty"`
}

// Problem is one hazard or gap in a binding.
type Problem struct {
	// Kind is the target concerned ("" for a table no target binds).
	Kind erasure.Kind `json:"kind,omitempty"`
	// Path is the kind's place in the graph ("end_user > ticket > message").
	Path string `json:"path,omitempty"`
	// Table and Column locate the problem in the database.
	Table  string `json:"table,omitempty"`
	Column string `json:"column,omitempty"`
	// Class names the kind of problem: "schema", "type", "not-null",
	// "length", "refused", "cascade", "set-null", "coverage", "order",
	// "rule", "filter".
	Class string `json:"class"`
	// Message says what is wrong and what to do.
	Message string `json:"message"`
}

// Error formats the problem as one line naming where it is.
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString("sqltarget")
	if p.Kind != "" {
		b.WriteString(" " + string(p.Kind))
	}
	if p.Path != "" && p.Path != string(p.Kind) {
		b.WriteString(" (" + p.Path + ")")
	}
	if p.Table != "" {
		b.WriteString(": " + p.Table)
		if p.Column != "" {
			b.WriteString("." + p.Column)
		}
	}
	b.WriteString(": " + p.Message)
	return b.String()
}

// Unwrap makes every problem an gdprkit.ErrInvalid.
func (p Problem) Unwrap() error { return gdprkit.ErrInvalid }

// Reference is one foreign key into a bound table and how the binding
// accounts for it.
type Reference struct {
	// From is "table.column" of the referencing rows; To the referenced
	// table.
	From string `json:"from"`
	To   string `json:"to"`
	// OnDelete is the foreign key's action.
	OnDelete sqldb.RefAction `json:"on_delete"`
	// By names the kinds that handle the referencing rows first; empty
	// when the database does (Cascaded) or nobody needs to (Ignored).
	By []erasure.Kind `json:"by,omitempty"`
	// Cascaded: the database deletes or nulls the rows (Config.Cascade).
	Cascaded bool `json:"cascaded,omitempty"`
	// Ignored: a foreign key into a subjects' table that no target binds,
	// listed in Config.Ignore (it holds nothing about the person, or
	// points at rows that stay).
	Ignored bool `json:"ignored,omitempty"`
}

// Report is what a binding check found: the problems (a binding with any
// is refused), how every foreign key into a bound table is accounted for,
// and the order constraints the foreign keys demand.
type Report struct {
	// Problems are the hazards and coverage gaps, one per finding.
	Problems []Problem `json:"problems,omitempty"`
	// References are the foreign keys into bound tables.
	References []Reference `json:"references,omitempty"`
	// Order lists derived constraints as "first before second: why".
	Order []string `json:"order,omitempty"`
	// Kinds lists the bound kinds in the order they will act.
	Kinds []erasure.Kind `json:"kinds,omitempty"`
}

// Err returns nil when the report has no problem, else every problem
// joined (each wraps gdprkit.ErrInvalid).
func (r Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return &ProblemsError{Problems: r.Problems}
}

// ProblemsError is a refused binding: every problem found.
type ProblemsError struct {
	// Problems are the findings, one per hazard.
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *ProblemsError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return fmt.Sprintf("sqltarget: the binding is refused (%d problems):\n  %s", len(e.Problems), strings.Join(lines, "\n  "))
}

// Unwrap returns the problems, so errors.Is(err, gdprkit.ErrInvalid) holds
// and errors.As finds each Problem.
func (e *ProblemsError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}
