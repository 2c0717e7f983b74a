package sqltarget

import (
	"context"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// The checks Bind runs per spec: columns exist and have the right types,
// conditions and filters, column actions and markers, blob specs.

// column resolves a spec's column name against the table, reporting a
// problem when it is missing or not a plain identifier.
func (a *analysis) column(s *Spec, t *sqldb.Table, name, role string) *sqldb.Column {
	if !identRe.MatchString(name) {
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "schema", Message: fmt.Sprintf("%s %q is not a plain SQL identifier", role, truncate(name))})
		return nil
	}
	c := t.Column(name)
	if c == nil {
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: name, Class: "schema", Message: fmt.Sprintf("no such column (%s)", role)})
	}
	return c
}

func truncate(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}

// spec checks one spec against its table and returns its facts (nil when
// the table is missing).
func (a *analysis) spec(s *Spec) *facts {
	if !identRe.MatchString(s.Table) {
		a.problem(Problem{Kind: s.Kind, Class: "schema", Message: fmt.Sprintf("table %q is not a plain SQL identifier", truncate(s.Table))})
		return nil
	}
	t := a.schema.Table(s.Table)
	if t == nil {
		a.problem(Problem{Kind: s.Kind, Table: s.Table, Class: "schema", Message: "no such table or view"})
		return nil
	}
	f := &facts{table: t, cols: map[string]string{}, ints: map[string]bool{}, kinds: map[string]sqldb.Kind{}}
	use := func(name, role string) *sqldb.Column {
		if name == "" {
			return nil
		}
		c := a.column(s, t, name, role)
		if c != nil {
			f.cols[strings.ToLower(name)] = c.Name
			f.kinds[c.Name] = c.Kind
			if c.Kind == sqldb.KindInteger {
				f.ints[c.Name] = true
			}
		}
		return c
	}
	root := s.Parent == ""
	switch {
	case s.Key == "":
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "schema", Message: "Key is required"})
	case root && s.SubjectColumn == "" && len(s.Mentions) == 0:
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "schema", Message: "a root needs SubjectColumn or Mentions"})
	case root && s.SubjectColumn != "" && len(s.Mentions) > 0:
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "schema", Message: "a root finds by SubjectColumn or by Mentions, not both"})
	case root && s.ParentColumn != "":
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "schema", Message: "ParentColumn needs Parent"})
	case !root && s.ParentColumn == "":
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "schema", Message: "a child needs ParentColumn"})
	case !root && (s.SubjectColumn != "" || len(s.Mentions) > 0):
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "schema", Message: "a child finds by ParentColumn, not by subject"})
	case s.SubjectKey != "" && s.SubjectColumn == "":
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "schema", Message: "SubjectKey needs SubjectColumn"})
	case len(s.FindWhere) > 0 && !root:
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "schema", Message: "FindWhere is for roots"})
	}
	key := use(s.Key, "key")
	use(s.SubjectColumn, "subject column")
	use(s.ParentColumn, "parent column")
	use(s.AccountColumn, "account column")
	a.timeColumn(s, t, use(s.TimeColumn, "time column"))
	if key != nil {
		f.unique = t.IsUnique(key.Name)
		if acct := t.Column(s.AccountColumn); !f.unique && acct != nil {
			f.unique = t.IsUnique(acct.Name, key.Name) // unique within a tenant
		}
	}
	f.records = s.Records
	if f.records == "" {
		f.records = strings.ToLower(t.Name)
		if !f.unique || !isPrimary(t, s.Key, s.AccountColumn) {
			f.records += "#" + strings.ToLower(s.Key)
		}
		if !f.unique && (len(s.Where) > 0 || s.Filter != "") {
			// A group cut by conditions (a user's contact rows apart from
			// his other preferences) is not the same group as another
			// kind's with the same key.
			f.records += "?" + strings.ToLower(string(s.Kind))
		}
	}
	for _, m := range s.Mentions {
		if c := use(m, "mentions column"); c != nil {
			switch c.Kind {
			case sqldb.KindText, sqldb.KindJSON, sqldb.KindArray:
			default:
				a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: c.Name, Class: "type", Message: fmt.Sprintf("Mentions needs a text, JSON or array column, not %s", c.Type)})
			}
		}
	}
	for kind, col := range s.Identifiers {
		if c := use(col, "identifier column"); c != nil && c.Kind != sqldb.KindText {
			a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: c.Name, Class: "type", Message: fmt.Sprintf("identifier %q needs a text column, not %s", kind, c.Type)})
		}
	}
	for _, col := range s.NameColumns {
		if c := use(col, "name column"); c != nil && c.Kind != sqldb.KindText {
			a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: c.Name, Class: "type", Message: fmt.Sprintf("a name column needs text, not %s", c.Type)})
		}
	}
	for _, col := range s.NoExport {
		use(col, "no-export column")
	}
	for _, col := range s.NoResidue {
		use(col, "no-residue column")
	}
	for _, set := range [][]Cond{s.Where, s.FindWhere, s.ExportWhere} {
		for _, c := range set {
			a.cond(s, t, f, c, use)
		}
	}
	if s.Filter != "" {
		a.filter(s, t)
	}
	a.actions(s, t, f, use)
	skip := map[string]bool{}
	for _, c := range s.NoResidue {
		skip[strings.ToLower(c)] = true
	}
	// The tenant column holds the account's ID on every row in scope: it
	// is not the subject's, and searching it would only match every row
	// of an account whose ID happens to contain an identifier.
	skip[strings.ToLower(s.AccountColumn)] = true
	for _, c := range t.Columns {
		if (c.Kind == sqldb.KindText || c.Kind == sqldb.KindJSON) && !skip[strings.ToLower(c.Name)] {
			f.residue = append(f.residue, c.Name)
		}
	}
	return f
}

// isPrimary reports whether key (with the tenant column, if any) is the
// table's primary key.
func isPrimary(t *sqldb.Table, key, account string) bool {
	pk := t.PrimaryKey
	switch len(pk) {
	case 1:
		return strings.EqualFold(pk[0], key)
	case 2:
		return account != "" && ((strings.EqualFold(pk[0], account) && strings.EqualFold(pk[1], key)) ||
			(strings.EqualFold(pk[1], account) && strings.EqualFold(pk[0], key)))
	}
	return false
}

func (a *analysis) cond(s *Spec, t *sqldb.Table, f *facts, c Cond, use func(string, string) *sqldb.Column) {
	col := use(c.Column, "filter column")
	if col == nil {
		return
	}
	switch c.Op {
	case OpEq, OpNe:
		if len(c.Values) != 1 {
			a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: col.Name, Class: "filter", Message: fmt.Sprintf("%s needs one value", c.Op)})
		}
	case OpIn, OpNotIn:
		if len(c.Values) == 0 {
			a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: col.Name, Class: "filter", Message: fmt.Sprintf("%s needs values", c.Op)})
		}
	case OpNull, OpNotNull:
		if len(c.Values) != 0 {
			a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: col.Name, Class: "filter", Message: fmt.Sprintf("%s takes no value", c.Op)})
		}
	default:
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: col.Name, Class: "filter", Message: fmt.Sprintf("unknown comparison %q", c.Op)})
	}
	for _, v := range c.Values {
		if msg := fits(col, v); msg != "" {
			a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: col.Name, Class: "type", Message: "filter value: " + msg})
		}
	}
}

// filter runs a spec's SQL predicate once, matching no row, to check it.
func (a *analysis) filter(s *Spec, t *sqldb.Table) {
	q := "SELECT 1 FROM " + a.b.d.Quote(t.Name) + " WHERE (" + s.Filter + ") AND 1 = 0"
	rows, err := a.b.run.q().QueryContext(context.Background(), a.b.d.Rebind(q), s.FilterArgs...)
	if err != nil {
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "filter", Message: "Filter does not run: " + sqldb.Classify(err).Error()})
		return
	}
	rows.Close()
}

// fits says why value v cannot be stored in column c ("" when it can).
func fits(c *sqldb.Column, v any) string {
	if v == nil {
		if !c.Nullable {
			return "NULL into a NOT NULL column"
		}
		return ""
	}
	switch c.Kind {
	case sqldb.KindInteger:
		switch x := v.(type) {
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		case string:
			if !isInt(x) {
				return fmt.Sprintf("%q into an integer column (%s)", truncate(x), c.Type)
			}
		case bool:
			if !strings.Contains(c.Type, "tinyint") {
				return "a boolean into an integer column"
			}
		default:
			return fmt.Sprintf("a %T into an integer column (%s)", v, c.Type)
		}
	case sqldb.KindText:
		if x, ok := v.(string); ok && c.MaxLength > 0 && len([]rune(x)) > c.MaxLength {
			return fmt.Sprintf("%d characters into a column of at most %d", len([]rune(x)), c.MaxLength)
		}
	case sqldb.KindBool:
		switch v.(type) {
		case bool, int, int64:
		default:
			return fmt.Sprintf("a %T into a boolean column", v)
		}
	case sqldb.KindUUID:
		if x, ok := v.(string); !ok || len(x) != 36 {
			return "a value that is not a UUID into a uuid column"
		}
	}
	return ""
}

func isInt(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" || len(s) > 19 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// actions checks the anonymisation columns, the marker and the actions.
func (a *analysis) actions(s *Spec, t *sqldb.Table, f *facts, use func(string, string) *sqldb.Column) {
	for _, x := range actionsOf(*s) {
		if x != erasure.Delete && x != erasure.Anonymize {
			a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "rule", Message: fmt.Sprintf("unknown action %q", x)})
		}
	}
	if canDo(*s, erasure.Anonymize) && len(s.Columns) == 0 && s.Marker == "" {
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "rule", Message: "Anonymize needs Columns or a Marker"})
	}
	if r := s.Default.Action; r != "" && r != erasure.Keep && !canDo(*s, r) {
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Class: "rule", Message: fmt.Sprintf("the default rule %s is not among the target's actions", r)})
	}
	refd := map[string][]sqldb.ForeignKey{}
	for _, fk := range a.schema.ReferencesTo(t.Name) {
		for _, rc := range fk.RefColumns {
			refd[strings.ToLower(rc)] = append(refd[strings.ToLower(rc)], fk)
		}
	}
	cutsLink := s.Marker != "" || len(s.Mentions) > 0
	for _, c := range s.Columns {
		col := use(c.Name, "column")
		if col == nil {
			continue
		}
		if strings.EqualFold(c.Name, s.SubjectColumn) {
			cutsLink = true
		}
		bad := func(class, msg string) {
			a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: col.Name, Class: class, Message: msg})
		}
		isFK := false
		for _, fk := range t.ForeignKeys {
			for _, fc := range fk.Columns {
				isFK = isFK || strings.EqualFold(fc, col.Name)
			}
		}
		switch c.Action {
		case Null:
			if !col.Nullable {
				bad("not-null", "Null on a NOT NULL column: use Fixed, Blank or a Marker")
			}
		case Blank:
			if col.Kind != sqldb.KindText {
				bad("type", fmt.Sprintf("Blank on %s column", aType(col.Type)))
			} else if isFK {
				bad("type", "Blank on a foreign key column: use Null")
			}
		case Fixed:
			if c.Value == nil {
				bad("rule", "Fixed needs a Value (use Null for NULL)")
			} else if msg := fits(col, c.Value); msg != "" {
				bad("type", msg)
			}
		case Pseudonym:
			switch {
			case col.Kind != sqldb.KindText:
				bad("type", fmt.Sprintf("a pseudonym into %s column: use a Marker to anonymise a row with an integer key in place", aType(col.Type)))
			case isFK:
				bad("type", "a pseudonym into a foreign key column would break the reference: use Null")
			case col.MaxLength > 0 && col.MaxLength < pseudonymLen:
				bad("length", fmt.Sprintf("a pseudonym of %d characters into a column of at most %d", pseudonymLen, col.MaxLength))
			}
		case Label:
			switch {
			case col.Kind != sqldb.KindText:
				bad("type", fmt.Sprintf("a label into %s column", aType(col.Type)))
			case isFK:
				bad("type", "a label into a foreign key column would break the reference")
			case col.MaxLength > 0 && col.MaxLength < maxLabel:
				bad("length", fmt.Sprintf("a label of %d characters into a column of at most %d", maxLabel, col.MaxLength))
			}
		case Reassign:
			if msg := fits(col, c.Value); msg != "" {
				bad("not-null", "the unassigned queue: "+msg+"; give Column.Value the queue's value")
			}
		case RemoveJSON, ReplaceJSON:
			if col.Kind != sqldb.KindJSON && col.Kind != sqldb.KindText {
				bad("type", fmt.Sprintf("%s on %s column", c.Action, aType(col.Type)))
			}
			for _, p := range c.Paths {
				if _, err := parsePath(p); err != nil {
					bad("rule", err.Error())
				}
			}
		case RemoveElement:
			if col.Kind != sqldb.KindArray && col.Kind != sqldb.KindJSON && col.Kind != sqldb.KindText {
				bad("type", fmt.Sprintf("RemoveElement on %s column", aType(col.Type)))
			}
		case Redact:
			if col.Kind != sqldb.KindText && col.Kind != sqldb.KindJSON {
				bad("type", fmt.Sprintf("Redact on %s column", aType(col.Type)))
			}
		default:
			bad("rule", fmt.Sprintf("unknown action %q", c.Action))
		}
		if fks := refd[strings.ToLower(col.Name)]; len(fks) > 0 && changesValue(c.Action) {
			for _, fk := range fks {
				switch fk.OnUpdate {
				case sqldb.Cascade:
				default:
					bad("refused", fmt.Sprintf("anonymising changes this column, which %s.%s references (ON UPDATE %s): anonymise in place with a Marker instead",
						fk.Table, strings.Join(fk.Columns, ","), fk.OnUpdate))
				}
			}
		}
	}
	if s.Marker != "" {
		if col := use(s.Marker, "marker"); col != nil {
			switch col.Kind {
			case sqldb.KindTime, sqldb.KindBool, sqldb.KindInteger, sqldb.KindText:
			default:
				a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: col.Name, Class: "type", Message: fmt.Sprintf("a marker needs a time, boolean, integer or text column, not %s", col.Type)})
			}
			if s.MarkerValue != nil {
				if msg := fits(col, s.MarkerValue); msg != "" {
					a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: col.Name, Class: "type", Message: "marker value: " + msg})
				}
			} else if col.Kind == sqldb.KindTime && !col.Nullable {
				a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: col.Name, Class: "not-null", Message: "a time marker must be nullable (NULL: not erased)"})
			}
		}
	}
	if s.Parent == "" && canDo(*s, erasure.Anonymize) && !cutsLink && a.pointsAtInPlace(t, s.SubjectColumn) {
		cutsLink = true // the row it points at is anonymised in place: the link leads to nobody
	}
	if s.Parent == "" && canDo(*s, erasure.Anonymize) && !cutsLink {
		a.problem(Problem{Kind: s.Kind, Table: t.Name, Column: s.SubjectColumn, Class: "rule",
			Message: "anonymising must cut the row's link to the subject: change the subject column or set a Marker"})
	}
}

// pointsAtInPlace reports whether column col of t is a foreign key to the
// key of a table a root spec anonymises in place (with a Marker): a link to
// a row that no longer says who it was.
func (a *analysis) pointsAtInPlace(t *sqldb.Table, col string) bool {
	for _, fk := range t.ForeignKeys {
		if len(fk.Columns) != 1 || !strings.EqualFold(fk.Columns[0], col) {
			continue
		}
		for _, o := range a.b.cfg.Specs {
			if o.Parent == "" && o.Marker != "" && strings.EqualFold(o.Table, fk.RefTable) && strings.EqualFold(o.SubjectColumn, o.Key) &&
				len(fk.RefColumns) == 1 && strings.EqualFold(fk.RefColumns[0], o.Key) && !canDo(o, erasure.Delete) {
				return true
			}
		}
	}
	return false
}

func changesValue(a ColumnAction) bool {
	switch a {
	case Null, Blank, Fixed, Pseudonym, Reassign, Label:
		return true
	}
	return false
}

// blob checks a blob spec.
func (a *analysis) blob(bs BlobSpec) {
	p := Problem{Kind: bs.Kind, Path: a.path(bs.Kind), Class: "schema"}
	if err := bs.Kind.Validate(); err != nil {
		p.Message = err.Error()
		a.problem(p)
		return
	}
	if bs.Store == nil || bs.Parent == "" {
		p.Message = "a blob spec needs a Store and a Parent"
		a.problem(p)
		return
	}
	t := a.schema.Table(bs.Table)
	if t == nil || !identRe.MatchString(bs.Table) {
		p.Table, p.Message = bs.Table, "no such table or view"
		a.problem(p)
		return
	}
	s := &Spec{Kind: bs.Kind}
	if (bs.KeyColumn == "") == (bs.Keys == nil) || (bs.Keys != nil && len(bs.Columns) == 0) {
		p.Table, p.Message = bs.Table, "a blob spec needs KeyColumn, or Keys with the Columns it reads"
		a.problem(p)
		return
	}
	for _, c := range []struct{ n, role string }{{bs.KeyColumn, "key column"}, {bs.ParentColumn, "parent column"}, {bs.AccountColumn, "account column"}} {
		if c.n != "" || c.role == "parent column" {
			a.column(s, t, c.n, c.role)
		}
	}
	for _, c := range bs.Columns {
		a.column(s, t, c, "key column")
	}
	f := &facts{table: t, cols: map[string]string{}, ints: map[string]bool{}, kinds: map[string]sqldb.Kind{}}
	use := func(name, role string) *sqldb.Column {
		c := a.column(s, t, name, role)
		if c != nil {
			f.cols[strings.ToLower(name)] = c.Name
			f.kinds[c.Name] = c.Kind
			if c.Kind == sqldb.KindInteger {
				f.ints[c.Name] = true
			}
		}
		return c
	}
	for _, n := range append([]string{bs.KeyColumn, bs.ParentColumn, bs.AccountColumn}, bs.Columns...) {
		if n != "" {
			use(n, "column")
		}
	}
	for _, c := range bs.Where {
		a.cond(s, t, f, c, use)
	}
	a.st.facts[bs.Kind] = f
}

// aType is a column type with its article: "an integer", "a text".
func aType(t string) string {
	if t != "" && strings.ContainsRune("aeiouAEIOU", rune(t[0])) {
		return "an " + t
	}
	return "a " + t
}
