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
	if c.Cached {
		// Judge the rules on the schema read last; nothing is kept.
		st, err := b.analyzeSchema(b.state().schema, rules)
		if err == nil {
			err = st.report.Err()
		}
		return err
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
	return b.analyzeSchema(schema, rules)
}

// analyzeSchema is analyze on a schema already read.
func (b *Binding) analyzeSchema(schema *sqldb.Schema, rules map[erasure.Kind]erasure.Action) (*state, error) {
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

// maxLabel is the longest label Label writes ("Former user 3f9a1c2e").
const maxLabel = 20

// pseudonymLen is the length of a gdprkit.Pseudonym: "ps_" and the hex
// of an HMAC-SHA-256.
const pseudonymLen = 3 + 64
