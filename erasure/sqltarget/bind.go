package sqltarget

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Binding is a set of tables bound to the erasure graph, checked against
// the live schema. It is safe for concurrent use.
type Binding struct {
	cfg  Config
	d    sqldb.Dialect
	run  runner
	mu   sync.Mutex
	st   *state // swapped by Check when the schema changed harmlessly
	last struct {
		run string
		err error
	}
	targets []*Target
	blobs   []*blobTarget
}

// state is what the binding knows from the schema: per-target facts and
// the plan of every delete.
type state struct {
	schema *sqldb.Schema
	print  string // fingerprint of the tables that matter
	facts  map[erasure.Kind]*facts
	order  []string
	report Report
}

// facts is what one target knows of its table.
type facts struct {
	table   *sqldb.Table
	unique  bool              // the key is unique: a record is a row
	cols    map[string]string // spec name (lower) -> schema name
	ints    map[string]bool   // schema column -> bound as integer
	kinds   map[string]sqldb.Kind
	refs    []ref // foreign keys into the table, for deletes
	after   []erasure.Kind
	residue []string // text/JSON columns searched for residue
	records string
}

// ref is one foreign key into a deleted table and what a delete does
// about it.
type ref struct {
	fk sqldb.ForeignKey
	// handled: targets (by) handle the referencing rows first, so none
	// may remain at delete time. Otherwise the database cascades (deleted
	// or nulled) and the rows are counted.
	handled bool
	by      []erasure.Kind
	nested  []ref // foreign keys into the cascaded table
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,62}$`)

// Bind reads db's schema, checks every spec against it and against each
// other, derives the order the foreign keys demand, and returns the
// binding. A binding with any problem is refused whole: the error is a
// *ProblemsError listing every hazard (each wrapping gdprkit.ErrInvalid)
// and nothing is written.
func Bind(ctx context.Context, cfg Config) (*Binding, error) {
	if cfg.DB == nil {
		return nil, fmt.Errorf("%w: sqltarget: Config.DB is required", gdprkit.ErrInvalid)
	}
	if err := cfg.Dialect.Validate(); err != nil {
		return nil, err
	}
	b := &Binding{cfg: cfg, d: cfg.Dialect, run: runner{db: cfg.DB, d: cfg.Dialect}}
	st, err := b.analyze(ctx, cfg.DB, defaultRules(cfg))
	if err != nil {
		return nil, err
	}
	if err := st.report.Err(); err != nil {
		return nil, err
	}
	b.st = st
	for i := range cfg.Specs {
		b.targets = append(b.targets, &Target{b: b, spec: cfg.Specs[i]})
	}
	for i := range cfg.Blobs {
		b.blobs = append(b.blobs, &blobTarget{b: b, spec: cfg.Blobs[i]})
	}
	return b, nil
}

// Coverage checks cfg as Bind does and returns the whole report — the
// problems, how every foreign key into a bound table is accounted for,
// the order — without binding anything: for a host's CI, or for finding
// out what a new schema needs. The error is for failures to read the
// schema, not for problems (which are in the report).
func Coverage(ctx context.Context, cfg Config) (Report, error) {
	if cfg.DB == nil {
		return Report{}, fmt.Errorf("%w: sqltarget: Config.DB is required", gdprkit.ErrInvalid)
	}
	if err := cfg.Dialect.Validate(); err != nil {
		return Report{}, err
	}
	b := &Binding{cfg: cfg, d: cfg.Dialect, run: runner{db: cfg.DB, d: cfg.Dialect}}
	st, err := b.analyze(ctx, cfg.DB, defaultRules(cfg))
	if err != nil {
		return Report{}, err
	}
	return st.report, nil
}

// Targets returns the binding's targets: the specs' in their order, then
// the blobs'.
func (b *Binding) Targets() []erasure.Target {
	out := make([]erasure.Target, 0, len(b.targets)+len(b.blobs))
	for _, t := range b.targets {
		out = append(out, t)
	}
	for _, t := range b.blobs {
		out = append(out, t)
	}
	return out
}

// Report returns what Bind found: no problems (a binding with problems is
// refused), every foreign key into a bound table and how it is accounted
// for, and the derived order.
func (b *Binding) Report() Report {
	return b.state().report
}

// WithTx returns the binding running every statement in the host's
// transaction tx: it never commits or rolls tx back, and makes a batch
// atomic with a savepoint. The returned binding's targets are new values;
// use them (in a graph of their own) for work inside tx.
func (b *Binding) WithTx(tx *sql.Tx) *Binding {
	nb := &Binding{cfg: b.cfg, d: b.d, run: runner{db: b.cfg.DB, tx: tx, d: b.d}, st: b.state()}
	for _, t := range b.targets {
		nb.targets = append(nb.targets, &Target{b: nb, spec: t.spec})
	}
	for _, t := range b.blobs {
		nb.blobs = append(nb.blobs, &blobTarget{b: nb, spec: t.spec})
	}
	return nb
}

func (b *Binding) state() *state {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st
}

// check re-reads the schema (once per run) and checks the binding with
// rules: a schema that changed in a way the binding cannot follow, or
// rules that would let the database turn a delete against other rows, are
// refused. A harmless schema change is taken in.
func (b *Binding) check(ctx context.Context, c erasure.CheckRequest) error {
	b.mu.Lock()
	if c.Run != "" && b.last.run == c.Run {
		err := b.last.err
		b.mu.Unlock()
		return err
	}
	b.mu.Unlock()
	rules := map[erasure.Kind]erasure.Action{}
	for k, r := range c.Rules {
		rules[k] = r.Action
	}
	for _, s := range b.cfg.Specs {
		if _, ok := rules[s.Kind]; !ok {
			rules[s.Kind] = defaultAction(s)
		}
	}
	st, err := b.analyze(ctx, b.run.q(), rules)
	if err == nil {
		err = st.report.Err()
	}
	if err == nil {
		old := b.state()
		if old.print != st.print {
			if err = compatible(old, st); err == nil {
				b.mu.Lock()
				b.st = st
				b.mu.Unlock()
			}
		}
	}
	b.mu.Lock()
	b.last.run, b.last.err = c.Run, err
	b.mu.Unlock()
	return err
}

// compatible reports whether targets built on old may run on new: the
// same key columns, integer columns and uniqueness.
func compatible(old, new *state) error {
	for k, f := range old.facts {
		g, ok := new.facts[k]
		if !ok || f.unique != g.unique || len(f.ints) != len(g.ints) {
			return fmt.Errorf("%w: sqltarget %s: the schema of %s changed since Bind; bind again", gdprkit.ErrInvalid, k, f.table.Name)
		}
		for c := range f.ints {
			if !g.ints[c] {
				return fmt.Errorf("%w: sqltarget %s: column %s.%s changed type since Bind; bind again", gdprkit.ErrInvalid, k, f.table.Name, c)
			}
		}
	}
	return nil
}

func defaultAction(s Spec) erasure.Action {
	if s.Default.Action != "" {
		return s.Default.Action
	}
	if canDo(s, erasure.Delete) {
		return erasure.Delete
	}
	return erasure.Anonymize
}

func defaultRules(cfg Config) map[erasure.Kind]erasure.Action {
	out := map[erasure.Kind]erasure.Action{}
	for _, s := range cfg.Specs {
		out[s.Kind] = defaultAction(s)
	}
	return out
}

func actionsOf(s Spec) []erasure.Action {
	if len(s.Actions) > 0 {
		return s.Actions
	}
	out := []erasure.Action{erasure.Delete}
	if len(s.Columns) > 0 || s.Marker != "" {
		out = append(out, erasure.Anonymize)
	}
	return out
}

func canDo(s Spec, a erasure.Action) bool {
	for _, x := range actionsOf(s) {
		if x == a {
			return true
		}
	}
	return false
}

// analysis collects problems while a state is built.
type analysis struct {
	b       *Binding
	schema  *sqldb.Schema
	st      *state
	rules   map[erasure.Kind]erasure.Action
	byKind  map[erasure.Kind]*Spec
	parent  map[erasure.Kind]erasure.Kind // within the binding, blobs included
	tableOf map[erasure.Kind]string       // schema table name
	after   map[erasure.Kind]map[erasure.Kind]string
}

func (a *analysis) problem(p Problem) {
	if p.Kind != "" && p.Path == "" {
		p.Path = a.path(p.Kind)
	}
	a.st.report.Problems = append(a.st.report.Problems, p)
}

// path is the kind's chain of parents within the binding.
func (a *analysis) path(k erasure.Kind) string {
	var out []string
	seen := map[erasure.Kind]bool{}
	for ; k != "" && !seen[k]; k = a.parent[k] {
		seen[k] = true
		out = append([]string{string(k)}, out...)
	}
	return strings.Join(out, " > ")
}

// rootOf returns the top of k's chain within the binding.
func (a *analysis) rootOf(k erasure.Kind) erasure.Kind {
	seen := map[erasure.Kind]bool{}
	for a.parent[k] != "" && !seen[k] {
		seen[k] = true
		k = a.parent[k]
	}
	return k
}

// under reports whether k is below (or is) top within the binding.
func (a *analysis) under(k, top erasure.Kind) bool {
	seen := map[erasure.Kind]bool{}
	for k != "" && !seen[k] {
		if k == top {
			return true
		}
		seen[k] = true
		k = a.parent[k]
	}
	return false
}

// analyze reads the schema through q and checks the whole configuration
// with rules. The error is for reading the schema; problems are in the
// returned state's report.
func (b *Binding) analyze(ctx context.Context, q sqldb.Querier, rules map[erasure.Kind]erasure.Action) (*state, error) {
	schema, err := sqldb.ReadSchema(ctx, q, b.d)
	if err != nil {
		return nil, fmt.Errorf("sqltarget: read the schema: %w", err)
	}
	a := &analysis{b: b, schema: schema, st: &state{schema: schema, facts: map[erasure.Kind]*facts{}}, rules: rules,
		byKind: map[erasure.Kind]*Spec{}, parent: map[erasure.Kind]erasure.Kind{}, tableOf: map[erasure.Kind]string{},
		after: map[erasure.Kind]map[erasure.Kind]string{}}
	for i := range b.cfg.Specs {
		s := &b.cfg.Specs[i]
		if err := s.Kind.Validate(); err != nil {
			a.problem(Problem{Kind: s.Kind, Class: "schema", Message: err.Error()})
			continue
		}
		if _, dup := a.byKind[s.Kind]; dup {
			a.problem(Problem{Kind: s.Kind, Class: "schema", Message: "two specs of this kind"})
			continue
		}
		a.byKind[s.Kind] = s
		a.parent[s.Kind] = s.Parent
	}
	for _, bs := range b.cfg.Blobs {
		a.parent[bs.Kind] = bs.Parent
	}
	for i := range b.cfg.Specs {
		s := &b.cfg.Specs[i]
		if a.byKind[s.Kind] != s {
			continue
		}
		if f := a.spec(s); f != nil {
			a.st.facts[s.Kind] = f
			a.tableOf[s.Kind] = f.table.Name
		}
	}
	for _, bs := range b.cfg.Blobs {
		a.blob(bs)
	}
	a.references()
	a.coverage()
	a.ruleChecks()
	for k, f := range a.st.facts {
		var after []erasure.Kind
		for x, why := range a.after[k] {
			after = append(after, x)
			a.st.order = append(a.st.order, fmt.Sprintf("%s before %s: %s", x, k, why))
		}
		sort.Slice(after, func(i, j int) bool { return after[i] < after[j] })
		f.after = after
	}
	sort.Strings(a.st.order)
	a.st.report.Order = a.st.order
	a.graphOrder()
	sort.SliceStable(a.st.report.Problems, func(i, j int) bool {
		x, y := a.st.report.Problems[i], a.st.report.Problems[j]
		if x.Kind != y.Kind {
			return x.Kind < y.Kind
		}
		return x.Error() < y.Error()
	})
	a.st.print = fingerprint(schema, a.st.facts)
	return a.st, nil
}

// fingerprint hashes the parts of the schema the binding depends on.
func fingerprint(s *sqldb.Schema, fs map[erasure.Kind]*facts) string {
	tables := map[string]bool{}
	for _, f := range fs {
		tables[strings.ToLower(f.table.Name)] = true
		for _, r := range f.refs {
			tables[strings.ToLower(r.fk.Table)] = true
		}
	}
	var names []string
	for t := range tables {
		names = append(names, t)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, _ := json.Marshal(s.Table(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// graphOrder builds the binding's own graph (where every parent is bound)
// to report cycles and the order kinds will act in.
func (a *analysis) graphOrder() {
	if len(a.st.report.Problems) > 0 {
		return
	}
	var ts []erasure.Target
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil {
			return
		}
		ts = append(ts, &Target{spec: s, b: &Binding{st: a.st}})
	}
	for _, bs := range a.b.cfg.Blobs {
		ts = append(ts, &blobTarget{spec: bs, b: &Binding{st: a.st}})
	}
	for k, p := range a.parent {
		if _, ok := a.byKind[p]; p != "" && !ok && !isBlobKind(a.b.cfg, p) {
			_ = k
			return // a parent outside the binding: the host's graph decides
		}
	}
	g, err := erasure.NewGraph(ts...)
	if err != nil {
		a.problem(Problem{Class: "order", Message: err.Error()})
		return
	}
	a.st.report.Kinds = g.Order()
}

func isBlobKind(cfg Config, k erasure.Kind) bool {
	for _, b := range cfg.Blobs {
		if b.Kind == k {
			return true
		}
	}
	return false
}

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

// maxLabel is the longest label Label writes ("Former user 3f9a1c2e").
const maxLabel = 20

// pseudonymLen is the length of a gdprkit.Pseudonym: "ps_" and the hex
// of an HMAC-SHA-256.
const pseudonymLen = 3 + 64

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
				bad("type", fmt.Sprintf("Blank on a %s column", col.Type))
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
				bad("type", fmt.Sprintf("a pseudonym into a %s column: use a Marker to anonymise a row with an integer key in place", col.Type))
			case isFK:
				bad("type", "a pseudonym into a foreign key column would break the reference: use Null")
			case col.MaxLength > 0 && col.MaxLength < pseudonymLen:
				bad("length", fmt.Sprintf("a pseudonym of %d characters into a column of at most %d", pseudonymLen, col.MaxLength))
			}
		case Label:
			switch {
			case col.Kind != sqldb.KindText:
				bad("type", fmt.Sprintf("a label into a %s column", col.Type))
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
				bad("type", fmt.Sprintf("%s on a %s column", c.Action, col.Type))
			}
			for _, p := range c.Paths {
				if _, err := parsePath(p); err != nil {
					bad("rule", err.Error())
				}
			}
		case RemoveElement:
			if col.Kind != sqldb.KindArray && col.Kind != sqldb.KindJSON && col.Kind != sqldb.KindText {
				bad("type", fmt.Sprintf("RemoveElement on a %s column", col.Type))
			}
		case Redact:
			if col.Kind != sqldb.KindText && col.Kind != sqldb.KindJSON {
				bad("type", fmt.Sprintf("Redact on a %s column", col.Type))
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

// references plans every delete: each foreign key into a table a target
// may delete from is handled by targets that act first, cascaded by the
// database as the host declared, or a problem.
func (a *analysis) references() {
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || !canDo(s, erasure.Delete) || f.table.View {
			continue
		}
		f.refs = a.refsInto(s.Kind, f.table.Name, a.rules[s.Kind] == erasure.Delete, map[string]bool{})
	}
}

// refsInto plans the foreign keys into table when kind deletes from it;
// report says whether problems count (the rules delete from it).
func (a *analysis) refsInto(kind erasure.Kind, table string, report bool, seen map[string]bool) []ref {
	if seen[strings.ToLower(table)] {
		return nil
	}
	seen[strings.ToLower(table)] = true
	defer delete(seen, strings.ToLower(table))
	var out []ref
	for _, fk := range a.schema.ReferencesTo(table) {
		from := fk.Table + "." + strings.Join(fk.Columns, ",")
		r := ref{fk: fk}
		rep := Reference{From: from, To: fk.RefTable, OnDelete: fk.OnDelete}
		by := a.handlers(kind, fk)
		a.neighbours(kind, fk)
		switch {
		case len(by) > 0:
			r.handled, r.by = true, by
			rep.By = by
			for _, k := range by {
				if !a.under(k, kind) {
					a.order(k, kind, fmt.Sprintf("%s references %s", from, fk.RefTable))
				}
			}
		case matches(a.b.cfg.Cascade, fk.Table, fk.Columns):
			rep.Cascaded = true
			switch fk.OnDelete {
			case sqldb.Cascade:
				r.nested = a.refsInto(kind, fk.Table, report, seen)
			case sqldb.SetNull, sqldb.SetDefault:
			default:
				if report {
					a.problem(Problem{Kind: kind, Table: fk.Table, Column: strings.Join(fk.Columns, ","), Class: "refused",
						Message: fmt.Sprintf("listed in Cascade, but its foreign key to %s is ON DELETE %s: the database would refuse the delete", fk.RefTable, fk.OnDelete)})
				}
			}
		default:
			if report {
				a.problem(a.unhandled(kind, fk))
			}
		}
		out = append(out, r)
		if report || len(by) > 0 {
			a.st.report.References = append(a.st.report.References, rep)
		}
	}
	return out
}

// unhandled describes a foreign key into a deleted table that nothing
// accounts for.
func (a *analysis) unhandled(kind erasure.Kind, fk sqldb.ForeignKey) Problem {
	p := Problem{Kind: kind, Table: fk.Table, Column: strings.Join(fk.Columns, ",")}
	switch fk.OnDelete {
	case sqldb.Cascade:
		p.Class = "cascade"
		p.Message = fmt.Sprintf("deleting %s rows would make the database delete these rows (ON DELETE CASCADE), which no target binds: bind %s (ParentColumn %s), or list it in Cascade",
			fk.RefTable, fk.Table, p.Column)
	case sqldb.SetNull, sqldb.SetDefault:
		p.Class = "set-null"
		p.Message = fmt.Sprintf("deleting %s rows would make the database change this column (ON DELETE %s) in rows no target binds: bind %s, or list it in Cascade",
			fk.RefTable, fk.OnDelete, fk.Table)
	default:
		p.Class = "refused"
		p.Message = fmt.Sprintf("deleting %s rows would be refused by this foreign key (ON DELETE %s): no target handles %s first; bind it (ParentColumn %s), or keep %s rows (anonymise in place)",
			fk.RefTable, fk.OnDelete, fk.Table, p.Column, fk.RefTable)
	}
	return p
}

// handlers returns the targets that handle the rows of fk's table that
// reference rows kind deletes: targets on that table that find their rows
// through the foreign key's own columns — as children of a target on the
// referenced table, or as roots by subject when kind's rows are the
// subject's own. A target that reaches the same table another way (a
// history table bound under tickets, whose rows also point at articles)
// handles only the rows it finds, which need not be those that point at
// the deleted rows: the host binds the table once more under the
// referenced kind. That keeps the check sound; the delete's own count in
// its transaction guards what no declaration can.
func (a *analysis) handlers(kind erasure.Kind, fk sqldb.ForeignKey) []erasure.Kind {
	var out []erasure.Kind
	ks := a.byKind[kind]
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || !strings.EqualFold(f.table.Name, fk.Table) || s.Kind == kind {
			continue
		}
		in := func(col string) bool {
			for _, c := range fk.Columns {
				if col != "" && strings.EqualFold(c, col) {
					return true
				}
			}
			return false
		}
		switch {
		case s.Parent != "" && in(s.ParentColumn) && strings.EqualFold(a.tableOf[s.Parent], fk.RefTable):
		case s.Parent == "" && in(s.SubjectColumn) && ks != nil && ks.Parent == "" && strings.EqualFold(ks.SubjectColumn, ks.Key):
		default:
			continue
		}
		out = append(out, s.Kind)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// neighbours orders before kind every other target on fk's table that sits
// beside kind in the same root's tree (neither above the other): rows of
// that table under the same parent records usually point at kind's rows
// (a ticket's history lines at its articles), so they go first and the
// foreign key finds nothing to refuse or cascade. This is an order, not a
// claim that the key is handled: the key must still be handled, or listed
// in Cascade, and the delete's own count guards it.
func (a *analysis) neighbours(kind erasure.Kind, fk sqldb.ForeignKey) {
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || s.Kind == kind || !strings.EqualFold(f.table.Name, fk.Table) {
			continue
		}
		if a.rootOf(s.Kind) == a.rootOf(kind) && !a.under(kind, s.Kind) && !a.under(s.Kind, kind) {
			a.order(s.Kind, kind, fmt.Sprintf("%s.%s references %s", fk.Table, strings.Join(fk.Columns, ","), fk.RefTable))
		}
	}
}

// order records that first must act before then.
func (a *analysis) order(first, then erasure.Kind, why string) {
	if a.after[then] == nil {
		a.after[then] = map[erasure.Kind]string{}
	}
	if _, ok := a.after[then][first]; !ok {
		a.after[then][first] = why
	}
}

// matches reports whether table.column is in patterns ("table",
// "table.column", "*.column", "table.*").
func matches(patterns []string, table string, cols []string) bool {
	for _, p := range patterns {
		t, c, hasCol := strings.Cut(p, ".")
		if t != "*" && !strings.EqualFold(t, table) {
			continue
		}
		if !hasCol || c == "*" {
			return true
		}
		for _, x := range cols {
			if strings.EqualFold(c, x) {
				return true
			}
		}
	}
	return false
}

// coverage reports foreign keys into a subject's table (a root's) that no
// target binds and the host did not list in Cascade or Ignore.
func (a *analysis) coverage() {
	done := map[string]bool{}
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || s.Parent != "" || s.SubjectColumn == "" || done[strings.ToLower(f.table.Name)] {
			continue
		}
		done[strings.ToLower(f.table.Name)] = true
		for _, fk := range a.schema.ReferencesTo(f.table.Name) {
			if matches(a.b.cfg.Ignore, fk.Table, fk.Columns) || matches(a.b.cfg.Cascade, fk.Table, fk.Columns) || a.bound(fk) {
				continue
			}
			a.problem(Problem{Table: fk.Table, Column: strings.Join(fk.Columns, ","), Class: "coverage",
				Message: fmt.Sprintf("references the subjects' table %s, but no target binds it: bind it (SubjectColumn or ParentColumn %s), or list it in Ignore if it holds nothing about the person",
					fk.RefTable, strings.Join(fk.Columns, ","))})
		}
	}
}

// bound reports whether some target finds fk's rows through its columns.
func (a *analysis) bound(fk sqldb.ForeignKey) bool {
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || !strings.EqualFold(f.table.Name, fk.Table) {
			continue
		}
		for _, c := range fk.Columns {
			if strings.EqualFold(c, s.SubjectColumn) || strings.EqualFold(c, s.ParentColumn) {
				return true
			}
			for _, m := range s.Mentions {
				if strings.EqualFold(c, m) {
					return true
				}
			}
			for _, col := range s.Columns {
				if strings.EqualFold(c, col.Name) && (col.Action == Null || col.Action == Reassign) {
					return true
				}
			}
		}
	}
	for _, bs := range a.b.cfg.Blobs {
		for _, c := range fk.Columns {
			if strings.EqualFold(bs.Table, fk.Table) && strings.EqualFold(c, bs.ParentColumn) {
				return true
			}
		}
	}
	return false
}

// ruleChecks refuses rules under which a delete would cascade into, or be
// refused by, rows the graph anonymises or keeps.
func (a *analysis) ruleChecks() {
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || a.rules[s.Kind] != erasure.Delete {
			continue
		}
		for _, r := range f.refs {
			if !r.handled {
				continue
			}
			cols := strings.Join(r.fk.Columns, ",")
			for _, k := range r.by {
				hs := a.byKind[k]
				switch a.rules[k] {
				case erasure.Anonymize:
					if !clearsColumns(hs, r.fk.Columns) && r.fk.OnDelete != sqldb.SetNull {
						a.problem(Problem{Kind: k, Table: r.fk.Table, Column: cols, Class: "rule",
							Message: fmt.Sprintf("anonymising these rows keeps %s, which references %s rows that %s deletes (ON DELETE %s): set the column to Null in Columns, or delete these rows",
								cols, r.fk.RefTable, s.Kind, r.fk.OnDelete)})
					}
				case erasure.Keep:
					if !a.under(k, s.Kind) {
						a.problem(Problem{Kind: k, Table: r.fk.Table, Column: cols, Class: "rule",
							Message: fmt.Sprintf("keeping these rows while %s deletes the %s rows they reference (ON DELETE %s)", s.Kind, r.fk.RefTable, r.fk.OnDelete)})
					}
				}
			}
		}
	}
}

func clearsColumns(s *Spec, cols []string) bool {
	for _, c := range cols {
		ok := false
		for _, col := range s.Columns {
			if strings.EqualFold(col.Name, c) && (col.Action == Null || col.Action == Reassign) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
