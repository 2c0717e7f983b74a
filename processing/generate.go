package processing

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/retention"
)

// Generator builds records of processing activities from one validated
// Config. It is safe for concurrent use.
type Generator struct {
	cfg   Config
	cats  map[erasure.Kind][]string
	clock gdprkit.Clock
}

// New validates cfg and returns a Generator. It returns an error wrapping
// gdprkit.ErrInvalid when Erasure is missing, when a kind of the graph
// declares no data category (an *UncategorisedError, see Check), or when
// a declaration is unusable: a sub-processor without name, purpose,
// region, agreement or a YYYY-MM-DD agreement date, with a country that
// is not an ISO 3166-1 alpha-2 code, or outside the EEA without a
// transfer mechanism; a purpose without key, name or legal basis, or a
// duplicate key; a measure without name or detail; a malformed category.
// Declarations are copied: changing cfg afterwards changes nothing.
func New(cfg Config) (*Generator, error) {
	if cfg.Erasure == nil || cfg.Erasure.Graph() == nil {
		return nil, fmt.Errorf("%w: processing: Config.Erasure (with a graph) is required", gdprkit.ErrInvalid)
	}
	if err := cfg.Processor.validate("processor"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range cfg.Purposes {
		if err := p.validate(); err != nil {
			return nil, err
		}
		if seen[p.Key] {
			return nil, fmt.Errorf("%w: processing: two purposes with key %q", gdprkit.ErrInvalid, p.Key)
		}
		seen[p.Key] = true
	}
	seen = map[string]bool{}
	for _, s := range cfg.SubProcessors {
		if err := s.validate(); err != nil {
			return nil, err
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("%w: processing: two sub-processors named %q", gdprkit.ErrInvalid, s.Name)
		}
		seen[s.Name] = true
	}
	for _, m := range cfg.Measures {
		if err := m.validate(); err != nil {
			return nil, err
		}
	}
	for _, d := range cfg.DataSubjects {
		if err := text("data subject category", d, true, 500); err != nil {
			return nil, err
		}
	}
	cats, err := categoriesOf(cfg.Erasure.Graph(), cfg.Categories)
	if err != nil {
		return nil, err
	}
	cfg.Purposes = clonePurposes(cfg.Purposes)
	cfg.SubProcessors = cloneSubProcessors(cfg.SubProcessors)
	cfg.Measures = append([]Measure(nil), cfg.Measures...)
	cfg.DataSubjects = append([]string(nil), cfg.DataSubjects...)
	cfg.Security = append([]MeasureSource(nil), cfg.Security...)
	cfg.Categories = nil
	return &Generator{cfg: cfg, cats: cats, clock: gdprkit.ClockOrSystem(cfg.Clock)}, nil
}

func clonePurposes(ps []DeclaredPurpose) []DeclaredPurpose {
	out := append([]DeclaredPurpose(nil), ps...)
	for i := range out {
		out[i].Categories = append([]string(nil), out[i].Categories...)
	}
	return out
}

func cloneSubProcessors(ss []SubProcessor) []SubProcessor {
	out := append([]SubProcessor(nil), ss...)
	for i := range out {
		out[i].Categories = append([]string(nil), out[i].Categories...)
	}
	return out
}

// Generate validates cfg and generates the record of account in one call:
// New(cfg) then Generator.Generate.
func Generate(ctx context.Context, account gdprkit.AccountID, cfg Config) (Record, error) {
	g, err := New(cfg)
	if err != nil {
		return Record{}, err
	}
	return g.Generate(ctx, account)
}

// Generate builds the record of processing activities of account from the
// configured sources. It returns an error wrapping gdprkit.ErrInvalid for
// an invalid account ID, and a source's error (wrapped, with what was
// being read) when one fails; it writes nothing.
func (g *Generator) Generate(ctx context.Context, account gdprkit.AccountID) (Record, error) {
	if err := account.Validate(); err != nil {
		return Record{}, err
	}
	if err := ctx.Err(); err != nil {
		return Record{}, fmt.Errorf("%w: processing: %w", gdprkit.ErrUnavailable, err)
	}
	r := Record{Account: account, GeneratedAt: g.clock.Now().UTC().Truncate(time.Second)}
	if g.cfg.Processor.Name != "" {
		p := g.cfg.Processor
		r.Processor = &p
	}
	if g.cfg.Controller != nil {
		c, err := g.cfg.Controller(ctx, account)
		if err != nil {
			return Record{}, fmt.Errorf("processing: read the controller: %w", err)
		}
		r.Controller = c
	}
	if strings.TrimSpace(r.Controller.Name) == "" {
		r.Issues = append(r.Issues, "the controller is not named (Config.Controller): Art. 30(1)(a) needs its name and contact details")
	}
	if err := g.purposes(ctx, account, &r); err != nil {
		return Record{}, err
	}
	r.DataSubjects = append([]string(nil), g.cfg.DataSubjects...)
	if len(r.DataSubjects) == 0 {
		r.DataSubjects = append([]string(nil), DefaultDataSubjects...)
	}
	g.dataCategories(&r)
	g.recipients(&r)
	if err := g.retention(ctx, account, &r); err != nil {
		return Record{}, err
	}
	if err := g.security(ctx, account, &r); err != nil {
		return Record{}, err
	}
	return r, nil
}

func (g *Generator) purposes(ctx context.Context, account gdprkit.AccountID, r *Record) error {
	keys := map[string]bool{}
	for _, p := range g.cfg.Purposes {
		keys[p.Key] = true
		r.Purposes = append(r.Purposes, Purpose{Key: p.Key, Name: p.Name, Description: p.Description, LegalBasis: p.LegalBasis,
			Categories: append([]string(nil), p.Categories...), Source: SourceDeclared})
	}
	if g.cfg.Consent != nil {
		ps, err := g.cfg.Consent.Purposes(ctx, account)
		if err != nil {
			return fmt.Errorf("processing: read the consent purposes: %w", err)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
		for _, p := range ps {
			terms := &ConsentTerms{PolicyVersion: p.CurrentVersion, MaterialVersion: p.MaterialVersion}
			if p.Lifetime > 0 {
				terms.Lifetime = duration(p.Lifetime)
			}
			if p.CurrentVersion > 0 {
				pol, err := g.cfg.Consent.Policy(ctx, account, p.Key, p.CurrentVersion)
				if err != nil {
					return fmt.Errorf("processing: read the policy of consent purpose %q: %w", p.Key, err)
				}
				terms.PublishedAt, terms.TextHash = pol.PublishedAt.UTC(), pol.TextHash
			} else {
				r.Issues = append(r.Issues, fmt.Sprintf("consent purpose %q has no published policy text: no consent to it can be informed", p.Key))
			}
			if keys[p.Key] {
				r.Issues = append(r.Issues, fmt.Sprintf("purpose %q is both declared and a consent purpose: give it one legal basis", p.Key))
			}
			r.Purposes = append(r.Purposes, Purpose{Key: p.Key, Name: p.Name, Description: p.Description,
				LegalBasis: "Art. 6(1)(a) consent", Consent: terms, Source: SourceConsent})
		}
	}
	if len(r.Purposes) == 0 {
		r.Issues = append(r.Issues, "no purpose is recorded: declare Config.Purposes or pass Config.Consent (Art. 30(1)(b))")
	}
	return nil
}

func (g *Generator) dataCategories(r *Record) {
	rules := g.cfg.Erasure.Rules()
	byCat := map[string][]Kind{}
	for _, info := range g.cfg.Erasure.Graph().Targets() {
		rule, ok := rules[info.Kind]
		if !ok {
			rule = info.Default
		}
		k := Kind{Kind: info.Kind, Parent: info.Parent, Description: info.Description, OnErasure: rule.Action, Ground: rule.Ground, Exported: !info.NoExport}
		for _, c := range g.cats[info.Kind] {
			byCat[c] = append(byCat[c], k)
		}
	}
	order := append([]string(nil), categoryOrder...)
	var own []string
	for c := range byCat {
		if categoryText[c] == "" {
			own = append(own, c)
		}
	}
	sort.Strings(own)
	for _, c := range append(order, own...) {
		if kinds := byCat[c]; len(kinds) > 0 {
			r.DataCategories = append(r.DataCategories, DataCategory{Category: c, Description: categoryText[c], Kinds: kinds})
		}
	}
}

func (g *Generator) recipients(r *Record) {
	notified := map[string]bool{}
	names := g.cfg.Erasure.Recipients()
	for _, n := range names {
		notified[n] = true
	}
	declared := map[string]bool{}
	for _, s := range g.cfg.SubProcessors {
		declared[s.Name] = true
		r.Recipients = append(r.Recipients, Recipient{Name: s.Name, Purpose: s.Purpose, Categories: append([]string(nil), s.Categories...),
			Region: s.Region, Country: s.Country, Agreement: s.Agreement, AgreementDate: s.AgreementDate, TransferMechanism: s.TransferMechanism,
			SubProcessor: true, NotifiedOfErasure: notified[s.Name]})
		if !InEEA(s.Country) {
			r.Transfers = append(r.Transfers, Transfer{Recipient: s.Name, Country: s.Country, Region: s.Region, Mechanism: s.TransferMechanism})
		}
	}
	for _, n := range names {
		if declared[n] {
			continue
		}
		r.Recipients = append(r.Recipients, Recipient{Name: n, NotifiedOfErasure: true})
		r.Issues = append(r.Issues, fmt.Sprintf("recipient %q is told of erasures but not declared in Config.SubProcessors: its purpose, region and agreement are unknown", n))
	}
}

// lifecycleText words the lifecycle's timers: what waits, and what the
// state it leads to means.
var (
	waiting = map[retention.State]string{
		retention.StateTrial:          "trial account not upgraded",
		retention.StateBillingFailing: "account whose billing keeps failing",
		retention.StateSuspended:      "suspended account whose owner does not ask to lift the suspension",
		retention.StateTerminated:     "terminated account (configuration removed, data kept)",
		retention.StateDeleted:        "deleted account in cold backups",
	}
	becomes = map[retention.State]string{
		retention.StateSuspended:  "suspended: no login and no data access for the owner, agents or customers",
		retention.StateTerminated: "terminated: domain stopped and configuration removed, data kept",
		retention.StateDeleted:    "deleted: the account's data erased from live storage",
		retention.StatePurged:     "purged: the backups expired, nothing of the account remains",
	}
)

func (g *Generator) retention(ctx context.Context, account gdprkit.AccountID, r *Record) error {
	if g.cfg.Lifecycle != nil {
		p := g.cfg.Lifecycle.Policy().WithDefaults()
		for _, s := range retention.States() {
			e, ok := retention.TimerEdge(s)
			if !ok {
				continue
			}
			what, then := waiting[s], becomes[e.To]
			if what == "" {
				what = "account in state " + string(s)
			}
			if then == "" {
				then = string(e.To)
			}
			after := duration(p.Duration(e.Timer))
			if e.Timer == retention.TimerBillingGraceExpired {
				after = "more than " + after
			}
			r.Retention = append(r.Retention, Period{What: what, After: after, Then: then, Source: SourceLifecycle})
		}
	}
	if g.cfg.Schedules != nil {
		rules, err := g.cfg.Schedules.Rules(ctx, account)
		if err != nil {
			return fmt.Errorf("processing: read the retention rules: %w", err)
		}
		sort.Slice(rules, func(i, j int) bool { // by kind, then as added (IDs are UUIDv7)
			if rules[i].Target != rules[j].Target {
				return rules[i].Target < rules[j].Target
			}
			return rules[i].ID < rules[j].ID
		})
		for _, rule := range rules {
			r.Retention = append(r.Retention, schedulePeriod(rule))
		}
	}
	r.Retention = append(r.Retention, Period{What: "a data subject's erased data, in backups", After: duration(g.cfg.Erasure.BackupRetention()) + " after the erasure",
		Then: "gone from backups too (each erasure receipt states the date)", Source: SourceErasure})
	if g.cfg.Lifecycle == nil && g.cfg.Schedules == nil {
		r.Issues = append(r.Issues, "no account lifecycle or retention rules are configured (Config.Lifecycle, Config.Schedules): time limits for erasure are unknown (Art. 30(1)(f))")
	}
	return nil
}

func schedulePeriod(rule retention.Rule) Period {
	what := string(rule.Target) + " records"
	if rule.Condition.Status != "" {
		what += " in status " + rule.Condition.Status
	}
	what += ", aged by " + rule.Condition.Field
	then := "deleted (rule " + strconv.Quote(rule.Name) + ")"
	if rule.Action == retention.ActionKeep {
		then = "kept at least this long: no delete rule removes them earlier (rule " + strconv.Quote(rule.Name) + ")"
	}
	return Period{What: what, After: age(rule.Condition.OlderThanMonths, rule.Condition.OlderThanDays), Then: then, Source: SourceSchedule, Disabled: rule.Disabled}
}

// age words a rule's age: "6 months", "30 days", "1 month and 15 days".
func age(months, days int) string {
	var parts []string
	if months > 0 {
		parts = append(parts, plural(months, "month"))
	}
	if days > 0 {
		parts = append(parts, plural(days, "day"))
	}
	return strings.Join(parts, " and ")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// duration words a duration in whole days, hours or minutes where it is
// one ("14 days", "1 hour"), else as Go prints it.
func duration(d time.Duration) string {
	switch {
	case d > 0 && d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d > 0 && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d > 0 && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}
